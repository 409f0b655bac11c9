"""PostgreSQL restarted under a write load (a private cluster, so nobody else's
database moves): clients see only retryable 5xx answers while it is down, the
server recovers without a restart of its own, and every acknowledged write is
there afterwards."""
from __future__ import annotations

import time

import pytest

from .. import testenv
from .harness import client, deployment, private_cluster, private_cluster_available, record_figures
from .workload import RETRYABLE_5XX, WriteLoad, create_pair_table, verify

pytestmark = [
    pytest.mark.skipif(testenv.BACKEND != "postgres", reason="PostgreSQL fault test (EXTENDDB_TEST_BACKEND=postgres)"),
    pytest.mark.skipif(private_cluster_available() is not None, reason=str(private_cluster_available())),
]

TABLE = "restart-pairs"
WRITERS = 2


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_under_load(mode):
    with private_cluster() as cluster, deployment(cluster.url) as dep:
        key = dep.create_key()
        server = dep.start()
        ddb = client(server, key)
        create_pair_table(ddb, TABLE)
        load = WriteLoad(lambda: client(server, key), TABLE, WRITERS)
        ledger = load.ledger
        assert load.wait_for(20, 60), ledger.errors
        started = time.monotonic()
        cluster.ctl("-m", mode, "restart")
        restarted_after = time.monotonic() - started
        before = ledger.requests
        recovered = load.wait_for(before + 30, 60)  # no server restart: the pool reconnects
        recovery = time.monotonic() - started
        load.stop()
        assert recovered, f"no recovery within 60 s: {ledger.errors}"
        assert set(ledger.errors) <= RETRYABLE_5XX, ledger.errors
        figures = verify(client(server, key), TABLE, ledger)
        check = dep.manage("checkconsistency", check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        record_figures(f"postgres-restart-{mode}", restart_seconds=round(restarted_after, 2),
                       recovery_seconds=round(recovery, 2), errors=dict(ledger.errors),
                       requests=ledger.requests, acknowledged_items=figures["acknowledged"])
