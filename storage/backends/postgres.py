"""The reference backend: PostgreSQL through psycopg's async API and a pool.

Statements are prepared on first use (prepare_threshold=0) and every
connection runs in autocommit, so a lone GetItem or PutItem is one round
trip. Conditional writes lock the row with SELECT … FOR UPDATE; a row that
does not exist cannot be locked, so inserting it is done with a plain INSERT
and a concurrent insert surfaces as WriteConflict for the caller to retry.
"""
from __future__ import annotations

import functools
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import astuple
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from . import sql
from .base import (AccessKeyRecord, AccessLogRow, BackupBusy, BackupGone, BackupRecord, HistoryChange,
                   HistoryRow, IndexRecord, IndexRow, IndexScanRow, JobRecord, KeyRange, Lease, NewStream,
                   PitrSourceRecord, QueryRow, Reader,
                   RestoreSession, ScanRow, ServerRecord, Snapshot, StaleSchema, StreamInfo,
                   StreamRecordRow, TableExists, TableRecord, TooManyTags, Transaction, WriteConflict)
from .coalesce import Coalescer
from .pg_arrays import columns
from .pg_generation import NotifiedGeneration, READ_GENERATION
from .pg_leases import PgLeases
from .pg_reads import PgPool, PostgresReads, binary_arrays, conninfo
from .pg_replicas import Replica, ReplicaRead, ReplicaSet

__all__ = ["PostgresBackend", "conninfo"]


# Table names sort bytewise in ListTables, as in DynamoDB, whatever the database's locale.
LIST_TABLES = sql.LIST_TABLES.replace("ORDER BY name", 'ORDER BY name COLLATE "C"')
LIST_TABLES_AFTER = sql.LIST_TABLES_AFTER.replace("ORDER BY name", 'ORDER BY name COLLATE "C"').replace(
    "name > %s", 'name COLLATE "C" > %s')


class PostgresTransaction(Transaction):
    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self._conn = conn
        self._checked: set[int] = set()  # tables whose version this transaction holds
        # Updates and deletes of locked items and index entry writes wait for the next read of
        # a key they touch, or the transaction's end, and go out as one statement: nothing
        # else in a transaction reads ddb_item or ddb_index_entry, and an item's entries are
        # its own (the item key is part of the entry key, the item row is locked). Inserts of
        # new items run at once: their conflicts (WriteConflict) belong to their call.
        self._writes: dict[str, list[tuple]] = {}
        self._written: set[tuple] = set()  # (table_id, pk, sk) and entry keys pending

    def _defer(self, part: str, key: tuple, row: tuple) -> bool:
        """Queue a write; False if its key is pending already (flush first, then retry)."""
        if key in self._written:
            return False
        self._written.add(key)
        self._writes.setdefault(part, []).append(row)
        return True

    async def flush_writes(self) -> None:
        """The deferred writes, in one statement (one row alone: its own prepared statement)."""
        writes = self._writes
        if not writes:
            return
        self._writes, self._written = {}, set()
        parts = tuple(p for p in sql.WRITE_PARTS if p in writes)
        if len(parts) == 1 and len(writes[parts[0]]) == 1:
            statement, params = _SINGLE_WRITES[parts[0]], writes[parts[0]][0]
            if parts[0] == "item_updates":  # UPDATE_ITEM takes (body, size, table_id, pk, sk)
                params = (params[3], params[4], params[0], params[1], params[2])
            await self._conn.execute(statement, params)
            return
        params: list[list] = []
        for p in parts:
            params.extend(map(list, zip(*writes[p])))
        await self._conn.execute(_write_many(parts), params)

    async def get_item(self, table_id: int, pk: bytes, sk: bytes, version: int | None = None) -> bytes | None:
        if (table_id, pk, sk) in self._written:
            await self.flush_writes()
        if version is None or table_id in self._checked:
            cur = await self._conn.execute(sql.GET_ITEM + " FOR UPDATE", (table_id, pk, sk))
            row = await cur.fetchone()
            return row[0] if row else None
        # The version check rides on the first read: no extra round trip.
        cur = await self._conn.execute(sql.GET_ITEM_CHECKED, (table_id, table_id, pk, sk))
        current, body = await cur.fetchone()
        if current != version:
            raise StaleSchema(table_id)
        self._checked.add(table_id)
        return body

    async def put_item(self, table_id: int, pk: bytes, sk: bytes, body: bytes, size: int,
                       existed: bool) -> None:
        if existed:
            if not self._defer("item_updates", (table_id, pk, sk), (table_id, pk, sk, body, size)):
                await self.flush_writes()
                self._defer("item_updates", (table_id, pk, sk), (table_id, pk, sk, body, size))
            return
        if (table_id, pk, sk) in self._written:
            await self.flush_writes()
        try:
            await self._conn.execute(sql.INSERT_ITEM, (table_id, pk, sk, body, size, sql.segment_hash(pk)))
        except psycopg.errors.UniqueViolation as exc:
            raise WriteConflict() from exc

    async def delete_item(self, table_id: int, pk: bytes, sk: bytes) -> None:
        if not self._defer("item_deletes", (table_id, pk, sk), (table_id, pk, sk)):
            await self.flush_writes()
            self._defer("item_deletes", (table_id, pk, sk), (table_id, pk, sk))

    async def put_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                              pk: bytes, sk: bytes, body: bytes, size: int) -> None:
        key = (index_id, index_hash, index_range, pk, sk)
        if not self._defer("entry_puts", key, (*key, body, size)):
            await self.flush_writes()
            self._defer("entry_puts", key, (*key, body, size))

    async def delete_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                                 pk: bytes, sk: bytes) -> None:
        key = (index_id, index_hash, index_range, pk, sk)
        if not self._defer("entry_deletes", key, key):
            await self.flush_writes()
            self._defer("entry_deletes", key, key)

    async def insert_token(self, token: str, request_hash: bytes, response: bytes, created_at: float,
                           expired_before: float) -> None:
        await self._conn.execute(sql.PURGE_TOKENS, (expired_before,))
        try:
            await self._conn.execute(sql.INSERT_TOKEN, (token, request_hash, response, created_at))
        except psycopg.errors.UniqueViolation as exc:
            raise WriteConflict() from exc

    # --- DynamoDB Streams ---------------------------------------------------------
    async def append_stream_record(self, stream_arn: str, table_id: int, created_at: float, event_name: str,
                                   body: bytes, user_identity: bytes | None) -> None:
        # Numbered at commit, once every item lock is held (see storage migration
        # 0003): taking the stream row's lock here, between item locks, could
        # deadlock against a writer holding the next item and waiting for the stream.
        await self._conn.execute(sql.APPEND_PENDING_STREAM_RECORD,
                                 (created_at, event_name, body, user_identity, stream_arn, table_id))


class PostgresSnapshot(Snapshot):
    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self._conn = conn

    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None:
        cur = await self._conn.execute(sql.GET_ITEM, (table_id, pk, sk))
        row = await cur.fetchone()
        return row[0] if row else None


class PostgresBackend(sql.SQLBackend):
    vendor = "postgresql"

    multi_host = True

    def __init__(self, settings_dict: dict[str, Any], min_size: int = 2, max_size: int = 16,
                 replicas: list[tuple[str, dict[str, Any]]] = (), max_replica_lag: float = 1.0) -> None:
        super().__init__()  # concurrent blind PutItems share a statement and its commit
        info = conninfo(settings_dict)
        self._db = PgPool(info, min_size, max_size, "primary")
        self._pool = self._db.pool
        # Reads of the primary; concurrent GetItems share a statement, as do concurrent
        # Querys of one shape.
        self._reads = PostgresReads(self._db, "primary")
        self._compare_and_sets: Coalescer[
            tuple[int, bytes, bytes, bytes | None, bytes | None, int, int], bool] = (
            Coalescer(self._compare_and_set_batch))
        self._generation = NotifiedGeneration(info, self._read_generation)
        self._leases = PgLeases(info)
        self._replicas = ReplicaSet(self._db, [Replica(conninfo(d), label) for label, d in replicas],
                                    max_replica_lag) if replicas else None

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._generation.close()
        await self._leases.close()
        if self._replicas is not None:
            await self._replicas.close()
        await self._db.close()

    # --- several servers: cache generation, leases, replicas, the registry --------
    @property
    def generation(self) -> NotifiedGeneration:
        return self._generation

    async def _read_generation(self) -> int | None:
        row = await self._db.one(READ_GENERATION, ())
        return int(row[0]) if row else None

    async def try_lease(self, name: str) -> Lease | None:
        return await self._leases.try_lease(name)

    def reader(self, consistent: bool) -> Reader:
        if consistent or self._replicas is None:
            return self
        replica = self._replicas.pick()
        return ReplicaRead(replica, self) if replica is not None else self

    @property
    def replicas(self) -> ReplicaSet | None:
        return self._replicas

    def connection_lost(self) -> None:
        """A request failed on a broken connection: weed out the pool's others now."""
        self._db.connection_lost()

    async def heartbeat_server(self, server: ServerRecord) -> None:
        await self._db.exec(sql.UPSERT_SERVER, (*astuple(server)[:7], Jsonb(list(server.leads))))

    async def list_servers(self) -> list[ServerRecord]:
        return [ServerRecord(*row[:7], tuple(row[7])) for row in await self._db.all(sql.LIST_SERVERS, ())]

    async def remove_server(self, server_id: str) -> None:
        await self._db.exec(sql.DELETE_SERVER, (server_id,))

    def pool_stats(self) -> dict[str, dict[str, int]]:
        pools = [("primary", self._db)]
        if self._replicas is not None:
            pools += [(f"replica {r.label}", r.pool) for r in self._replicas.replicas]
        return {name: pool.pool.get_stats() for name, pool in pools if pool.opened}

    def replica_lags(self) -> dict[str, float]:
        return {r.label: r.lag for r in self._replicas.replicas} if self._replicas is not None else {}

    async def _one(self, statement: str, params: tuple) -> tuple | None:
        return await self._db.one(statement, params)

    @staticmethod
    def _table(row: tuple) -> TableRecord:
        return TableRecord(id=row[0], name=row[1], status=row[2], created_at=float(row[3]),
                           description=row[4], version=int(row[5]))

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

    async def save_table(self, record: TableRecord, *, new_indexes: Sequence[tuple[str, str, str]] = (),
                         dropped_indexes: Sequence[int] = (), new_stream: NewStream | None = None,
                         disable_streams: bool = False, now: float | None = None) -> list[int]:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(sql.SAVE_TABLE, (record.status, Jsonb(record.description), record.id,
                                                      record.version))
            row = await cur.fetchone()
            if row is None:
                raise StaleSchema(record.id)
            ids = []
            for name, kind, status in new_indexes:
                cur = await conn.execute(sql.INSERT_INDEX, (record.id, name, kind, status))
                ids.append(int((await cur.fetchone())[0]))
            for index_id in dropped_indexes:
                await conn.execute(sql.DELETE_INDEX_ENTRIES, (index_id,))
                await conn.execute(sql.DELETE_INDEX, (index_id,))
            if disable_streams:
                await conn.execute(sql.DISABLE_TABLE_STREAMS, (now if now is not None else time.time(), record.id))
            if new_stream is not None:
                await self._insert_stream(conn, record.id, new_stream)
        record.version = int(row[0])
        return ids

    async def _one_exec(self, statement: str, params: tuple) -> None:
        await self._db.exec(statement, params)

    async def _all(self, statement: str, params: tuple) -> list[tuple]:
        return await self._db.all(statement, params)

    async def drop_table(self, table_id: int, now: float | None = None, table_arn: str | None = None,
                         system_backup: tuple[str, str] | None = None) -> None:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            now = now if now is not None else time.time()
            # First the table row: writes in flight (holding it in share mode) finish
            # first, later ones see it gone (StaleSchema) rather than meet missing rows.
            await conn.execute(sql.BUMP_TABLE_VERSION, (table_id,))
            await conn.execute(sql.DETACH_TABLE_STREAMS, (now, table_id))
            if table_arn is not None:
                await conn.execute(sql.DELETE_TAGS, (table_arn,))
            if system_backup is not None:
                cur = await conn.execute(sql.INSERT_SYSTEM_BACKUP, (*system_backup, table_arn, now, table_id,
                                                                    table_id))
                row = await cur.fetchone()
                if row is not None:
                    await conn.execute(sql.COPY_ITEMS_TO_BACKUP, (row[0], table_id))
                    await conn.execute(sql.FINISH_BACKUP, (row[0], row[0], row[0]))
            for statement in (sql.DELETE_TABLE_INDEX_ENTRIES, sql.DELETE_TABLE_INDEXES, sql.DELETE_TABLE_ITEMS):
                await conn.execute(statement, (table_id,))
            # The window ends by the clock its history is stamped with, read once every item
            # row is ours (a writer that stamped before has committed).
            deleted_at = float((await (await conn.execute(_CLOCK)).fetchone())[0])
            await conn.execute(sql.DETACH_PITR_SOURCES, (deleted_at, table_id, table_id))
            await conn.execute(sql.DELETE_TABLE, (table_id,))

    # Index changes bump their table's version first (holding its row): a write in
    # flight finishes before, a later one is redone with the new set of indexes.
    async def create_index(self, table_id: int, name: str, kind: str, status: str) -> int:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(sql.BUMP_TABLE_VERSION, (table_id,))
            cur = await conn.execute(sql.INSERT_INDEX, (table_id, name, kind, status))
            return int((await cur.fetchone())[0])

    async def set_index_status(self, index_id: int, status: str) -> None:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(sql.BUMP_VERSION_OF_INDEX_TABLE, (index_id,))
            await conn.execute(sql.SET_INDEX_STATUS, (status, index_id))

    async def drop_index(self, index_id: int) -> None:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(sql.BUMP_VERSION_OF_INDEX_TABLE, (index_id,))
            await conn.execute(sql.DELETE_INDEX_ENTRIES, (index_id,))
            await conn.execute(sql.DELETE_INDEX, (index_id,))

    async def creating_indexes(self) -> list[tuple[str, int, str]]:
        return [(r[0], int(r[1]), r[2]) for r in await self._all(sql.CREATING_INDEXES, ())]

    async def list_indexes(self, table_id: int) -> list[IndexRecord]:
        return [IndexRecord(*row) for row in await self._all(sql.LIST_INDEXES, (table_id,))]

    async def index_stats(self, index_id: int) -> tuple[int, int]:
        row = await self._one(sql.INDEX_STATS, (index_id,))
        assert row is not None
        return int(row[0]), int(row[1])

    # --- reads of the primary (pg_reads.PostgresReads) ------------------------------
    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None:
        return await self._reads.get_item(table_id, pk, sk)

    async def get_items(self, table_id: int, keys: list[tuple[bytes, bytes]]) -> dict[tuple[bytes, bytes], bytes]:
        return await self._reads.get_items(table_id, keys)

    async def query(self, table_id: int, pk: bytes, rng: KeyRange, forward: bool,
                    after: bytes | None, limit: int) -> list[QueryRow]:
        return await self._reads.query(table_id, pk, rng, forward, after, limit)

    async def query_index(self, index_id: int, index_hash: bytes, rng: KeyRange, forward: bool,
                          after: tuple[bytes, bytes, bytes] | None, limit: int) -> list[IndexRow]:
        return await self._reads.query_index(index_id, index_hash, rng, forward, after, limit)

    async def scan(self, table_id: int, after: tuple[bytes, bytes] | None,
                   segment: tuple[int, int] | None, limit: int) -> list[ScanRow]:
        return await self._reads.scan(table_id, after, segment, limit)

    async def scan_index(self, index_id: int, after: tuple[bytes, bytes, bytes, bytes] | None,
                         limit: int) -> list[IndexScanRow]:
        return await self._reads.scan_index(index_id, after, limit)

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

    async def collection_size(self, table_id: int, pk: bytes, lsi_ids: list[int]) -> int:
        row = await self._one(sql.COLLECTION_ITEMS_SIZE, (table_id, pk))
        total = int(row[0]) if row else 0
        for index_id in lsi_ids:
            row = await self._one(sql.COLLECTION_ENTRIES_SIZE, (index_id, pk))
            total += int(row[0]) if row else 0
        return total

    async def _upsert_batch(self, rows: list[sql.UpsertRow]) -> list[bool]:
        # One statement may not touch a row twice: concurrent puts of one key are
        # unordered, so keeping the last is a valid serial order.
        # Sorted, so two workers' batches lock rows in the same order (no deadlock).
        unique = sorted({row[:3]: row for row in rows}.values(), key=lambda row: row[:3])
        if len(unique) == 1:
            table_id, pk, sk, body, size, segment, version = unique[0]
            async with self._db.connection() as conn:
                cur = await conn.execute(sql.UPSERT_ITEM_CHECKED, (pk, sk, body, size, segment, table_id, version))
                return [cur.rowcount == 1] * len(rows)
        async with self._db.connection() as conn:
            cur = await conn.execute(_UPSERT_ITEMS_MANY, columns(unique, "qbbbiiq"))
            written = {(r[0], bytes(r[1]), bytes(r[2])) for r in await cur.fetchall()}
        return [row[:3] in written for row in rows]

    async def _upsert_history_batch(self, rows: list[sql.HistoryUpsertRow]) -> list[bool]:
        # As _upsert_batch (last put of a key wins, key order, the version checked in the
        # statement), then the versions of the rows it wrote, in one transaction. Pipelined:
        # BEGIN and the upsert leave together, then the versions and COMMIT.
        unique = sorted({row[:3]: row for row in rows}.values(), key=lambda row: row[:3])
        await self.open()
        async with self._pool.connection() as conn, conn.pipeline(), conn.transaction():
            cur = await conn.execute(_UPSERT_ITEMS_MANY, columns((row[:7] for row in unique), "qbbbiiq"))
            written = {(r[0], bytes(r[1]), bytes(r[2])) for r in await cur.fetchall()}
            txn = PostgresTransaction(conn)
            for table_id, pk, sk, body, size, _, _, source_id in unique:
                if (table_id, pk, sk) in written:
                    txn.record_history(source_id, pk, sk, body, size)
            await _flush_history(conn, txn)
        return [row[:3] in written for row in rows]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            txn = PostgresTransaction(conn)
            yield txn
            await txn.flush_writes()
            await _flush_history(conn, txn)

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
                               row[2], row[3], row[4].timestamp() if row[4] is not None else None)

    # --- policies, key use and the access log (accounts / wireapi.audit) ----
    async def fetch_user_policies(self, user_name: str) -> list[tuple[str, Any]]:
        rows = await self._all(sql.FETCH_USER_POLICIES, (user_name, user_name))
        # jsonb arrives parsed; a json/text column would arrive as str.
        return [(row[0], json.loads(row[1]) if isinstance(row[1], str) else row[1]) for row in rows]

    async def touch_access_keys(self, access_key_ids: list[str], when: datetime) -> None:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            async with conn.cursor() as cur:
                await cur.executemany(sql.TOUCH_ACCESS_KEY, [(when, key_id) for key_id in access_key_ids])

    async def append_access_log(self, rows: list[AccessLogRow]) -> None:
        await self.open()
        async with self._pool.connection() as conn, conn.cursor() as cur:
            async with cur.copy(sql.COPY_ACCESS_LOG) as copy:
                copy.set_types(sql.ACCESS_LOG_TYPES)
                for row in rows:
                    await copy.write_row(row)

    async def purge_access_log(self, before: datetime, note: Callable[[int], AccessLogRow]) -> int:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(sql.PG_PURGE_GUARD)
            count = (await conn.execute(sql.PURGE_ACCESS_LOG, (before,))).rowcount
            await conn.execute(sql.INSERT_ACCESS_LOG, note(count))
            return count

    # --- tags and on-demand backups (wireapi.operations.tags / backups) ------------
    async def list_tags(self, resource_arn: str) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in await self._all(sql.LIST_TAGS, (resource_arn,))]

    async def tag_resource(self, resource_arn: str, tags: list[tuple[str, str]], max_tags: int) -> bool:
        await self.open()
        try:
            async with self._pool.connection() as conn, conn.transaction():
                # Concurrent taggings of one resource count one after the other.
                await conn.execute(_LOCK_RESOURCE, (resource_arn,))
                async with conn.cursor() as cur:
                    await cur.executemany(sql.UPSERT_TAG, [(resource_arn, k, v) for k, v in tags])
                    await cur.execute(sql.COUNT_TAGS, (resource_arn,))
                    count = (await cur.fetchone())[0]
                if count > max_tags:
                    raise TooManyTags()
        except TooManyTags:
            return False
        return True

    async def untag_resource(self, resource_arn: str, keys: list[str]) -> None:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(_LOCK_RESOURCE, (resource_arn,))
            async with conn.cursor() as cur:
                await cur.executemany(sql.DELETE_TAG, [(resource_arn, k) for k in keys])

    @staticmethod
    def _backup(row: tuple) -> BackupRecord:
        return BackupRecord(row[0], row[1], row[2], row[3], row[4], row[5], float(row[6]), int(row[7]),
                            int(row[8]), row[9], row[10])

    async def create_backup(self, table_id: int, arn: str, name: str, table_name: str, table_arn: str,
                            created_at: float) -> BackupRecord | None:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            # One snapshot for the description and every item.
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cur = await conn.execute(sql.INSERT_BACKUP, (arn, name, table_name, table_arn, created_at, table_id))
            row = await cur.fetchone()
            if row is None:
                return None
            await conn.execute(sql.COPY_ITEMS_TO_BACKUP, (row[0], table_id))
            cur = await conn.execute(sql.FINISH_BACKUP, (row[0], row[0], row[0]))
            return self._backup(await cur.fetchone())

    async def load_backup(self, arn: str) -> BackupRecord | None:
        row = await self._one(sql.LOAD_BACKUP, (arn,))
        return self._backup(row) if row else None

    async def list_backups(self, table_name: str | None, lower: float | None, upper: float | None,
                           after: tuple[float, str] | None, limit: int,
                           types: tuple[str, ...] = ("USER",)) -> list[BackupRecord]:
        statement, params = sql.list_backups_query(table_name, lower, upper, after, limit, types)
        return [self._backup(r) for r in await self._all(statement, params)]

    async def delete_backup(self, backup_id: int) -> None:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            try:  # a restore from it holds the row: answer at once rather than wait
                await conn.execute(sql.LOCK_BACKUP + " FOR UPDATE NOWAIT", (backup_id,))
            except psycopg.errors.LockNotAvailable:
                raise BackupBusy() from None
            await conn.execute(sql.DELETE_BACKUP_ITEMS, (backup_id,))
            await conn.execute(sql.DELETE_BACKUP, (backup_id,))

    @asynccontextmanager
    async def restore_backup(self, backup_id: int, name: str, description: dict[str, Any], created_at: float,
                             indexes: list[tuple[str, str]]) -> AsyncIterator[RestoreSession]:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            try:  # one restore per backup at a time, as in DynamoDB
                cur = await conn.execute(sql.LOCK_BACKUP + " FOR UPDATE NOWAIT", (backup_id,))
            except psycopg.errors.LockNotAvailable:
                raise BackupBusy() from None
            if await cur.fetchone() is None:
                raise BackupGone()
            cur = await conn.execute(sql.INSERT_TABLE, (name, "ACTIVE", created_at, Jsonb(description)))
            row = await cur.fetchone()
            if row is None:
                raise TableExists(name)
            records = []
            for index_name, kind in indexes:
                cur = await conn.execute(sql.INSERT_INDEX, (row[0], index_name, kind, "ACTIVE"))
                records.append(IndexRecord((await cur.fetchone())[0], index_name, kind, "ACTIVE"))
            await conn.execute(sql.COPY_ITEMS_FROM_BACKUP, (row[0], backup_id))
            yield PostgresRestoreSession(conn, TableRecord(row[0], name, "ACTIVE", created_at, description), records)

    # --- import and export jobs (wireapi.transfer) ------------------------------
    @staticmethod
    def _job(row: tuple) -> JobRecord:
        return JobRecord(int(row[0]), row[1], row[2], row[3], float(row[4]), float(row[5]), row[6])

    async def create_job(self, arn: str, kind: str, created_at: float, description: dict[str, Any],
                         token: str, token_since: float) -> tuple[JobRecord, bool]:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            # Requests carrying one token queue here, so the lookup and the insert are one step.
            await conn.execute(_LOCK_JOB_TOKEN, (f"{kind}:{token}",))
            cur = await conn.execute(_JOB_BY_TOKEN, (kind, token, token_since))
            row = await cur.fetchone()
            if row is not None:
                return self._job(row), False
            cur = await conn.execute(sql.INSERT_JOB, (arn, kind, created_at, created_at, Jsonb(description)))
            job_id = (await cur.fetchone())[0]
        return JobRecord(job_id, arn, kind, "IN_PROGRESS", created_at, created_at, description), True

    async def load_job(self, arn: str) -> JobRecord | None:
        row = await self._one(sql.LOAD_JOB, (arn,))
        return self._job(row) if row else None

    async def save_job(self, job: JobRecord) -> None:
        await self._one_exec(sql.SAVE_JOB, (job.status, job.updated_at, Jsonb(job.description), job.id))

    async def list_jobs(self, kind: str, arn_prefix: str | None, before_id: int | None,
                        limit: int) -> list[JobRecord]:
        params = (kind, *((arn_prefix, arn_prefix) if arn_prefix is not None else ()),
                  *((before_id,) if before_id is not None else ()), limit)
        rows = await self._all(sql.list_jobs(arn_prefix is not None, before_id is not None), params)
        return [self._job(row) for row in rows]

    async def cancel_job(self, job_id: int, now: float) -> str | None:
        row = await self._one(sql.CANCEL_JOB, (now, job_id))
        return row[0] if row else None

    async def save_running_job(self, job: JobRecord) -> bool:
        await self.open()
        async with self._pool.connection() as conn:
            cur = await conn.execute(sql.SAVE_RUNNING_JOB, (job.updated_at, Jsonb(job.description), job.id))
            return cur.rowcount == 1

    async def cancel_abandoned_jobs(self, stale_before: float) -> int:
        async with self._db.connection() as conn:
            return (await conn.execute(sql.CANCEL_ABANDONED_JOBS, (stale_before,))).rowcount

    async def claim_job(self, kind: str, now: float, stale_before: float) -> JobRecord | None:
        row = await self._one(_CLAIM_JOB, (now, kind, stale_before))
        return self._job(row) if row else None

    def snapshot_pages(self, table_id: int, page_size: int) -> AsyncIterator[list[ScanRow]]:
        return self._snapshot_pages(
            lambda after: (sql.scan_items(after is not None, False), (table_id, *(after or ()), page_size)),
            lambda r: (bytes(r[0]), bytes(r[1]), r[2], r[3]))

    # --- point-in-time recovery (wireapi.pitr) ----------------------------------
    async def clock(self) -> float:
        row = await self._one(_CLOCK, ())
        assert row is not None
        return float(row[0])

    @staticmethod
    def _source(row: tuple | None) -> PitrSourceRecord | None:
        if row is None:
            return None
        return PitrSourceRecord(row[0], row[1], row[2], row[3], row[4], float(row[5]), int(row[6]),
                                None if row[7] is None else float(row[7]), row[8], float(row[9]))

    @staticmethod
    async def _save_checked(conn: psycopg.AsyncConnection, record: TableRecord) -> None:
        """save_table's statement: StaleSchema unless the table is still at record.version.
        Writes in flight hold the table row in share mode: this waits for them, and later
        ones see the new version (refused and redone, with the new settings)."""
        cur = await conn.execute(sql.SAVE_TABLE, (record.status, Jsonb(record.description), record.id,
                                                  record.version))
        row = await cur.fetchone()
        if row is None:
            raise StaleSchema(record.id)
        record.version = int(row[0])

    async def enable_pitr(self, record: TableRecord, recovery_days: int,
                          describe: Callable[[int, float], dict[str, Any]]) -> PitrSourceRecord:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            # The table row first: every write validated before has committed, every later
            # one waits for this commit and then records history (or is redone).
            await self._save_checked(conn, record)
            now = float((await (await conn.execute(_CLOCK)).fetchone())[0])
            cur = await conn.execute(sql.INSERT_PITR_SOURCE, (
                record.id, record.name, record.description["TableArn"], record.description["TableId"], now,
                recovery_days))
            source_id = (await cur.fetchone())[0]
            await conn.execute(sql.COPY_ITEMS_TO_HISTORY, (source_id, now, record.id))
            record.description = describe(source_id, now)
            await conn.execute(sql.SAVE_DESCRIPTION, (Jsonb(record.description), record.id))
            cur = await conn.execute(sql.LOAD_PITR_SOURCE, (source_id,))
            return self._source(await cur.fetchone())  # type: ignore[return-value]

    async def update_pitr(self, record: TableRecord, source_id: int, recovery_days: int) -> None:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await self._save_checked(conn, record)
            await conn.execute(sql.SET_PITR_RECOVERY_DAYS, (recovery_days, source_id))

    async def disable_pitr(self, record: TableRecord, source_id: int) -> None:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await self._save_checked(conn, record)
            await conn.execute(sql.DELETE_SOURCE_HISTORY, (source_id,))
            await conn.execute(sql.DELETE_PITR_SOURCE, (source_id,))

    async def load_pitr_source(self, source_id: int | None = None, table_id: int | None = None,
                               deleted_name: str | None = None) -> PitrSourceRecord | None:
        if source_id is not None:
            return self._source(await self._one(sql.LOAD_PITR_SOURCE, (source_id,)))
        if table_id is not None:
            return self._source(await self._one(sql.LIVE_PITR_SOURCE, (table_id,)))
        return self._source(await self._one(sql.DELETED_PITR_SOURCES, (deleted_name,)))

    async def list_pitr_sources(self) -> list[PitrSourceRecord]:
        return [self._source(r) for r in await self._all(sql.ALL_PITR_SOURCES, ())]  # type: ignore[misc]

    async def history_barrier(self, source_id: int) -> None:
        # Writers hold the source's lock shared from before their stamp until their commit.
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(sql.PG_HISTORY_BARRIER, (sql.PG_PITR_LOCK_CLASS, source_id))

    async def _snapshot_pages(self, page: Callable[[tuple[bytes, bytes] | None], tuple[str, tuple]],
                              convert: Callable[[tuple], tuple]) -> AsyncIterator[list[tuple]]:
        """Pages in key order from one REPEATABLE READ snapshot; `page(after)` gives the
        statement and params, `convert` turns a row's buffers into bytes."""
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            after: tuple[bytes, bytes] | None = None
            while True:
                cur = await conn.execute(*page(after))
                rows = [convert(r) for r in await cur.fetchall()]
                if not rows:
                    break
                yield rows
                after = (rows[-1][0], rows[-1][1])

    def history_pages(self, source_id: int, as_of: float, page_size: int) -> AsyncIterator[list[HistoryRow]]:
        return self._snapshot_pages(
            lambda after: (sql.history_as_of(after is not None), (source_id, as_of, *(after or ()), as_of, page_size)),
            lambda r: (bytes(r[0]), bytes(r[1]), _maybe_bytes(r[2]), r[3]))

    def history_change_pages(self, source_id: int, since: float, until: float,
                             page_size: int) -> AsyncIterator[list[HistoryChange]]:
        return self._snapshot_pages(
            lambda after: (sql.history_changes(after is not None),
                           (since, source_id, since, until, *(after or ()), until, page_size)),
            lambda r: (bytes(r[0]), bytes(r[1]), float(r[2]), _maybe_bytes(r[3]), _maybe_bytes(r[4])))

    async def purge_history(self, source_id: int, window_start: float, purged_to: float) -> int:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(sql.PURGE_HISTORY, (source_id, purged_to, window_start, window_start,
                                                         window_start))
            await conn.execute(sql.SET_PURGED_TO, (window_start, source_id))
            return cur.rowcount

    async def drop_pitr_source(self, source_id: int) -> None:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(sql.DELETE_SOURCE_HISTORY, (source_id,))
            await conn.execute(sql.DELETE_PITR_SOURCE, (source_id,))

    async def purge_system_backups(self, before: float) -> int:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(sql.DELETE_EXPIRED_SYSTEM_BACKUP_ITEMS, (before,))
            cur = await conn.execute(sql.DELETE_EXPIRED_SYSTEM_BACKUPS, (before,))
            return cur.rowcount

    async def history_stats(self, source_id: int) -> tuple[int, float, float]:
        row = await self._one(sql.HISTORY_STATS, (source_id,))
        assert row is not None
        return int(row[0]), float(row[1]), float(row[2])

    async def write_restored(self, table_id: int, version: int, rows: list[tuple[bytes, bytes, bytes, int]],
                             entries: list[tuple[int, bytes, bytes, bytes, bytes, bytes, int]]) -> None:
        if not rows:
            return
        cols = list(map(list, zip(*rows)))
        n = len(rows)
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            # The upsert checks the table's version itself (no row written if it moved on).
            cur = await conn.execute(_UPSERT_ITEMS_MANY, ([table_id] * n, cols[0], cols[1], cols[2], cols[3],
                                                          [sql.segment_hash(pk) for pk in cols[0]], [version] * n))
            if len(await cur.fetchall()) != n:
                raise StaleSchema(table_id)
            if entries:
                async with conn.cursor() as cur:
                    await cur.executemany(sql.UPSERT_INDEX_ENTRY, entries)

    # --- DynamoDB Streams and TTL ------------------------------------------------
    @staticmethod
    async def _insert_stream(conn: psycopg.AsyncConnection, table_id: int, stream: NewStream) -> None:
        await conn.execute(sql.INSERT_STREAM, (stream.arn, table_id, stream.table_name, stream.label,
                                               stream.view_type, stream.created_at, Jsonb(stream.key_schema)))

    async def create_stream(self, table_id: int, stream: NewStream) -> None:
        await self.open()
        async with self._pool.connection() as conn:
            await self._insert_stream(conn, table_id, stream)

    @staticmethod
    def _stream(row: tuple) -> StreamInfo:
        return StreamInfo(row[0], row[1], row[2], row[3], row[4], row[5], row[6], float(row[7]), int(row[8]),
                          row[9], row[10])

    async def load_stream(self, arn: str | None = None, stream_id: int | None = None) -> StreamInfo | None:
        if arn is not None:
            row = await self._one(sql.LOAD_STREAM_BY_ARN, (arn,))
        else:
            row = await self._one(sql.LOAD_STREAM_BY_ID, (stream_id,))
        return self._stream(row) if row else None

    async def list_streams(self, table_name: str | None, after_id: int | None, limit: int,
                           disabled_after: float) -> list[StreamInfo]:
        statement = sql.list_streams(table_name is not None, after_id is not None)
        params = (disabled_after, *(p for p in (table_name, after_id) if p is not None), limit)
        return [self._stream(r) for r in await self._all(statement, params)]

    async def stream_seq_bounds(self, stream_id: int) -> tuple[int | None, int | None]:
        row = await self._one(sql.STREAM_SEQ_BOUNDS, (stream_id,))
        assert row is not None
        return row[0], row[1]

    async def read_stream_records(self, stream_id: int, from_seq: int, limit: int) -> list[StreamRecordRow]:
        rows = await self._all(sql.READ_STREAM_RECORDS, (stream_id, from_seq, limit))
        return [(r[0], r[1], r[2], bytes(r[3]), bytes(r[4]) if r[4] is not None else None) for r in rows]

    async def first_stream_seq_since(self, stream_id: int, since: float) -> int | None:
        row = await self._one(sql.FIRST_LIVE_SEQ, (stream_id, since))
        return row[0] if row else None

    async def purge_streams(self, before: float) -> int:
        purged = 0
        for (stream_id,) in await self._all(sql.STREAM_IDS, ()):
            row = await self._one(sql.FIRST_LIVE_SEQ, (stream_id, before))
            bound = row[0] if row else sql.NO_SEQ
            await self.open()
            async with self._pool.connection() as conn:
                cur = await conn.execute(sql.DELETE_STREAM_RECORDS_BELOW, (stream_id, bound, before))
                purged += cur.rowcount
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(sql.DELETE_OLD_STREAM_RECORDS, (before,))
            purged += cur.rowcount
            await conn.execute(sql.DELETE_OLD_STREAMS, (before,))
        return purged

    # --- unlocked single-item writes (bench issue 6) -------------------------------
    # A conditional write to a table without indexes or streams changes one row. Instead
    # of BEGIN, SELECT … FOR UPDATE, UPDATE, COMMIT (four round trips and a commit each),
    # the caller reads the row with GetItem's shared statement and writes it back with a
    # compare-and-set; the compare-and-sets of a worker's concurrent writes share one
    # statement per kind (update, insert, delete) and its commit.
    compare_and_set_supported = True

    async def compare_and_set(self, table_id: int, pk: bytes, sk: bytes, expected: bytes | None,
                              body: bytes | None, size: int, version: int) -> bool:
        if expected is None and body is None:
            return True  # absent, and stays absent
        return await self._compare_and_sets.submit((table_id, pk, sk, expected, body, size, version))

    async def _compare_and_set_batch(
            self, rows: list[tuple[int, bytes, bytes, bytes | None, bytes | None, int, int]]) -> list[bool]:
        kinds: dict[str, list[int]] = {"update": [], "insert": [], "delete": []}
        seen: set[tuple[int, bytes, bytes]] = set()
        for i, (table_id, pk, sk, expected, body, _, _) in enumerate(rows):
            if (table_id, pk, sk) in seen:
                continue  # a second write of one key in a batch: it retries under a lock
            seen.add((table_id, pk, sk))
            kinds["insert" if expected is None else "delete" if body is None else "update"].append(i)
        written = [False] * len(rows)
        await self.open()
        async with self._pool.connection() as conn:
            for kind, picked in kinds.items():
                # Key order: two workers' batches lock rows in the same order (no deadlock).
                picked.sort(key=lambda i: rows[i][:3])
                for i in await _compare_and_set_rows(conn, kind, [rows[i] for i in picked], picked):
                    written[i] = True
        return written


# --- tags and on-demand backups ------------------------------------------------------

_LOCK_RESOURCE = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"


class PostgresRestoreSession(RestoreSession):
    _conn: psycopg.AsyncConnection

    async def scan(self, after: tuple[bytes, bytes] | None, limit: int) -> list[ScanRow]:
        cur = await self._conn.execute(sql.scan_items(after is not None, False), (self.table.id, *(after or ()), limit))
        return await cur.fetchall()

    async def put_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                              pk: bytes, sk: bytes, body: bytes, size: int) -> None:
        await self._conn.execute(sql.UPSERT_INDEX_ENTRY, (index_id, index_hash, index_range, pk, sk, body, size))


# --- point-in-time recovery -------------------------------------------------------------

_CLOCK = "SELECT extract(epoch FROM clock_timestamp())::float8"


def _maybe_bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


_SINGLE_WRITES = {"item_updates": sql.UPDATE_ITEM, "item_deletes": sql.DELETE_ITEM,
                  "entry_deletes": sql.DELETE_INDEX_ENTRY, "entry_puts": sql.UPSERT_INDEX_ENTRY}


@functools.cache
def _write_many(parts: tuple[str, ...]) -> str:
    return binary_arrays(sql.write_many(parts))


async def _flush_history(conn: psycopg.AsyncConnection, txn: Transaction) -> None:
    """The transaction's versions in one statement, its last: stamped once, after every row lock."""
    rows = txn.pending_history()
    if not rows:
        return
    cols = list(map(list, zip(*rows)))
    await conn.execute(_INSERT_HISTORY_MANY, (sql.PG_PITR_LOCK_CLASS, sorted(set(cols[0])), *cols))


# --- import and export jobs (wireapi.transfer) -------------------------------------

_LOCK_JOB_TOKEN = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 1))"
_JOB_BY_TOKEN = (
    f"SELECT {sql.JOB_COLUMNS} FROM ddb_job WHERE kind = %s AND description->>'ClientToken' = %s "
    "AND created_at > %s ORDER BY id DESC LIMIT 1"
)
# SKIP LOCKED: a job another runner is claiming right now is passed over, not waited for.
_CLAIM_JOB = sql.claim_job(sql.CLAIMABLE_JOB + " FOR UPDATE SKIP LOCKED")


# --- unlocked single-item writes (bench issue 6) ------------------------------------------
async def _compare_and_set_rows(conn: psycopg.AsyncConnection, kind: str,
                                rows: list[tuple[int, bytes, bytes, bytes | None, bytes | None, int, int]],
                                ids: list[int]) -> list[int]:
    """Run one kind of compare-and-set for `rows` in one autocommit statement; the
    ids of the rows written."""
    if not rows:
        return []
    try:
        if len(rows) == 1:
            table_id, pk, sk, expected, body, size, version = rows[0]
            if kind == "update":
                cur = await conn.execute(sql.CAS_UPDATE_ITEM, (body, size, table_id, pk, sk, expected,
                                                               table_id, version))
            elif kind == "insert":
                cur = await conn.execute(sql.CAS_INSERT_ITEM, (pk, sk, body, size, sql.segment_hash(pk),
                                                               table_id, version))
            else:
                cur = await conn.execute(sql.CAS_DELETE_ITEM, (table_id, pk, sk, expected, table_id, version))
            return ids if cur.rowcount == 1 else []
        cols = list(map(list, zip(*rows)))
        if kind == "update":
            cur = await conn.execute(_CAS_UPDATE_ITEMS, (cols[0], cols[1], cols[2], cols[3], cols[4], cols[5],
                                                            cols[6]))
        elif kind == "insert":
            cur = await conn.execute(_CAS_INSERT_ITEMS, (cols[0], cols[1], cols[2], cols[4], cols[5],
                                                            [sql.segment_hash(pk) for pk in cols[1]], cols[6]))
        else:
            cur = await conn.execute(_CAS_DELETE_ITEMS, (cols[0], cols[1], cols[2], cols[3], cols[6]))
        done = {(r[0], bytes(r[1]), bytes(r[2])) for r in await cur.fetchall()}
    except (psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable,
            psycopg.errors.SerializationFailure):
        return []  # every write of the batch falls back to the locking path
    return [i for i, row in zip(ids, rows) if row[:3] in done]


_UPSERT_ITEMS_MANY = binary_arrays(sql.UPSERT_ITEMS_MANY)
_CAS_UPDATE_ITEMS = binary_arrays(sql.CAS_UPDATE_ITEMS)
_CAS_INSERT_ITEMS = binary_arrays(sql.CAS_INSERT_ITEMS)
_CAS_DELETE_ITEMS = binary_arrays(sql.CAS_DELETE_ITEMS)
_INSERT_HISTORY_MANY = binary_arrays(sql.INSERT_HISTORY_MANY)
