"""The storage interface the protocol layer is written against.

A backend stores tables (a name, a status and a JSON description) and items
(an order-preserving encoded key, the item's DynamoDB JSON bytes and its
size). Conditional writes run inside `transaction()`, which locks the rows it
reads so there is no window between a condition check and the write.
"""
from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.generation import Generation


class WriteConflict(Exception):
    """A concurrent writer created the same row first; the caller retries."""


class TableExists(Exception):
    pass


class StaleSchema(Exception):
    """The table changed (or went) since the caller loaded its definition: the
    write was not made. The caller reloads the table and redoes the request.

    Every item write carries the table version it was validated against and is
    checked against it in the same statement (or transaction) that writes, with
    the table row held in share mode until commit, so a schema change (which
    bumps the version) and a write can never interleave: the write either
    commits before the change or sees the new version and is refused."""


@dataclass
class TableRecord:
    id: int
    name: str
    status: str
    created_at: float  # epoch seconds
    description: dict[str, Any]
    # Bumped by every change of the table row, its indexes or its streams.
    version: int = 1
    # Derived, protocol-level data the catalog cache attaches (key schema…).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyRange:
    """Bounds on an encoded range key (None: unbounded on that side)."""

    low: bytes | None = None
    low_inclusive: bool = True
    high: bytes | None = None
    high_inclusive: bool = True


@dataclass(frozen=True)
class IndexRecord:
    id: int
    name: str
    kind: str  # "GSI" or "LSI"
    status: str


# Rows the read primitives return; `size` is the stored item size in bytes.
QueryRow = tuple[bytes, bytes, int]  # (range_key, body, size)
IndexRow = tuple[bytes, bytes, bytes, bytes, int]  # (index_range, hash_key, range_key, body, size)
ScanRow = tuple[bytes, bytes, bytes, int]  # (hash_key, range_key, body, size)
IndexScanRow = tuple[bytes, bytes, bytes, bytes, bytes, int]  # (index_hash, index_range, hash_key, range_key, body, size)


@dataclass(frozen=True)
class AccessKeyRecord:
    access_key_id: str
    secret_ciphertext: bytes
    status: str
    user_name: str
    # Epoch seconds after which the key is refused (None: never); checked per request.
    expires_at: float | None = None


# One data-plane access-log row (storage.models.AccessLogEntry), `time` timezone-aware UTC:
# (time, principal, access_key_id, operation, table_name, outcome, source, request_id, served_by,
#  error_message, latency_ms)
AccessLogRow = tuple[datetime, str, str, str, str, str, str, str, str, str, float | None]


class Transaction(abc.ABC):
    """One database transaction; every row read through it stays locked until commit."""

    def record_history(self, source_id: int, pk: bytes, sk: bytes, body: bytes | None, size: int) -> None:
        """Add the item's new version (None: deleted) to the history of a table with
        point-in-time recovery. The backend writes the versions of a transaction as its
        last statement, all stamped with one reading of the database's clock taken after
        every row lock is held, so stamps follow commit order; a key written twice in one
        transaction keeps its last version."""
        pending: dict[tuple[int, bytes, bytes], tuple[bytes | None, int]] = self.__dict__.setdefault(
            "_history", {})
        pending[(source_id, pk, sk)] = (body, size)

    def pending_history(self) -> list[tuple[int, bytes, bytes, bytes | None, int]]:
        """The versions record_history collected, in key order (a stable lock order)."""
        pending = self.__dict__.get("_history")
        if not pending:
            return []
        return [(*key, *value) for key, value in sorted(pending.items(), key=lambda kv: kv[0])]

    @abc.abstractmethod
    async def get_item(self, table_id: int, pk: bytes, sk: bytes, version: int | None = None) -> bytes | None:
        """Read (and lock) an item. `version` is the table version the caller's write was
        validated against: the first read of a table in the transaction checks it, holds
        the table row in share mode until commit, and raises StaleSchema on a mismatch."""

    @abc.abstractmethod
    async def put_item(self, table_id: int, pk: bytes, sk: bytes, body: bytes, size: int,
                       existed: bool) -> None:
        """Write an item read earlier in this transaction (`existed` says whether it was there).

        Inserting a row another transaction created meanwhile raises WriteConflict.
        """

    @abc.abstractmethod
    async def delete_item(self, table_id: int, pk: bytes, sk: bytes) -> None: ...

    @abc.abstractmethod
    async def put_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                              pk: bytes, sk: bytes, body: bytes, size: int) -> None: ...

    @abc.abstractmethod
    async def insert_token(self, token: str, request_hash: bytes, response: bytes, created_at: float,
                           expired_before: float) -> None:
        """Record an idempotency token (purging expired ones); WriteConflict if it exists."""

    @abc.abstractmethod
    async def delete_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                                 pk: bytes, sk: bytes) -> None: ...

    # --- DynamoDB Streams (wireapi.changes) ------------------------------------
    @abc.abstractmethod
    async def append_stream_record(self, stream_arn: str, table_id: int, created_at: float, event_name: str,
                                   body: bytes, user_identity: bytes | None) -> None:
        """Append a record to the table's stream if it is ENABLED. Its sequence number
        is the stream's next_seq, taken with the stream row locked until commit, so
        numbers follow commit order with no gaps (PostgreSQL takes it at commit time,
        after every item lock, so writers cannot deadlock on the stream row)."""


class Snapshot(abc.ABC):
    @abc.abstractmethod
    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None: ...


class Reader(abc.ABC):
    """Where reads go: the primary database, or a replica for eventually consistent
    reads (StorageBackend.reader). `source` names it for the access log."""

    source: str = "primary"

    @abc.abstractmethod
    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None: ...

    @abc.abstractmethod
    async def get_items(self, table_id: int, keys: list[tuple[bytes, bytes]]) -> dict[tuple[bytes, bytes], bytes]:
        """Many items of one table in one round trip (missing keys are absent)."""

    @abc.abstractmethod
    async def query(self, table_id: int, pk: bytes, rng: KeyRange, forward: bool,
                    after: bytes | None, limit: int) -> list[QueryRow]:
        """Items of one partition in range-key order, after (exclusive) a range key."""

    @abc.abstractmethod
    async def query_index(self, index_id: int, index_hash: bytes, rng: KeyRange, forward: bool,
                          after: tuple[bytes, bytes, bytes] | None, limit: int) -> list[IndexRow]:
        """Entries of one index partition in (index range, base key) order."""

    @abc.abstractmethod
    async def scan(self, table_id: int, after: tuple[bytes, bytes] | None,
                   segment: tuple[int, int] | None, limit: int) -> list[ScanRow]:
        """Items in key order; `segment` is a [low, high) range of segment hashes
        (storage.backends.sql.segment_hash, 0..65535) for parallel scans."""

    @abc.abstractmethod
    async def scan_index(self, index_id: int, after: tuple[bytes, bytes, bytes, bytes] | None,
                         limit: int) -> list[IndexScanRow]: ...


class Lease(abc.ABC):
    """The right to run one piece of once-per-cluster work (StorageBackend.try_lease).

    `lost` is set when the database may have handed it to another server (the
    connection that holds it broke): the holder must stop that work at once."""

    name: str
    lost: asyncio.Event

    @abc.abstractmethod
    async def release(self) -> None: ...


class StorageBackend(Reader):
    vendor: str
    # True when several servers on several hosts may share this database.
    multi_host: bool = False

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect (pools, prepared statements). Called once per worker."""

    async def close(self) -> None:  # noqa: B027
        pass

    def reader(self, consistent: bool) -> Reader:
        """Where a read goes: the primary for strongly consistent reads; for eventually
        consistent ones a replica within the lag bound when one is configured."""
        return self

    @property
    @abc.abstractmethod
    def generation(self) -> Generation:
        """The cluster-wide cache generation (storage.generation) of this database."""

    @abc.abstractmethod
    async def try_lease(self, name: str) -> Lease | None:
        """Take the lease `name` if no live server holds it (None otherwise). Held
        until released or until the holder dies; then another server may take it."""

    def connection_lost(self) -> None:  # noqa: B027 - optional hook
        """A request failed on a broken database connection (a restart, a failover)."""

    @abc.abstractmethod
    async def heartbeat_server(self, server: ServerRecord) -> None:
        """Insert or refresh the registry row of a running server."""

    @abc.abstractmethod
    async def list_servers(self) -> list[ServerRecord]: ...

    @abc.abstractmethod
    async def remove_server(self, server_id: str) -> None: ...

    def pool_stats(self) -> dict[str, dict[str, int]]:
        """psycopg_pool's get_stats() of each open connection pool, by pool name (none by default)."""
        return {}

    def replica_lags(self) -> dict[str, float]:
        """Each read replica's lag in seconds (an upper bound; inf while unknown), by label."""
        return {}

    # --- tables ------------------------------------------------------------
    @abc.abstractmethod
    async def load_table(self, name: str) -> TableRecord | None: ...

    @abc.abstractmethod
    async def create_table(self, name: str, description: dict[str, Any], status: str,
                           created_at: float, indexes: list[tuple[str, str]] = ()) -> TableRecord:
        """Create the table and its (name, kind) indexes in one transaction.

        Raise TableExists if the name is taken."""

    @abc.abstractmethod
    async def save_table(self, record: TableRecord, *, new_indexes: Sequence[tuple[str, str, str]] = (),
                         dropped_indexes: Sequence[int] = (), new_stream: NewStream | None = None,
                         disable_streams: bool = False, now: float | None = None) -> list[int]:
        """Write the table's status and description, if the table is still at
        `record.version` (else StaleSchema: it changed since it was read; the caller
        redoes its change on the new definition), and bump the version. In the same
        transaction: create the (name, kind, status) indexes, drop the given ones with
        their entries, disable the table's enabled stream (its records stay readable,
        as of `now`) and/or create a new ENABLED one. Returns the new indexes' ids."""

    @abc.abstractmethod
    async def drop_table(self, table_id: int, now: float | None = None, table_arn: str | None = None,
                         system_backup: tuple[str, str] | None = None) -> None:
        """Delete the table and all its items in one transaction; in the same
        transaction its streams become DISABLED and table-less (at `now`) and
        the tags of `table_arn` go. If point-in-time recovery is enabled, its
        window outlives the table (history and description) and, given
        `system_backup` (ARN, name), a SYSTEM backup of its items is taken."""

    @abc.abstractmethod
    async def list_table_names(self, after: str | None, limit: int) -> list[str]: ...

    @abc.abstractmethod
    async def table_stats(self, table_id: int) -> tuple[int, int]:
        """(item count, total item bytes)."""

    @abc.abstractmethod
    async def collection_size(self, table_id: int, pk: bytes, lsi_ids: list[int]) -> int:
        """Bytes of the items with partition key `pk` and of their entries in the
        local secondary indexes `lsi_ids` (ReturnItemCollectionMetrics)."""

    # --- secondary indexes ---------------------------------------------------
    @abc.abstractmethod
    async def create_index(self, table_id: int, name: str, kind: str, status: str) -> int: ...

    @abc.abstractmethod
    async def set_index_status(self, index_id: int, status: str) -> None: ...

    @abc.abstractmethod
    async def drop_index(self, index_id: int) -> None:
        """Delete the index and its entries in one transaction."""

    @abc.abstractmethod
    async def list_indexes(self, table_id: int) -> list[IndexRecord]: ...

    @abc.abstractmethod
    async def creating_indexes(self) -> list[tuple[str, int, str]]:
        """(table name, index id, index name) of every index still to be backfilled."""

    @abc.abstractmethod
    async def index_stats(self, index_id: int) -> tuple[int, int]: ...

    # --- items -------------------------------------------------------------
    @abc.abstractmethod
    async def put_item(self, table_id: int, pk: bytes, sk: bytes, body: bytes, size: int, version: int) -> None:
        """Unconditional upsert in its own transaction, if the table is still at
        `version` (StaleSchema otherwise)."""

    @abc.abstractmethod
    async def put_item_with_history(self, table_id: int, pk: bytes, sk: bytes, body: bytes, size: int,
                                    version: int, source_id: int) -> None:
        """put_item for a table with point-in-time recovery: the upsert and the item's new
        version in the source's history commit together (concurrent ones share the
        transaction, as blind puts share theirs); stamped as Transaction.record_history."""

    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    @abc.abstractmethod
    def snapshot(self) -> AbstractAsyncContextManager[Snapshot]:
        """A read-only view of one consistent moment (TransactGetItems), taking no locks."""

    @abc.abstractmethod
    async def fetch_token(self, token: str) -> tuple[bytes, bytes, float] | None:
        """(request hash, response, created_at) of an idempotency token."""

    # --- credentials -------------------------------------------------------
    @abc.abstractmethod
    async def fetch_access_key(self, access_key_id: str) -> AccessKeyRecord | None: ...

    # --- tags and on-demand backups (TagResource…, CreateBackup…) ------------
    @abc.abstractmethod
    async def list_tags(self, resource_arn: str) -> list[tuple[str, str]]:
        """(key, value) pairs of a resource, in key order."""

    @abc.abstractmethod
    async def tag_resource(self, resource_arn: str, tags: list[tuple[str, str]], max_tags: int) -> bool:
        """Add or overwrite tags in one transaction; write nothing and return False
        if the resource would then carry more than `max_tags`."""

    @abc.abstractmethod
    async def untag_resource(self, resource_arn: str, keys: list[str]) -> None: ...

    @abc.abstractmethod
    async def create_backup(self, table_id: int, arn: str, name: str, table_name: str, table_arn: str,
                            created_at: float) -> BackupRecord | None:
        """Copy the table's description and items into a new backup, in one
        transaction and inside the database. None if the table is gone."""

    @abc.abstractmethod
    async def load_backup(self, arn: str) -> BackupRecord | None: ...

    @abc.abstractmethod
    async def list_backups(self, table_name: str | None, lower: float | None, upper: float | None,
                           after: tuple[float, str] | None, limit: int,
                           types: tuple[str, ...] = ("USER",)) -> list[BackupRecord]:
        """AVAILABLE backups of these types (USER, SYSTEM) in (creation time, ARN) order,
        after (exclusive) the `after` position; `lower` is inclusive, `upper` exclusive."""

    @abc.abstractmethod
    async def delete_backup(self, backup_id: int) -> None:
        """Raises BackupBusy while a restore from it is running."""

    @abc.abstractmethod
    def restore_backup(self, backup_id: int, name: str, description: dict[str, Any], created_at: float,
                       indexes: list[tuple[str, str]]) -> AbstractAsyncContextManager[RestoreSession]:
        """Create a table with its (name, kind) indexes and copy the backup's items
        into it; the caller rebuilds index entries through the session, and all of
        it commits together when the block ends. Raises TableExists, BackupGone or
        BackupBusy (another restore from it is running)."""

    # --- DynamoDB Streams and TTL (wireapi.operations.streams, wireapi.ttl_sweeper) ---
    async def save_table_and_stream(self, record: TableRecord, new_stream: NewStream | None,
                                    disable_streams: bool, now: float) -> None:
        """save_table with a stream change."""
        await self.save_table(record, new_stream=new_stream, disable_streams=disable_streams, now=now)

    @abc.abstractmethod
    async def create_stream(self, table_id: int, stream: NewStream) -> None: ...

    @abc.abstractmethod
    async def load_stream(self, arn: str | None = None, stream_id: int | None = None) -> StreamInfo | None: ...

    @abc.abstractmethod
    async def list_streams(self, table_name: str | None, after_id: int | None, limit: int,
                           disabled_after: float) -> list[StreamInfo]:
        """Streams in id order: ENABLED ones and those disabled after `disabled_after`."""

    @abc.abstractmethod
    async def stream_seq_bounds(self, stream_id: int) -> tuple[int | None, int | None]:
        """(lowest, highest) sequence number still stored, (None, None) if none."""

    @abc.abstractmethod
    async def read_stream_records(self, stream_id: int, from_seq: int, limit: int) -> list[StreamRecordRow]:
        """Records with seq >= from_seq in sequence order."""

    @abc.abstractmethod
    async def first_stream_seq_since(self, stream_id: int, since: float) -> int | None:
        """The first record created at or after `since` (AT_TIMESTAMP), or None."""

    @abc.abstractmethod
    async def purge_streams(self, before: float) -> int:
        """Delete records created before `before` (a prefix of each stream, read by
        key) and streams disabled before it; returns how many records went."""

    # --- import and export jobs (wireapi.transfer) ------------------------------
    @abc.abstractmethod
    async def create_job(self, arn: str, kind: str, created_at: float, description: dict[str, Any],
                         token: str, token_since: float) -> tuple[JobRecord, bool]:
        """Insert an IN_PROGRESS job, unless a job of this kind whose description
        carries ClientToken `token` was created after `token_since`: then return
        that one. Both in one transaction. (record, created)."""

    @abc.abstractmethod
    async def load_job(self, arn: str) -> JobRecord | None: ...

    @abc.abstractmethod
    async def save_job(self, job: JobRecord) -> None:
        """Write status, updated_at and description."""

    @abc.abstractmethod
    async def list_jobs(self, kind: str, arn_prefix: str | None, before_id: int | None,
                        limit: int) -> list[JobRecord]:
        """Jobs newest first (id descending), optionally only ARNs starting with `arn_prefix`."""

    @abc.abstractmethod
    async def cancel_job(self, job_id: int, now: float) -> str | None:
        """Cancel a job: a waiting one becomes CANCELLED, a RUNNING one CANCELLING (its
        runner stops at its next save_running_job). The new status, or None if it had ended."""

    @abc.abstractmethod
    async def save_running_job(self, job: JobRecord) -> bool:
        """Save updated_at and description only while the job is RUNNING; False once it
        was cancelled (nothing is written then)."""

    @abc.abstractmethod
    async def cancel_abandoned_jobs(self, stale_before: float) -> int:
        """Jobs asked to stop (CANCELLING) whose runner went quiet before `stale_before` are CANCELLED."""

    @abc.abstractmethod
    async def claim_job(self, kind: str, now: float, stale_before: float) -> JobRecord | None:
        """Atomically take one IN_PROGRESS job of this kind (or a RUNNING one whose runner went
        quiet before `stale_before`), marking it RUNNING: two runners never get
        the same job."""

    @abc.abstractmethod
    def snapshot_pages(self, table_id: int, page_size: int) -> AsyncIterator[list[ScanRow]]:
        """Every item of the table in key order, page by page, all read from one
        consistent snapshot that does not block writers. Close it (aclose) when done."""


    # --- point-in-time recovery (wireapi.pitr) ----------------------------------
    @abc.abstractmethod
    async def clock(self) -> float:
        """The database's clock (epoch seconds): the one clock history stamps come from."""

    @abc.abstractmethod
    async def enable_pitr(self, record: TableRecord, recovery_days: int,
                          describe: Callable[[int, float], dict[str, Any]]) -> PitrSourceRecord:
        """Open a recovery window: a new source whose history starts with a copy of every
        item, stamped now; the table's description becomes describe(source id, now). One
        transaction."""

    @abc.abstractmethod
    async def update_pitr(self, record: TableRecord, source_id: int, recovery_days: int) -> None:
        """Change the recovery period; save the table's description with it."""

    @abc.abstractmethod
    async def disable_pitr(self, record: TableRecord, source_id: int) -> None:
        """Close the window: delete the source and its history, save the description."""

    @abc.abstractmethod
    async def load_pitr_source(self, source_id: int | None = None, table_id: int | None = None,
                               deleted_name: str | None = None) -> PitrSourceRecord | None:
        """By id, by live table, or the most recently deleted table of that name."""

    @abc.abstractmethod
    async def list_pitr_sources(self) -> list[PitrSourceRecord]: ...

    @abc.abstractmethod
    async def history_barrier(self, source_id: int) -> None:
        """Return once every transaction that stamped history of the source before this
        call has committed or rolled back (the caller has waited for the clock to pass T)."""

    @abc.abstractmethod
    def history_pages(self, source_id: int, as_of: float, page_size: int) -> AsyncIterator[list[HistoryRow]]:
        """The table as of `as_of`: each key's last version stamped at or before it, in key
        order, page by page from one snapshot; deleted keys come with body None."""

    @abc.abstractmethod
    def history_change_pages(self, source_id: int, since: float, until: float,
                             page_size: int) -> AsyncIterator[list[HistoryChange]]:
        """Keys written in [since, until), in key order, with their images at both ends."""

    @abc.abstractmethod
    async def purge_history(self, source_id: int, window_start: float, purged_to: float) -> int:
        """Delete versions that no restore at or after `window_start` needs; returns how many."""

    @abc.abstractmethod
    async def drop_pitr_source(self, source_id: int) -> None:
        """Delete a (deleted table's) source and its history."""

    @abc.abstractmethod
    async def purge_system_backups(self, before: float) -> int:
        """Delete SYSTEM backups created before `before`."""

    @abc.abstractmethod
    async def history_stats(self, source_id: int) -> tuple[int, float, float]:
        """(versions, earliest stamp, latest stamp); zeros when empty."""

    @abc.abstractmethod
    async def write_restored(self, table_id: int, version: int, rows: list[tuple[bytes, bytes, bytes, int]],
                             entries: list[tuple[int, bytes, bytes, bytes, bytes, bytes, int]]) -> None:
        """A restore's page, in one transaction, while the table is at `version` (StaleSchema
        otherwise): items (hash, range, body, size) and their index
        entries (index id, index hash, index range, hash, range, body, size), as upserts so a
        page written twice (a runner taking over) leaves the same rows."""

    # --- policies, key use and the access log (accounts / wireapi.audit) ----
    @abc.abstractmethod
    async def fetch_user_policies(self, user_name: str) -> list[tuple[str, Any]]:
        """(policy name, parsed document) of every policy attached to the user or its groups."""

    @abc.abstractmethod
    async def touch_access_keys(self, access_key_ids: list[str], when: datetime) -> None:
        """Set last_used_at of these keys (batched, off the request path)."""

    @abc.abstractmethod
    async def append_access_log(self, rows: list[AccessLogRow]) -> None:
        """Insert many access-log rows in one statement/transaction."""

    @abc.abstractmethod
    async def purge_access_log(self, before: datetime, note: Callable[[int], AccessLogRow]) -> int:
        """Delete access-log rows older than `before` (the only DELETE the database lets
        through: storage migration 0006) and, in the same transaction, append the row
        `note(count)` that records the purge; returns how many were deleted."""

    # --- unlocked single-item writes (bench issue 6) -------------------------------
    # True where compare_and_set is implemented; write_item uses it for tables whose
    # writes change nothing but the item row (no indexes, no stream).
    compare_and_set_supported: bool = False

    async def compare_and_set(self, table_id: int, pk: bytes, sk: bytes, expected: bytes | None,
                              body: bytes | None, size: int, version: int) -> bool:
        """Write the item only if its stored body is still `expected` (None: only if
        it is absent) and the table is still at `version`; `body` None deletes it. One
        atomic statement and no lock held between the caller's read and this write, so
        the write applies to exactly the state the caller's conditions were checked
        against. True if written, False if the item or the table changed meanwhile (the
        caller redoes it under transaction(), which tells the two apart)."""
        raise NotImplementedError


# --- several servers ------------------------------------------------------------

@dataclass(frozen=True)
class ServerRecord:
    """A row of storage.models.Server: a running `serve`, as its background process reports it."""

    server_id: str
    host: str
    port: int
    pid: int
    version: str
    started_at: float
    heartbeat_at: float
    leads: tuple[str, ...]  # the once-per-cluster work it runs


# --- DynamoDB Streams ---------------------------------------------------------

@dataclass(frozen=True)
class NewStream:
    arn: str
    table_name: str
    label: str
    view_type: str
    created_at: float
    key_schema: list[dict[str, str]]


@dataclass(frozen=True)
class StreamInfo:
    id: int
    arn: str
    table_id: int | None
    table_name: str
    label: str
    view_type: str
    status: str  # ENABLED or DISABLED
    created_at: float
    next_seq: int
    key_schema: list[dict[str, str]]
    disabled_at: float | None


# (seq, created_at, event_name, body: the record's "dynamodb" member without
# SequenceNumber, user_identity JSON or None)
StreamRecordRow = tuple[int, float, str, bytes, bytes | None]


# --- import and export jobs (wireapi.transfer) -----------------------------------

@dataclass
class JobRecord:
    """A row of storage.models.Job. `status` is the runner's state: IN_PROGRESS
    (waiting), RUNNING (claimed), COMPLETED or FAILED; the API status lives in
    the description."""

    id: int
    arn: str
    kind: str  # EXPORT or IMPORT
    status: str
    created_at: float
    updated_at: float
    description: dict[str, Any]


# --- tags and on-demand backups ----------------------------------------------------

class BackupGone(Exception):
    """The backup was deleted before a restore could read it."""


class BackupBusy(Exception):
    """Another transaction (a restore) holds the backup."""


class TooManyTags(Exception):
    """Inside a backend: rolls back a tagging that would pass the per-resource limit."""


# --- point-in-time recovery ----------------------------------------------------------

@dataclass
class PitrSourceRecord:
    """A row of storage.models.PitrSource."""

    id: int
    table_id: int | None
    table_name: str
    table_arn: str
    table_uuid: str
    enabled_at: float
    recovery_days: int
    deleted_at: float | None
    description: dict[str, Any] | None
    purged_to: float


# (hash_key, range_key, body or None for a deletion, size)
HistoryRow = tuple[bytes, bytes, bytes | None, int]
# (hash_key, range_key, stamp of the last write before `until`, body then (None: deleted),
# body before `since` (None: absent))
HistoryChange = tuple[bytes, bytes, float, bytes | None, bytes | None]


@dataclass
class BackupRecord:
    id: int
    arn: str
    name: str
    table_name: str
    table_arn: str
    status: str
    created_at: float
    size: int
    item_count: int
    description: dict[str, Any]
    backup_type: str = "USER"


class RestoreSession(abc.ABC):
    """The open transaction of a restore: the new table, its indexes, and what
    rebuilding their entries needs."""

    def __init__(self, conn: Any, table: TableRecord, indexes: list[IndexRecord]) -> None:
        self._conn = conn  # the backend's connection, inside the restore's transaction
        self.table = table
        self.indexes = indexes

    @abc.abstractmethod
    async def scan(self, after: tuple[bytes, bytes] | None, limit: int) -> list[ScanRow]: ...

    @abc.abstractmethod
    async def put_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                              pk: bytes, sk: bytes, body: bytes, size: int) -> None: ...
