"""The embedded default: SQLite through the standard library.

SQLite calls take microseconds, so they run on the event loop without a
thread hop. One connection per worker; a lock keeps one transaction at a time
on it. Writers take the database lock up front (BEGIN IMMEDIATE) so the row
read for a condition check cannot change before the write, across processes
too. WAL mode lets readers proceed beside the writer.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from . import sql
from .coalesce import Coalescer
from .base import (AccessKeyRecord, Snapshot, WriteConflict, IndexRecord, IndexRow, IndexScanRow, KeyRange, QueryRow, ScanRow,
                   StorageBackend, TableExists, TableRecord, Transaction)


@cache
def qmark(statement: str) -> str:
    return statement.replace("%s", "?")


class SQLiteTransaction(Transaction, Snapshot):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None:
        row = self._conn.execute(qmark(sql.GET_ITEM), (table_id, pk, sk)).fetchone()
        return row[0] if row else None

    async def put_item(self, table_id: int, pk: bytes, sk: bytes, body: bytes, size: int,
                       existed: bool) -> None:
        # The database lock is held, so nobody can have inserted the row meanwhile.
        self._conn.execute(qmark(sql.UPSERT_ITEM), (table_id, pk, sk, body, size, sql.segment_hash(pk)))

    async def delete_item(self, table_id: int, pk: bytes, sk: bytes) -> None:
        self._conn.execute(qmark(sql.DELETE_ITEM), (table_id, pk, sk))

    async def put_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                              pk: bytes, sk: bytes, body: bytes, size: int) -> None:
        self._conn.execute(qmark(sql.UPSERT_INDEX_ENTRY), (index_id, index_hash, index_range, pk, sk, body, size))

    async def delete_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                                 pk: bytes, sk: bytes) -> None:
        self._conn.execute(qmark(sql.DELETE_INDEX_ENTRY), (index_id, index_hash, index_range, pk, sk))

    async def insert_token(self, token: str, request_hash: bytes, response: bytes, created_at: float,
                           expired_before: float) -> None:
        self._conn.execute(qmark(sql.PURGE_TOKENS), (expired_before,))
        try:
            self._conn.execute(qmark(sql.INSERT_TOKEN), (token, request_hash, response, created_at))
        except sqlite3.IntegrityError as exc:
            raise WriteConflict() from exc


class SQLiteBackend(StorageBackend):
    vendor = "sqlite"

    def __init__(self, settings_dict: dict[str, Any]) -> None:
        self._path = str(settings_dict["NAME"])
        self._timeout = float(settings_dict.get("OPTIONS", {}).get("timeout", 30))
        from django.conf import settings

        self._synchronous = settings.EXTENDDB_SQLITE_SYNCHRONOUS
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        # Concurrent blind PutItems share one write transaction and its fsync.
        self._upserts: Coalescer[tuple[int, bytes, bytes, bytes, int, int], None] = Coalescer(self._upsert_batch)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None,
                                   check_same_thread=False, cached_statements=256)
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before the client hears of it, even across power loss.
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            self._conn = conn
        return self._conn

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[sqlite3.Connection]:
        async with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    @staticmethod
    def _table(row: tuple) -> TableRecord:
        return TableRecord(id=row[0], name=row[1], status=row[2], created_at=float(row[3]),
                           description=json.loads(row[4]))

    async def load_table(self, name: str) -> TableRecord | None:
        row = self.conn.execute(qmark(sql.LOAD_TABLE), (name,)).fetchone()
        return self._table(row) if row else None

    async def create_table(self, name: str, description: dict[str, Any], status: str,
                           created_at: float, indexes: list[tuple[str, str]] = ()) -> TableRecord:
        async with self._write() as conn:
            row = conn.execute(qmark(sql.INSERT_TABLE),
                               (name, status, created_at, json.dumps(description))).fetchone()
            if row is None:
                raise TableExists(name)
            for index_name, kind in indexes:
                conn.execute(qmark(sql.INSERT_INDEX), (row[0], index_name, kind, "ACTIVE")).fetchone()
        return TableRecord(row[0], name, status, created_at, description)

    async def save_table(self, record: TableRecord) -> None:
        async with self._write() as conn:
            conn.execute(qmark(sql.SAVE_TABLE),
                         (record.status, json.dumps(record.description), record.id))

    async def drop_table(self, table_id: int) -> None:
        async with self._write() as conn:
            for statement in (sql.DELETE_TABLE_INDEX_ENTRIES, sql.DELETE_TABLE_INDEXES,
                              sql.DELETE_TABLE_ITEMS, sql.DELETE_TABLE):
                conn.execute(qmark(statement), (table_id,))

    async def create_index(self, table_id: int, name: str, kind: str, status: str) -> int:
        async with self._write() as conn:
            return conn.execute(qmark(sql.INSERT_INDEX), (table_id, name, kind, status)).fetchone()[0]

    async def set_index_status(self, index_id: int, status: str) -> None:
        async with self._write() as conn:
            conn.execute(qmark(sql.SET_INDEX_STATUS), (status, index_id))

    async def drop_index(self, index_id: int) -> None:
        async with self._write() as conn:
            conn.execute(qmark(sql.DELETE_INDEX_ENTRIES), (index_id,))
            conn.execute(qmark(sql.DELETE_INDEX), (index_id,))

    async def list_indexes(self, table_id: int) -> list[IndexRecord]:
        return [IndexRecord(*row) for row in self.conn.execute(qmark(sql.LIST_INDEXES), (table_id,))]

    async def index_stats(self, index_id: int) -> tuple[int, int]:
        row = self.conn.execute(qmark(sql.INDEX_STATS), (index_id,)).fetchone()
        return int(row[0]), int(row[1])

    async def query(self, table_id: int, pk: bytes, rng: KeyRange, forward: bool,
                    after: bytes | None, limit: int) -> list[QueryRow]:
        statement = qmark(sql.query_items(sql.shape(rng), forward, after is not None))
        params = (table_id, pk, *sql.bound_params(rng), *((after,) if after is not None else ()), limit)
        return self.conn.execute(statement, params).fetchall()

    async def query_index(self, index_id: int, index_hash: bytes, rng: KeyRange, forward: bool,
                          after: tuple[bytes, bytes, bytes] | None, limit: int) -> list[IndexRow]:
        statement = qmark(sql.query_index(sql.shape(rng), forward, after is not None))
        params = (index_id, index_hash, *sql.bound_params(rng), *(after or ()), limit)
        return self.conn.execute(statement, params).fetchall()

    async def scan(self, table_id: int, after: tuple[bytes, bytes] | None,
                   segment: tuple[int, int] | None, limit: int) -> list[ScanRow]:
        statement = qmark(sql.scan_items(after is not None, segment is not None))
        params = (table_id, *(segment or ()), *(after or ()), limit)
        return self.conn.execute(statement, params).fetchall()

    async def scan_index(self, index_id: int, after: tuple[bytes, bytes, bytes, bytes] | None,
                         limit: int) -> list[IndexScanRow]:
        statement = qmark(sql.scan_index(after is not None))
        return self.conn.execute(statement, (index_id, *(after or ()), limit)).fetchall()

    async def get_items(self, table_id: int, keys: list[tuple[bytes, bytes]]) -> dict[tuple[bytes, bytes], bytes]:
        found: dict[tuple[bytes, bytes], bytes] = {}
        for pk, sk in keys:
            row = self.conn.execute(qmark(sql.GET_ITEM), (table_id, pk, sk)).fetchone()
            if row is not None:
                found[(pk, sk)] = row[0]
        return found

    async def list_table_names(self, after: str | None, limit: int) -> list[str]:
        if after is None:
            rows = self.conn.execute(qmark(sql.LIST_TABLES), (limit,))
        else:
            rows = self.conn.execute(qmark(sql.LIST_TABLES_AFTER), (after, limit))
        return [r[0] for r in rows]

    async def table_stats(self, table_id: int) -> tuple[int, int]:
        row = self.conn.execute(qmark(sql.TABLE_STATS), (table_id,)).fetchone()
        return int(row[0]), int(row[1])

    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None:
        row = self.conn.execute(qmark(sql.GET_ITEM), (table_id, pk, sk)).fetchone()
        return row[0] if row else None

    async def put_item(self, table_id: int, pk: bytes, sk: bytes, body: bytes, size: int) -> None:
        await self._upserts.submit((table_id, pk, sk, body, size, sql.segment_hash(pk)))

    async def _upsert_batch(self, rows: list[tuple[int, bytes, bytes, bytes, int, int]]) -> list[None]:
        async with self._write() as conn:
            conn.executemany(qmark(sql.UPSERT_ITEM), rows)
        return [None] * len(rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._write() as conn:
            yield SQLiteTransaction(conn)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        # A deferred transaction in WAL mode reads one consistent database state.
        async with self._lock:
            conn = self.conn
            conn.execute("BEGIN")
            try:
                yield SQLiteTransaction(conn)
            finally:
                conn.execute("COMMIT")

    async def fetch_token(self, token: str) -> tuple[bytes, bytes, float] | None:
        row = self.conn.execute(qmark(sql.FETCH_TOKEN), (token,)).fetchone()
        return (bytes(row[0]), bytes(row[1]), float(row[2])) if row else None

    async def fetch_access_key(self, access_key_id: str) -> AccessKeyRecord | None:
        row = self.conn.execute(qmark(sql.FETCH_ACCESS_KEY), (access_key_id,)).fetchone()
        if row is None:
            return None
        return AccessKeyRecord(row[0], _as_bytes(row[1]), row[2], row[3])


def _as_bytes(value: bytes | str | memoryview) -> bytes:
    if isinstance(value, str):
        return value.encode()
    return bytes(value)
