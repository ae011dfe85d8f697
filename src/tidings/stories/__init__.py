"""Understanding coverage: how alike two articles are, and (later) stories across sources."""
