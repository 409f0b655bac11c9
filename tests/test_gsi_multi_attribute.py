"""Global secondary indexes with multi-attribute keys (DynamoDB, November 2025):
up to four HASH and four RANGE attributes, each of its own type; sparse; the
Query rules (every HASH attribute with `=`, RANGE attributes from the first
without a gap, a range test only on the last one named); pagination; online
creation with backfill; and DynamoDB's refusals of bad key schemas.

Where DynamoDB's exact text is known (observed against AWS by public
conformance suites) the test pins it; the others are the texts in
wireapi/errors.py marked "ours"."""
from __future__ import annotations

import shutil
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from .server import manage
from .test_clients import run_node

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731


def error(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def wait_active(ddb, table: str, index: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        gsis = ddb.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])
        if all(g["IndexStatus"] == "ACTIVE" for g in gsis if g["IndexName"] == index):
            return
        time.sleep(0.2)
    raise AssertionError(f"index {index} not ACTIVE after {seconds}s")


def key_schema(hashes, ranges):
    return ([{"AttributeName": n, "KeyType": "HASH"} for n in hashes]
            + [{"AttributeName": n, "KeyType": "RANGE"} for n in ranges])


# h (S) + a, b, c, d (S, S, N, B) as in the shape of the conformance suites' tables.
@pytest.fixture(scope="module")
def multi(ddb):
    name = f"ma-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "h1", "AttributeType": "S"},
                              {"AttributeName": "h2", "AttributeType": "N"},
                              {"AttributeName": "a", "AttributeType": "S"},
                              {"AttributeName": "b", "AttributeType": "S"},
                              {"AttributeName": "c", "AttributeType": "N"},
                              {"AttributeName": "d", "AttributeType": "B"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "two-hash", "KeySchema": key_schema(["h1", "h2"], ["a", "b", "c", "d"]),
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "one-hash", "KeySchema": key_schema(["h1"], ["a", "b"]),
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
        ])
    rows = [  # pk, a, b, c, d
        ("p1", "T", "live", 2, b"\x01"), ("p2", "T", "live", 1, b"\x02"), ("p3", "T", "live", 1, b"\x01"),
        ("p4", "T", "draft", 3, b"\x01"), ("p5", "F", "live", 1, b"\x00"), ("p6", "T", "live", 10, b"\x00\x01"),
        ("p7", "T", "live", -5, b"\xff"), ("p8", "T\x00x", "live", 1, b"\x01"),
    ]
    for pk, a, b, c, d in rows:
        ddb.put_item(TableName=name, Item={"pk": S(pk), "h1": S("o1"), "h2": N(7), "a": S(a), "b": S(b),
                                           "c": N(c), "d": {"B": d}, "extra": S("x" * 10)})
    # Sparse: each lacks one key attribute of two-hash.
    ddb.put_item(TableName=name, Item={"pk": S("s1"), "h1": S("o1"), "a": S("T"), "b": S("live"),
                                       "c": N(1), "d": {"B": b"\x01"}})
    ddb.put_item(TableName=name, Item={"pk": S("s2"), "h1": S("o1"), "h2": N(7), "a": S("T"), "b": S("live"),
                                       "c": N(1)})
    yield name
    ddb.delete_table(TableName=name)


def q(ddb, table, index, expr, values, **kw):
    out = ddb.query(TableName=table, IndexName=index, KeyConditionExpression=expr,
                    ExpressionAttributeValues=values, **kw)
    return [i["pk"]["S"] for i in out["Items"]], out


HV = {":h1": S("o1"), ":h2": N(7)}


def test_describe_keeps_the_key_schema(ddb, multi):
    gsis = {g["IndexName"]: g for g in ddb.describe_table(TableName=multi)["Table"]["GlobalSecondaryIndexes"]}
    assert gsis["two-hash"]["KeySchema"] == key_schema(["h1", "h2"], ["a", "b", "c", "d"])
    assert gsis["two-hash"]["IndexStatus"] == "ACTIVE"
    assert gsis["two-hash"]["ItemCount"] == 8  # s1 and s2 lack a key attribute


def test_hash_attributes_alone_return_items_in_key_order(ddb, multi):
    pks, _ = q(ddb, multi, "two-hash", "h1 = :h1 AND h2 = :h2", HV)
    # a, then b, then c numerically, then d bytewise; "T\x00x" after "T".
    assert pks == ["p5", "p4", "p7", "p3", "p2", "p1", "p6", "p8"]
    back, _ = q(ddb, multi, "two-hash", "h2 = :h2 AND h1 = :h1", HV, ScanIndexForward=False)
    assert back == pks[::-1]


@pytest.mark.parametrize("expr, values, expected", [
    ("a = :a", {":a": S("T")}, ["p4", "p7", "p3", "p2", "p1", "p6"]),
    ("a = :a AND b = :b", {":a": S("T"), ":b": S("live")}, ["p7", "p3", "p2", "p1", "p6"]),
    ("b = :b AND a = :a AND c = :c", {":a": S("T"), ":b": S("live"), ":c": N(1)}, ["p3", "p2"]),
    ("a = :a AND b = :b AND c = :c AND d = :d",
     {":a": S("T"), ":b": S("live"), ":c": N(1), ":d": {"B": b"\x02"}}, ["p2"]),
    ("a = :a AND b = :b AND c > :c", {":a": S("T"), ":b": S("live"), ":c": N(1)}, ["p1", "p6"]),
    ("a = :a AND b = :b AND c >= :c", {":a": S("T"), ":b": S("live"), ":c": N(1)}, ["p3", "p2", "p1", "p6"]),
    ("a = :a AND b = :b AND c < :c", {":a": S("T"), ":b": S("live"), ":c": N(2)}, ["p7", "p3", "p2"]),
    ("a = :a AND b = :b AND c <= :c", {":a": S("T"), ":b": S("live"), ":c": N(1)}, ["p7", "p3", "p2"]),
    ("a = :a AND b = :b AND c BETWEEN :lo AND :hi",
     {":a": S("T"), ":b": S("live"), ":lo": N(-5), ":hi": N(2)}, ["p7", "p3", "p2", "p1"]),
    ("a = :a AND b < :b", {":a": S("T"), ":b": S("live")}, ["p4"]),
    ("a = :a AND begins_with(b, :b)", {":a": S("T"), ":b": S("li")}, ["p7", "p3", "p2", "p1", "p6"]),
    ("a > :a", {":a": S("T")}, ["p8"]),  # "T\x00x" > "T": the escape keeps the order
    ("a < :a", {":a": S("T")}, ["p5"]),
    ("begins_with(a, :a)", {":a": S("T")}, ["p4", "p7", "p3", "p2", "p1", "p6", "p8"]),
    ("a = :a AND b = :b AND c = :c AND begins_with(d, :d)",
     {":a": S("T"), ":b": S("live"), ":c": N(10), ":d": {"B": b"\x00"}}, ["p6"]),
    ("a = :a AND b = :b AND c = :c AND d > :d",
     {":a": S("T"), ":b": S("live"), ":c": N(1), ":d": {"B": b"\x01"}}, ["p2"]),
])
def test_range_conditions_are_prefixes(ddb, multi, expr, values, expected):
    pks, _ = q(ddb, multi, "two-hash", f"h1 = :h1 AND h2 = :h2 AND {expr}", {**HV, **values})
    assert pks == expected


def test_legacy_key_conditions_follow_the_same_rules(ddb, multi):
    out = ddb.query(TableName=multi, IndexName="two-hash", KeyConditions={
        "h1": {"ComparisonOperator": "EQ", "AttributeValueList": [S("o1")]},
        "h2": {"ComparisonOperator": "EQ", "AttributeValueList": [N(7)]},
        "a": {"ComparisonOperator": "EQ", "AttributeValueList": [S("T")]},
        "b": {"ComparisonOperator": "GT", "AttributeValueList": [S("draft")]}})
    assert [i["pk"]["S"] for i in out["Items"]] == ["p7", "p3", "p2", "p1", "p6"]
    code, msg = error(ddb.query, TableName=multi, IndexName="two-hash", KeyConditions={
        "h1": {"ComparisonOperator": "EQ", "AttributeValueList": [S("o1")]},
        "h2": {"ComparisonOperator": "EQ", "AttributeValueList": [N(7)]},
        "b": {"ComparisonOperator": "EQ", "AttributeValueList": [S("live")]}})
    assert msg == ("RANGE key attributes a must have equality conditions specified in the query because a "
                   "condition is present on key attribute b")


@pytest.mark.parametrize("expr, values, message", [
    ("h1 = :h1", {":h1": S("o1")}, "Query condition missed key schema element: h2"),
    ("h1 = :h1 AND h2 > :h2", HV, "Query key condition not supported"),
    ("h1 = :h1 AND h2 BETWEEN :h2 AND :h3", {**HV, ":h3": N(9)}, "Query key condition not supported"),
    ("h1 = :h1 AND h2 = :h2 AND b = :b", {**HV, ":b": S("live")},
     "RANGE key attributes a must have equality conditions specified in the query because a condition is "
     "present on key attribute b"),
    ("h1 = :h1 AND h2 = :h2 AND a = :a AND c = :c", {**HV, ":a": S("T"), ":c": N(1)},
     "RANGE key attributes b must have equality conditions specified in the query because a condition is "
     "present on key attribute c"),
    ("h1 = :h1 AND h2 = :h2 AND a = :a AND b > :b AND c = :c", {**HV, ":a": S("T"), ":b": S("a"), ":c": N(1)},
     "RANGE key attributes b must have equality conditions specified in the query because a condition is "
     "present on key attribute c"),
    ("h1 = :h1 AND h2 = :h2 AND begins_with(a, :a) AND b = :b", {**HV, ":a": S("T"), ":b": S("live")},
     "RANGE key attributes a must have equality conditions specified in the query because a condition is "
     "present on key attribute b"),
    ("h1 = :h1 AND h2 = :h2 AND extra = :e", {**HV, ":e": S("x")}, "Query key condition not supported"),
    ("h1 = :h1 AND h2 = :h2 AND a = :a", {**HV, ":a": N(1)},
     "One or more parameter values were invalid: Condition parameter type does not match schema type"),
    ("h1 = :h1 AND h2 = :h2 AND a = :a AND b = :b AND begins_with(c, :c)",
     {**HV, ":a": S("T"), ":b": S("live"), ":c": S("1")},
     "One or more parameter values were invalid: Condition parameter type does not match schema type"),
])
def test_query_rule_violations(ddb, multi, expr, values, message):
    code, msg = error(ddb.query, TableName=multi, IndexName="two-hash", KeyConditionExpression=expr,
                      ExpressionAttributeValues=values)
    assert (code, msg) == ("ValidationException", message)


def test_more_than_two_conditions_on_a_plain_schema_are_still_refused(ddb, multi):
    code, msg = error(ddb.query, TableName=multi, KeyConditionExpression="pk = :p AND a = :a AND b = :b",
                      ExpressionAttributeValues={":p": S("p1"), ":a": S("T"), ":b": S("x")})
    assert msg == "Conditions can be of length 1 or 2 only"


def test_filter_may_not_name_any_index_key_attribute(ddb, multi):
    for attr in ("h2", "a", "d"):
        code, msg = error(ddb.query, TableName=multi, IndexName="two-hash",
                          KeyConditionExpression="h1 = :h1 AND h2 = :h2", FilterExpression=f"{attr} = :v",
                          ExpressionAttributeValues={**HV, ":v": S("x")})
        assert msg == f"Filter Expression can only contain non-primary key attributes: Primary key attribute: {attr}"
    pks, _ = q(ddb, multi, "two-hash", "h1 = :h1 AND h2 = :h2", {**HV, ":p": S("p3")}, FilterExpression="pk = :p")
    assert pks == ["p3"]


def test_pagination_carries_every_key_attribute(ddb, multi):
    seen, start, pages = [], None, 0
    while True:
        kw = {"Limit": 3}
        if start:
            kw["ExclusiveStartKey"] = start
        pks, out = q(ddb, multi, "two-hash", "h1 = :h1 AND h2 = :h2 AND a = :a", {**HV, ":a": S("T")}, **kw)
        seen += pks
        pages += 1
        start = out.get("LastEvaluatedKey")
        if not start:
            break
        assert set(start) == {"pk", "h1", "h2", "a", "b", "c", "d"}
    assert seen == ["p4", "p7", "p3", "p2", "p1", "p6"] and pages == 3
    # Backwards with Select and a projection.
    out = ddb.query(TableName=multi, IndexName="two-hash", KeyConditionExpression="h1 = :h1 AND h2 = :h2",
                    ExpressionAttributeValues=HV, ScanIndexForward=False, Limit=2, ProjectionExpression="pk, c")
    assert out["Items"] == [{"pk": S("p8"), "c": N(1)}, {"pk": S("p6"), "c": N(10)}]
    nxt = ddb.query(TableName=multi, IndexName="two-hash", KeyConditionExpression="h1 = :h1 AND h2 = :h2",
                    ExpressionAttributeValues=HV, ScanIndexForward=False, Limit=2, Select="COUNT",
                    ExclusiveStartKey=out["LastEvaluatedKey"])
    assert nxt["Count"] == 2


def test_exclusive_start_key_must_carry_the_whole_key(ddb, multi):
    start = {"pk": S("p3"), "h1": S("o1"), "h2": N(7), "a": S("T"), "b": S("live"), "c": N(1)}  # no d
    code, msg = error(ddb.query, TableName=multi, IndexName="two-hash",
                      KeyConditionExpression="h1 = :h1 AND h2 = :h2", ExpressionAttributeValues=HV,
                      ExclusiveStartKey=start)
    assert code == "ValidationException" and msg.startswith("The provided starting key is invalid")
    start["d"] = {"B": b"\x01"}
    code, msg = error(ddb.query, TableName=multi, IndexName="two-hash",
                      KeyConditionExpression="h1 = :h1 AND h2 = :h2 AND a = :a",
                      ExpressionAttributeValues={**HV, ":a": S("F")}, ExclusiveStartKey=start)
    assert msg == "The provided starting key does not match the range key predicate"


def test_scan_of_the_index_skips_sparse_items_and_pages(ddb, multi):
    seen, start = [], None
    while True:
        kw = {"ExclusiveStartKey": start} if start else {}
        out = ddb.scan(TableName=multi, IndexName="two-hash", Limit=3, **kw)
        seen += [i["pk"]["S"] for i in out["Items"]]
        start = out.get("LastEvaluatedKey")
        if not start:
            break
    assert sorted(seen) == ["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"]
    keys_only = ddb.scan(TableName=multi, IndexName="one-hash")["Items"]
    assert len(keys_only) == 10 and set(keys_only[0]) == {"pk", "h1", "a", "b"}


def test_partiql_refuses_multi_attribute_indexes_only(ddb, multi):
    code, msg = error(ddb.execute_statement, Statement=f"SELECT * FROM \"{multi}\".\"two-hash\" WHERE h1 = 'o1'")
    assert msg == ("PartiQL statements cannot be executed on tables with multi-attribute HASH keys or "
                   "multi-attribute RANGE keys.")
    error(ddb.execute_statement, Statement=f"SELECT * FROM \"{multi}\".\"one-hash\"")
    assert len(ddb.execute_statement(Statement=f"SELECT * FROM \"{multi}\" WHERE pk = 'p1'")["Items"]) == 1


def test_writes_check_each_key_attribute(ddb, multi):
    item = {"pk": S("w1"), "h1": S("o1"), "h2": N(7), "a": S("T"), "b": S("live"), "c": N(1), "d": {"B": b"1"}}
    code, msg = error(ddb.put_item, TableName=multi, Item={**item, "c": S("1")})
    assert msg == ("One or more parameter values were invalid: Type mismatch for Index Key c Expected: N "
                   "Actual: S IndexName: two-hash")
    code, msg = error(ddb.put_item, TableName=multi, Item={**item, "b": S("")})
    assert "empty string value. IndexName: two-hash, IndexKey: b" in msg
    code, msg = error(ddb.put_item, TableName=multi, Item={**item, "h1": S("x" * 2049)})
    assert msg == ("One or more parameter values were invalid: "
                   "Size of hashkey has exceeded the maximum size limit of2048 bytes")
    code, msg = error(ddb.put_item, TableName=multi, Item={**item, "a": S("x" * 1025)})
    assert msg == ("One or more parameter values were invalid: "
                   "Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
    ddb.put_item(TableName=multi, Item={**item, "h1": S("x" * 2048), "a": S("y" * 1024)})
    out = ddb.query(TableName=multi, IndexName="two-hash", KeyConditionExpression="h1 = :h1 AND h2 = :h2",
                    ExpressionAttributeValues={":h1": S("x" * 2048), ":h2": N(7)})
    assert [i["pk"]["S"] for i in out["Items"]] == ["w1"]
    ddb.update_item(TableName=multi, Key={"pk": S("w1")}, UpdateExpression="REMOVE c")  # leaves the index
    out = ddb.query(TableName=multi, IndexName="two-hash", KeyConditionExpression="h1 = :h1 AND h2 = :h2",
                    ExpressionAttributeValues={":h1": S("x" * 2048), ":h2": N(7)})
    assert out["Items"] == []
    ddb.delete_item(TableName=multi, Key={"pk": S("w1")})


# --- CreateTable and UpdateTable refusals -------------------------------------------

def create(ddb, gsi_keys=None, table_keys=None, defs=None, lsi=None, projection=None):
    kw = {"TableName": f"bad-{uuid.uuid4().hex[:10]}", "BillingMode": "PAY_PER_REQUEST",
          "KeySchema": table_keys or [{"AttributeName": "pk", "KeyType": "HASH"}],
          "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"}
                                   for n in (defs or ["pk", "a", "b", "c", "d", "e", "f", "g", "h", "i"])]}
    if gsi_keys is not None:
        kw["GlobalSecondaryIndexes"] = [{"IndexName": "gsi", "KeySchema": gsi_keys,
                                         "Projection": projection or {"ProjectionType": "ALL"}}]
    if lsi is not None:
        kw["LocalSecondaryIndexes"] = lsi
    return error(ddb.create_table, **kw)


def test_create_table_refuses_bad_multi_attribute_schemas(ddb):
    H = lambda n: {"AttributeName": n, "KeyType": "HASH"}  # noqa: E731
    R = lambda n: {"AttributeName": n, "KeyType": "RANGE"}  # noqa: E731
    assert create(ddb, [H("a"), H("b"), H("c"), H("d"), H("e")])[1] == (
        "One or more parameter values were invalid: Too many HASH key attributes in the KeySchema of index: gsi. "
        "A global secondary index partition key can have at most 4 attributes")
    assert create(ddb, [H("a"), R("b"), R("c"), R("d"), R("e"), R("f")])[1] == (
        "One or more parameter values were invalid: Too many RANGE key attributes in the KeySchema of index: gsi. "
        "A global secondary index sort key can have at most 4 attributes")
    assert create(ddb, [H("a"), R("b"), H("c")])[1] == (
        "Invalid KeySchema: The third KeySchemaElement is not a RANGE key type")
    assert create(ddb, [R("a"), H("b")])[1] == "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
    assert create(ddb, [H("a"), H("a")])[1] == "One or more parameter values were invalid: Duplicate KeySchema attribute name: a"
    assert create(ddb, [H("a"), H("b"), R("a")])[1] == (
        "One or more parameter values were invalid: Duplicate KeySchema attribute name: a")
    assert create(ddb, [H("a"), R("a")])[1] == (
        "Both the Hash Key and the Range Key element in the KeySchema have the same name")


def test_tables_and_lsis_keep_one_hash_and_one_range(ddb):
    code, msg = create(ddb, table_keys=[{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "a", "KeyType": "RANGE"},
                                        {"AttributeName": "b", "KeyType": "RANGE"}], defs=["pk", "a", "b"])
    assert (code, msg) == ("ValidationException", (
        "1 validation error detected: Value '[KeySchemaElement(attributeName=pk, keyType=HASH), "
        "KeySchemaElement(attributeName=a, keyType=RANGE), KeySchemaElement(attributeName=b, keyType=RANGE)]' "
        "at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2"))
    code, msg = create(ddb, table_keys=[{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "a", "KeyType": "HASH"}], defs=["pk", "a"])
    assert msg == "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
    lsi = [{"IndexName": "lsi", "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "b", "KeyType": "RANGE"},
                          {"AttributeName": "c", "KeyType": "RANGE"}]}]
    code, msg = create(ddb, table_keys=[{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "a", "KeyType": "RANGE"}], defs=["pk", "a", "b", "c"],
                       lsi=lsi)
    assert msg.startswith("1 validation error detected: Value '[KeySchemaElement(attributeName=pk, keyType=HASH)")
    assert "at 'localSecondaryIndexes.1.member.keySchema' failed to satisfy constraint" in msg


def test_create_table_without_key_schema_or_definitions_is_a_400(ddb):
    name = f"bad-{uuid.uuid4().hex[:10]}"
    code, msg = error(ddb.create_table, TableName=name, BillingMode="PAY_PER_REQUEST",
                      KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    assert msg == ("1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy "
                   "constraint: Member must not be null")
    code, msg = error(ddb.create_table, TableName=name, BillingMode="PAY_PER_REQUEST",
                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    assert msg == ("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: "
                   "Member must not be null")
    code, msg = error(ddb.create_table, TableName=name, BillingMode="PAY_PER_REQUEST")
    assert msg.startswith("2 validation errors detected: Value null at 'attributeDefinitions'")
    assert name not in ddb.list_tables()["TableNames"]


def test_include_projection_needs_distinct_non_key_attributes(ddb):
    H = {"AttributeName": "a", "KeyType": "HASH"}
    assert create(ddb, [H], defs=["pk", "a"], projection={"ProjectionType": "INCLUDE"})[1] == (
        "One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    assert create(ddb, [H], defs=["pk", "a"],
                  projection={"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x", "y", "x"]})[1] == (
        "One or more parameter values were invalid: Duplicate attribute name in NonKeyAttributes: x")


def test_update_table_gsi_refusals(ddb, hash_table):
    code, msg = error(ddb.update_table, TableName=hash_table, GlobalSecondaryIndexUpdates=[{
        "Create": {"IndexName": "by-pk", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                   "Projection": {"ProjectionType": "ALL"}}}])
    assert msg == "Invalid KeySchema: Some index key attribute have no definition"
    code, msg = error(ddb.update_table, TableName=hash_table, GlobalSecondaryIndexUpdates=[{
        "Create": {"IndexName": "by-pk", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                   "Projection": {"ProjectionType": "ALL"}},
        "Delete": {"IndexName": "by-pk"}}])
    assert msg == ("One or more parameter values were invalid: Only one of GlobalSecondaryIndexUpdate.Update, "
                   "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete can be specified")
    code, msg = error(ddb.update_table, TableName=hash_table,
                      AttributeDefinitions=[{"AttributeName": f"x{i}", "AttributeType": "S"} for i in range(5)],
                      GlobalSecondaryIndexUpdates=[{"Create": {
                          "IndexName": "wide", "KeySchema": key_schema([f"x{i}" for i in range(5)], []),
                          "Projection": {"ProjectionType": "ALL"}}}])
    assert msg.startswith("One or more parameter values were invalid: Too many HASH key attributes")
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=hash_table)["Table"]


# --- online creation on a populated table --------------------------------------------

def test_backfill_with_concurrent_writes_and_violations(ddb, hash_table):
    for i in range(300):
        item = {"pk": S(f"p{i:03d}"), "t": S("T" if i % 2 else "F"), "n": N(i % 7), "r": S(f"r{i:03d}")}
        if i % 50 == 0:
            item["n"] = S("not a number")  # a type violation: left out of the index
        if i % 50 == 1:
            item["r"] = S("")  # empty: left out
        if i % 50 == 2:
            item["r"] = S("z" * 1025)  # over the sort key limit: left out
        if i % 50 == 3:
            del item["t"]  # sparse
        ddb.put_item(TableName=hash_table, Item=item)
    out = ddb.update_table(
        TableName=hash_table,
        AttributeDefinitions=[{"AttributeName": "t", "AttributeType": "S"}, {"AttributeName": "n", "AttributeType": "N"},
                              {"AttributeName": "r", "AttributeType": "S"}, {"AttributeName": "unused", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "multi", "KeySchema": key_schema(["t", "n"], ["r"]),
                                                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["w"]}}}])
    gsi = out["TableDescription"]["GlobalSecondaryIndexes"][0]
    assert gsi["IndexStatus"] == "CREATING" and gsi["KeySchema"] == key_schema(["t", "n"], ["r"])
    assert {d["AttributeName"] for d in out["TableDescription"]["AttributeDefinitions"]} == {"pk", "t", "n", "r"}

    written: list[str] = []
    stop = threading.Event()

    def writer():  # writes during the backfill must all be indexed
        i = 0
        while not stop.is_set() and i < 200:
            pk = f"c{i:03d}"
            ddb.put_item(TableName=hash_table, Item={"pk": S(pk), "t": S("T"), "n": N(100), "r": S(pk), "w": N(i)})
            written.append(pk)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_active(ddb, hash_table, "multi")
    finally:
        stop.set()
        thread.join(60)
    expected = sorted(f"p{i:03d}" for i in range(300)
                      if i % 2 and i % 50 not in (0, 1, 2, 3) and i % 7 == 3)
    got, start = [], None
    while True:
        kw = {"ExclusiveStartKey": start} if start else {}
        page = ddb.query(TableName=hash_table, IndexName="multi", KeyConditionExpression="t = :t AND n = :n",
                         ExpressionAttributeValues={":t": S("T"), ":n": N(3)}, Limit=7, **kw)
        got += [i["pk"]["S"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert got == expected  # r ascends with pk
    concurrent = ddb.query(TableName=hash_table, IndexName="multi", KeyConditionExpression="t = :t AND n = :n",
                           ExpressionAttributeValues={":t": S("T"), ":n": N(100)})["Items"]
    assert sorted(i["pk"]["S"] for i in concurrent) == sorted(written) and written
    assert set(concurrent[0]) == {"pk", "t", "n", "r", "w"}
    # Once ACTIVE, a violating write is refused.
    code, msg = error(ddb.put_item, TableName=hash_table, Item={"pk": S("late"), "t": S("T"), "n": S("x")})
    assert msg.startswith("One or more parameter values were invalid: Type mismatch for Index Key n")
    check = manage("checkconsistency", "--table", hash_table, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "0 problem(s)" in check.stdout and "18 index key violation(s)" in check.stdout


# --- the AWS SDK for JavaScript v3 ------------------------------------------------

@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_javascript_sdk(server, key):
    assert "js multi-attribute gsi ok" in run_node(server, key, "multi_attribute_gsi.mjs")
