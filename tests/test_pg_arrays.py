"""The typed array parameters of the batched statements (storage.backends.pg_arrays)
arrive in PostgreSQL as the same arrays psycopg's own dumper sends."""
from __future__ import annotations

import os

import psycopg
import pytest

from storage.backends.pg_arrays import ByteaArray, Int4Array, Int8Array, columns

from . import testenv

pytestmark = pytest.mark.skipif(testenv.BACKEND != "postgres", reason="PostgreSQL's binary array format")


@pytest.fixture(scope="module")
def conn(server):  # the server fixture has created the test database
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        yield conn


@pytest.mark.parametrize("values", [[], [0], [1, -1, 2**63 - 1, -2**63], list(range(300))])
def test_bigint_arrays_round_trip(conn, values):
    got = conn.execute("SELECT %b::bigint[], pg_typeof(%b)::text", (Int8Array(values), Int8Array(values))).fetchone()
    assert got == (values, "bigint[]")


@pytest.mark.parametrize("values", [[], [7], [2**31 - 1, -2**31, 0]])
def test_integer_arrays_round_trip(conn, values):
    assert conn.execute("SELECT %b::int[]", (Int4Array(values),)).fetchone()[0] == values


@pytest.mark.parametrize("values", [[], [b""], [b"a", None, b"\x00\xff" * 600], [None, None]])
def test_bytea_arrays_round_trip_with_nulls(conn, values):
    assert conn.execute("SELECT %b::bytea[]", (ByteaArray(values),)).fetchone()[0] == values


def test_out_of_range_is_refused_before_the_database(conn):
    with pytest.raises(Exception):  # struct.error: never a wrapped-around number
        conn.execute("SELECT %b::bigint[]", (Int8Array([2**63]),))


def test_columns_of_rows_unnest_as_the_rows(conn):
    rows = [(1, b"h1", b"r1", 10), (2, b"h2", b"", 20)]
    got = conn.execute("SELECT * FROM unnest(%b::bigint[], %b::bytea[], %b::bytea[], %b::int[])",
                       columns(rows, "qbbi")).fetchall()
    assert got == rows
    assert columns([], "qb") == ([], [])
