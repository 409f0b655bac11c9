"""Failover: a primary with a synchronous standby, and a server whose DATABASE_URL
names both (target_session_attrs=read-write). Under a write load the primary is
killed and the standby promoted: clients see only retryable errors during the
switch, the server follows the new primary by itself, every acknowledged write is
on it, and `checkconsistency` is clean."""
from __future__ import annotations

import time

import pytest

from .. import testenv
from ..reliability.harness import (client, deployment, private_cluster, private_cluster_available, record_figures,
                                   standby_of)
from ..reliability.workload import RETRYABLE_5XX, WriteLoad, create_pair_table, verify

pytestmark = [
    pytest.mark.skipif(testenv.BACKEND != "postgres", reason="PostgreSQL failover"),
    pytest.mark.skipif(private_cluster_available() is not None, reason=str(private_cluster_available())),
]

TABLE = "failover-pairs"
WRITERS = 2


def test_server_follows_a_promoted_standby_and_loses_nothing():
    with private_cluster() as primary, standby_of(primary, synchronous=True) as standby:
        url = (f"postgres://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/postgres"
               "?target_session_attrs=read-write")
        with deployment(url) as dep:
            key = dep.create_key()
            server = dep.start(workers=2)
            ddb = client(server, key)
            create_pair_table(ddb, TABLE)
            load = WriteLoad(lambda: client(server, key), TABLE, WRITERS)
            ledger = load.ledger
            assert load.wait_for(20, 60), ledger.errors
            started = time.monotonic()
            primary.ctl("-m", "immediate", "stop")  # the primary's host dies
            standby.ctl("promote")
            promoted = time.monotonic() - started
            before = ledger.requests
            recovered = load.wait_for(before + 30, 90)  # no server restart: it follows the new primary
            recovery = time.monotonic() - started
            load.stop()
            assert recovered, f"no recovery within 90 s: {ledger.errors}"
            assert set(ledger.errors) <= RETRYABLE_5XX, ledger.errors
            figures = verify(client(server, key), TABLE, ledger)
            check = dep.manage("checkconsistency", check=False)
            assert check.returncode == 0, check.stdout + check.stderr
            record_figures("postgres-failover", promote_seconds=round(promoted, 2),
                           recovery_seconds=round(recovery, 2), errors=dict(ledger.errors),
                           requests=ledger.requests, acknowledged_items=figures["acknowledged"])
