"""Storage backends: the only code that knows an SQL dialect.

`get_backend()` builds the backend for settings.DATABASES["default"]; the
protocol layer talks only to the interface in `base`.
"""
from __future__ import annotations

from django.conf import settings

from .base import IndexRecord, KeyRange, StorageBackend, TableRecord, Transaction, WriteConflict

__all__ = ["IndexRecord", "KeyRange", "StorageBackend", "TableRecord", "Transaction", "WriteConflict",
           "get_backend"]


def get_backend() -> StorageBackend:
    db = settings.DATABASES["default"]
    engine = db["ENGINE"]
    if engine.endswith("postgresql"):
        from .postgres import PostgresBackend

        return PostgresBackend(db)
    if engine.endswith("sqlite3"):
        from .sqlite import SQLiteBackend

        return SQLiteBackend(db)
    raise RuntimeError(f"no storage backend for database engine {engine}")
