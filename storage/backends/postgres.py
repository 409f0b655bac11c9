"""The reference backend: PostgreSQL through psycopg's async API and a pool.

Statements are prepared on first use (prepare_threshold=0) and every
connection runs in autocommit, so a lone GetItem or PutItem is one round
trip. Conditional writes lock the row with SELECT … FOR UPDATE; a row that
does not exist cannot be locked, so inserting it is done with a plain INSERT
and a concurrent insert surfaces as WriteConflict for the caller to retry.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from . import sql
from .coalesce import Coalescer
from .base import (AccessKeyRecord, Snapshot, IndexRecord, IndexRow, IndexScanRow, KeyRange, QueryRow, ScanRow,
                   StorageBackend, TableExists, TableRecord, Transaction, WriteConflict)


def conninfo(settings_dict: dict[str, Any]) -> str:
    parts = {
        "dbname": settings_dict.get("NAME"),
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
    }
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in parts.items() if v})


# Table names sort bytewise in ListTables, as in DynamoDB, whatever the database's locale.
LIST_TABLES = sql.LIST_TABLES.replace("ORDER BY name", 'ORDER BY name COLLATE "C"')
LIST_TABLES_AFTER = sql.LIST_TABLES_AFTER.replace("ORDER BY name", 'ORDER BY name COLLATE "C"').replace(
    "name > %s", 'name COLLATE "C" > %s')


class PostgresTransaction(Transaction):
    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self._conn = conn

    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None:
        cur = await self._conn.execute(sql.GET_ITEM + " FOR UPDATE", (table_id, pk, sk))
        row = await cur.fetchone()
        return row[0] if row else None

    async def put_item(self, table_id: int, pk: bytes, sk: bytes, body: bytes, size: int,
                       existed: bool) -> None:
        if existed:
            await self._conn.execute(sql.UPDATE_ITEM, (body, size, table_id, pk, sk))
            return
        try:
            await self._conn.execute(sql.INSERT_ITEM, (table_id, pk, sk, body, size, sql.segment_hash(pk)))
        except psycopg.errors.UniqueViolation as exc:
            raise WriteConflict() from exc

    async def delete_item(self, table_id: int, pk: bytes, sk: bytes) -> None:
        await self._conn.execute(sql.DELETE_ITEM, (table_id, pk, sk))

    async def put_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                              pk: bytes, sk: bytes, body: bytes, size: int) -> None:
        await self._conn.execute(sql.UPSERT_INDEX_ENTRY, (index_id, index_hash, index_range, pk, sk, body, size))

    async def delete_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                                 pk: bytes, sk: bytes) -> None:
        await self._conn.execute(sql.DELETE_INDEX_ENTRY, (index_id, index_hash, index_range, pk, sk))

    async def insert_token(self, token: str, request_hash: bytes, response: bytes, created_at: float,
                           expired_before: float) -> None:
        await self._conn.execute(sql.PURGE_TOKENS, (expired_before,))
        try:
            await self._conn.execute(sql.INSERT_TOKEN, (token, request_hash, response, created_at))
        except psycopg.errors.UniqueViolation as exc:
            raise WriteConflict() from exc


class PostgresSnapshot(Snapshot):
    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self._conn = conn

    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None:
        cur = await self._conn.execute(sql.GET_ITEM, (table_id, pk, sk))
        row = await cur.fetchone()
        return row[0] if row else None


class PostgresBackend(StorageBackend):
    vendor = "postgresql"

    def __init__(self, settings_dict: dict[str, Any], min_size: int = 2, max_size: int = 16) -> None:
        self._pool = AsyncConnectionPool(
            conninfo(settings_dict), min_size=min_size, max_size=max_size, open=False,
            kwargs={"autocommit": True, "prepare_threshold": 0},
        )
        self._opened = False
        # Concurrent GetItems share a statement; concurrent blind PutItems share
        # a statement and its commit.
        self._lookups: Coalescer[tuple[int, bytes, bytes], bytes | None] = Coalescer(self._lookup_batch)
        self._upserts: Coalescer[tuple[int, bytes, bytes, bytes, int, int], None] = Coalescer(self._upsert_batch)

    async def open(self) -> None:
        if not self._opened:
            await self._pool.open(wait=True)
            self._opened = True

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()
            self._opened = False

    async def _one(self, statement: str, params: tuple) -> tuple | None:
        await self.open()
        async with self._pool.connection() as conn:
            cur = await conn.execute(statement, params)
            return await cur.fetchone()

    @staticmethod
    def _table(row: tuple) -> TableRecord:
        return TableRecord(id=row[0], name=row[1], status=row[2], created_at=float(row[3]),
                           description=row[4])

    async def load_table(self, name: str) -> TableRecord | None:
        row = await self._one(sql.LOAD_TABLE, (name,))
        return self._table(row) if row else None

    async def create_table(self, name: str, description: dict[str, Any], status: str,
                           created_at: float, indexes: list[tuple[str, str]] = ()) -> TableRecord:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(sql.INSERT_TABLE, (name, status, created_at, Jsonb(description)))
            row = await cur.fetchone()
            if row is None:
                raise TableExists(name)
            for index_name, kind in indexes:
                await conn.execute(sql.INSERT_INDEX, (row[0], index_name, kind, "ACTIVE"))
        return TableRecord(row[0], name, status, created_at, description)

    async def save_table(self, record: TableRecord) -> None:
        await self._one_exec(sql.SAVE_TABLE, (record.status, Jsonb(record.description), record.id))

    async def _one_exec(self, statement: str, params: tuple) -> None:
        await self.open()
        async with self._pool.connection() as conn:
            await conn.execute(statement, params)

    async def _all(self, statement: str, params: tuple) -> list[tuple]:
        await self.open()
        async with self._pool.connection() as conn:
            cur = await conn.execute(statement, params)
            return await cur.fetchall()

    async def drop_table(self, table_id: int) -> None:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            for statement in (sql.DELETE_TABLE_INDEX_ENTRIES, sql.DELETE_TABLE_INDEXES,
                              sql.DELETE_TABLE_ITEMS, sql.DELETE_TABLE):
                await conn.execute(statement, (table_id,))

    async def create_index(self, table_id: int, name: str, kind: str, status: str) -> int:
        row = await self._one(sql.INSERT_INDEX, (table_id, name, kind, status))
        assert row is not None
        return int(row[0])

    async def set_index_status(self, index_id: int, status: str) -> None:
        await self._one_exec(sql.SET_INDEX_STATUS, (status, index_id))

    async def drop_index(self, index_id: int) -> None:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(sql.DELETE_INDEX_ENTRIES, (index_id,))
            await conn.execute(sql.DELETE_INDEX, (index_id,))

    async def list_indexes(self, table_id: int) -> list[IndexRecord]:
        return [IndexRecord(*row) for row in await self._all(sql.LIST_INDEXES, (table_id,))]

    async def index_stats(self, index_id: int) -> tuple[int, int]:
        row = await self._one(sql.INDEX_STATS, (index_id,))
        assert row is not None
        return int(row[0]), int(row[1])

    async def query(self, table_id: int, pk: bytes, rng: KeyRange, forward: bool,
                    after: bytes | None, limit: int) -> list[QueryRow]:
        statement = sql.query_items(sql.shape(rng), forward, after is not None)
        params = (table_id, pk, *sql.bound_params(rng), *((after,) if after is not None else ()), limit)
        return await self._all(statement, params)

    async def query_index(self, index_id: int, index_hash: bytes, rng: KeyRange, forward: bool,
                          after: tuple[bytes, bytes, bytes] | None, limit: int) -> list[IndexRow]:
        statement = sql.query_index(sql.shape(rng), forward, after is not None)
        return await self._all(statement, (index_id, index_hash, *sql.bound_params(rng), *(after or ()), limit))

    async def scan(self, table_id: int, after: tuple[bytes, bytes] | None,
                   segment: tuple[int, int] | None, limit: int) -> list[ScanRow]:
        statement = sql.scan_items(after is not None, segment is not None)
        return await self._all(statement, (table_id, *(segment or ()), *(after or ()), limit))

    async def scan_index(self, index_id: int, after: tuple[bytes, bytes, bytes, bytes] | None,
                         limit: int) -> list[IndexScanRow]:
        return await self._all(sql.scan_index(after is not None), (index_id, *(after or ()), limit))

    async def get_items(self, table_id: int, keys: list[tuple[bytes, bytes]]) -> dict[tuple[bytes, bytes], bytes]:
        if not keys:
            return {}
        rows = await self._all(sql.GET_ITEMS_MANY, ([k[0] for k in keys], [k[1] for k in keys], table_id))
        return {(bytes(r[0]), bytes(r[1])): r[2] for r in rows}

    async def list_table_names(self, after: str | None, limit: int) -> list[str]:
        await self.open()
        async with self._pool.connection() as conn:
            if after is None:
                cur = await conn.execute(LIST_TABLES, (limit,))
            else:
                cur = await conn.execute(LIST_TABLES_AFTER, (after, limit))
            return [r[0] for r in await cur.fetchall()]

    async def table_stats(self, table_id: int) -> tuple[int, int]:
        row = await self._one(sql.TABLE_STATS, (table_id,))
        assert row is not None
        return int(row[0]), int(row[1])

    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None:
        return await self._lookups.submit((table_id, pk, sk))

    async def _lookup_batch(self, keys: list[tuple[int, bytes, bytes]]) -> list[bytes | None]:
        if len(keys) == 1:
            row = await self._one(sql.GET_ITEM, keys[0])
            return [row[0] if row else None]
        rows = await self._all(sql.GET_ITEMS_ANY_TABLE, tuple(map(list, zip(*keys))))
        found = {(r[0], bytes(r[1]), bytes(r[2])): r[3] for r in rows}
        return [found.get(key) for key in keys]

    async def put_item(self, table_id: int, pk: bytes, sk: bytes, body: bytes, size: int) -> None:
        await self._upserts.submit((table_id, pk, sk, body, size, sql.segment_hash(pk)))

    async def _upsert_batch(self, rows: list[tuple[int, bytes, bytes, bytes, int, int]]) -> list[None]:
        # One statement may not touch a row twice: concurrent puts of one key are
        # unordered, so keeping the last is a valid serial order.
        # Sorted, so two workers' batches lock rows in the same order (no deadlock).
        unique = sorted({row[:3]: row for row in rows}.values(), key=lambda row: row[:3])
        if len(unique) == 1:
            await self._one_exec(sql.UPSERT_ITEM, unique[0])
        else:
            await self._one_exec(sql.UPSERT_ITEMS_MANY, tuple(map(list, zip(*unique))))
        return [None] * len(rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            yield PostgresTransaction(conn)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PostgresSnapshot(conn)

    async def fetch_token(self, token: str) -> tuple[bytes, bytes, float] | None:
        row = await self._one(sql.FETCH_TOKEN, (token,))
        return (bytes(row[0]), bytes(row[1]), float(row[2])) if row else None

    async def fetch_access_key(self, access_key_id: str) -> AccessKeyRecord | None:
        row = await self._one(sql.FETCH_ACCESS_KEY, (access_key_id,))
        if row is None:
            return None
        return AccessKeyRecord(row[0], bytes(row[1]) if not isinstance(row[1], str) else row[1].encode(),
                               row[2], row[3])
