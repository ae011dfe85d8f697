"""Storage plumbing: declarative base, engine factory, Alembic migrations."""
