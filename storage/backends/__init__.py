"""Storage backends: the only code that knows an SQL dialect.

`get_backend()` builds the backend for settings.DATABASES["default"]; the
protocol layer talks only to the interface in `base`.
"""
from __future__ import annotations

from django.conf import settings

from .base import (IndexRecord, KeyRange, Reader, StaleSchema, StorageBackend, TableRecord, Transaction,
                   WriteConflict)

__all__ = ["IndexRecord", "KeyRange", "Reader", "StaleSchema", "StorageBackend", "TableRecord", "Transaction",
           "WriteConflict", "get_backend"]


def get_backend() -> StorageBackend:
    db = settings.DATABASES["default"]
    engine = db["ENGINE"]
    if engine.endswith("postgresql"):
        from .postgres import PostgresBackend

        replicas = [(_label(d), d) for d in settings.EXTENDDB_READ_REPLICAS]
        return PostgresBackend(db, replicas=replicas, max_replica_lag=settings.EXTENDDB_REPLICA_MAX_LAG_SECONDS)
    if engine.endswith("sqlite3"):
        from .sqlite import SQLiteBackend

        return SQLiteBackend(db)
    raise RuntimeError(f"no storage backend for database engine {engine}")


def _label(db: dict) -> str:
    """host:port of a replica, for the access log (never its password)."""
    return f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
