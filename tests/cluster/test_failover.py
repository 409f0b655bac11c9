"""Failover: a primary with a synchronous standby, and a server whose DATABASE_URL
names both (target_session_attrs=read-write). Under a write load the primary is
killed and the standby promoted: clients see only retryable errors during the
switch, the server follows the new primary by itself, every acknowledged write is
on it, and `checkconsistency` is clean."""
from __future__ import annotations

import threading
import time

import pytest

from .. import testenv
from ..reliability.harness import (client, deployment, private_cluster, private_cluster_available, record_figures,
                                   standby_of)
from ..reliability.workload import Ledger, batch_writer, create_pair_table, seed_pairs, transact_writer, verify

pytestmark = [
    pytest.mark.skipif(testenv.BACKEND != "postgres", reason="PostgreSQL failover"),
    pytest.mark.skipif(private_cluster_available() is not None, reason=str(private_cluster_available())),
]

TABLE = "failover-pairs"
WRITERS = 2
RETRYABLE_5XX = {"InternalServerError", "ServiceUnavailable", "ServiceUnavailableException"}


def _wait_for(ledger: Ledger, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ledger.requests >= count:
            return True
        time.sleep(0.05)
    return False


def test_server_follows_a_promoted_standby_and_loses_nothing():
    with private_cluster() as primary, standby_of(primary, synchronous=True) as standby:
        url = (f"postgres://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/postgres"
               "?target_session_attrs=read-write")
        with deployment(url) as dep:
            key = dep.create_key()
            server = dep.start(workers=2)
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
            primary.ctl("-m", "immediate", "stop")  # the primary's host dies
            standby.ctl("promote")
            promoted = time.monotonic() - started
            before = ledger.requests
            recovered = _wait_for(ledger, before + 30, 90)  # no server restart: it follows the new primary
            recovery = time.monotonic() - started
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            assert recovered, f"no recovery within 90 s: {ledger.errors}"
            assert set(ledger.errors) <= RETRYABLE_5XX, ledger.errors
            figures = verify(client(server, key), TABLE, ledger)
            check = dep.manage("checkconsistency", check=False)
            assert check.returncode == 0, check.stdout + check.stderr
            record_figures("postgres-failover", promote_seconds=round(promoted, 2),
                           recovery_seconds=round(recovery, 2), errors=dict(ledger.errors),
                           requests=ledger.requests, acknowledged_items=figures["acknowledged"])
