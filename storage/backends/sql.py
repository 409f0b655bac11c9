"""SQL shared by the backends, written with psycopg's %s placeholders.

The tables are the ones storage.models defines (migrations create them).
SQLite takes the same text with ? placeholders (see sqlite.qmark). Only
queries whose text depends on arguments (bounds, direction) are built by
functions here; each distinct text is cached by the backends' statement
caches and prepared once.
"""
from __future__ import annotations

import zlib
from functools import cache

from .base import KeyRange

TABLE_COLUMNS = "id, name, status, created_at, description"

LOAD_TABLE = f"SELECT {TABLE_COLUMNS} FROM ddb_table WHERE name = %s"
INSERT_TABLE = (
    "INSERT INTO ddb_table (name, status, created_at, description) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (name) DO NOTHING RETURNING id"
)
SAVE_TABLE = "UPDATE ddb_table SET status = %s, description = %s WHERE id = %s"
DELETE_TABLE_INDEX_ENTRIES = (
    "DELETE FROM ddb_index_entry WHERE index_id IN (SELECT id FROM ddb_index WHERE table_id = %s)"
)
DELETE_TABLE_INDEXES = "DELETE FROM ddb_index WHERE table_id = %s"
DELETE_TABLE_ITEMS = "DELETE FROM ddb_item WHERE table_id = %s"
DELETE_TABLE = "DELETE FROM ddb_table WHERE id = %s"
LIST_TABLES = "SELECT name FROM ddb_table ORDER BY name LIMIT %s"
LIST_TABLES_AFTER = "SELECT name FROM ddb_table WHERE name > %s ORDER BY name LIMIT %s"
TABLE_STATS = "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM ddb_item WHERE table_id = %s"

INSERT_INDEX = "INSERT INTO ddb_index (table_id, name, kind, status) VALUES (%s, %s, %s, %s) RETURNING id"
SET_INDEX_STATUS = "UPDATE ddb_index SET status = %s WHERE id = %s"
DELETE_INDEX_ENTRIES = "DELETE FROM ddb_index_entry WHERE index_id = %s"
DELETE_INDEX = "DELETE FROM ddb_index WHERE id = %s"
LIST_INDEXES = "SELECT id, name, kind, status FROM ddb_index WHERE table_id = %s ORDER BY id"
INDEX_STATS = "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM ddb_index_entry WHERE index_id = %s"

GET_ITEM = "SELECT body FROM ddb_item WHERE table_id = %s AND hash_key = %s AND range_key = %s"
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

FETCH_ACCESS_KEY = (
    "SELECT k.access_key_id, k.secret_ciphertext, k.status, u.name "
    "FROM accounts_accesskey k JOIN accounts_iamuser u ON u.id = k.user_id "
    "WHERE k.access_key_id = %s"
)

SEGMENT_SPACE = 1 << 16


def segment_hash(hash_key: bytes) -> int:
    """Which slice of the 16-bit space a partition key falls in (parallel Scan)."""
    return zlib.crc32(hash_key) & 0xFFFF


def _bounds(column: str, rng: KeyRange) -> tuple[str, int]:
    clause, count = "", 0
    if rng.low is not None:
        clause += f" AND {column} {'>=' if rng.low_inclusive else '>'} %s"
        count += 1
    if rng.high is not None:
        clause += f" AND {column} {'<=' if rng.high_inclusive else '<'} %s"
        count += 1
    return clause, count


def bound_params(rng: KeyRange) -> tuple[bytes, ...]:
    return tuple(b for b in (rng.low, rng.high) if b is not None)


@cache
def query_items(rng_shape: tuple[bool, bool, bool, bool], forward: bool, after: bool) -> str:
    """Items of one partition in range-key order; params: table_id, hash_key, bounds…, after, limit."""
    rng = KeyRange(b"" if rng_shape[0] else None, rng_shape[1], b"" if rng_shape[2] else None, rng_shape[3])
    clause, _ = _bounds("range_key", rng)
    if after:
        clause += f" AND range_key {'>' if forward else '<'} %s"
    order = "ASC" if forward else "DESC"
    return (f"SELECT range_key, body, size FROM ddb_item WHERE table_id = %s AND hash_key = %s{clause} "
            f"ORDER BY range_key {order} LIMIT %s")


@cache
def query_index(rng_shape: tuple[bool, bool, bool, bool], forward: bool, after: bool) -> str:
    """Entries of one index partition in index order; params: index_id, index_hash, bounds…,
    after (index_range, hash_key, range_key), limit."""
    rng = KeyRange(b"" if rng_shape[0] else None, rng_shape[1], b"" if rng_shape[2] else None, rng_shape[3])
    clause, _ = _bounds("index_range", rng)
    if after:
        clause += f" AND (index_range, hash_key, range_key) {'>' if forward else '<'} (%s, %s, %s)"
    order = "ASC" if forward else "DESC"
    return (f"SELECT index_range, hash_key, range_key, body, size FROM ddb_index_entry "
            f"WHERE index_id = %s AND index_hash = %s{clause} "
            f"ORDER BY index_range {order}, hash_key {order}, range_key {order} LIMIT %s")


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
    "SELECT * FROM unnest(%s::bigint[], %s::bytea[], %s::bytea[], %s::bytea[], %s::int[], %s::int[]) "
    "ON CONFLICT (table_id, hash_key, range_key) DO UPDATE SET body = excluded.body, size = excluded.size"
)

FETCH_TOKEN = "SELECT request_hash, response, created_at FROM ddb_idempotency WHERE token = %s"
INSERT_TOKEN = "INSERT INTO ddb_idempotency (token, request_hash, response, created_at) VALUES (%s, %s, %s, %s)"
PURGE_TOKENS = "DELETE FROM ddb_idempotency WHERE created_at < %s"
