"""SQL shared by the backends, written with psycopg's %s placeholders.

The tables are the ones storage.models defines (migrations create them).
SQLite takes the same text with ? placeholders (see sqlite.qmark). Only
queries whose text depends on arguments (bounds, direction) are built by
functions here; each distinct text is cached by the backends' statement
caches and prepared once.
"""
from __future__ import annotations

import abc
import zlib
from functools import cache
from typing import Literal

from .base import KeyRange, StaleSchema, StorageBackend
from .coalesce import Coalescer

TABLE_COLUMNS = "id, name, status, created_at, description, version"

LOAD_TABLE = f"SELECT {TABLE_COLUMNS} FROM ddb_table WHERE name = %s"
INSERT_TABLE = (
    "INSERT INTO ddb_table (name, status, created_at, description) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (name) DO NOTHING RETURNING id"
)
# Every change of a table bumps its version (wireapi's catalog records which version
# a write was validated against; see base.StaleSchema).
SAVE_TABLE = (
    "UPDATE ddb_table SET status = %s, description = %s, version = version + 1 WHERE id = %s AND version = %s "
    "RETURNING version"
)
BUMP_TABLE_VERSION = "UPDATE ddb_table SET version = version + 1 WHERE id = %s"
BUMP_VERSION_OF_INDEX_TABLE = (
    "UPDATE ddb_table SET version = version + 1 WHERE id = (SELECT table_id FROM ddb_index WHERE id = %s)"
)
TABLE_VERSION = "SELECT version FROM ddb_table WHERE id = %s"
DELETE_TABLE_INDEX_ENTRIES = (
    "DELETE FROM ddb_index_entry WHERE index_id IN (SELECT id FROM ddb_index WHERE table_id = %s)"
)
DELETE_TABLE_INDEXES = "DELETE FROM ddb_index WHERE table_id = %s"
DELETE_TABLE_ITEMS = "DELETE FROM ddb_item WHERE table_id = %s"
DELETE_TABLE = "DELETE FROM ddb_table WHERE id = %s"
LIST_TABLES = "SELECT name FROM ddb_table ORDER BY name LIMIT %s"
LIST_TABLES_AFTER = "SELECT name FROM ddb_table WHERE name > %s ORDER BY name LIMIT %s"
TABLE_STATS = "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM ddb_item WHERE table_id = %s"
# An item collection: the items of one partition key and their entries in the LSIs.
COLLECTION_ITEMS_SIZE = "SELECT COALESCE(SUM(size), 0) FROM ddb_item WHERE table_id = %s AND hash_key = %s"
COLLECTION_ENTRIES_SIZE = ("SELECT COALESCE(SUM(size), 0) FROM ddb_index_entry "
                           "WHERE index_id = %s AND index_hash = %s")

INSERT_INDEX = "INSERT INTO ddb_index (table_id, name, kind, status) VALUES (%s, %s, %s, %s) RETURNING id"
SET_INDEX_STATUS = "UPDATE ddb_index SET status = %s WHERE id = %s"
DELETE_INDEX_ENTRIES = "DELETE FROM ddb_index_entry WHERE index_id = %s"
DELETE_INDEX = "DELETE FROM ddb_index WHERE id = %s"
LIST_INDEXES = "SELECT id, name, kind, status FROM ddb_index WHERE table_id = %s ORDER BY id"
CREATING_INDEXES = (
    "SELECT t.name, i.id, i.name FROM ddb_index i JOIN ddb_table t ON t.id = i.table_id "
    "WHERE i.status = 'CREATING' ORDER BY i.id"
)
INDEX_STATS = "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM ddb_index_entry WHERE index_id = %s"

GET_ITEM = "SELECT body FROM ddb_item WHERE table_id = %s AND hash_key = %s AND range_key = %s"
# PostgreSQL: a transaction's first read of a table checks the version its write was
# validated against and holds the table row in share mode until commit (a schema
# change waits for the write, or the write sees the new version). Params: table_id,
# table_id, hash_key, range_key.
GET_ITEM_CHECKED = (
    "SELECT (SELECT version FROM ddb_table WHERE id = %s FOR SHARE), "
    "(SELECT body FROM ddb_item WHERE table_id = %s AND hash_key = %s AND range_key = %s FOR UPDATE)"
)
# PostgreSQL: a blind put, only if the table is still at the version it was validated
# against (no row written otherwise). Params: hash_key, range_key, body, size,
# segment_hash, table_id, version.
UPSERT_ITEM_CHECKED = (
    "INSERT INTO ddb_item (table_id, hash_key, range_key, body, size, segment_hash) "
    "SELECT t.id, %s, %s, %s, %s, %s FROM ddb_table t WHERE t.id = %s AND t.version = %s FOR SHARE "
    "ON CONFLICT (table_id, hash_key, range_key) DO UPDATE SET body = excluded.body, size = excluded.size"
)
UPSERT_ITEM = (
    "INSERT INTO ddb_item (table_id, hash_key, range_key, body, size, segment_hash) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (table_id, hash_key, range_key) "
    "DO UPDATE SET body = excluded.body, size = excluded.size"
)
INSERT_ITEM = (
    "INSERT INTO ddb_item (table_id, hash_key, range_key, body, size, segment_hash) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
UPDATE_ITEM = (
    "UPDATE ddb_item SET body = %s, size = %s WHERE table_id = %s AND hash_key = %s AND range_key = %s"
)
DELETE_ITEM = "DELETE FROM ddb_item WHERE table_id = %s AND hash_key = %s AND range_key = %s"

UPSERT_INDEX_ENTRY = (
    "INSERT INTO ddb_index_entry (index_id, index_hash, index_range, hash_key, range_key, body, size) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (index_id, index_hash, index_range, hash_key, range_key) "
    "DO UPDATE SET body = excluded.body, size = excluded.size"
)
DELETE_INDEX_ENTRY = (
    "DELETE FROM ddb_index_entry WHERE index_id = %s AND index_hash = %s AND index_range = %s "
    "AND hash_key = %s AND range_key = %s"
)

# PostgreSQL only: a transaction's deferred writes in one statement (postgres.py,
# PostgresTransaction.flush_writes): updates and deletes of items it read and locked, and
# its index entry deletes and upserts, each part by the full primary key (one index probe
# per row; EXPLAIN in bench/growth.py). No key is written twice in one statement (the
# transaction flushes first), so the parts, which all see one snapshot, cannot collide.
_ITEM_KEYS = "unnest(%s::bigint[], %s::bytea[], %s::bytea[]) AS k(t, h, r)"
_ENTRY_KEYS = "unnest(%s::bigint[], %s::bytea[], %s::bytea[], %s::bytea[], %s::bytea[]) AS k(i, h, r, p, s)"
# The names write_many() takes: fixed keys of WRITE_PARTS, never text from a request.
WritePart = Literal["item_updates", "item_deletes", "entry_deletes", "entry_puts"]

WRITE_PARTS: dict[WritePart, tuple[str, int]] = {  # name: (statement, number of array parameters)
    "item_updates": ("UPDATE ddb_item it SET body = k.b, size = k.z FROM unnest(%s::bigint[], %s::bytea[], "
                     "%s::bytea[], %s::bytea[], %s::int[]) AS k(t, h, r, b, z) WHERE it.table_id = k.t "
                     "AND it.hash_key = k.h AND it.range_key = k.r", 5),
    "item_deletes": (f"DELETE FROM ddb_item it USING {_ITEM_KEYS} WHERE it.table_id = k.t AND it.hash_key = k.h "
                     "AND it.range_key = k.r", 3),
    "entry_deletes": (f"DELETE FROM ddb_index_entry e USING {_ENTRY_KEYS} WHERE e.index_id = k.i "
                      "AND e.index_hash = k.h AND e.index_range = k.r AND e.hash_key = k.p AND e.range_key = k.s", 5),
    "entry_puts": ("INSERT INTO ddb_index_entry (index_id, index_hash, index_range, hash_key, range_key, body, size) "
                   "SELECT * FROM unnest(%s::bigint[], %s::bytea[], %s::bytea[], %s::bytea[], %s::bytea[], "
                   "%s::bytea[], %s::int[]) ON CONFLICT (index_id, index_hash, index_range, hash_key, range_key) "
                   "DO UPDATE SET body = excluded.body, size = excluded.size", 7),
}


@cache
def write_many(parts: tuple[WritePart, ...]) -> str:
    """One statement running the named WRITE_PARTS, in that order of parameters."""
    texts = [WRITE_PARTS[p][0] for p in parts]
    if len(texts) == 1:
        return texts[0]
    return "WITH " + ", ".join(f"w{n} AS ({t})" for n, t in enumerate(texts[:-1])) + " " + texts[-1]


FETCH_ACCESS_KEY = (
    "SELECT k.access_key_id, k.secret_ciphertext, k.status, u.name, k.expires_at "
    "FROM accounts_accesskey k JOIN accounts_iamuser u ON u.id = k.user_id "
    "WHERE k.access_key_id = %s"
)

SEGMENT_SPACE = 1 << 16


def segment_hash(hash_key: bytes) -> int:
    """Which slice of the 16-bit space a partition key falls in (parallel Scan)."""
    return zlib.crc32(hash_key) & 0xFFFF


def _bounds(column: str, rng: KeyRange, named: bool = False) -> tuple[str, int]:
    """The range's bounds on `column`: %s parameters, or the q.lo/q.hi columns of _many_requests."""
    low, high = ("q.lo", "q.hi") if named else ("%s", "%s")
    clause, count = "", 0
    if rng.low is not None:
        clause += f" AND {column} {'>=' if rng.low_inclusive else '>'} {low}"
        count += 1
    if rng.high is not None:
        clause += f" AND {column} {'<=' if rng.high_inclusive else '<'} {high}"
        count += 1
    return clause, count


def bound_params(rng: KeyRange) -> tuple[bytes, ...]:
    return tuple(b for b in (rng.low, rng.high) if b is not None)


def _shape_range(rng_shape: tuple[bool, bool, bool, bool]) -> KeyRange:
    """A stand-in range with the bounds a statement shape has (for building its text)."""
    return KeyRange(b"" if rng_shape[0] else None, rng_shape[1], b"" if rng_shape[2] else None, rng_shape[3])


def _range_scan(rng_shape: tuple[bool, bool, bool, bool], forward: bool, after: bool, index: bool,
                named: bool) -> str:
    """One partition's rows in key order, LIMITed. Takes %s parameters in order (owner, hash,
    bounds…, after…, limit), or when `named` the columns of _many_requests (q.t, q.h…)."""
    def ref(name: str) -> str:
        return f"q.{name}" if named else "%s"

    order = "ASC" if forward else "DESC"
    if index:
        table, owner, hash_column = "ddb_index_entry", "index_id", "index_hash"
        clause, _ = _bounds("index_range", _shape_range(rng_shape), named)
        columns = "index_range, hash_key, range_key"
        after_clause = (f" AND (index_range, hash_key, range_key) {'>' if forward else '<'} "
                        f"({ref('ai')}, {ref('ah')}, {ref('ar')})")
        ordering = f"index_range {order}, hash_key {order}, range_key {order}"
    else:
        table, owner, hash_column = "ddb_item", "table_id", "hash_key"
        clause, _ = _bounds("range_key", _shape_range(rng_shape), named)
        columns = "range_key"
        after_clause = f" AND range_key {'>' if forward else '<'} {ref('a')}"
        ordering = f"range_key {order}"
    if after:
        clause += after_clause
    return (f"SELECT {columns}, body, size FROM {table} WHERE {owner} = {ref('t')} "
            f"AND {hash_column} = {ref('h')}{clause} ORDER BY {ordering} LIMIT {ref('lim')}")


@cache
def query_items(rng_shape: tuple[bool, bool, bool, bool], forward: bool, after: bool) -> str:
    """Items of one partition in range-key order; params: table_id, hash_key, bounds…, after, limit."""
    return _range_scan(rng_shape, forward, after, False, False)


@cache
def query_index(rng_shape: tuple[bool, bool, bool, bool], forward: bool, after: bool) -> str:
    """Entries of one index partition in index order; params: index_id, index_hash, bounds…,
    after (index_range, hash_key, range_key), limit."""
    return _range_scan(rng_shape, forward, after, True, False)


def _many_requests(rng_shape: tuple[bool, bool, bool, bool], after: bool, index: bool) -> str:
    """The unnest of one array per request field, numbered, and the columns' names."""
    after_columns = (["ai", "ah", "ar"] if index else ["a"]) if after else []
    names = ["t", "h", *(["lo"] if rng_shape[0] else []), *(["hi"] if rng_shape[2] else []), *after_columns, "lim"]
    types = ["bigint", *["bytea"] * (len(names) - 2), "bigint"]
    arrays = ", ".join(f"%s::{t}[]" for t in types)
    return f"unnest({arrays}) WITH ORDINALITY AS q({', '.join(names)}, i)"


# PostgreSQL only: concurrent Querys of one statement shape in one statement. Each
# request (an unnest row) drives its own LIMITed range scan, as query_items or
# query_index would; the outer ORDER BY keeps each request's rows in its key order.
@cache
def query_items_many(rng_shape: tuple[bool, bool, bool, bool], forward: bool, after: bool) -> str:
    """params: arrays of table_id, hash_key, bounds…, after, limit (one element per request);
    rows: (request number from 1, range_key, body, size)."""
    order = "ASC" if forward else "DESC"
    return (f"SELECT q.i, it.range_key, it.body, it.size FROM {_many_requests(rng_shape, after, False)} "
            f"CROSS JOIN LATERAL ({_range_scan(rng_shape, forward, after, False, True)}) it "
            f"ORDER BY q.i, it.range_key {order}")


@cache
def query_index_many(rng_shape: tuple[bool, bool, bool, bool], forward: bool, after: bool) -> str:
    """params: arrays of index_id, index_hash, bounds…, after (index_range, hash_key, range_key),
    limit; rows: (request number from 1, index_range, hash_key, range_key, body, size)."""
    order = "ASC" if forward else "DESC"
    return (f"SELECT q.i, e.index_range, e.hash_key, e.range_key, e.body, e.size FROM "
            f"{_many_requests(rng_shape, after, True)} "
            f"CROSS JOIN LATERAL ({_range_scan(rng_shape, forward, after, True, True)}) e "
            f"ORDER BY q.i, e.index_range {order}, e.hash_key {order}, e.range_key {order}")


@cache
def scan_items(after: bool, segmented: bool) -> str:
    """Items in key order; params: table_id, [seg_low, seg_high], [after hash, after range], limit."""
    clause = " AND segment_hash >= %s AND segment_hash < %s" if segmented else ""
    if after:
        clause += " AND (hash_key, range_key) > (%s, %s)"
    return (f"SELECT hash_key, range_key, body, size FROM ddb_item WHERE table_id = %s{clause} "
            "ORDER BY hash_key, range_key LIMIT %s")


@cache
def scan_index(after: bool) -> str:
    """Entries in index order; params: index_id, [after 4-tuple], limit."""
    clause = " AND (index_hash, index_range, hash_key, range_key) > (%s, %s, %s, %s)" if after else ""
    return (f"SELECT index_hash, index_range, hash_key, range_key, body, size FROM ddb_index_entry "
            f"WHERE index_id = %s{clause} ORDER BY index_hash, index_range, hash_key, range_key LIMIT %s")


def shape(rng: KeyRange) -> tuple[bool, bool, bool, bool]:
    return (rng.low is not None, rng.low_inclusive, rng.high is not None, rng.high_inclusive)

# PostgreSQL only: many keys in one statement (unnest keeps pairs together).
GET_ITEMS_MANY = (
    "SELECT i.hash_key, i.range_key, i.body FROM ddb_item i "
    "JOIN unnest(%s::bytea[], %s::bytea[]) AS k(h, r) ON i.hash_key = k.h AND i.range_key = k.r "
    "WHERE i.table_id = %s"
)

# PostgreSQL only: concurrent lookups of any tables in one statement.
GET_ITEMS_ANY_TABLE = (
    "SELECT i.table_id, i.hash_key, i.range_key, i.body FROM "
    "unnest(%s::bigint[], %s::bytea[], %s::bytea[]) AS k(t, h, r) "
    "JOIN ddb_item i ON i.table_id = k.t AND i.hash_key = k.h AND i.range_key = k.r"
)
UPSERT_ITEMS_MANY = (
    "INSERT INTO ddb_item (table_id, hash_key, range_key, body, size, segment_hash) "
    "SELECT k.t, k.h, k.r, k.b, k.s, k.g FROM "
    "unnest(%s::bigint[], %s::bytea[], %s::bytea[], %s::bytea[], %s::int[], %s::int[], %s::bigint[]) "
    "AS k(t, h, r, b, s, g, v) JOIN ddb_table t ON t.id = k.t AND t.version = k.v FOR SHARE OF t "
    "ON CONFLICT (table_id, hash_key, range_key) DO UPDATE SET body = excluded.body, size = excluded.size "
    "RETURNING table_id, hash_key, range_key"
)

FETCH_TOKEN = "SELECT request_hash, response, created_at FROM ddb_idempotency WHERE token = %s"
INSERT_TOKEN = "INSERT INTO ddb_idempotency (token, request_hash, response, created_at) VALUES (%s, %s, %s, %s)"
PURGE_TOKENS = "DELETE FROM ddb_idempotency WHERE created_at < %s"

# --- policies, key use and the access log (accounts / wireapi.audit) --------
# Policies attached to the user directly or through its groups (Django's M2M tables).
FETCH_USER_POLICIES = (
    "SELECT p.name, p.document FROM accounts_policy p "
    "JOIN accounts_iamuser_policies up ON up.policy_id = p.id "
    "JOIN accounts_iamuser u ON u.id = up.iamuser_id WHERE u.name = %s "
    "UNION ALL "
    "SELECT p.name, p.document FROM accounts_policy p "
    "JOIN accounts_group_policies gp ON gp.policy_id = p.id "
    "JOIN accounts_group_users gu ON gu.group_id = gp.group_id "
    "JOIN accounts_iamuser u ON u.id = gu.iamuser_id WHERE u.name = %s"
)
TOUCH_ACCESS_KEY = "UPDATE accounts_accesskey SET last_used_at = %s WHERE access_key_id = %s"
ACCESS_LOG_COLUMNS = ("time, principal, access_key_id, operation, table_name, outcome, source, request_id, "
                      "served_by, error_message, latency_ms")
INSERT_ACCESS_LOG = (
    f"INSERT INTO ddb_access_log ({ACCESS_LOG_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
# PostgreSQL only: a whole batch as one binary COPY. psycopg dumps COPY rows in C; as
# unnest() arrays (its Python array dumper) a row cost ~25 µs of the worker's CPU, as
# much as a third of a GetItem's; this way ~2 µs.
COPY_ACCESS_LOG = f"COPY ddb_access_log ({ACCESS_LOG_COLUMNS}) FROM STDIN (FORMAT BINARY)"
ACCESS_LOG_TYPES = ("timestamptz",) + ("text",) * 9 + ("float8",)
# The log is append-only (storage migration 0006): the database refuses this DELETE
# unless the purge's transaction says it is the purge (PostgreSQL: the setting below;
# SQLite: a row in the guard table).
PURGE_ACCESS_LOG = "DELETE FROM ddb_access_log WHERE time < %s"
PG_PURGE_GUARD = "SET LOCAL extenddb.purge = 'on'"
SQLITE_PURGE_GUARD_ON = "INSERT INTO ddb_access_log_purge (active) VALUES (1)"
SQLITE_PURGE_GUARD_OFF = "DELETE FROM ddb_access_log_purge"

# --- tags and on-demand backups -------------------------------------------------
LIST_TAGS = "SELECT key, value FROM ddb_tag WHERE resource_arn = %s ORDER BY key"
UPSERT_TAG = (
    "INSERT INTO ddb_tag (resource_arn, key, value) VALUES (%s, %s, %s) "
    "ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value"
)
COUNT_TAGS = "SELECT COUNT(*) FROM ddb_tag WHERE resource_arn = %s"
DELETE_TAG = "DELETE FROM ddb_tag WHERE resource_arn = %s AND key = %s"
DELETE_TAGS = "DELETE FROM ddb_tag WHERE resource_arn = %s"

BACKUP_COLUMNS = ("id, arn, name, table_name, table_arn, status, created_at, size, item_count, "
                  "description, backup_type")
# The description is copied from the table row inside the database, in the same
# transaction (and snapshot) as the items.
INSERT_BACKUP = (
    "INSERT INTO ddb_backup (arn, name, table_name, table_arn, status, created_at, size, item_count, "
    "description, backup_type) SELECT %s, %s, %s, %s, 'CREATING', %s, 0, 0, description, 'USER' "
    "FROM ddb_table WHERE id = %s RETURNING id"
)
COPY_ITEMS_TO_BACKUP = (
    "INSERT INTO ddb_backup_item (backup_id, hash_key, range_key, body, size, segment_hash) "
    "SELECT %s, hash_key, range_key, body, size, segment_hash FROM ddb_item WHERE table_id = %s"
)
FINISH_BACKUP = (
    "UPDATE ddb_backup SET status = 'AVAILABLE', "
    "size = (SELECT COALESCE(SUM(size), 0) FROM ddb_backup_item WHERE backup_id = %s), "
    "item_count = (SELECT COUNT(*) FROM ddb_backup_item WHERE backup_id = %s) "
    f"WHERE id = %s RETURNING {BACKUP_COLUMNS}"
)
LOAD_BACKUP = f"SELECT {BACKUP_COLUMNS} FROM ddb_backup WHERE arn = %s"
DELETE_BACKUP_ITEMS = "DELETE FROM ddb_backup_item WHERE backup_id = %s"
DELETE_BACKUP = "DELETE FROM ddb_backup WHERE id = %s"
# Holds the backup for a restore's or a delete's transaction (PostgreSQL adds
# FOR UPDATE NOWAIT; SQLite's write lock already serialises them).
LOCK_BACKUP = "SELECT id FROM ddb_backup WHERE id = %s AND status = 'AVAILABLE'"
COPY_ITEMS_FROM_BACKUP = (
    "INSERT INTO ddb_item (table_id, hash_key, range_key, body, size, segment_hash) "
    "SELECT %s, hash_key, range_key, body, size, segment_hash FROM ddb_backup_item WHERE backup_id = %s"
)


def list_backups_query(table_name: str | None, lower: float | None, upper: float | None,
                       after: tuple[float, str] | None, limit: int, types: tuple[str, ...]) -> tuple[str, tuple]:
    """StorageBackend.list_backups' statement and its params."""
    statement = list_backups(table_name is not None, lower is not None, upper is not None,
                             after is not None, "USER" in types, "SYSTEM" in types)
    return statement, tuple(p for p in (table_name, lower, upper) if p is not None) + (after or ()) + (limit,)


def list_backups(by_table: bool, lower: bool, upper: bool, after: bool, user: bool = True,
                 system: bool = False) -> str:
    """USER and/or SYSTEM backups in (created_at, arn) order; params in clause order, then limit."""
    kinds = [kind for kind, wanted in (("'USER'", user), ("'SYSTEM'", system)) if wanted]
    clauses = ["status = 'AVAILABLE'", f"backup_type IN ({', '.join(kinds)})"]
    if by_table:
        clauses.append("table_name = %s")
    if lower:
        clauses.append("created_at >= %s")
    if upper:
        clauses.append("created_at < %s")
    if after:
        clauses.append("(created_at, arn) > (%s, %s)")
    return (f"SELECT {BACKUP_COLUMNS} FROM ddb_backup WHERE {' AND '.join(clauses)} "
            "ORDER BY created_at, arn LIMIT %s")


# --- DynamoDB Streams ----------------------------------------------------------------
STREAM_COLUMNS = ("id, arn, table_id, table_name, label, view_type, status, created_at, next_seq, "
                  "key_schema, disabled_at")
INSERT_STREAM = (
    "INSERT INTO ddb_stream (arn, table_id, table_name, label, view_type, status, created_at, next_seq, "
    "key_schema) VALUES (%s, %s, %s, %s, %s, 'ENABLED', %s, 1, %s)"
)
DISABLE_TABLE_STREAMS = (
    "UPDATE ddb_stream SET status = 'DISABLED', disabled_at = %s WHERE table_id = %s AND status = 'ENABLED'"
)
DETACH_TABLE_STREAMS = (
    "UPDATE ddb_stream SET status = 'DISABLED', disabled_at = COALESCE(disabled_at, %s), table_id = NULL "
    "WHERE table_id = %s"
)
LOAD_STREAM_BY_ARN = f"SELECT {STREAM_COLUMNS} FROM ddb_stream WHERE arn = %s"
LOAD_STREAM_BY_ID = f"SELECT {STREAM_COLUMNS} FROM ddb_stream WHERE id = %s"
STREAM_SEQ_BOUNDS = "SELECT MIN(seq), MAX(seq) FROM ddb_stream_record WHERE stream_id = %s"
READ_STREAM_RECORDS = (
    "SELECT seq, created_at, event_name, body, user_identity FROM ddb_stream_record "
    "WHERE stream_id = %s AND seq >= %s ORDER BY seq LIMIT %s"
)
# SQLite: the number, under the database write lock (PostgreSQL numbers at commit, below).
TAKE_STREAM_SEQ = (
    "UPDATE ddb_stream SET next_seq = next_seq + 1 WHERE arn = %s AND table_id = %s AND status = 'ENABLED' "
    "RETURNING id, next_seq - 1"
)
INSERT_STREAM_RECORD = (
    "INSERT INTO ddb_stream_record (stream_id, seq, created_at, event_name, body, user_identity) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
# PostgreSQL: a placeholder number, replaced at commit by the ddb_stream_record_number
# trigger (migration storage 0003). Params: created_at, event_name, body, user_identity, arn, table_id.
APPEND_PENDING_STREAM_RECORD = (
    "INSERT INTO ddb_stream_record (stream_id, seq, created_at, event_name, body, user_identity) "
    "SELECT id, -nextval('ddb_stream_pending_seq'), %s, %s, %s, %s FROM ddb_stream "
    "WHERE arn = %s AND table_id = %s AND status = 'ENABLED'"
)
STREAM_IDS = "SELECT id FROM ddb_stream"
# Walks the (stream_id, seq) key from the oldest record: reads only the expired prefix.
FIRST_LIVE_SEQ = (
    "SELECT seq FROM ddb_stream_record WHERE stream_id = %s AND created_at >= %s ORDER BY seq LIMIT 1"
)
NO_SEQ = 1 << 62  # above every sequence number: DELETE_STREAM_RECORDS_BELOW it deletes them all
# The created_at test keeps records appended after the bound was found.
DELETE_STREAM_RECORDS_BELOW = (
    "DELETE FROM ddb_stream_record WHERE stream_id = %s AND seq < %s AND created_at < %s"
)
DELETE_OLD_STREAM_RECORDS = (
    "DELETE FROM ddb_stream_record WHERE stream_id IN (SELECT id FROM ddb_stream WHERE disabled_at < %s)"
)
DELETE_OLD_STREAMS = "DELETE FROM ddb_stream WHERE disabled_at < %s"


def list_streams(by_table: bool, after: bool) -> str:
    """Live streams in id order; params: disabled_after, [table_name], [after id], limit."""
    clause = " AND table_name = %s" if by_table else ""
    if after:
        clause += " AND id > %s"
    return (f"SELECT {STREAM_COLUMNS} FROM ddb_stream WHERE (status = 'ENABLED' OR disabled_at > %s){clause} "
            "ORDER BY id LIMIT %s")


# --- import and export jobs (wireapi.transfer) -----------------------------------

JOB_COLUMNS = "id, arn, kind, status, created_at, updated_at, description"
INSERT_JOB = (
    "INSERT INTO ddb_job (arn, kind, status, created_at, updated_at, description) "
    "VALUES (%s, %s, 'IN_PROGRESS', %s, %s, %s) RETURNING id"
)
LOAD_JOB = f"SELECT {JOB_COLUMNS} FROM ddb_job WHERE arn = %s"
SAVE_JOB = "UPDATE ddb_job SET status = %s, updated_at = %s, description = %s WHERE id = %s"
# The inner SELECT picks one claimable job; the outer UPDATE marks it taken.
# PostgreSQL appends FOR UPDATE SKIP LOCKED to the inner SELECT (see postgres.py).
CLAIMABLE_JOB = (
    "SELECT id FROM ddb_job WHERE kind = %s "
    "AND (status = 'IN_PROGRESS' OR (status = 'RUNNING' AND updated_at < %s)) ORDER BY id LIMIT 1"
)


def claim_job(inner: str) -> str:
    """params: now, kind, stale_before."""
    return (f"UPDATE ddb_job SET status = 'RUNNING', updated_at = %s WHERE id = ({inner}) "
            f"RETURNING {JOB_COLUMNS}")


@cache
def list_jobs(by_prefix: bool, before: bool) -> str:
    """Jobs of one kind newest first; params: kind, [prefix, prefix], [before id], limit."""
    clause = " AND substr(arn, 1, length(CAST(%s AS TEXT))) = %s" if by_prefix else ""
    if before:
        clause += " AND id < %s"
    return f"SELECT {JOB_COLUMNS} FROM ddb_job WHERE kind = %s{clause} ORDER BY id DESC LIMIT %s"


# --- unlocked single-item writes (PostgreSQL compare-and-set; bench issue 6) ---------------
# Write only if the stored body is still the one the caller read (ABA is harmless: a
# decision depends on the item's content only) and the table is still at the version
# the write was validated against (checked with the table row in share mode).
_TABLE_AT = "EXISTS (SELECT 1 FROM ddb_table t WHERE t.id = {id} AND t.version = {version} FOR SHARE)"
CAS_UPDATE_ITEM = (
    "UPDATE ddb_item SET body = %s, size = %s "
    "WHERE table_id = %s AND hash_key = %s AND range_key = %s AND body = %s AND "
    + _TABLE_AT.format(id="%s", version="%s")
)
CAS_INSERT_ITEM = (
    "INSERT INTO ddb_item (table_id, hash_key, range_key, body, size, segment_hash) "
    "SELECT t.id, %s, %s, %s, %s, %s FROM ddb_table t WHERE t.id = %s AND t.version = %s FOR SHARE "
    "ON CONFLICT (table_id, hash_key, range_key) DO NOTHING"
)
CAS_DELETE_ITEM = (
    "DELETE FROM ddb_item WHERE table_id = %s AND hash_key = %s AND range_key = %s AND body = %s AND "
    + _TABLE_AT.format(id="%s", version="%s")
)
CAS_UPDATE_ITEMS = (
    "UPDATE ddb_item i SET body = k.b, size = k.s "
    "FROM unnest(%s::bigint[], %s::bytea[], %s::bytea[], %s::bytea[], %s::bytea[], %s::int[], %s::bigint[]) "
    "AS k(t, h, r, old, b, s, v) "
    "WHERE i.table_id = k.t AND i.hash_key = k.h AND i.range_key = k.r AND i.body = k.old AND "
    + _TABLE_AT.format(id="k.t", version="k.v") +
    " RETURNING i.table_id, i.hash_key, i.range_key"
)
CAS_INSERT_ITEMS = (
    "INSERT INTO ddb_item (table_id, hash_key, range_key, body, size, segment_hash) "
    "SELECT k.t, k.h, k.r, k.b, k.s, k.g FROM "
    "unnest(%s::bigint[], %s::bytea[], %s::bytea[], %s::bytea[], %s::int[], %s::int[], %s::bigint[]) "
    "AS k(t, h, r, b, s, g, v) JOIN ddb_table t ON t.id = k.t AND t.version = k.v FOR SHARE OF t "
    "ON CONFLICT (table_id, hash_key, range_key) DO NOTHING RETURNING table_id, hash_key, range_key"
)
CAS_DELETE_ITEMS = (
    "DELETE FROM ddb_item i USING unnest(%s::bigint[], %s::bytea[], %s::bytea[], %s::bytea[], %s::bigint[]) "
    "AS k(t, h, r, old, v) "
    "WHERE i.table_id = k.t AND i.hash_key = k.h AND i.range_key = k.r AND i.body = k.old AND "
    + _TABLE_AT.format(id="k.t", version="k.v") +
    " RETURNING i.table_id, i.hash_key, i.range_key"
)


# --- point-in-time recovery: item history (storage.models.ItemHistory, PitrSource) ---------
PITR_SOURCE_COLUMNS = ("id, table_id, table_name, table_arn, table_uuid, enabled_at, recovery_days, deleted_at, "
                       "description, purged_to")
INSERT_PITR_SOURCE = (
    "INSERT INTO ddb_pitr_source (table_id, table_name, table_arn, table_uuid, enabled_at, recovery_days, "
    "purged_to) VALUES (%s, %s, %s, %s, %s, %s, 0) RETURNING id"
)
# The window starts with every item as it is: version 1 of each key, stamped at the enabling.
COPY_ITEMS_TO_HISTORY = (
    "INSERT INTO ddb_item_history (source_id, hash_key, range_key, seq, committed_at, body, size) "
    "SELECT %s, hash_key, range_key, 1, %s, body, size FROM ddb_item WHERE table_id = %s"
)
LIVE_PITR_SOURCE = f"SELECT {PITR_SOURCE_COLUMNS} FROM ddb_pitr_source WHERE table_id = %s"
LOAD_PITR_SOURCE = f"SELECT {PITR_SOURCE_COLUMNS} FROM ddb_pitr_source WHERE id = %s"
DELETED_PITR_SOURCES = (
    f"SELECT {PITR_SOURCE_COLUMNS} FROM ddb_pitr_source WHERE table_name = %s AND table_id IS NULL "
    "ORDER BY deleted_at DESC"
)
ALL_PITR_SOURCES = f"SELECT {PITR_SOURCE_COLUMNS} FROM ddb_pitr_source ORDER BY id"
# Enabling PITR: the description once the source exists (the version was bumped by SAVE_TABLE
# in the same transaction).
SAVE_DESCRIPTION = "UPDATE ddb_table SET description = %s WHERE id = %s"
SET_PITR_RECOVERY_DAYS = "UPDATE ddb_pitr_source SET recovery_days = %s WHERE id = %s"
DELETE_SOURCE_HISTORY = "DELETE FROM ddb_item_history WHERE source_id = %s"
DELETE_PITR_SOURCE = "DELETE FROM ddb_pitr_source WHERE id = %s"
# DeleteTable: the window outlives the table (its description is kept for a restore).
DETACH_PITR_SOURCES = (
    "UPDATE ddb_pitr_source SET deleted_at = %s, "
    "description = (SELECT description FROM ddb_table WHERE id = %s), table_id = NULL WHERE table_id = %s"
)
# DeleteTable of a table with PITR: DynamoDB's SYSTEM backup, copied like CreateBackup's.
INSERT_SYSTEM_BACKUP = (
    "INSERT INTO ddb_backup (arn, name, table_name, table_arn, status, created_at, size, item_count, "
    "description, backup_type) SELECT %s, %s, name, %s, 'CREATING', %s, 0, 0, description, 'SYSTEM' "
    "FROM ddb_table WHERE id = %s AND EXISTS (SELECT 1 FROM ddb_pitr_source WHERE table_id = %s) RETURNING id"
)
# One version per key and transaction, numbered after the key's newest (the writer
# holds the item's row lock, so no one else numbers this key meanwhile).
_NEXT_SEQ = ("COALESCE((SELECT MAX(x.seq) FROM ddb_item_history x WHERE x.source_id = {p} "
             "AND x.hash_key = {h} AND x.range_key = {r}), 0) + 1")
INSERT_HISTORY = (
    "INSERT INTO ddb_item_history (source_id, hash_key, range_key, seq, committed_at, body, size) "
    f"VALUES (%s, %s, %s, {_NEXT_SEQ.format(p='%s', h='%s', r='%s')}, %s, %s, %s)"
)
# PostgreSQL: every version of a transaction in one statement, its last, after every
# row lock is held. It first takes PITR's shared advisory lock on the source (released
# at commit), then reads the clock: a reader that takes the lock exclusively once the
# clock has passed T (history_barrier) knows that every write stamped <= T has committed.
PG_PITR_LOCK_CLASS = 0x50495452  # "PITR": the two-key advisory lock space, apart from the one-key locks
INSERT_HISTORY_MANY = (
    "WITH l AS MATERIALIZED (SELECT string_agg(pg_advisory_xact_lock_shared(%s, s)::text, '') AS done "
    "FROM unnest(%s::int[]) AS s), "
    "c AS MATERIALIZED (SELECT extract(epoch FROM clock_timestamp())::float8 AS ts FROM l) "
    "INSERT INTO ddb_item_history (source_id, hash_key, range_key, seq, committed_at, body, size) "
    f"SELECT k.p, k.h, k.r, {_NEXT_SEQ.format(p='k.p', h='k.h', r='k.r')}, c.ts, k.b, k.s "
    "FROM c, unnest(%s::bigint[], %s::bytea[], %s::bytea[], %s::bytea[], %s::int[]) AS k(p, h, r, b, s)"
)
PG_HISTORY_BARRIER = "SELECT pg_advisory_xact_lock(%s, %s::int)"
HISTORY_STATS = ("SELECT COUNT(*), COALESCE(MIN(committed_at), 0), COALESCE(MAX(committed_at), 0) "
                 "FROM ddb_item_history WHERE source_id = %s")


def _no_later_version(before: str) -> str:
    """h is the key's last version stamped {before} the parameter (versions of a key are
    numbered in commit order, without gaps: the next one decides)."""
    return ("NOT EXISTS (SELECT 1 FROM ddb_item_history n WHERE n.source_id = h.source_id "
            "AND n.hash_key = h.hash_key AND n.range_key = h.range_key AND n.seq = h.seq + 1 "
            f"AND n.committed_at {before} %s)")


@cache
def history_as_of(after: bool) -> str:
    """Each key's last version stamped <= T (tombstones too, body NULL), in key order.
    params: source_id, T, [after hash, after range], T, limit."""
    clause = " AND (h.hash_key, h.range_key) > (%s, %s)" if after else ""
    return ("SELECT h.hash_key, h.range_key, h.body, h.size FROM ddb_item_history h "
            f"WHERE h.source_id = %s AND h.committed_at <= %s{clause} AND {_no_later_version('<=')} "
            "ORDER BY h.hash_key, h.range_key LIMIT %s")


@cache
def history_changes(after: bool) -> str:
    """Keys written in [F, T), in key order: the last version before T (its stamp and
    body, NULL if deleted) and the body the key had before F (NULL: absent).
    params: F, source_id, F, T, [after hash, after range], T, limit."""
    clause = " AND (h.hash_key, h.range_key) > (%s, %s)" if after else ""
    old = ("(SELECT o.body FROM ddb_item_history o WHERE o.source_id = h.source_id AND o.hash_key = h.hash_key "
           "AND o.range_key = h.range_key AND o.committed_at < %s ORDER BY o.seq DESC LIMIT 1)")
    return (f"SELECT h.hash_key, h.range_key, h.committed_at, h.body, {old} FROM ddb_item_history h "
            f"WHERE h.source_id = %s AND h.committed_at >= %s AND h.committed_at < %s{clause} "
            f"AND {_no_later_version('<')} ORDER BY h.hash_key, h.range_key LIMIT %s")


# Retention: versions stamped before the window start W go once a later version also
# before W supersedes them, and so does a deletion that is a key's last version before W
# (the key was absent at W). Only keys written in [purged_to, W) can have changed since
# the last purge. params: source_id, purged_to, W, W, W.
PURGE_HISTORY = (
    "DELETE FROM ddb_item_history WHERE source_id = %s AND (hash_key, range_key) IN "
    "(SELECT DISTINCT w.hash_key, w.range_key FROM ddb_item_history w WHERE w.source_id = ddb_item_history.source_id "
    "AND w.committed_at >= %s AND w.committed_at < %s) "
    "AND committed_at < %s AND (body IS NULL OR EXISTS (SELECT 1 FROM ddb_item_history n "
    "WHERE n.source_id = ddb_item_history.source_id AND n.hash_key = ddb_item_history.hash_key "
    "AND n.range_key = ddb_item_history.range_key AND n.seq > ddb_item_history.seq AND n.committed_at < %s))"
)
SET_PURGED_TO = "UPDATE ddb_pitr_source SET purged_to = %s WHERE id = %s"
# A deleted table's window: gone with its history once the recovery period has passed.
DELETE_EXPIRED_SYSTEM_BACKUP_ITEMS = (
    "DELETE FROM ddb_backup_item WHERE backup_id IN "
    "(SELECT id FROM ddb_backup WHERE backup_type = 'SYSTEM' AND created_at < %s)"
)
DELETE_EXPIRED_SYSTEM_BACKUPS = "DELETE FROM ddb_backup WHERE backup_type = 'SYSTEM' AND created_at < %s"

# --- bulk operations: cancellation and guarded progress (wireapi.transfer.bulk) ---------
# A waiting job is cancelled at once; a running one is asked to stop (its runner sees it
# when its next progress save finds the row no longer RUNNING). params: now, id.
CANCEL_JOB = (
    "UPDATE ddb_job SET status = CASE status WHEN 'IN_PROGRESS' THEN 'CANCELLED' ELSE 'CANCELLING' END, "
    "updated_at = %s WHERE id = %s AND status IN ('IN_PROGRESS', 'RUNNING') RETURNING status"
)
# A job asked to stop whose runner died before it could (its server went): cancelled.
CANCEL_ABANDONED_JOBS = "UPDATE ddb_job SET status = 'CANCELLED' WHERE status = 'CANCELLING' AND updated_at < %s"
SAVE_RUNNING_JOB = "UPDATE ddb_job SET updated_at = %s, description = %s WHERE id = %s AND status = 'RUNNING'"


# --- the server registry (storage.models.Server) -----------------------------------
SERVER_COLUMNS = "server_id, host, port, pid, version, started_at, heartbeat_at, leads"
UPSERT_SERVER = (
    f"INSERT INTO ddb_server ({SERVER_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (server_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, leads = excluded.leads"
)
LIST_SERVERS = f"SELECT {SERVER_COLUMNS} FROM ddb_server ORDER BY started_at, server_id"
DELETE_SERVER = "DELETE FROM ddb_server WHERE server_id = %s"


# --- what the two SQL backends share beyond statements --------------------------------
# (table, hash, range, body, size, segment hash, version); with history, then the source id.
UpsertRow = tuple[int, bytes, bytes, bytes, int, int, int]
HistoryUpsertRow = tuple[int, bytes, bytes, bytes, int, int, int, int]


class SQLBackend(StorageBackend):
    """Blind PutItems, alike in both backends: concurrent ones share one write (and its
    commit) through a Coalescer; each backend writes a batch its own way."""

    def __init__(self) -> None:
        self._upserts: Coalescer[UpsertRow, bool] = Coalescer(self._upsert_batch)
        self._history_upserts: Coalescer[HistoryUpsertRow, bool] = Coalescer(self._upsert_history_batch)

    async def put_item(self, table_id: int, pk: bytes, sk: bytes, body: bytes, size: int, version: int) -> None:
        if not await self._upserts.submit((table_id, pk, sk, body, size, segment_hash(pk), version)):
            raise StaleSchema(table_id)

    async def put_item_with_history(self, table_id: int, pk: bytes, sk: bytes, body: bytes, size: int,
                                    version: int, source_id: int) -> None:
        if not await self._history_upserts.submit((table_id, pk, sk, body, size, segment_hash(pk), version,
                                                   source_id)):
            raise StaleSchema(table_id)

    @abc.abstractmethod
    async def _upsert_batch(self, rows: list[UpsertRow]) -> list[bool]:
        """Upsert the rows of the tables still at their version; which rows were written."""

    @abc.abstractmethod
    async def _upsert_history_batch(self, rows: list[HistoryUpsertRow]) -> list[bool]:
        """As _upsert_batch, and the written rows' versions in their source's history, in
        one transaction."""
