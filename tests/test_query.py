"""Query on tables and indexes through boto3."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def error(exc_info):
    return exc_info.value.response["Error"]["Code"], exc_info.value.response["Error"]["Message"]


@pytest.fixture
def filled(ddb, range_table):
    for pk in ("a", "b"):
        for sk in range(10):
            ddb.put_item(TableName=range_table, Item={"pk": {"S": pk}, "sk": {"N": str(sk)},
                                                       "even": {"BOOL": sk % 2 == 0}, "s": {"S": f"x{sk}"}})
    return range_table


def sks(out):
    return [int(i["sk"]["N"]) for i in out["Items"]]


def q(ddb, table, expr, values, **kw):
    return ddb.query(TableName=table, KeyConditionExpression=expr,
                     ExpressionAttributeValues={":p": {"S": "a"}, **values}, **kw)


@pytest.mark.parametrize("expr,values,expected", [
    ("pk = :p", {}, list(range(10))),
    ("pk = :p AND sk = :v", {":v": {"N": "3"}}, [3]),
    ("pk = :p AND sk < :v", {":v": {"N": "3"}}, [0, 1, 2]),
    ("pk = :p AND sk <= :v", {":v": {"N": "3"}}, [0, 1, 2, 3]),
    ("pk = :p AND sk > :v", {":v": {"N": "7"}}, [8, 9]),
    ("pk = :p AND sk >= :v", {":v": {"N": "7"}}, [7, 8, 9]),
    ("pk = :p AND sk BETWEEN :l AND :h", {":l": {"N": "2"}, ":h": {"N": "4"}}, [2, 3, 4]),
    (":p = pk AND :v > sk", {":v": {"N": "2"}}, [0, 1]),
])
def test_key_conditions(ddb, filled, expr, values, expected):
    assert sks(q(ddb, filled, expr, values)) == expected


def test_descending_limit_and_pagination(ddb, filled):
    out = q(ddb, filled, "pk = :p", {}, ScanIndexForward=False, Limit=4)
    assert sks(out) == [9, 8, 7, 6]
    assert out["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"N": "6"}}
    out = q(ddb, filled, "pk = :p", {}, ScanIndexForward=False, Limit=4, ExclusiveStartKey=out["LastEvaluatedKey"])
    assert sks(out) == [5, 4, 3, 2]
    pages = ddb.get_paginator("query").paginate(
        TableName=filled, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "b"}},
        PaginationConfig={"PageSize": 3})
    assert [int(i["sk"]["N"]) for p in pages for i in p["Items"]] == list(range(10))


def test_filter_counts_and_select_count(ddb, filled):
    out = q(ddb, filled, "pk = :p", {":t": {"BOOL": True}}, FilterExpression="even = :t", Limit=5)
    assert sks(out) == [0, 2, 4]
    assert out["Count"] == 3 and out["ScannedCount"] == 5
    out = q(ddb, filled, "pk = :p", {}, Select="COUNT")
    assert out["Count"] == 10 and "Items" not in out


def test_begins_with_and_projection(ddb, table_name):
    ddb.create_table(TableName=table_name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                                 {"AttributeName": "sk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                     BillingMode="PAY_PER_REQUEST")
    try:
        for sk in ("order#1", "order#2", "orders", "profile", "ordeR"):
            ddb.put_item(TableName=table_name, Item={"pk": {"S": "u"}, "sk": {"S": sk}, "x": {"N": "1"}})
        out = ddb.query(TableName=table_name, KeyConditionExpression="pk = :p AND begins_with(sk, :b)",
                        ExpressionAttributeValues={":p": {"S": "u"}, ":b": {"S": "order"}}, ProjectionExpression="sk")
        assert [i["sk"]["S"] for i in out["Items"]] == ["order#1", "order#2", "orders"]
        assert all(set(i) == {"sk"} for i in out["Items"])
    finally:
        ddb.delete_table(TableName=table_name)


def test_one_megabyte_pages(ddb, hash_table, range_table):
    big = "x" * 100_000
    for sk in range(15):
        ddb.put_item(TableName=range_table, Item={"pk": {"S": "big"}, "sk": {"N": str(sk)}, "v": {"S": big}})
    out = ddb.query(TableName=range_table, KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "big"}})
    assert 0 < len(out["Items"]) < 15
    assert "LastEvaluatedKey" in out


@pytest.mark.parametrize("kwargs,fragment", [
    (dict(KeyConditionExpression="s = :p"), "Query condition missed key schema element"),
    (dict(KeyConditionExpression="pk = :p AND s = :p"), ""),
    (dict(KeyConditionExpression="pk = :p", IndexName="nope"), "The table does not have the specified index: nope"),
])
def test_query_errors(ddb, filled, kwargs, fragment):
    with pytest.raises(ClientError) as err:
        ddb.query(TableName=filled, ExpressionAttributeValues={":p": {"S": "a"}}, **kwargs)
    code, message = error(err)
    assert code == "ValidationException"
    assert fragment in message


def test_query_lsi_and_gsi(ddb, table_name):
    ddb.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t}
                              for a, t in (("pk", "S"), ("sk", "N"), ("rank", "N"), ("team", "S"))],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        LocalSecondaryIndexes=[{"IndexName": "by-rank", "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "rank", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        GlobalSecondaryIndexes=[{"IndexName": "by-team", "KeySchema": [{"AttributeName": "team", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name"]}}],
        BillingMode="PAY_PER_REQUEST")
    try:
        for sk, rank, team in ((1, 30, "red"), (2, 10, "blue"), (3, 20, "red")):
            ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "sk": {"N": str(sk)}, "rank": {"N": str(rank)},
                                                      "team": {"S": team}, "name": {"S": f"n{sk}"}, "extra": {"S": "e"}})
        out = ddb.query(TableName=table_name, IndexName="by-rank", KeyConditionExpression="pk = :p",
                        ExpressionAttributeValues={":p": {"S": "p"}})
        assert [int(i["rank"]["N"]) for i in out["Items"]] == [10, 20, 30]
        assert set(out["Items"][0]) == {"pk", "sk", "rank"}
        out = ddb.query(TableName=table_name, IndexName="by-team", KeyConditionExpression="team = :t",
                        ExpressionAttributeValues={":t": {"S": "red"}})
        assert sorted(int(i["sk"]["N"]) for i in out["Items"]) == [1, 3]
        assert set(out["Items"][0]) == {"pk", "sk", "team", "name"}
        with pytest.raises(ClientError) as err:
            ddb.query(TableName=table_name, IndexName="by-team", KeyConditionExpression="team = :t",
                      ExpressionAttributeValues={":t": {"S": "red"}}, ConsistentRead=True)
        assert error(err) == ("ValidationException", "Consistent reads are not supported on global secondary indexes")
    finally:
        ddb.delete_table(TableName=table_name)


def test_legacy_key_conditions(ddb, filled):
    out = ddb.query(TableName=filled, KeyConditions={
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "b"}]},
        "sk": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "8"}]}})
    assert sks(out) == [8, 9]
