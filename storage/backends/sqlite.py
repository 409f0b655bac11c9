"""The embedded default: SQLite through the standard library.

SQLite calls take microseconds, so they run on the event loop without a
thread hop. One connection per worker; a lock keeps one transaction at a time
on it. Writers take the database lock up front (BEGIN IMMEDIATE) so the row
read for a condition check cannot change before the write, across processes
too. WAL mode lets readers proceed beside the writer. The host's writers queue
on a flock beside the database before BEGIN IMMEDIATE (write_lock.py), so a
worker waiting for another's write is woken at its COMMIT instead of sleeping
in SQLite's busy handler with its event loop blocked.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import astuple
from datetime import datetime, timezone
from functools import cache
from typing import Any

from storage.generation import FileGeneration, sqlite_generation_path

from . import sql
from .base import (AccessKeyRecord, AccessLogRow, BackupGone, BackupRecord, HistoryChange, HistoryRow,
                   IndexRecord, IndexRow, IndexScanRow, JobRecord, KeyRange, Lease, NewStream, PitrSourceRecord,
                   QueryRow, RestoreSession, ScanRow,
                   ServerRecord, Snapshot, StaleSchema, StreamInfo, StreamRecordRow, TableExists,
                   TableRecord, TooManyTags, Transaction, WriteConflict)
from .file_leases import try_file_lease
from .write_lock import WriterLock


@cache
def qmark(statement: str) -> str:
    return statement.replace("%s", "?")


def _check_version(conn: sqlite3.Connection, table_id: int, version: int) -> bool:
    """Under the database write lock: is the table still at the version a write was validated against?"""
    row = conn.execute(qmark(sql.TABLE_VERSION), (table_id,)).fetchone()
    return row is not None and row[0] == version


class SQLiteTransaction(Transaction, Snapshot):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._checked: set[int] = set()

    async def get_item(self, table_id: int, pk: bytes, sk: bytes, version: int | None = None) -> bytes | None:
        if version is not None and table_id not in self._checked:
            if not _check_version(self._conn, table_id, version):
                raise StaleSchema(table_id)
            self._checked.add(table_id)
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

    # --- DynamoDB Streams ---------------------------------------------------------
    async def append_stream_record(self, stream_arn: str, table_id: int, created_at: float, event_name: str,
                                   body: bytes, user_identity: bytes | None) -> None:
        # The database write lock is held: numbers are taken in commit order.
        row = self._conn.execute(qmark(sql.TAKE_STREAM_SEQ), (stream_arn, table_id)).fetchone()
        if row is not None:
            self._conn.execute(qmark(sql.INSERT_STREAM_RECORD),
                               (row[0], row[1], created_at, event_name, body, user_identity))


class _Group:
    """One write transaction shared by the concurrent transaction() calls of a worker."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()  # BEGIN IMMEDIATE done (or failed: `error`)
        self.committed = asyncio.Event()  # COMMIT done (or failed: `error`)
        self.idle = asyncio.Event()  # no member between joining and the end of its body
        self.member = asyncio.Lock()
        self.pending = 0
        self.closed = False
        self.broken: BaseException | None = None  # the shared transaction is lost: it must not commit
        self.error: BaseException | None = None
        self.task: asyncio.Task | None = None  # a strong reference to _run_group


class SQLiteBackend(sql.SQLBackend):
    vendor = "sqlite"

    def __init__(self, settings_dict: dict[str, Any]) -> None:
        super().__init__()  # concurrent blind PutItems share one write transaction and its fsync
        self._path = str(settings_dict["NAME"])
        self._timeout = float(settings_dict.get("OPTIONS", {}).get("timeout", 30))
        from django.conf import settings

        self._synchronous = settings.EXTENDDB_SQLITE_SYNCHRONOUS
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._writer = WriterLock(self._path)  # orders this host's writers without busy-handler sleeps
        self._group_conn: sqlite3.Connection | None = None
        self._group: _Group | None = None  # the shared write transaction members can still join
        self._generation: FileGeneration | None = None

    # --- one host: the generation file and lock files beside the database ----------
    @property
    def generation(self) -> FileGeneration:
        if self._generation is None:
            self._generation = FileGeneration(sqlite_generation_path(self._path))
        return self._generation

    async def try_lease(self, name: str) -> Lease | None:
        return try_file_lease(self._path, name)

    async def heartbeat_server(self, server: ServerRecord) -> None:
        params = astuple(server)[:7] + (json.dumps(list(server.leads)),)
        async with self._write() as conn:
            conn.execute(qmark(sql.UPSERT_SERVER), params)

    async def list_servers(self) -> list[ServerRecord]:
        return [ServerRecord(*row[:7], tuple(json.loads(row[7])))
                for row in self.conn.execute(qmark(sql.LIST_SERVERS)).fetchall()]

    async def remove_server(self, server_id: str) -> None:
        async with self._write() as conn:
            conn.execute(qmark(sql.DELETE_SERVER), (server_id,))

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None,
                               check_same_thread=False, cached_statements=256)
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the client hears of it, even across power loss.
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    @property
    def group_conn(self) -> sqlite3.Connection:
        """The shared write transactions' own connection: a group stays open across loop
        turns, and the unlocked reads on `conn` meanwhile must see committed data only."""
        if self._group_conn is None:
            self._group_conn = self._connect()
        return self._group_conn

    async def close(self) -> None:
        for conn in (self._conn, self._group_conn):
            if conn is not None:
                conn.close()
        self._conn = self._group_conn = None
        self._writer.close()

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[sqlite3.Connection]:
        async with self._lock:
            conn = self.conn
            # This host's writers queue on this flock, woken at COMMIT, instead of in SQLite's
            # sleeping busy handler with the event loop blocked (storage.backends.write_lock).
            locked = await self._writer.acquire_async()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                else:
                    conn.execute("COMMIT")
            finally:
                if locked:
                    self._writer.release()

    @staticmethod
    def _table(row: tuple) -> TableRecord:
        return TableRecord(id=row[0], name=row[1], status=row[2], created_at=float(row[3]),
                           description=json.loads(row[4]), version=int(row[5]))

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

    async def save_table(self, record: TableRecord, *, new_indexes: Sequence[tuple[str, str, str]] = (),
                         dropped_indexes: Sequence[int] = (), new_stream: NewStream | None = None,
                         disable_streams: bool = False, now: float | None = None) -> list[int]:
        async with self._write() as conn:
            row = conn.execute(qmark(sql.SAVE_TABLE), (record.status, json.dumps(record.description), record.id,
                                                       record.version)).fetchone()
            if row is None:
                raise StaleSchema(record.id)
            ids = [conn.execute(qmark(sql.INSERT_INDEX), (record.id, name, kind, status)).fetchone()[0]
                   for name, kind, status in new_indexes]
            for index_id in dropped_indexes:
                conn.execute(qmark(sql.DELETE_INDEX_ENTRIES), (index_id,))
                conn.execute(qmark(sql.DELETE_INDEX), (index_id,))
            if disable_streams:
                conn.execute(qmark(sql.DISABLE_TABLE_STREAMS), (now if now is not None else time.time(), record.id))
            if new_stream is not None:
                self._insert_stream(conn, record.id, new_stream)
        record.version = int(row[0])
        return ids

    async def drop_table(self, table_id: int, now: float | None = None, table_arn: str | None = None,
                         system_backup: tuple[str, str] | None = None) -> None:
        async with self._write() as conn:
            now = now if now is not None else time.time()
            conn.execute(qmark(sql.BUMP_TABLE_VERSION), (table_id,))
            conn.execute(qmark(sql.DETACH_TABLE_STREAMS), (now, table_id))
            if table_arn is not None:
                conn.execute(qmark(sql.DELETE_TAGS), (table_arn,))
            if system_backup is not None:
                row = conn.execute(qmark(sql.INSERT_SYSTEM_BACKUP), (*system_backup, table_arn, now, table_id,
                                                                      table_id)).fetchone()
                if row is not None:
                    conn.execute(qmark(sql.COPY_ITEMS_TO_BACKUP), (row[0], table_id))
                    conn.execute(qmark(sql.FINISH_BACKUP), (row[0], row[0], row[0])).fetchone()
            conn.execute(qmark(sql.DETACH_PITR_SOURCES), (time.time(), table_id, table_id))  # the stamps' clock
            for statement in (sql.DELETE_TABLE_INDEX_ENTRIES, sql.DELETE_TABLE_INDEXES,
                              sql.DELETE_TABLE_ITEMS, sql.DELETE_TABLE):
                conn.execute(qmark(statement), (table_id,))

    # Index changes bump their table's version: a write validated before is redone.
    async def create_index(self, table_id: int, name: str, kind: str, status: str) -> int:
        async with self._write() as conn:
            conn.execute(qmark(sql.BUMP_TABLE_VERSION), (table_id,))
            return conn.execute(qmark(sql.INSERT_INDEX), (table_id, name, kind, status)).fetchone()[0]

    async def set_index_status(self, index_id: int, status: str) -> None:
        async with self._write() as conn:
            conn.execute(qmark(sql.BUMP_VERSION_OF_INDEX_TABLE), (index_id,))
            conn.execute(qmark(sql.SET_INDEX_STATUS), (status, index_id))

    async def drop_index(self, index_id: int) -> None:
        async with self._write() as conn:
            conn.execute(qmark(sql.BUMP_VERSION_OF_INDEX_TABLE), (index_id,))
            conn.execute(qmark(sql.DELETE_INDEX_ENTRIES), (index_id,))
            conn.execute(qmark(sql.DELETE_INDEX), (index_id,))

    async def creating_indexes(self) -> list[tuple[str, int, str]]:
        return [(r[0], int(r[1]), r[2]) for r in self.conn.execute(qmark(sql.CREATING_INDEXES)).fetchall()]

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

    async def collection_size(self, table_id: int, pk: bytes, lsi_ids: list[int]) -> int:
        total = int(self.conn.execute(qmark(sql.COLLECTION_ITEMS_SIZE), (table_id, pk)).fetchone()[0])
        for index_id in lsi_ids:
            total += int(self.conn.execute(qmark(sql.COLLECTION_ENTRIES_SIZE), (index_id, pk)).fetchone()[0])
        return total

    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None:
        row = self.conn.execute(qmark(sql.GET_ITEM), (table_id, pk, sk)).fetchone()
        return row[0] if row else None

    async def _upsert_batch(self, rows: list[sql.UpsertRow]) -> list[bool]:
        async with self._write() as conn:
            return _upsert_checked(conn, rows)

    async def _upsert_history_batch(self, rows: list[sql.HistoryUpsertRow]) -> list[bool]:
        async with self._write() as conn:
            written = _upsert_checked(conn, rows)
            txn = SQLiteTransaction(conn)
            for (_, pk, sk, body, size, _, _, source_id), ok in zip(rows, written):
                if ok:
                    txn.record_history(source_id, pk, sk, body, size)
            _flush_history(conn, txn)
        return written

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A member of this worker's shared write transaction (group commit).

        The transactions that start in the same loop turn run one after another,
        each behind its own SAVEPOINT, inside one BEGIN IMMEDIATE ... COMMIT: one
        write lock and one fsync for all. A member that raises rolls back to its
        savepoint only. Every member, failed or not, returns only after the COMMIT;
        if the COMMIT (or the shared transaction) fails, every member raises that
        error: none is acknowledged."""
        loop = asyncio.get_running_loop()
        while True:
            group = self._group
            if group is None:
                group = self._group = _Group()
                group.task = loop.create_task(self._run_group(group))
            group.pending += 1
            try:
                await group.opened.wait()
                if group.error is not None:
                    raise group.error
                async with group.member:  # one member at a time on the connection
                    if group.closed or group.broken is not None:
                        if self._group is group:
                            self._group = None
                        continue  # no longer joinable: take the next transaction
                    conn = self.group_conn
                    conn.execute("SAVEPOINT member")
                    txn = SQLiteTransaction(conn)
                    failure: BaseException | None = None
                    try:
                        yield txn
                        _flush_history(conn, txn)
                    except BaseException as exc:
                        failure = exc
                        try:
                            conn.execute("ROLLBACK TO member")
                            conn.execute("RELEASE member")
                        except sqlite3.Error as lost:
                            group.broken = lost
                    else:
                        try:
                            conn.execute("RELEASE member")
                        except sqlite3.Error as lost:
                            group.broken = failure = lost
                    if group.broken is None and not conn.in_transaction:
                        # SQLite rolled the whole transaction back (I/O error, disk full...):
                        # the other members' writes are gone too.
                        group.broken = failure if failure is not None else sqlite3.OperationalError(
                            "the shared write transaction was rolled back")
                    if group.broken is not None and self._group is group:
                        self._group = None
            finally:
                group.pending -= 1
                if group.pending == 0:
                    group.idle.set()
            break
        await group.committed.wait()
        if group.error is not None:
            raise group.error
        if failure is not None:
            raise failure

    async def _run_group(self, group: _Group) -> None:
        """Open the shared transaction, let this loop turn's members run in it, and commit."""
        try:
            await self._lock.acquire()
        except BaseException as exc:
            self._end_group(group, exc)
            raise
        locked = False
        conn: sqlite3.Connection | None = None
        try:
            try:
                conn = self.group_conn
                locked = await self._writer.acquire_async()
                conn.execute("BEGIN IMMEDIATE")
            except BaseException as exc:
                self._end_group(group, exc)
                return
            group.opened.set()
            try:
                await asyncio.sleep(0)  # the members woken by `opened` run their writes first
                if self._group is group:
                    self._group = None  # nobody joins once the commit is under way
                while group.pending:
                    group.idle.clear()
                    await group.idle.wait()  # a member still on its way finishes first
                group.closed = True
                if group.broken is not None:
                    raise group.broken
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                self._end_group(group, exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                self._end_group(group, None)
        finally:
            if locked:
                self._writer.release()
            self._lock.release()

    def _end_group(self, group: _Group, error: BaseException | None) -> None:
        if self._group is group:
            self._group = None
        group.closed = True
        group.error = error
        group.opened.set()
        group.committed.set()

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
        return AccessKeyRecord(row[0], _as_bytes(row[1]), row[2], row[3], _epoch(row[4]))


    # --- policies, key use and the access log (accounts / wireapi.audit) ----
    async def fetch_user_policies(self, user_name: str) -> list[tuple[str, Any]]:
        rows = self.conn.execute(qmark(sql.FETCH_USER_POLICIES), (user_name, user_name)).fetchall()
        return [(row[0], json.loads(row[1])) for row in rows]

    async def touch_access_keys(self, access_key_ids: list[str], when: datetime) -> None:
        stamp = _django_datetime(when)
        async with self._write() as conn:
            conn.executemany(qmark(sql.TOUCH_ACCESS_KEY), [(stamp, key_id) for key_id in access_key_ids])

    async def append_access_log(self, rows: list[AccessLogRow]) -> None:
        async with self._write() as conn:  # one transaction, one fsync for the batch
            conn.executemany(qmark(sql.INSERT_ACCESS_LOG), [(_django_datetime(r[0]), *r[1:]) for r in rows])

    async def purge_access_log(self, before: datetime, note: Callable[[int], AccessLogRow]) -> int:
        async with self._write() as conn:  # one transaction: nobody else ever sees the guard row
            conn.execute(sql.SQLITE_PURGE_GUARD_ON)
            count = conn.execute(qmark(sql.PURGE_ACCESS_LOG), (_django_datetime(before),)).rowcount
            conn.execute(sql.SQLITE_PURGE_GUARD_OFF)
            row = note(count)
            conn.execute(qmark(sql.INSERT_ACCESS_LOG), (_django_datetime(row[0]), *row[1:]))
            return count

    # --- tags and on-demand backups (wireapi.operations.tags / backups) ------------
    async def list_tags(self, resource_arn: str) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self.conn.execute(qmark(sql.LIST_TAGS), (resource_arn,))]

    async def tag_resource(self, resource_arn: str, tags: list[tuple[str, str]], max_tags: int) -> bool:
        try:
            async with self._write() as conn:
                conn.executemany(qmark(sql.UPSERT_TAG), [(resource_arn, k, v) for k, v in tags])
                if conn.execute(qmark(sql.COUNT_TAGS), (resource_arn,)).fetchone()[0] > max_tags:
                    raise TooManyTags()
        except TooManyTags:
            return False
        return True

    async def untag_resource(self, resource_arn: str, keys: list[str]) -> None:
        async with self._write() as conn:
            conn.executemany(qmark(sql.DELETE_TAG), [(resource_arn, k) for k in keys])

    @staticmethod
    def _backup(row: tuple) -> BackupRecord:
        return BackupRecord(row[0], row[1], row[2], row[3], row[4], row[5], float(row[6]), int(row[7]),
                            int(row[8]), json.loads(row[9]), row[10])

    async def create_backup(self, table_id: int, arn: str, name: str, table_name: str, table_arn: str,
                            created_at: float) -> BackupRecord | None:
        # BEGIN IMMEDIATE holds the write lock: no write lands between the copies.
        async with self._write() as conn:
            row = conn.execute(qmark(sql.INSERT_BACKUP),
                               (arn, name, table_name, table_arn, created_at, table_id)).fetchone()
            if row is None:
                return None
            conn.execute(qmark(sql.COPY_ITEMS_TO_BACKUP), (row[0], table_id))
            return self._backup(conn.execute(qmark(sql.FINISH_BACKUP), (row[0], row[0], row[0])).fetchone())

    async def load_backup(self, arn: str) -> BackupRecord | None:
        row = self.conn.execute(qmark(sql.LOAD_BACKUP), (arn,)).fetchone()
        return self._backup(row) if row else None

    async def list_backups(self, table_name: str | None, lower: float | None, upper: float | None,
                           after: tuple[float, str] | None, limit: int,
                           types: tuple[str, ...] = ("USER",)) -> list[BackupRecord]:
        statement, params = sql.list_backups_query(table_name, lower, upper, after, limit, types)
        return [self._backup(r) for r in self.conn.execute(qmark(statement), params)]

    async def delete_backup(self, backup_id: int) -> None:
        async with self._write() as conn:
            conn.execute(qmark(sql.DELETE_BACKUP_ITEMS), (backup_id,))
            conn.execute(qmark(sql.DELETE_BACKUP), (backup_id,))

    @asynccontextmanager
    async def restore_backup(self, backup_id: int, name: str, description: dict[str, Any], created_at: float,
                             indexes: list[tuple[str, str]]) -> AsyncIterator[RestoreSession]:
        async with self._write() as conn:
            if conn.execute(qmark(sql.LOCK_BACKUP), (backup_id,)).fetchone() is None:
                raise BackupGone()
            row = conn.execute(qmark(sql.INSERT_TABLE),
                               (name, "ACTIVE", created_at, json.dumps(description))).fetchone()
            if row is None:
                raise TableExists(name)
            records = []
            for index_name, kind in indexes:
                index_id = conn.execute(qmark(sql.INSERT_INDEX), (row[0], index_name, kind, "ACTIVE")).fetchone()[0]
                records.append(IndexRecord(index_id, index_name, kind, "ACTIVE"))
            conn.execute(qmark(sql.COPY_ITEMS_FROM_BACKUP), (row[0], backup_id))
            yield SQLiteRestoreSession(conn, TableRecord(row[0], name, "ACTIVE", created_at, description), records)

    # --- DynamoDB Streams and TTL ------------------------------------------------
    def _insert_stream(self, conn: sqlite3.Connection, table_id: int, stream: NewStream) -> None:
        conn.execute(qmark(sql.INSERT_STREAM), (stream.arn, table_id, stream.table_name, stream.label,
                                                stream.view_type, stream.created_at,
                                                json.dumps(stream.key_schema)))

    async def create_stream(self, table_id: int, stream: NewStream) -> None:
        async with self._write() as conn:
            self._insert_stream(conn, table_id, stream)

    @staticmethod
    def _stream(row: tuple) -> StreamInfo:
        return StreamInfo(row[0], row[1], row[2], row[3], row[4], row[5], row[6], float(row[7]), int(row[8]),
                          json.loads(row[9]), row[10])

    async def load_stream(self, arn: str | None = None, stream_id: int | None = None) -> StreamInfo | None:
        if arn is not None:
            row = self.conn.execute(qmark(sql.LOAD_STREAM_BY_ARN), (arn,)).fetchone()
        else:
            row = self.conn.execute(qmark(sql.LOAD_STREAM_BY_ID), (stream_id,)).fetchone()
        return self._stream(row) if row else None

    async def list_streams(self, table_name: str | None, after_id: int | None, limit: int,
                           disabled_after: float) -> list[StreamInfo]:
        statement = qmark(sql.list_streams(table_name is not None, after_id is not None))
        params = (disabled_after, *(p for p in (table_name, after_id) if p is not None), limit)
        return [self._stream(r) for r in self.conn.execute(statement, params)]

    async def stream_seq_bounds(self, stream_id: int) -> tuple[int | None, int | None]:
        row = self.conn.execute(qmark(sql.STREAM_SEQ_BOUNDS), (stream_id,)).fetchone()
        return row[0], row[1]

    async def read_stream_records(self, stream_id: int, from_seq: int, limit: int) -> list[StreamRecordRow]:
        return self.conn.execute(qmark(sql.READ_STREAM_RECORDS), (stream_id, from_seq, limit)).fetchall()

    async def first_stream_seq_since(self, stream_id: int, since: float) -> int | None:
        row = self.conn.execute(qmark(sql.FIRST_LIVE_SEQ), (stream_id, since)).fetchone()
        return row[0] if row else None

    async def purge_streams(self, before: float) -> int:
        purged = 0
        for (stream_id,) in self.conn.execute(qmark(sql.STREAM_IDS)).fetchall():
            row = self.conn.execute(qmark(sql.FIRST_LIVE_SEQ), (stream_id, before)).fetchone()
            bound = row[0] if row else sql.NO_SEQ
            async with self._write() as conn:
                purged += conn.execute(qmark(sql.DELETE_STREAM_RECORDS_BELOW), (stream_id, bound, before)).rowcount
        async with self._write() as conn:
            purged += conn.execute(qmark(sql.DELETE_OLD_STREAM_RECORDS), (before,)).rowcount
            conn.execute(qmark(sql.DELETE_OLD_STREAMS), (before,))
        return purged

    # --- import and export jobs (wireapi.transfer) ------------------------------
    @staticmethod
    def _job(row: tuple) -> JobRecord:
        return JobRecord(int(row[0]), row[1], row[2], row[3], float(row[4]), float(row[5]), json.loads(row[6]))

    async def create_job(self, arn: str, kind: str, created_at: float, description: dict[str, Any],
                         token: str, token_since: float) -> tuple[JobRecord, bool]:
        async with self._write() as conn:  # BEGIN IMMEDIATE: the lookup and the insert are one step
            row = conn.execute(qmark(_JOB_BY_TOKEN), (kind, token, token_since)).fetchone()
            if row is not None:
                return self._job(row), False
            job_id = conn.execute(qmark(sql.INSERT_JOB),
                                  (arn, kind, created_at, created_at, json.dumps(description))).fetchone()[0]
        return JobRecord(job_id, arn, kind, "IN_PROGRESS", created_at, created_at, description), True

    async def load_job(self, arn: str) -> JobRecord | None:
        row = self.conn.execute(qmark(sql.LOAD_JOB), (arn,)).fetchone()
        return self._job(row) if row else None

    async def save_job(self, job: JobRecord) -> None:
        async with self._write() as conn:
            conn.execute(qmark(sql.SAVE_JOB), (job.status, job.updated_at, json.dumps(job.description), job.id))

    async def list_jobs(self, kind: str, arn_prefix: str | None, before_id: int | None,
                        limit: int) -> list[JobRecord]:
        params = (kind, *((arn_prefix, arn_prefix) if arn_prefix is not None else ()),
                  *((before_id,) if before_id is not None else ()), limit)
        statement = qmark(sql.list_jobs(arn_prefix is not None, before_id is not None))
        return [self._job(row) for row in self.conn.execute(statement, params).fetchall()]

    async def cancel_job(self, job_id: int, now: float) -> str | None:
        async with self._write() as conn:
            row = conn.execute(qmark(sql.CANCEL_JOB), (now, job_id)).fetchone()
        return row[0] if row else None

    async def save_running_job(self, job: JobRecord) -> bool:
        async with self._write() as conn:
            return conn.execute(qmark(sql.SAVE_RUNNING_JOB),
                                (job.updated_at, json.dumps(job.description), job.id)).rowcount == 1

    async def cancel_abandoned_jobs(self, stale_before: float) -> int:
        async with self._write() as conn:
            return conn.execute(qmark(sql.CANCEL_ABANDONED_JOBS), (stale_before,)).rowcount

    async def claim_job(self, kind: str, now: float, stale_before: float) -> JobRecord | None:
        async with self._write() as conn:
            row = conn.execute(qmark(sql.claim_job(sql.CLAIMABLE_JOB)), (now, kind, stale_before)).fetchone()
        return self._job(row) if row else None

    def snapshot_pages(self, table_id: int, page_size: int) -> AsyncIterator[list[ScanRow]]:
        return self._reader_pages(lambda after: (sql.scan_items(after is not None, False),
                                                 (table_id, *(after or ()), page_size)))

    # --- point-in-time recovery (wireapi.pitr) ----------------------------------
    async def clock(self) -> float:
        return time.time()  # one host: SQLite is the embedded single-host backend

    @staticmethod
    def _source(row: tuple | None) -> PitrSourceRecord | None:
        if row is None:
            return None
        return PitrSourceRecord(row[0], row[1], row[2], row[3], row[4], float(row[5]), int(row[6]),
                                None if row[7] is None else float(row[7]),
                                None if row[8] is None else json.loads(row[8]), float(row[9]))

    @staticmethod
    def _save_checked(conn: sqlite3.Connection, record: TableRecord) -> None:
        """save_table's statement: StaleSchema unless the table is still at record.version."""
        row = conn.execute(qmark(sql.SAVE_TABLE), (record.status, json.dumps(record.description), record.id,
                                                   record.version)).fetchone()
        if row is None:
            raise StaleSchema(record.id)
        record.version = int(row[0])

    async def enable_pitr(self, record: TableRecord, recovery_days: int,
                          describe: Callable[[int, float], dict[str, Any]]) -> PitrSourceRecord:
        async with self._write() as conn:  # the write lock: no write lands between the copy and the switch
            now = time.time()
            source_id = conn.execute(qmark(sql.INSERT_PITR_SOURCE), (
                record.id, record.name, record.description["TableArn"], record.description["TableId"], now,
                recovery_days)).fetchone()[0]
            conn.execute(qmark(sql.COPY_ITEMS_TO_HISTORY), (source_id, now, record.id))
            record.description = describe(source_id, now)
            self._save_checked(conn, record)
            row = conn.execute(qmark(sql.LOAD_PITR_SOURCE), (source_id,)).fetchone()
        return self._source(row)  # type: ignore[return-value]

    async def update_pitr(self, record: TableRecord, source_id: int, recovery_days: int) -> None:
        async with self._write() as conn:
            conn.execute(qmark(sql.SET_PITR_RECOVERY_DAYS), (recovery_days, source_id))
            self._save_checked(conn, record)

    async def disable_pitr(self, record: TableRecord, source_id: int) -> None:
        async with self._write() as conn:
            self._save_checked(conn, record)
            conn.execute(qmark(sql.DELETE_SOURCE_HISTORY), (source_id,))
            conn.execute(qmark(sql.DELETE_PITR_SOURCE), (source_id,))

    async def load_pitr_source(self, source_id: int | None = None, table_id: int | None = None,
                               deleted_name: str | None = None) -> PitrSourceRecord | None:
        if source_id is not None:
            return self._source(self.conn.execute(qmark(sql.LOAD_PITR_SOURCE), (source_id,)).fetchone())
        if table_id is not None:
            return self._source(self.conn.execute(qmark(sql.LIVE_PITR_SOURCE), (table_id,)).fetchone())
        return self._source(self.conn.execute(qmark(sql.DELETED_PITR_SOURCES), (deleted_name,)).fetchone())

    async def list_pitr_sources(self) -> list[PitrSourceRecord]:
        return [self._source(r) for r in self.conn.execute(qmark(sql.ALL_PITR_SOURCES)).fetchall()]  # type: ignore[misc]

    async def history_barrier(self, source_id: int) -> None:
        # Every stamp is taken under the database write lock: once we hold it, every
        # transaction that stamped before has committed.
        async with self._write():
            pass

    def _reader(self) -> sqlite3.Connection:
        """A connection of its own for a long read: one WAL snapshot, no writer blocked."""
        return sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None, check_same_thread=False)

    async def _reader_pages(self, page: Callable[[tuple[bytes, bytes] | None], tuple[str, tuple]]
                            ) -> AsyncIterator[list[tuple]]:
        """Pages in key order from one snapshot; `page(after)` gives the statement and params."""
        conn = self._reader()
        try:
            conn.execute("BEGIN")
            after: tuple[bytes, bytes] | None = None
            while True:
                statement, params = page(after)
                rows = conn.execute(qmark(statement), params).fetchall()
                if not rows:
                    break
                yield rows
                after = (rows[-1][0], rows[-1][1])
            conn.execute("COMMIT")
        finally:
            conn.close()

    def history_pages(self, source_id: int, as_of: float, page_size: int) -> AsyncIterator[list[HistoryRow]]:
        return self._reader_pages(lambda after: (sql.history_as_of(after is not None),
                                                 (source_id, as_of, *(after or ()), as_of, page_size)))

    def history_change_pages(self, source_id: int, since: float, until: float,
                             page_size: int) -> AsyncIterator[list[HistoryChange]]:
        return self._reader_pages(lambda after: (sql.history_changes(after is not None),
                                                 (since, source_id, since, until, *(after or ()), until, page_size)))

    async def purge_history(self, source_id: int, window_start: float, purged_to: float) -> int:
        async with self._write() as conn:
            count = conn.execute(qmark(sql.PURGE_HISTORY), (source_id, purged_to, window_start, window_start,
                                                            window_start)).rowcount
            conn.execute(qmark(sql.SET_PURGED_TO), (window_start, source_id))
        return count

    async def drop_pitr_source(self, source_id: int) -> None:
        async with self._write() as conn:
            conn.execute(qmark(sql.DELETE_SOURCE_HISTORY), (source_id,))
            conn.execute(qmark(sql.DELETE_PITR_SOURCE), (source_id,))

    async def purge_system_backups(self, before: float) -> int:
        async with self._write() as conn:
            conn.execute(qmark(sql.DELETE_EXPIRED_SYSTEM_BACKUP_ITEMS), (before,))
            return conn.execute(qmark(sql.DELETE_EXPIRED_SYSTEM_BACKUPS), (before,)).rowcount

    async def history_stats(self, source_id: int) -> tuple[int, float, float]:
        row = self.conn.execute(qmark(sql.HISTORY_STATS), (source_id,)).fetchone()
        return int(row[0]), float(row[1]), float(row[2])

    async def write_restored(self, table_id: int, version: int, rows: list[tuple[bytes, bytes, bytes, int]],
                             entries: list[tuple[int, bytes, bytes, bytes, bytes, bytes, int]]) -> None:
        async with self._write() as conn:
            if not _check_version(conn, table_id, version):
                raise StaleSchema(table_id)
            conn.executemany(qmark(sql.UPSERT_ITEM), [(table_id, pk, sk, body, size, sql.segment_hash(pk))
                                                      for pk, sk, body, size in rows])
            conn.executemany(qmark(sql.UPSERT_INDEX_ENTRY), entries)

def _upsert_checked(conn: sqlite3.Connection, rows: list[tuple]) -> list[bool]:
    """Blind upserts (table, hash, range, body, size, segment hash, version, …) of the tables
    still at their version (checked once per table, under the write lock); which were written."""
    current = {(t, v): _check_version(conn, t, v) for t, v in {(row[0], row[6]) for row in rows}}
    written = [current[(row[0], row[6])] for row in rows]
    conn.executemany(qmark(sql.UPSERT_ITEM), [row[:6] for row, ok in zip(rows, written) if ok])
    return written


def _flush_history(conn: sqlite3.Connection, txn: Transaction) -> None:
    """The transaction's versions, stamped once, as its last statements (under the write lock)."""
    rows = txn.pending_history()
    if rows:
        now = time.time()
        conn.executemany(qmark(sql.INSERT_HISTORY), [(p, h, r, p, h, r, now, b, s) for p, h, r, b, s in rows])


_JOB_BY_TOKEN = (
    f"SELECT {sql.JOB_COLUMNS} FROM ddb_job WHERE kind = %s "
    "AND json_extract(description, '$.ClientToken') = %s AND created_at > %s ORDER BY id DESC LIMIT 1"
)


def _django_datetime(value: datetime) -> str:
    """How Django stores a DateTimeField in SQLite (naive UTC text), so ORM filters and order agree."""
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ")

def _epoch(value: str | None) -> float | None:
    """A DateTimeField as Django stores it in SQLite (naive UTC text), as epoch seconds."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def _as_bytes(value: bytes | str | memoryview) -> bytes:
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


# --- tags and on-demand backups ------------------------------------------------------


class SQLiteRestoreSession(RestoreSession):
    _conn: sqlite3.Connection

    async def scan(self, after: tuple[bytes, bytes] | None, limit: int) -> list[ScanRow]:
        statement = sql.scan_items(after is not None, False)
        return self._conn.execute(qmark(statement), (self.table.id, *(after or ()), limit)).fetchall()

    async def put_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                              pk: bytes, sk: bytes, body: bytes, size: int) -> None:
        self._conn.execute(qmark(sql.UPSERT_INDEX_ENTRY), (index_id, index_hash, index_range, pk, sk, body, size))
