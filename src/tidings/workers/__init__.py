"""Background work: the in-process scheduler (one machine) and Redis-backed workers (many)."""
