"""Two servers on one database share a PROVISIONED table's capacity: each takes half
of every rate and burst (1 / the live servers of the registry), so together they
admit about what one DynamoDB table would, and neither alone admits it all."""
from __future__ import annotations

import json
import time
import uuid

import pytest

from wireapi.throttle import REFRESH_SECONDS

from .. import testenv
from ..reliability.harness import client, deployment

pytestmark = pytest.mark.skipif(testenv.BACKEND != "postgres",
                                reason="several servers share PostgreSQL (SQLite is single-host)")

ITEM_KB = 10


def _writes_until_throttled(ddb, table: str, prefix: str, cap: int = 200) -> int:
    for n in range(cap):
        try:
            ddb.put_item(TableName=table, Item={"pk": {"S": f"{prefix}{n}"}, "v": {"S": "x" * (ITEM_KB * 1024 - 64)}})
        except ddb.exceptions.ProvisionedThroughputExceededException:
            return n
    return cap


def test_two_servers_share_a_tables_capacity():
    with deployment() as dep:
        key = dep.create_key("capacity")
        a = dep.start(workers=2)
        b = dep.peer().start(workers=2)
        via_a, via_b = client(a, key), client(b, key)
        # Both servers in the registry, and every worker's share read since.
        deadline = time.monotonic() + 60
        while sum(1 for line in dep.manage("servers", "--json").stdout.splitlines()
                  if json.loads(line)["alive"]) < 2:
            assert time.monotonic() < deadline, "both servers never reached the registry"
            time.sleep(0.5)
        time.sleep(REFRESH_SECONDS + 1)

        table = f"cap-{uuid.uuid4().hex[:8]}"
        via_a.create_table(TableName=table, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                           KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PROVISIONED",
                           ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
        # 1 WCU: 300 units of burst for the table, 150 for each server; 10 units a write.
        started = time.monotonic()
        through_a = _writes_until_throttled(via_a, table, "a")
        through_b = _writes_until_throttled(via_b, table, "b")
        refilled = (time.monotonic() - started) * 1  # 1 unit a second, for the whole table
        full = 300 // ITEM_KB
        print(f"admitted through A {through_a}, through B {through_b} (the table's burst: {full})")
        assert full // 2 - 1 <= through_a <= full // 2 + 1 + refilled / ITEM_KB, (through_a, through_b)
        assert full // 2 - 1 <= through_b <= full // 2 + 1 + refilled / ITEM_KB, (through_a, through_b)
        # Together: the table's burst, give or take a write per server (the approximation).
        assert full - 2 <= through_a + through_b <= full + 2 + refilled / ITEM_KB
