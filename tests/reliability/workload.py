"""Writers whose every acknowledged write can be checked after a fault.

Transactions write or update *pairs* of items that carry the same token, so a
half-applied transaction shows as a pair whose two halves disagree; batch
writes record exactly which items were acknowledged (UnprocessedItems are not).
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

RETRYABLE = {"InternalServerError", "ServiceUnavailable", "ServiceUnavailableException", "ThrottlingException",
             "TransactionConflictException", "TransactionCanceledException"}
# What a client may hear while the database is away: retryable server errors only.
RETRYABLE_5XX = {"InternalServerError", "ServiceUnavailable", "ServiceUnavailableException"}


def create_pair_table(ddb, name: str) -> None:
    """pk/sk strings; a GSI on the token and an LSI on a number, so writes touch indexes."""
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "token", "AttributeType": "S"},
                              {"AttributeName": "n", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_token",
                                 "KeySchema": [{"AttributeName": "token", "KeyType": "HASH"},
                                               {"AttributeName": "sk", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        LocalSecondaryIndexes=[{"IndexName": "by_n",
                                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                              {"AttributeName": "n", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["token"]}}],
        BillingMode="PAY_PER_REQUEST")


@dataclass
class Ledger:
    """What the writers were told: acknowledged items and, per pair, the token sequence."""

    acked: dict[tuple[str, str], str] = field(default_factory=dict)  # (pk, sk) -> token
    # pair pk -> tokens it may hold: the last acknowledged one, then every later attempt
    # whose outcome the writer never learnt (in flight at the crash, or a 5xx)
    pairs: dict[str, list[str]] = field(default_factory=dict)
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, code: str) -> None:
        with self.lock:
            self.errors[code] = self.errors.get(code, 0) + 1


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return exc.response["Error"]["Code"]
    return type(exc).__name__


def transact_writer(ddb, table: str, ledger: Ledger, stop: threading.Event, worker: int) -> None:
    """Alternates new pairs (two Puts) and updates of this writer's own pair (two Updates)."""
    pair = f"pair-{worker}"
    n = 0
    while not stop.is_set():
        n += 1
        token = uuid.uuid4().hex
        if n % 2:
            pk = f"tx-{token}"
            actions = [{"Put": {"TableName": table, "Item": {"pk": {"S": pk}, "sk": {"S": half},
                                                            "token": {"S": token}, "n": {"N": str(n)}},
                                "ConditionExpression": "attribute_not_exists(pk)"}} for half in ("a", "b")]
        else:
            pk = pair
            ledger.pairs[pair].append(token)
            actions = [{"Update": {"TableName": table, "Key": {"pk": {"S": pk}, "sk": {"S": half}},
                                   "UpdateExpression": "SET #t = :t, n = :n",
                                   "ExpressionAttributeNames": {"#t": "token"},
                                   "ExpressionAttributeValues": {":t": {"S": token}, ":n": {"N": str(n)}}}}
                       for half in ("a", "b")]
        try:
            ddb.transact_write_items(TransactItems=actions)
        except (ClientError, BotoCoreError) as exc:
            ledger.error(_code(exc))
            if not isinstance(exc, ClientError):
                return  # the server is gone
            if pk == pair and exc.response["ResponseMetadata"]["HTTPStatusCode"] < 500:
                ledger.pairs[pair].remove(token)  # a 4xx is a definite "not applied"
            continue
        with ledger.lock:
            ledger.requests += 1
            ledger.acked[(pk, "a")] = ledger.acked[(pk, "b")] = token
        if pk == pair:
            ledger.pairs[pair] = [token]


def batch_writer(ddb, table: str, ledger: Ledger, stop: threading.Event, worker: int) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        token = uuid.uuid4().hex
        items = {f"b-{worker}-{n}-{i}": {"pk": {"S": f"b-{worker}-{n}-{i}"}, "sk": {"S": "x"},
                                          "token": {"S": token}, "n": {"N": str(i)}} for i in range(10)}
        try:
            out = ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item}}
                                                             for item in items.values()]})
        except (ClientError, BotoCoreError) as exc:
            ledger.error(_code(exc))
            if not isinstance(exc, ClientError):
                return
            continue
        unprocessed = {r["PutRequest"]["Item"]["pk"]["S"] for r in out.get("UnprocessedItems", {}).get(table, [])}
        with ledger.lock:
            ledger.requests += 1
            for pk in items:
                if pk not in unprocessed:
                    ledger.acked[(pk, "x")] = token


def seed_pairs(ddb, table: str, workers: int, ledger: Ledger) -> None:
    for worker in range(workers):
        pair = f"pair-{worker}"
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": pair}, "sk": {"S": half}, "token": {"S": "seed"},
                                                  "n": {"N": "0"}}}} for half in ("a", "b")])
        ledger.pairs[pair] = ["seed"]


def scan_all(ddb, table: str) -> dict[tuple[str, str], dict]:
    items: dict[tuple[str, str], dict] = {}
    for page in ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page["Items"]:
            items[(item["pk"]["S"], item["sk"]["S"])] = item
    return items


def verify(ddb, table: str, ledger: Ledger) -> dict[str, int]:
    """Assert the ledger's promises against the table; returns figures for the report."""
    stored = scan_all(ddb, table)
    lost = [key for key, token in ledger.acked.items()
            if key not in stored or (not key[0].startswith("pair-") and stored[key]["token"]["S"] != token)]
    assert not lost, f"{len(lost)} acknowledged writes missing, e.g. {lost[:5]}"
    halves: dict[str, dict[str, str]] = {}
    for (pk, sk), item in stored.items():
        if sk in ("a", "b"):
            halves.setdefault(pk, {})[sk] = item["token"]["S"]
    torn = {pk: h for pk, h in halves.items() if len(h) != 2 or h["a"] != h["b"]}
    assert not torn, f"half-applied transactions: {list(torn.items())[:5]}"
    for pair, possible in ledger.pairs.items():
        final = halves[pair]["a"]
        assert final in possible, f"{pair}: holds {final}, expected one of {possible}"
    return {"items": len(stored), "acknowledged": len(ledger.acked), "pairs": len(halves)}


class WriteLoad:
    """`writers` transact_writer and as many batch_writer threads on the pairs of `table`
    (seeded first), each with a client of its own from `make_client`, until stop();
    what they were told is in `ledger`."""

    def __init__(self, make_client: Callable[[], object], table: str, writers: int) -> None:
        self.ledger = Ledger()
        seed_pairs(make_client(), table, writers, self.ledger)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=fn, args=(make_client(), table, self.ledger, self._stop, w),
                                          daemon=True)
                         for w in range(writers) for fn in (transact_writer, batch_writer)]
        for thread in self._threads:
            thread.start()

    def wait_for(self, count: int, timeout: float) -> bool:
        """Whether the writers have made `count` requests within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ledger.requests >= count:
                return True
            time.sleep(0.05)
        return False

    def stop(self, timeout: float = 60) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
