"""Many concurrent clients: no lost updates, one winner per conditional put,
and no transaction ever seen half applied."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from .conftest import make_client

THREADS = 8


def run_threads(server, key, work, count=THREADS):
    clients = [make_client(server, key) for _ in range(count)]
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(work, clients, range(count)))


def test_no_lost_updates(server, key, ddb, hash_table):
    per_thread = 25

    def work(client, _):
        for _ in range(per_thread):
            client.update_item(TableName=hash_table, Key={"pk": {"S": "counter"}}, UpdateExpression="ADD n :one",
                               ExpressionAttributeValues={":one": {"N": "1"}})

    run_threads(server, key, work)
    item = ddb.get_item(TableName=hash_table, Key={"pk": {"S": "counter"}}, ConsistentRead=True)["Item"]
    assert item["n"] == {"N": str(THREADS * per_thread)}


def test_one_winner_per_conditional_put(server, key, ddb, hash_table):
    keys = [f"k{i}" for i in range(20)]

    def work(client, thread):
        wins = 0
        for k in keys:
            try:
                client.put_item(TableName=hash_table, Item={"pk": {"S": k}, "owner": {"N": str(thread)}},
                                ConditionExpression="attribute_not_exists(pk)")
                wins += 1
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
        return wins

    assert sum(run_threads(server, key, work)) == len(keys)


def test_transactions_never_seen_half_applied(server, key, ddb, hash_table):
    total = 1000
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "a"}, "bal": {"N": str(total)}})
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "b"}, "bal": {"N": "0"}})
    stop = threading.Event()
    seen_sums: list[int] = []

    def move(client, _):
        for i in range(30):
            src, dst = ("a", "b") if i % 2 == 0 else ("b", "a")
            client.transact_write_items(TransactItems=[
                {"Update": {"TableName": hash_table, "Key": {"pk": {"S": src}}, "UpdateExpression": "ADD bal :m",
                            "ExpressionAttributeValues": {":m": {"N": "-7"}}}},
                {"Update": {"TableName": hash_table, "Key": {"pk": {"S": dst}}, "UpdateExpression": "ADD bal :p",
                            "ExpressionAttributeValues": {":p": {"N": "7"}}}},
            ])

    def read(client, _):
        while not stop.is_set():
            got = client.transact_get_items(TransactItems=[
                {"Get": {"TableName": hash_table, "Key": {"pk": {"S": "a"}}}},
                {"Get": {"TableName": hash_table, "Key": {"pk": {"S": "b"}}}}])["Responses"]
            seen_sums.append(sum(int(r["Item"]["bal"]["N"]) for r in got))

    readers = [make_client(server, key) for _ in range(3)]
    writers = [make_client(server, key) for _ in range(3)]
    with ThreadPoolExecutor(6) as pool:
        reading = [pool.submit(read, c, i) for i, c in enumerate(readers)]
        for f in [pool.submit(move, c, i) for i, c in enumerate(writers)]:
            f.result()
        stop.set()
        for f in reading:
            f.result()
    assert seen_sums and set(seen_sums) == {total}
