"""PostgreSQL restarted under a write load (a private cluster, so nobody else's
database moves): clients see only retryable 5xx answers while it is down, the
server recovers without a restart of its own, and every acknowledged write is
there afterwards."""
from __future__ import annotations

import threading
import time

import pytest

from .. import testenv
from .harness import client, deployment, private_cluster, private_cluster_available, record_figures
from .workload import Ledger, batch_writer, create_pair_table, seed_pairs, transact_writer, verify

pytestmark = [
    pytest.mark.skipif(testenv.BACKEND != "postgres", reason="PostgreSQL fault test (EXTENDDB_TEST_BACKEND=postgres)"),
    pytest.mark.skipif(private_cluster_available() is not None, reason=str(private_cluster_available())),
]

TABLE = "restart-pairs"
WRITERS = 2
# What a client may hear while the database is away: retryable server errors only.
RETRYABLE_5XX = {"InternalServerError", "ServiceUnavailable", "ServiceUnavailableException"}


def _wait_for(ledger: Ledger, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ledger.requests >= count:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_under_load(mode):
    with private_cluster() as cluster, deployment(cluster.url) as dep:
        key = dep.create_key()
        server = dep.start()
        ddb = client(server, key)
        create_pair_table(ddb, TABLE)
        ledger = Ledger()
        seed_pairs(ddb, TABLE, WRITERS, ledger)
        stop = threading.Event()
        threads = [threading.Thread(target=fn, args=(client(server, key), TABLE, ledger, stop, w), daemon=True)
                   for w in range(WRITERS) for fn in (transact_writer, batch_writer)]
        for thread in threads:
            thread.start()
        assert _wait_for(ledger, 20, 60), ledger.errors
        started = time.monotonic()
        cluster.ctl("-m", mode, "restart")
        restarted_after = time.monotonic() - started
        before = ledger.requests
        recovered = _wait_for(ledger, before + 30, 60)  # no server restart: the pool reconnects
        recovery = time.monotonic() - started
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert recovered, f"no recovery within 60 s: {ledger.errors}"
        assert set(ledger.errors) <= RETRYABLE_5XX, ledger.errors
        figures = verify(client(server, key), TABLE, ledger)
        check = dep.manage("checkconsistency", check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        record_figures(f"postgres-restart-{mode}", restart_seconds=round(restarted_after, 2),
                       recovery_seconds=round(recovery, 2), errors=dict(ledger.errors),
                       requests=ledger.requests, acknowledged_items=figures["acknowledged"])
