"""Concurrent Querys that share a statement (PostgreSQL coalesces them per
worker) answer exactly what each would answer alone."""
from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from storage.backends import KeyRange

from . import testenv
from .conftest import make_client
from . import test_query_plans
from .test_indexes import gsi_table
from .test_query_plans import assert_index_plan, plan

THREADS = 16


# --- through the server --------------------------------------------------------------

@pytest.fixture
def indexed(ddb, table_name):
    """pk/sk strings, a GSI on (g, n) and an LSI on (pk, n), three partitions of 12 items."""
    gsi_table(ddb, table_name)
    puts = [{"PutRequest": {"Item": {"pk": {"S": pk}, "sk": {"S": f"s{k:02d}"}, "g": {"S": "xy"[k % 2]},
                                     "n": {"N": str(k % 5)}, "v": {"S": f"{pk}{k}"}}}}
            for pk in "abc" for k in range(12)]
    for i in range(0, len(puts), 25):
        ddb.batch_write_item(RequestItems={table_name: puts[i:i + 25]})
    yield table_name
    ddb.delete_table(TableName=table_name)


@pytest.fixture
def numbered(ddb, range_table):
    puts = [{"PutRequest": {"Item": {"pk": {"S": pk}, "sk": {"N": str(k)}, "v": {"S": f"{pk}{k}"}}}}
            for pk in "ab" for k in range(12)]
    for i in range(0, len(puts), 25):
        ddb.batch_write_item(RequestItems={range_table: puts[i:i + 25]})
    return range_table


def table_requests(table: str) -> list[dict]:
    def q(pk: str, cond: str = "", values: dict | None = None, **kw) -> dict:
        return {"TableName": table, "KeyConditionExpression": "pk = :p" + (f" AND {cond}" if cond else ""),
                "ExpressionAttributeValues": {":p": {"S": pk}, **(values or {})}, **kw}

    s = lambda k: {"S": f"s{k:02d}"}  # noqa: E731
    out = []
    for pk in "abcz":  # z: an empty partition
        out += [q(pk), q(pk, "sk = :v", {":v": s(4)}), q(pk, "sk < :v", {":v": s(4)}),
                q(pk, "sk <= :v", {":v": s(4)}), q(pk, "sk > :v", {":v": s(7)}), q(pk, "sk >= :v", {":v": s(7)}),
                q(pk, "sk BETWEEN :l AND :h", {":l": s(2), ":h": s(9)}),
                q(pk, "begins_with(sk, :v)", {":v": {"S": "s1"}}),
                q(pk, ScanIndexForward=False), q(pk, Limit=3), q(pk, ScanIndexForward=False, Limit=5),
                q(pk, "sk > :v", {":v": s(2)}, ScanIndexForward=False, Limit=4),
                q(pk, ExclusiveStartKey={"pk": {"S": pk}, "sk": s(5)}),
                q(pk, ExclusiveStartKey={"pk": {"S": pk}, "sk": s(5)}, ScanIndexForward=False, Limit=2),
                q(pk, "sk BETWEEN :l AND :h", {":l": s(2), ":h": s(9)}, Limit=3,
                  ExclusiveStartKey={"pk": {"S": pk}, "sk": s(4)}),
                q(pk, IndexName="by-n"), q(pk, "n < :v", {":v": {"N": "3"}}, IndexName="by-n"),
                q(pk, "n >= :v", {":v": {"N": "2"}}, IndexName="by-n", ScanIndexForward=False, Limit=4),
                q(pk, IndexName="by-n", Limit=3,
                  ExclusiveStartKey={"pk": {"S": pk}, "sk": s(6), "n": {"N": "1"}})]
    for g in "xyw":  # w: an empty index partition
        gq = lambda cond="", values=None, **kw: {  # noqa: E731
            "TableName": table, "IndexName": "by-g",
            "KeyConditionExpression": "g = :g" + (f" AND {cond}" if cond else ""),
            "ExpressionAttributeValues": {":g": {"S": g}, **(values or {})}, **kw}
        out += [gq(), gq("n = :v", {":v": {"N": "2"}}), gq("n BETWEEN :l AND :h", {":l": {"N": "1"}, ":h": {"N": "3"}}),
                gq("n > :v", {":v": {"N": "1"}}, ScanIndexForward=False), gq(Limit=4),
                gq(Limit=5, ExclusiveStartKey={"pk": {"S": "b"}, "sk": s(3), "g": {"S": g}, "n": {"N": "1"}}),
                gq(ScanIndexForward=False, Limit=3,
                   ExclusiveStartKey={"pk": {"S": "a"}, "sk": s(8), "g": {"S": g}, "n": {"N": "3"}})]
    return out


def numbered_requests(table: str) -> list[dict]:
    out = []
    for pk in "ab":
        base = {"TableName": table, "ExpressionAttributeValues": {":p": {"S": pk}, ":v": {"N": "6"}}}
        out += [{**base, "KeyConditionExpression": f"pk = :p AND sk {op} :v", **kw}
                for op in ("=", "<", "<=", ">", ">=")
                for kw in ({}, {"ScanIndexForward": False}, {"Limit": 2},
                           {"ExclusiveStartKey": {"pk": {"S": pk}, "sk": {"N": "3" if "<" in op else "8"}}})
                if not (op == "=" and "ExclusiveStartKey" in kw)]
    return out


def answer(out: dict) -> dict:
    return {k: v for k, v in out.items() if k != "ResponseMetadata"}


def test_concurrent_queries_answer_as_alone(server, key, ddb, indexed, numbered):
    requests = table_requests(indexed) + numbered_requests(numbered)
    alone = [answer(ddb.query(**r)) for r in requests]
    # Answers that differ are what makes a wrong split visible.
    assert len({repr(a) for a in alone}) > len(requests) * 3 // 4
    order = list(range(len(requests))) * 3
    random.Random(7).shuffle(order)
    clients = [make_client(server, key) for _ in range(THREADS)]

    def run(t: int) -> list[tuple[int, dict]]:
        return [(i, answer(clients[t].query(**requests[i]))) for i in order[t::THREADS]]

    with ThreadPoolExecutor(THREADS) as pool:
        together = [pair for part in pool.map(run, range(THREADS)) for pair in part]
    assert len(together) == len(order)
    for i, got in together:
        assert got == alone[i], requests[i]


# --- the backend itself: every request of a batch in flight at once ------------------

def backend():
    from django.conf import settings

    if testenv.BACKEND == "postgres":  # few connections: the test server shares PostgreSQL's limit
        from storage.backends.postgres import PostgresBackend

        return PostgresBackend(settings.DATABASES["default"], min_size=1, max_size=2)
    from storage.backends import get_backend

    return get_backend()


RANGES = [KeyRange(), KeyRange(b"03"), KeyRange(b"03", False), KeyRange(None, True, b"07"),
          KeyRange(None, True, b"07", False), KeyRange(b"03", True, b"07", True),
          KeyRange(b"03", False, b"07", False), KeyRange(b"1", True, b"2", False)]  # the last: begins_with "1"


def backend_requests(table_id: int, index_id: int) -> list[tuple]:
    out: list[tuple] = []
    for pk, rng, forward, after, limit in itertools.product(
            (b"p0", b"p1", b"p2", b"p9"), RANGES, (True, False), (None, b"05"), (3, 100)):
        out.append(("query", table_id, pk, rng, forward, after, limit))
    for g, rng, forward, after, limit in itertools.product(
            (b"g0", b"g1", b"g9"), RANGES, (True, False), (None, (b"05", b"p1", b"05")), (2, 100)):
        out.append(("query_index", index_id, g, rng, forward, after, limit))
    return out


async def run_backend(monkeypatch) -> None:
    be = backend()
    table = await be.create_table(f"co-{uuid.uuid4().hex[:12]}", {}, "ACTIVE", time.time(), [("g", "GSI")])
    try:
        index_id = (await be.list_indexes(table.id))[0].id
        async with be.transaction() as tx:
            for p, k in itertools.product(range(3), range(12)):
                pk, sk, body = b"p%d" % p, b"%02d" % k, b"item p%d %02d" % (p, k)
                await tx.put_item(table.id, pk, sk, body, len(body), False)
                # Index ranges repeat across partitions: the base key orders them.
                await tx.put_index_entry(index_id, b"g%d" % (k % 2), b"%02d" % (k // 2 + 1), pk, sk, body,
                                         len(body))
        requests = backend_requests(table.id, index_id)
        alone = [await getattr(be, r[0])(*r[1:]) for r in requests]
        assert sum(map(bool, alone)) > len(requests) // 2 and len({repr(a) for a in alone}) > 100

        sizes: list[int] = []
        if testenv.BACKEND == "postgres":
            from storage.backends import pg_reads

            statement = pg_reads._query_many

            def counted(*args):  # how many shared statements ran (the builder is cached)
                sizes.append(1)
                return statement(*args)
            monkeypatch.setattr(pg_reads, "_query_many", counted)
            # A lone Query takes today's statement.
            assert await be.query(table.id, b"p1", RANGES[1], True, None, 3) == alone[requests.index(
                ("query", table.id, b"p1", RANGES[1], True, None, 3))]
            assert sizes == []

        order = list(range(len(requests))) * 2
        random.Random(11).shuffle(order)
        together = await asyncio.gather(*(getattr(be, requests[i][0])(*requests[i][1:]) for i in order))
        for i, got in zip(order, together):
            assert got == alone[i], requests[i]
        if testenv.BACKEND == "postgres":  # batched: one statement per shape
            assert 1 < len(sizes) < len(order) // 4, len(sizes)
    finally:
        await be.drop_table(table.id)
        await be.close()


def test_concurrent_backend_queries_answer_as_alone(server, monkeypatch):
    asyncio.run(run_backend(monkeypatch))


# --- the shared statement's plan ------------------------------------------------------

plans_table = test_query_plans.conn  # test_query_plans' 50,000-row table and its index

@pytest.mark.skipif(testenv.BACKEND != "postgres", reason="EXPLAIN plans are PostgreSQL's")
def test_shared_query_uses_primary_key_per_request(plans_table):
    from storage.backends import sql
    from storage.backends.pg_reads import _query_many

    c, table_id, index_id = plans_table
    text = plan(c, _query_many(False, sql.shape(KeyRange(b"0")), True, False),
                ([table_id] * 3, [b"p7", b"p8", b"p9"], [b"0"] * 3, [11] * 3))
    assert_index_plan(text)
    assert "Limit" in text and "Nested Loop" in text, text
    text = plan(c, _query_many(True, sql.shape(KeyRange()), False, True),
                ([index_id] * 2, [b"g7", b"g8"], [b""] * 2, [b"p9"] * 2, [b""] * 2, [11] * 2))
    assert_index_plan(text)
    assert "Limit" in text and "Nested Loop" in text, text
