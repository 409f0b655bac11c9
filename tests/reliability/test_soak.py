"""A bounded soak: mixed operations at high concurrency against two workers,
with every worker's RSS sampled. After warm-up, memory must stay flat (growth
under SOAK_RSS_GROWTH_MB per process) and no request may fail."""
from __future__ import annotations

import os
import random
import threading
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from .harness import client, deployment, record_figures

pytestmark = pytest.mark.slow

SOAK_SECONDS = float(os.environ.get("EXTENDDB_SOAK_SECONDS", "60"))
WARMUP_SECONDS = SOAK_SECONDS / 4
THREADS = 24
SOAK_RSS_GROWTH_MB = 24.0  # per process, from the end of warm-up to the end of the run
TABLE = "soak"


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (the uvicorn workers and the background process)."""
    out, stack = [], [pid]
    while stack:
        parent = stack.pop()
        try:
            found = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        kids = [int(k) for k in found]
        out += kids
        stack += kids
    return out


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _operations(ddb, rng: random.Random, mine: list[str]):
    pk = rng.choice(mine) if mine and rng.random() < 0.7 else f"p{rng.randrange(200)}"
    sk = str(rng.randrange(20))
    key = {"pk": {"S": pk}, "sk": {"N": sk}}
    roll = rng.random()
    if roll < 0.25:
        ddb.put_item(TableName=TABLE, Item={**key, "g": {"S": f"g{rng.randrange(10)}"},
                                            "data": {"S": uuid.uuid4().hex * rng.randrange(1, 30)}})
        mine.append(pk)
    elif roll < 0.45:
        ddb.get_item(TableName=TABLE, Key=key)
    elif roll < 0.55:
        ddb.update_item(TableName=TABLE, Key=key, UpdateExpression="ADD n :one SET g = :g",
                        ExpressionAttributeValues={":one": {"N": "1"}, ":g": {"S": f"g{rng.randrange(10)}"}})
    elif roll < 0.65:
        ddb.query(TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": pk}},
                  Limit=10)
    elif roll < 0.70:
        ddb.query(TableName=TABLE, IndexName="by_g", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues={":g": {"S": f"g{rng.randrange(10)}"}}, Limit=20)
    elif roll < 0.74:
        ddb.scan(TableName=TABLE, Limit=25)
    elif roll < 0.82:
        ddb.batch_write_item(RequestItems={TABLE: [
            {"PutRequest": {"Item": {"pk": {"S": f"b{rng.randrange(500)}"}, "sk": {"N": str(i)},
                                     "g": {"S": "gb"}}}} for i in range(rng.randrange(1, 10))]})
    elif roll < 0.88:
        ddb.batch_get_item(RequestItems={TABLE: {"Keys": [
            {"pk": {"S": f"b{rng.randrange(500)}"}, "sk": {"N": str(i)}} for i in range(5)]}})
    elif roll < 0.95:
        try:
            ddb.transact_write_items(TransactItems=[
                {"Update": {"TableName": TABLE, "Key": {"pk": {"S": f"t{rng.randrange(50)}"}, "sk": {"N": "0"}},
                            "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"t{rng.randrange(50, 100)}"},
                                                      "sk": {"N": "0"}, "g": {"S": "gt"}}}}])
        except ClientError as exc:  # two transactions on one item: DynamoDB cancels one
            if exc.response["Error"]["Code"] not in ("TransactionCanceledException",
                                                     "TransactionConflictException"):
                raise
    else:
        ddb.delete_item(TableName=TABLE, Key=key)


def test_soak_memory_flat_and_no_errors():
    with deployment() as dep:
        key = dep.create_key()
        server = dep.start(workers=2)
        ddb = client(server, key)
        ddb.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "N"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "KEYS_ONLY"}}],
            BillingMode="PAY_PER_REQUEST")
        stop = threading.Event()
        counts = {"requests": 0}
        failures: list[str] = []
        lock = threading.Lock()

        def worker(seed: int) -> None:
            rng, mine, own = random.Random(seed), [], client(server, key)
            while not stop.is_set():
                try:
                    _operations(own, rng, mine)
                except Exception as exc:  # any failure is a finding
                    failures.append(repr(exc)[:300])
                with lock:
                    counts["requests"] += 1

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(THREADS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        samples: dict[int, list[tuple[float, float]]] = {}
        while time.monotonic() - started < SOAK_SECONDS:
            time.sleep(2)
            now = time.monotonic() - started
            for pid in _children(server.process.pid):
                rss = _rss_mb(pid)
                if rss is not None:
                    samples.setdefault(pid, []).append((now, rss))
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        elapsed = time.monotonic() - started
        growth = {}
        for pid, series in samples.items():
            after_warmup = [rss for t, rss in series if t >= WARMUP_SECONDS]
            if len(after_warmup) >= 2:
                growth[pid] = round(max(after_warmup[-3:]) - after_warmup[0], 1)
        record_figures("soak", seconds=round(elapsed), threads=THREADS, requests=counts["requests"],
                       requests_per_second=round(counts["requests"] / elapsed), failures=len(failures),
                       rss_growth_mb=growth, rss_final_mb={p: round(s[-1][1]) for p, s in samples.items()})
        assert not failures, failures[:5]
        assert growth and all(g < SOAK_RSS_GROWTH_MB for g in growth.values()), growth
        check = dep.manage("checkconsistency", check=False)
        assert check.returncode == 0, check.stdout + check.stderr
