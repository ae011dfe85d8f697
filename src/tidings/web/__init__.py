"""The HTML front door (and, for now, the health endpoint)."""
