"""Eventually consistent reads from a real streaming hot standby (pg_basebackup on
a port of its own): served by the standby while it keeps up, by the primary once
it falls behind the lag bound or dies, never with an error; strongly consistent
reads and writes always by the primary. The access log says which served each read."""
from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from .. import testenv
from ..reliability.harness import (client, deployment, private_cluster, private_cluster_available, standby_of)

pytestmark = [
    pytest.mark.skipif(testenv.BACKEND != "postgres", reason="PostgreSQL replicas"),
    pytest.mark.skipif(private_cluster_available() is not None, reason=str(private_cluster_available())),
]


def _served_by(primary, request_id: str, timeout: float = 10) -> str:
    """The access log's word on one request (it is written in batches, about every second)."""
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(primary.url, autocommit=True) as conn:
            row = conn.execute("SELECT served_by FROM ddb_access_log WHERE request_id = %s",
                               (request_id,)).fetchone()
        if row is not None:
            return row[0]
        assert time.monotonic() < deadline, f"request {request_id} not in the access log"
        time.sleep(0.2)


def _get(ddb, table: str, pk: str, consistent: bool = False):
    out = ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=consistent)
    return out.get("Item"), out["ResponseMetadata"]["RequestId"]


def test_eventual_reads_go_to_a_standby_within_the_lag_bound():
    with private_cluster() as primary, standby_of(primary) as standby, deployment(primary.url) as dep:
        key = dep.create_key("replicas")
        server = dep.start(workers=1, env={"EXTENDDB_READ_REPLICA_URLS": standby.url,
                                           "EXTENDDB_REPLICA_MAX_LAG_SECONDS": "1"})
        ddb = client(server, key)
        table = f"r-{uuid.uuid4().hex[:8]}"
        ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
        replica = f"replica 127.0.0.1:{standby.port}"

        # Replication is quick: an eventual read finds the item, and the standby served it.
        deadline = time.monotonic() + 10
        while True:
            item, rid = _get(ddb, table, "a")
            if item is not None and _served_by(primary, rid) == replica:
                break
            assert time.monotonic() < deadline, "no eventually consistent read was served by the standby"
            time.sleep(0.2)
        _, rid = _get(ddb, table, "a", consistent=True)
        assert _served_by(primary, rid) == "primary"
        scan = ddb.scan(TableName=table)
        assert scan["Count"] == 1 and _served_by(primary, scan["ResponseMetadata"]["RequestId"]) == replica

        # The standby stops replaying: past the bound, the primary answers, and has the new item.
        standby.sql("SELECT pg_wal_replay_pause()")
        ddb.put_item(TableName=table, Item={"pk": {"S": "b"}})
        paused = time.monotonic()
        while True:
            item, rid = _get(ddb, table, "b")
            if item is not None:
                break
            assert time.monotonic() - paused < 5, "a lagging standby kept serving stale reads"
            time.sleep(0.1)
        assert _served_by(primary, rid) == "primary"

        # Replaying again, it is used again.
        standby.sql("SELECT pg_wal_replay_resume()")
        deadline = time.monotonic() + 10
        while True:
            item, rid = _get(ddb, table, "b")
            if item is not None and _served_by(primary, rid) == replica:
                break
            assert time.monotonic() < deadline, "the standby was not used again after it caught up"
            time.sleep(0.2)

        # The standby dies: reads go on, from the primary, without an error.
        standby.ctl("-m", "immediate", "stop")
        for _ in range(20):
            item, rid = _get(ddb, table, "b")
            assert item is not None
        assert _served_by(primary, rid) == "primary"
