"""The log store tests' PostgreSQL server (one per session; see `tests.support.postgres`)."""

from tests.support.postgres import postgres_server

__all__ = ["postgres_server"]
