"""On PostgreSQL, GetItem, a 10-item Query, an index Query and a Scan page are
index range scans whose cost does not grow with the table (no Seq Scan)."""
from __future__ import annotations

import os

import psycopg
import pytest

from storage.backends import KeyRange, sql

from . import testenv

pytestmark = pytest.mark.skipif(testenv.BACKEND != "postgres", reason="EXPLAIN plans are PostgreSQL's")
ROWS = 50_000


@pytest.fixture(scope="module")
def conn(server):
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        table_id = conn.execute(
            "INSERT INTO ddb_table (name, status, created_at, description) "
            "VALUES ('plans', 'ACTIVE', 0, '{}') RETURNING id").fetchone()[0]
        conn.execute(
            "INSERT INTO ddb_item (table_id, hash_key, range_key, body, size, segment_hash) "
            "SELECT %s, convert_to('p' || (g %% 1000)::text, 'UTF8'), convert_to(lpad(g::text, 8, '0'), 'UTF8'), "
            "'{}'::bytea, 2, g %% 65536 FROM generate_series(1, %s) g", (table_id, ROWS))
        index_id = conn.execute("INSERT INTO ddb_index (table_id, name, kind, status) "
                                "VALUES (%s, 'g', 'GSI', 'ACTIVE') RETURNING id", (table_id,)).fetchone()[0]
        conn.execute(
            "INSERT INTO ddb_index_entry (index_id, index_hash, index_range, hash_key, range_key, body, size) "
            "SELECT %s, convert_to('g' || (g %% 500)::text, 'UTF8'), ''::bytea, convert_to('p' || g::text, 'UTF8'), "
            "''::bytea, '{}'::bytea, 2 FROM generate_series(1, %s) g", (index_id, ROWS))
        conn.execute("ANALYZE ddb_item")
        conn.execute("ANALYZE ddb_index_entry")
        yield conn, table_id, index_id
        conn.execute("DELETE FROM ddb_index_entry WHERE index_id = %s", (index_id,))
        conn.execute("DELETE FROM ddb_index WHERE id = %s", (index_id,))
        conn.execute("DELETE FROM ddb_item WHERE table_id = %s", (table_id,))
        conn.execute("DELETE FROM ddb_table WHERE id = %s", (table_id,))


def plan(conn, statement, params):
    rows = conn.execute("EXPLAIN " + statement, params).fetchall()
    return "\n".join(r[0] for r in rows)


def assert_index_plan(text):
    assert "Seq Scan" not in text, text
    assert "Index Scan" in text or "Index Only Scan" in text, text


def test_get_item_uses_primary_key(conn):
    c, table_id, _ = conn
    assert_index_plan(plan(c, sql.GET_ITEM, (table_id, b"p7", b"00000007")))


def test_query_page_uses_primary_key(conn):
    c, table_id, _ = conn
    statement = sql.query_items(sql.shape(KeyRange(b"0", True)), True, False)
    assert_index_plan(plan(c, statement, (table_id, b"p7", b"0", 11)))
    statement = sql.query_items(sql.shape(KeyRange()), False, True)
    assert_index_plan(plan(c, statement, (table_id, b"p7", b"00040000", 11)))


def test_index_query_uses_index_key(conn):
    c, _, index_id = conn
    statement = sql.query_index(sql.shape(KeyRange()), True, False)
    assert_index_plan(plan(c, statement, (index_id, b"g7", 11)))


def test_scan_page_uses_primary_key(conn):
    c, table_id, _ = conn
    assert_index_plan(plan(c, sql.scan_items(True, False), (table_id, b"p5", b"00000005", 101)))
