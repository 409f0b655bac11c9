"""Once-per-cluster work runs on one server, and moves when that server dies: two
servers on one PostgreSQL database, the one running the TTL sweeper is SIGKILLed
(workers, background process and all, as a crashed host), and the survivor takes
the sweeper (and every other background task) over within the bound."""
from __future__ import annotations

import json
import time
import uuid

import pytest

from .. import testenv
from ..reliability.harness import client, deployment, kill_group

pytestmark = pytest.mark.skipif(testenv.BACKEND != "postgres",
                                reason="elections among several servers on PostgreSQL")

SWEEPER = "wireapi.ttl_sweeper:run_forever"
FAST_SWEEPS = {"EXTENDDB_TTL_SWEEP_SECONDS": "1"}


def _servers(dep) -> list[dict]:
    return [json.loads(line) for line in dep.manage("servers", "--json").stdout.splitlines()]


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.25)


def test_the_sweeper_moves_to_the_survivor():
    with deployment() as dep:
        key = dep.create_key("election")
        a = dep.start(workers=1, env=FAST_SWEEPS)
        b = dep.peer().start(workers=1, env=FAST_SWEEPS)

        def leader():
            alive = [s for s in _servers(dep) if s["alive"]]
            running = [s for s in alive if SWEEPER in s["leads"]]
            return running[0] if len(alive) == 2 and len(running) == 1 else None
        first = _wait(leader, 30, "no server took the sweeper")
        victim, survivor = (a, b) if first["port"] == a.port else (b, a)
        kill_group(victim.process)
        killed_at = time.monotonic()

        ddb = client(survivor, key)
        name = f"ttl-{uuid.uuid4().hex[:8]}"
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
        past, future = int(time.time()) - 60, int(time.time()) + 3600
        for n in range(5):
            ddb.put_item(TableName=name, Item={"pk": {"S": f"old{n}"}, "exp": {"N": str(past)}})
        ddb.put_item(TableName=name, Item={"pk": {"S": "keep"}, "exp": {"N": str(future)}})
        _wait(lambda: ddb.scan(TableName=name, ConsistentRead=True)["Count"] == 1, 30,
              "expired items not swept after the sweeper's server died")
        moved_after = time.monotonic() - killed_at

        assert moved_after < 20, moved_after
        # The registry says so at the survivor's next heartbeat.
        _wait(lambda: any(s["port"] == survivor.port and SWEEPER in s["leads"] for s in _servers(dep)), 15,
              "the registry does not show the survivor running the sweeper")
        print(json.dumps({"test": "election", "sweeper_moved_within_seconds": round(moved_after, 2)}))
