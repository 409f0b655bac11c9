"""Secondary indexes: written with the base item, sparse, type-checked, and
created online on a populated table."""
from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError


def gsi_table(ddb, name, projection=None):
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"},
                              {"AttributeName": "n", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                                     {"AttributeName": "n", "KeyType": "RANGE"}],
                                 "Projection": projection or {"ProjectionType": "ALL"}}],
        LocalSecondaryIndexes=[{"IndexName": "by-n", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                    {"AttributeName": "n", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        BillingMode="PAY_PER_REQUEST")


def query_gsi(ddb, name, g):
    return ddb.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": {"S": g}})["Items"]


@pytest.fixture
def indexed(ddb, table_name):
    gsi_table(ddb, table_name)
    yield table_name
    ddb.delete_table(TableName=table_name)


def test_describe_reports_indexes(ddb, indexed):
    desc = ddb.describe_table(TableName=indexed)["Table"]
    gsi = desc["GlobalSecondaryIndexes"][0]
    assert gsi["IndexName"] == "by-g" and gsi["IndexStatus"] == "ACTIVE"
    assert gsi["IndexArn"] == desc["TableArn"] + "/index/by-g"
    assert desc["LocalSecondaryIndexes"][0]["IndexName"] == "by-n"


def test_index_follows_puts_updates_and_deletes(ddb, indexed):
    ddb.put_item(TableName=indexed, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "g": {"S": "x"}, "n": {"N": "1"}})
    ddb.put_item(TableName=indexed, Item={"pk": {"S": "b"}, "sk": {"S": "1"}, "g": {"S": "x"}, "n": {"N": "2"}})
    ddb.put_item(TableName=indexed, Item={"pk": {"S": "c"}, "sk": {"S": "1"}, "other": {"S": "sparse"}})
    assert [i["pk"]["S"] for i in query_gsi(ddb, indexed, "x")] == ["a", "b"]
    ddb.update_item(TableName=indexed, Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, UpdateExpression="SET g = :y",
                    ExpressionAttributeValues={":y": {"S": "y"}})
    assert [i["pk"]["S"] for i in query_gsi(ddb, indexed, "x")] == ["b"]
    assert [i["pk"]["S"] for i in query_gsi(ddb, indexed, "y")] == ["a"]
    ddb.delete_item(TableName=indexed, Key={"pk": {"S": "b"}, "sk": {"S": "1"}})
    assert query_gsi(ddb, indexed, "x") == []
    desc = ddb.describe_table(TableName=indexed)["Table"]
    assert desc["GlobalSecondaryIndexes"][0]["ItemCount"] == 1  # sparse: c has no g
    assert desc["ItemCount"] == 2


def test_index_key_type_checked(ddb, indexed):
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=indexed, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "g": {"N": "5"}})
    assert err.value.response["Error"]["Message"] == (
        "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N "
        "IndexName: by-g")
    with pytest.raises(ClientError):
        ddb.update_item(TableName=indexed, Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, UpdateExpression="SET n = :s",
                        ExpressionAttributeValues={":s": {"S": "text"}})
    assert "Item" not in ddb.get_item(TableName=indexed, Key={"pk": {"S": "a"}, "sk": {"S": "1"}})


def test_create_gsi_on_populated_table(ddb, range_table):
    for i in range(30):
        ddb.put_item(TableName=range_table, Item={"pk": {"S": f"p{i % 3}"}, "sk": {"N": str(i)},
                                                   "color": {"S": "red" if i % 2 else "blue"}})
    out = ddb.update_table(
        TableName=range_table, AttributeDefinitions=[{"AttributeName": "color", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "by-color",
                                                 "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
                                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
    gsi = out["TableDescription"]["GlobalSecondaryIndexes"][0]
    assert gsi["IndexStatus"] == "CREATING"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = ddb.describe_table(TableName=range_table)["Table"]["GlobalSecondaryIndexes"][0]["IndexStatus"]
        if status == "ACTIVE":
            break
        time.sleep(0.3)
    assert status == "ACTIVE"
    red = ddb.query(TableName=range_table, IndexName="by-color", KeyConditionExpression="color = :c",
                    ExpressionAttributeValues={":c": {"S": "red"}})["Items"]
    assert len(red) == 15
    assert set(red[0]) == {"pk", "sk", "color"}  # KEYS_ONLY: table and index keys

    ddb.update_table(TableName=range_table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-color"}}])
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=range_table)["Table"]


def test_only_one_index_created_at_a_time(ddb, range_table):
    create = lambda name: {"Create": {"IndexName": name, "KeySchema": [{"AttributeName": "sk", "KeyType": "HASH"}],
                                      "Projection": {"ProjectionType": "ALL"}}}
    with pytest.raises(ClientError) as err:
        ddb.update_table(TableName=range_table, GlobalSecondaryIndexUpdates=[create("idx1"), create("idx2")])
    assert err.value.response["Error"]["Code"] == "LimitExceededException"


def test_indexes_follow_every_item_of_a_transaction(ddb, indexed):
    """Several items' index moves, removals and additions in one TransactWriteItems (on
    PostgreSQL they reach the database as one statement): each index shows exactly the
    committed items, and a cancelled transaction changes none of them."""
    def item(pk, g, n, **extra):
        return {"pk": {"S": pk}, "sk": {"S": "1"}, "g": {"S": g}, "n": {"N": str(n)}, **extra}

    for pk, g, n in (("a", "x", 1), ("b", "x", 2), ("c", "x", 3), ("d", "y", 4)):
        ddb.put_item(TableName=indexed, Item=item(pk, g, n))
    key = {"sk": {"S": "1"}}
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": indexed, "Key": {"pk": {"S": "a"}, **key}, "UpdateExpression": "SET g = :y, n = :n",
                    "ExpressionAttributeValues": {":y": {"S": "y"}, ":n": {"N": "9"}}}},
        {"Delete": {"TableName": indexed, "Key": {"pk": {"S": "b"}, **key}}},
        {"Put": {"TableName": indexed, "Item": item("c", "x", 3, extra={"S": "changed"})}},
        {"Put": {"TableName": indexed, "Item": item("e", "x", 0)}},
        {"Update": {"TableName": indexed, "Key": {"pk": {"S": "d"}, **key}, "UpdateExpression": "REMOVE g"}},
    ])
    assert [(i["pk"]["S"], i.get("extra")) for i in query_gsi(ddb, indexed, "x")] == [
        ("e", None), ("c", {"S": "changed"})]
    assert [(i["pk"]["S"], i["n"]["N"]) for i in query_gsi(ddb, indexed, "y")] == [("a", "9")]
    lsi = ddb.query(TableName=indexed, IndexName="by-n", KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "b"}})["Items"]
    assert lsi == []
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": indexed, "Item": item("c", "z", 5)}},
            {"Update": {"TableName": indexed, "Key": {"pk": {"S": "a"}, **key}, "UpdateExpression": "SET g = :z",
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ExpressionAttributeValues": {":z": {"S": "z"}}}},
        ])
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert query_gsi(ddb, indexed, "z") == []
    assert [i["pk"]["S"] for i in query_gsi(ddb, indexed, "x")] == ["e", "c"]
