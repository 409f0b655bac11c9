"""SIGKILL of the whole server (workers included) in the middle of
TransactWriteItems and BatchWriteItem loads: afterwards every acknowledged
write is there, no transaction is half applied, and `manage.py
checkconsistency` finds every index in line with its table."""
from __future__ import annotations

import os
import signal
import time


from .harness import client, deployment, kill_group, record_figures
from .workload import Ledger, WriteLoad, create_pair_table, verify

TABLE = "crash-pairs"
WRITERS = 3  # of each kind
ROUNDS = int(os.environ.get("EXTENDDB_CRASH_ROUNDS", "1"))  # more: crash again on top of the recovered data


def _load_then_kill(dep, key, seconds: float) -> Ledger:
    server = dep.start()
    load = WriteLoad(lambda: client(server, key), TABLE, WRITERS)
    load.wait_for(40, seconds)
    time.sleep(0.3)  # well inside the load: requests are in flight now
    kill_group(server.process, signal.SIGKILL)
    load.stop(timeout=40)
    assert load.ledger.requests > 0, load.ledger.errors
    return load.ledger


def test_sigkill_during_transactions_and_batches_loses_nothing():
    with deployment() as dep:
        key = dep.create_key()
        server = dep.start()
        create_pair_table(client(server, key), TABLE)
        kill_group(server.process, signal.SIGTERM)
        server.process.wait(timeout=40)

        for round_ in range(ROUNDS):
            ledger = _load_then_kill(dep, key, seconds=20)
            restarted = dep.start()
            figures = verify(client(restarted, key), TABLE, ledger)
            record_figures("sigkill", round=round_, requests=ledger.requests, **figures)
            kill_group(restarted.process, signal.SIGTERM)
            restarted.process.wait(timeout=40)
            check = dep.manage("checkconsistency", check=False)
            assert check.returncode == 0, check.stdout + check.stderr
            assert "0 problem(s)" in check.stdout


def test_checkconsistency_reports_missing_extra_and_stale_entries():
    """The checker itself: damage an index behind the server's back and it must say so."""
    with deployment() as dep:
        key = dep.create_key()
        server = dep.start()
        ddb = client(server, key)
        create_pair_table(ddb, TABLE)
        for i in range(5):
            ddb.put_item(TableName=TABLE, Item={"pk": {"S": f"p{i}"}, "sk": {"S": "a"}, "token": {"S": f"t{i}"},
                                                "n": {"N": str(i)}})
        clean = dep.manage("checkconsistency", "--table", TABLE, check=False)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "5 items, 10 index entries" in clean.stdout
        kill_group(server.process, signal.SIGTERM)
        server.process.wait(timeout=40)

        # Damage through the ORM (the schema's owner), as a bug or a bad restore could.
        script = (
            "from storage.models import IndexEntry, Index\n"
            "gsi = Index.objects.get(name='by_token'); lsi = Index.objects.get(name='by_n')\n"
            "entries = list(IndexEntry.objects.filter(index=gsi).order_by('hash_key'))\n"
            "IndexEntry.objects.filter(index=gsi, hash_key=entries[0].hash_key).delete()\n"
            "IndexEntry.objects.filter(index=gsi, hash_key=entries[1].hash_key).update(body=b'{}')\n"
            "e = entries[2]; IndexEntry.objects.create(index=lsi, index_hash=b'zz', index_range=b'zz',"
            " hash_key=e.hash_key, range_key=e.range_key, body=e.body, size=e.size)\n"
        )
        dep.manage("shell", "-c", script)
        damaged = dep.manage("checkconsistency", check=False)
        assert damaged.returncode != 0
        for kind in ("missing-index-entry", "stale-index-entry", "extra-index-entry"):
            assert kind in damaged.stdout, damaged.stdout
        assert "3 problem(s)" in damaged.stdout
        unknown = dep.manage("checkconsistency", "--table", "no-such-table", check=False)
        assert unknown.returncode != 0 and "no table named" in unknown.stderr
