"""Racing conditional writes on tables without indexes or streams.

On PostgreSQL such writes read the item unlocked and write it back with a
compare-and-set that concurrent writes of a worker share (one statement for
many keys); a write whose item changed meanwhile redoes it under a row lock.
Whatever the path, each client must see DynamoDB's outcome: no lost update,
one winner per conditional create or delete, and the winner's item stored.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from .conftest import make_client

THREADS = 8
KEYS = [f"k{i:02d}" for i in range(10)]


def run_threads(server, key, work):
    clients = [make_client(server, key) for _ in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(work, clients, range(THREADS)))


def test_conditional_counters_on_many_keys_lose_no_update(server, key, ddb, hash_table):
    for k in KEYS:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": k}, "v": {"N": "0"}})
    rounds = 4

    def work(client, thread):
        order = KEYS[thread % len(KEYS):] + KEYS[:thread % len(KEYS)]  # threads collide on different keys
        for _ in range(rounds):
            for k in order:
                client.update_item(TableName=hash_table, Key={"pk": {"S": k}}, UpdateExpression="SET v = v + :one",
                                   ConditionExpression="attribute_exists(v)",
                                   ExpressionAttributeValues={":one": {"N": "1"}})

    run_threads(server, key, work)
    for k in KEYS:
        item = ddb.get_item(TableName=hash_table, Key={"pk": {"S": k}}, ConsistentRead=True)["Item"]
        assert item["v"] == {"N": str(THREADS * rounds)}, k


def test_one_winner_per_conditional_create_and_the_winner_is_stored(server, key, ddb, hash_table):
    def work(client, thread):
        won = []
        for k in KEYS:
            try:
                client.update_item(TableName=hash_table, Key={"pk": {"S": k}}, UpdateExpression="SET winner_thread = :me",
                                   ConditionExpression="attribute_not_exists(pk)",
                                   ExpressionAttributeValues={":me": {"N": str(thread)}})
                won.append(k)
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
        return won

    results = run_threads(server, key, work)
    assert sum(len(won) for won in results) == len(KEYS)  # one winner per key...
    winners = {k: thread for thread, won in enumerate(results) for k in won}
    assert sorted(winners) == KEYS  # ...and every key has one
    for k, thread in winners.items():
        item = ddb.get_item(TableName=hash_table, Key={"pk": {"S": k}}, ConsistentRead=True)["Item"]
        assert item["winner_thread"] == {"N": str(thread)}


def test_one_winner_per_conditional_delete_with_the_old_item(server, key, ddb, hash_table):
    for k in KEYS:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": k}, "payload": {"S": k * 50}})

    def work(client, _):
        won = 0
        for k in KEYS:
            try:
                out = client.delete_item(TableName=hash_table, Key={"pk": {"S": k}},
                                         ConditionExpression="attribute_exists(pk)", ReturnValues="ALL_OLD")
                assert out["Attributes"] == {"pk": {"S": k}, "payload": {"S": k * 50}}
                won += 1
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
        return won

    assert sum(run_threads(server, key, work)) == len(KEYS)
    assert ddb.scan(TableName=hash_table, ConsistentRead=True)["Count"] == 0


def test_failed_condition_reports_the_current_item(server, key, ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "x"}, "v": {"N": "5"}})
    try:
        ddb.update_item(TableName=hash_table, Key={"pk": {"S": "x"}}, UpdateExpression="SET v = :v",
                        ConditionExpression="v = :old", ExpressionAttributeValues={":v": {"N": "6"}, ":old": {"N": "4"}},
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
        raise AssertionError("condition should fail")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
        assert exc.response["Item"] == {"pk": {"S": "x"}, "v": {"N": "5"}}
    out = ddb.update_item(TableName=hash_table, Key={"pk": {"S": "x"}}, UpdateExpression="SET v = :v",
                          ConditionExpression="v = :old", ReturnValues="ALL_OLD",
                          ExpressionAttributeValues={":v": {"N": "6"}, ":old": {"N": "5"}})
    assert out["Attributes"] == {"pk": {"S": "x"}, "v": {"N": "5"}}
    assert ddb.get_item(TableName=hash_table, Key={"pk": {"S": "x"}})["Item"]["v"] == {"N": "6"}
