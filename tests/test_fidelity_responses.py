"""Response fidelity of issue 13: ItemCollectionMetrics, DeleteTable's and
TagResource's bodies, ConsumedCapacity's index entries, PartiQL paths."""
from __future__ import annotations

import uuid

import orjson
import pytest


@pytest.fixture
def lsi_table(ddb):
    name = f"l-{uuid.uuid4().hex[:12]}"
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "l", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        LocalSecondaryIndexes=[{"IndexName": "by-l", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                   {"AttributeName": "l", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "ALL"}}])
    yield name
    ddb.delete_table(TableName=name)


def _metrics(pk: str) -> dict:
    return {"ItemCollectionKey": {"pk": {"S": pk}}, "SizeEstimateRangeGB": [0.0, 1.0]}


def test_item_collection_metrics_of_single_writes(ddb, lsi_table, hash_table):
    item = {"pk": {"S": "a"}, "sk": {"S": "1"}, "l": {"S": "x"}}
    out = ddb.put_item(TableName=lsi_table, Item=item, ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"] == _metrics("a")
    out = ddb.update_item(TableName=lsi_table, Key={"pk": {"S": "a"}, "sk": {"S": "1"}},
                          UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "1"}},
                          ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"] == _metrics("a")
    out = ddb.delete_item(TableName=lsi_table, Key={"pk": {"S": "a"}, "sk": {"S": "1"}},
                          ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"] == _metrics("a")
    # Not asked for, or a table without LSIs: none.
    assert "ItemCollectionMetrics" not in ddb.put_item(TableName=lsi_table, Item=item)
    assert "ItemCollectionMetrics" not in ddb.put_item(TableName=hash_table, Item={"pk": {"S": "a"}},
                                                       ReturnItemCollectionMetrics="SIZE")


def test_item_collection_metrics_of_batches_and_transactions(ddb, lsi_table, hash_table):
    out = ddb.batch_write_item(RequestItems={
        lsi_table: [{"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"S": str(i)}}}} for i in range(3)]
        + [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}}],
        hash_table: [{"PutRequest": {"Item": {"pk": {"S": "a"}}}}]}, ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"] == {lsi_table: [_metrics("a"), _metrics("b")]}
    out = ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": lsi_table, "Item": {"pk": {"S": "c"}, "sk": {"S": "1"}}}},
        {"ConditionCheck": {"TableName": lsi_table, "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                            "ConditionExpression": "attribute_exists(pk)"}},
        {"Delete": {"TableName": hash_table, "Key": {"pk": {"S": "a"}}}},
    ], ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"] == {lsi_table: [_metrics("c")]}


def test_delete_table_returns_the_reduced_description(ddb, table_name):
    created = ddb.create_table(
        TableName=table_name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "a"}})
    deleted = ddb.delete_table(TableName=table_name)["TableDescription"]
    assert set(deleted) == {"TableName", "TableStatus", "ProvisionedThroughput", "TableSizeBytes", "ItemCount",
                            "TableArn", "TableId", "BillingModeSummary", "DeletionProtectionEnabled"}
    assert deleted["TableStatus"] == "DELETING"
    assert deleted["TableArn"] == created["TableArn"] and deleted["TableId"] == created["TableId"]
    assert deleted["ItemCount"] == 1
    assert deleted["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_tag_and_untag_resource_answer_with_an_empty_body(server, key, ddb, hash_table):
    from .test_protocol import signed_post

    arn = ddb.describe_table(TableName=hash_table)["Table"]["TableArn"]
    resp = signed_post(server, key, "DynamoDB_20120810.TagResource",
                       orjson.dumps({"ResourceArn": arn, "Tags": [{"Key": "k", "Value": "v"}]}))
    assert (resp.status_code, resp.content, resp.headers["Content-Length"]) == (200, b"", "0")
    resp = signed_post(server, key, "DynamoDB_20120810.UntagResource",
                       orjson.dumps({"ResourceArn": arn, "TagKeys": ["k"]}))
    assert (resp.status_code, resp.content) == (200, b"")
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])  # boto3 reads it as success
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]


@pytest.fixture
def gsi_table(ddb):
    name = f"g-{uuid.uuid4().hex[:12]}"
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "all-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "keys-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    yield name
    ddb.delete_table(TableName=name)


def _indexes(cc):
    return {name: v["CapacityUnits"] for name, v in cc.get("GlobalSecondaryIndexes", {}).items()}


def test_write_capacity_counts_the_indexes_written(ddb, gsi_table):
    def put(item):
        return ddb.put_item(TableName=gsi_table, Item=item, ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]

    cc = put({"pk": {"S": "a"}, "g": {"S": "x"}})
    assert cc["Table"] == {"CapacityUnits": 1.0}
    assert _indexes(cc) == {"all-g": 1.0, "keys-g": 1.0}
    assert cc["CapacityUnits"] == 3.0
    # A changed index key: the old entry removed and the new one written.
    cc = put({"pk": {"S": "a"}, "g": {"S": "y"}})
    assert _indexes(cc) == {"all-g": 2.0, "keys-g": 2.0}
    # A non-key attribute: only the index that projects it.
    cc = ddb.update_item(TableName=gsi_table, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                         ExpressionAttributeValues={":v": {"N": "1"}}, ReturnConsumedCapacity="INDEXES")[
        "ConsumedCapacity"]
    assert _indexes(cc) == {"all-g": 1.0}
    # An item outside the indexes costs them nothing; TOTAL has the sum alone.
    cc = put({"pk": {"S": "b"}})
    assert "GlobalSecondaryIndexes" not in cc and cc["CapacityUnits"] == 1.0
    cc = ddb.delete_item(TableName=gsi_table, Key={"pk": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")[
        "ConsumedCapacity"]
    assert cc == {"TableName": gsi_table, "CapacityUnits": 3.0}


def test_batch_and_transaction_capacity_count_the_indexes(ddb, gsi_table):
    out = ddb.batch_write_item(RequestItems={gsi_table: [
        {"PutRequest": {"Item": {"pk": {"S": str(i)}, "g": {"S": "x"}}}} for i in range(2)]},
        ReturnConsumedCapacity="INDEXES")
    [cc] = out["ConsumedCapacity"]
    assert cc["CapacityUnits"] == 6.0 and _indexes(cc) == {"all-g": 2.0, "keys-g": 2.0}
    out = ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": gsi_table, "Item": {"pk": {"S": "t"}, "g": {"S": "x"}}}}],
        ReturnConsumedCapacity="INDEXES")
    [cc] = out["ConsumedCapacity"]
    assert cc["CapacityUnits"] == 6.0 and cc["WriteCapacityUnits"] == 6.0
    assert cc["GlobalSecondaryIndexes"]["all-g"] == {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}


def test_consistent_scan_costs_twice_an_eventually_consistent_one(ddb, hash_table):
    for i in range(3):
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": str(i)}, "v": {"S": "x" * 5000}})
    eventual = ddb.scan(TableName=hash_table, ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    consistent = ddb.scan(TableName=hash_table, ConsistentRead=True, ReturnConsumedCapacity="INDEXES")[
        "ConsumedCapacity"]
    # About 15 KB read: four 4 KB units, halved when eventually consistent.
    assert eventual == {"TableName": hash_table, "CapacityUnits": 2.0, "Table": {"CapacityUnits": 2.0}}
    assert consistent == {"TableName": hash_table, "CapacityUnits": 4.0, "Table": {"CapacityUnits": 4.0}}


def test_partiql_select_of_a_nested_path_names_the_last_step(ddb, hash_table):
    from .test_partiql import run

    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "a"}, "m": {"M": {"b": {"N": "1"}, "c": {"S": "x"}}},
                                             "t": {"S": "top"}})
    items = run(ddb, f'SELECT m.b, t FROM "{hash_table}" WHERE pk = \'a\'')["Items"]
    assert items == [{"b": {"N": "1"}, "t": {"S": "top"}}]
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": f'SELECT m.c FROM "{hash_table}" WHERE pk = \'a\''}])
    assert out["Responses"][0]["Item"] == {"c": {"S": "x"}}
