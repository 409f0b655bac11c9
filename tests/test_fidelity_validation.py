"""Validation holes of issue 13: each is DynamoDB's 400 (type and text) or
DynamoDB's acceptance, never a 500."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from .test_protocol import signed_post


def error(exc_info):
    err = exc_info.value.response["Error"]
    return err["Code"], err["Message"]


def raw(server, key, operation: str, body: dict):
    resp = signed_post(server, key, f"DynamoDB_20120810.{operation}", json.dumps(body).encode())
    return resp.status_code, resp.json()


# --- CreateTable and UpdateTable --------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ({"AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}]},
     "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: "
     "Member must not be null"),
    ({"KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}]},
     "1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy constraint: "
     "Member must not be null"),
    ({}, "2 validation errors detected: Value null at 'attributeDefinitions' failed to satisfy constraint: "
         "Member must not be null; Value null at 'keySchema' failed to satisfy constraint: Member must not be null"),
])
def test_create_table_without_key_schema_or_definitions(server, key, table_name, body, message):
    status, out = raw(server, key, "CreateTable", {"TableName": table_name, "BillingMode": "PAY_PER_REQUEST", **body})
    assert status == 400
    assert out["__type"].endswith("#ValidationException")
    assert out["message"] == message


def test_create_table_three_element_key_schema(ddb, table_name):
    with pytest.raises(ClientError) as err:
        ddb.create_table(
            TableName=table_name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in "abc"],
            KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "b", "KeyType": "RANGE"},
                       {"AttributeName": "c", "KeyType": "RANGE"}])
    code, message = error(err)
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value '[KeySchemaElement(attributeName=a, keyType=HASH)")
    assert message.endswith("at 'keySchema' failed to satisfy constraint: Member must have length less than or "
                            "equal to 2")


def _gsi(projection):
    return [{"IndexName": "gsi", "KeySchema": [{"AttributeName": "b", "KeyType": "HASH"}], "Projection": projection}]


@pytest.mark.parametrize("projection, message", [
    ({"ProjectionType": "INCLUDE"},
     "One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified"),
    ({"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x", "x"]},
     "One or more parameter values were invalid: Duplicate attribute name in NonKeyAttributes: x"),
])
def test_include_projection_needs_distinct_non_key_attributes(ddb, table_name, hash_table, projection, message):
    with pytest.raises(ClientError) as err:
        ddb.create_table(
            TableName=table_name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"},
                                  {"AttributeName": "b", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}], GlobalSecondaryIndexes=_gsi(projection))
    assert error(err) == ("ValidationException", message)
    with pytest.raises(ClientError) as err:
        ddb.update_table(
            TableName=hash_table, AttributeDefinitions=[{"AttributeName": "b", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {**_gsi(projection)[0]}}])
    assert error(err) == ("ValidationException", message)


def test_gsi_update_create_and_delete_together(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.update_table(
            TableName=hash_table, AttributeDefinitions=[{"AttributeName": "b", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": _gsi({"ProjectionType": "ALL"})[0],
                                          "Delete": {"IndexName": "gsi"}}])
    code, _ = error(err)
    assert code == "ValidationException"


def test_gsi_create_without_attribute_definitions(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.update_table(TableName=hash_table,
                         GlobalSecondaryIndexUpdates=[{"Create": _gsi({"ProjectionType": "ALL"})[0]}])
    assert error(err) == ("ValidationException", "Invalid KeySchema: Some index key attribute have no definition")


def test_backfill_skips_empty_string_key(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "1"}, "b": {"S": ""}})
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "2"}, "b": {"S": "x"}})
    ddb.update_table(TableName=hash_table, AttributeDefinitions=[{"AttributeName": "b", "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": _gsi({"ProjectionType": "ALL"})[0]}])
    deadline = time.time() + 30
    while ddb.describe_table(TableName=hash_table)["Table"]["GlobalSecondaryIndexes"][0]["IndexStatus"] != "ACTIVE":
        assert time.time() < deadline
        time.sleep(0.2)
    items = ddb.scan(TableName=hash_table, IndexName="gsi")["Items"]
    assert items == [{"pk": {"S": "2"}, "b": {"S": "x"}}]


def test_update_table_same_billing_mode_is_accepted(ddb, hash_table):
    out = ddb.update_table(TableName=hash_table, BillingMode="PAY_PER_REQUEST")
    assert out["TableDescription"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


# --- Scan segments ------------------------------------------------------------------

def test_scan_segment_zero_without_total_segments(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.scan(TableName=hash_table, Segment=0)
    assert error(err) == ("ValidationException",
                          "The TotalSegments parameter is required but was not present in the request when "
                          "Segment parameter is present")


# --- UpdateItem that only removes -----------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"UpdateExpression": "REMOVE a, b"},
    {"UpdateExpression": "DELETE s :v", "ExpressionAttributeValues": {":v": {"SS": ["x"]}}},
    {"AttributeUpdates": {"a": {"Action": "DELETE"}}},
])
def test_update_that_only_removes_creates_no_item(ddb, hash_table, kwargs):
    out = ddb.update_item(TableName=hash_table, Key={"pk": {"S": "gone"}}, ReturnValues="ALL_NEW", **kwargs)
    assert "Attributes" not in out
    assert "Item" not in ddb.get_item(TableName=hash_table, Key={"pk": {"S": "gone"}}, ConsistentRead=True)
    # A condition sees no item, and an existing item is still updated.
    condition = ({"Expected": {"pk": {"ComparisonOperator": "NOT_NULL"}}} if "AttributeUpdates" in kwargs
                 else {"ConditionExpression": "attribute_exists(pk)"})
    with pytest.raises(ClientError) as err:
        ddb.update_item(TableName=hash_table, Key={"pk": {"S": "gone"}}, **condition, **kwargs)
    assert error(err)[0] == "ConditionalCheckFailedException"
    item = {"pk": {"S": "here"}, "a": {"S": "1"}, "s": {"SS": ["x", "y"]}}
    ddb.put_item(TableName=hash_table, Item=item)
    out = ddb.update_item(TableName=hash_table, Key={"pk": {"S": "here"}}, ReturnValues="ALL_NEW", **kwargs)
    assert out["Attributes"] != item and out["Attributes"]["pk"] == {"S": "here"}


def test_update_with_set_and_remove_creates_the_item(ddb, hash_table):
    ddb.update_item(TableName=hash_table, Key={"pk": {"S": "new"}}, UpdateExpression="SET b = :b REMOVE a",
                    ExpressionAttributeValues={":b": {"N": "1"}})
    assert ddb.get_item(TableName=hash_table, Key={"pk": {"S": "new"}})["Item"] == {"pk": {"S": "new"},
                                                                                   "b": {"N": "1"}}


def test_update_without_actions_creates_the_key_only_item(ddb, hash_table):
    ddb.update_item(TableName=hash_table, Key={"pk": {"S": "bare"}})
    assert ddb.get_item(TableName=hash_table, Key={"pk": {"S": "bare"}})["Item"] == {"pk": {"S": "bare"}}


# --- constants of the wrong type in conditions ------------------------------------------

@pytest.mark.parametrize("expression, values, operator, kind", [
    ("a < :v", {":v": {"L": [{"S": "x"}]}}, "<", "L"),
    ("a >= :v", {":v": {"BOOL": True}}, ">=", "BOOL"),
    ("a BETWEEN :v AND :w", {":v": {"M": {}}, ":w": {"M": {}}}, "BETWEEN", "M"),
])
def test_ordering_a_constant_of_the_wrong_type(ddb, hash_table, expression, values, operator, kind):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "1"}, "a": {"S": "x"}})
    message = ("Incorrect operand type for operator or function; "
               f"operator or function: {operator}, operand type: {kind}")
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": "1"}}, ConditionExpression=expression,
                     ExpressionAttributeValues=values)
    assert error(err) == ("ValidationException", "Invalid ConditionExpression: " + message)
    with pytest.raises(ClientError) as err:
        ddb.scan(TableName=hash_table, FilterExpression=expression, ExpressionAttributeValues=values)
    assert error(err) == ("ValidationException", "Invalid FilterExpression: " + message)


def test_equality_takes_any_type(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "1"}, "a": {"L": [{"S": "x"}]}})
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "1"}}, ConditionExpression="a = :v",
                 ExpressionAttributeValues={":v": {"L": [{"S": "x"}]}})


@pytest.mark.parametrize("operator, values, kind", [
    ("IN", [{"L": []}], "L"),
    ("BEGINS_WITH", [{"N": "1"}], "N"),
    ("BEGINS_WITH", [{"SS": ["a"]}], "SS"),
    ("LT", [{"M": {}}], "M"),
])
def test_legacy_operators_refuse_constants_of_the_wrong_type(ddb, hash_table, operator, values, kind):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "1"}, "a": {"S": "x"}})
    message = ("One or more parameter values were invalid: "
               f"ComparisonOperator {operator} is not valid for {kind} AttributeValue type")
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": "1"}},
                     Expected={"a": {"ComparisonOperator": operator, "AttributeValueList": values}})
    assert error(err) == ("ValidationException", message)
    with pytest.raises(ClientError) as err:
        ddb.scan(TableName=hash_table,
                 ScanFilter={"a": {"ComparisonOperator": operator, "AttributeValueList": values}})
    assert error(err) == ("ValidationException", message)


@pytest.mark.parametrize("value", [{"L": [{"S": "x"}]}, {"M": {"k": {"N": "1"}}}, {"BOOL": True}, {"NULL": True}])
def test_legacy_filter_eq_and_ne_take_any_type(ddb, hash_table, value):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "1"}, "a": value})
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "2"}, "a": {"S": "other"}})
    out = ddb.scan(TableName=hash_table, ScanFilter={"a": {"ComparisonOperator": "EQ", "AttributeValueList": [value]}})
    assert [i["pk"]["S"] for i in out["Items"]] == ["1"]
    out = ddb.scan(TableName=hash_table, ScanFilter={"a": {"ComparisonOperator": "NE", "AttributeValueList": [value]}})
    assert [i["pk"]["S"] for i in out["Items"]] == ["2"]


def test_legacy_not_contains_on_a_missing_attribute_is_false(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "1"}})
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "2"}, "a": {"S": "xyz"}})
    out = ddb.scan(TableName=hash_table,
                   ScanFilter={"a": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "q"}]}})
    assert [i["pk"]["S"] for i in out["Items"]] == ["2"]
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": "1"}},
                     Expected={"a": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "q"}]}})
    assert error(err)[0] == "ConditionalCheckFailedException"


def test_conditional_operator_without_expected_or_filter(ddb, hash_table):
    message = "ConditionalOperator cannot be used without Filter or Expected"
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": "1"}}, ConditionalOperator="OR")
    assert error(err) == ("ValidationException", message)
    with pytest.raises(ClientError) as err:
        ddb.scan(TableName=hash_table, ConditionalOperator="AND")
    assert error(err) == ("ValidationException", message)
    with pytest.raises(ClientError) as err:
        ddb.query(TableName=hash_table, ConditionalOperator="AND",
                  KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "1"}]}})
    assert error(err) == ("ValidationException", message)
    assert "Item" not in ddb.get_item(TableName=hash_table, Key={"pk": {"S": "1"}})


# --- transactions: a bad key is a cancellation reason ---------------------------------------

def _reasons(err):
    assert error(err)[0] == "TransactionCanceledException"
    return [(r["Code"], r.get("Message")) for r in err.value.response["CancellationReasons"]]


def test_transact_write_reports_a_bad_key_at_its_position(ddb, hash_table, range_table):
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": hash_table, "Item": {"pk": {"S": "1"}}}},
            {"Delete": {"TableName": range_table, "Key": {"pk": {"S": "1"}}}},
            {"Put": {"TableName": range_table, "Item": {"pk": {"S": "1"}, "sk": {"S": "text"}}}},
        ])
    assert _reasons(err) == [
        ("None", None),
        ("ValidationError", "The provided key element does not match the schema"),
        ("ValidationError", "One or more parameter values were invalid: Type mismatch for key sk expected: N "
                            "actual: S"),
    ]
    assert "Item" not in ddb.get_item(TableName=hash_table, Key={"pk": {"S": "1"}})


def test_transact_get_reports_a_bad_key_at_its_position(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": hash_table, "Key": {"pk": {"S": "1"}}}},
            {"Get": {"TableName": hash_table, "Key": {"pk": {"N": "1"}}}},
        ])
    assert _reasons(err) == [("None", None),
                             ("ValidationError", "The provided key element does not match the schema")]


def test_transact_expression_errors_stay_request_errors(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": hash_table, "Key": {"pk": {"S": "1"}}, "UpdateExpression": "SET"}}])
    assert error(err)[0] == "ValidationException"


# --- DescribeStream's ShardFilter ------------------------------------------------------------

@pytest.mark.parametrize("shard_filter, members", [
    ({"Type": "CHILD_SHARDS"}, ["shardFilter.shardId"]),
    ({"ShardId": "shardId-00000000000000000000-00000000"}, ["shardFilter.type"]),
    ({}, ["shardFilter.type", "shardFilter.shardId"]),
])
def test_shard_filter_needs_type_and_shard_id(ddb, server, key, table_name, shard_filter, members):
    from .conftest import make_client

    arn = ddb.create_table(
        TableName=table_name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]["LatestStreamArn"]
    try:
        streams = make_client(server, key, "dynamodbstreams")
        with pytest.raises(ClientError) as err:
            streams.describe_stream(StreamArn=arn, ShardFilter=shard_filter)
        code, message = error(err)
        assert code == "ValidationException"
        count = len(members)
        assert message == f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(
            f"Value null at '{m}' failed to satisfy constraint: Member must not be null" for m in members)
    finally:
        ddb.delete_table(TableName=table_name)


# --- SigV4 credential scope ---------------------------------------------------------------------

def test_signature_for_another_region_is_refused(server, key):
    from .conftest import CLIENT_CONFIG
    import boto3

    other = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name="eu-west-1",
                         aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
                         verify=server.ca_bundle, config=CLIENT_CONFIG)
    with pytest.raises(ClientError) as err:
        other.list_tables()
    assert error(err) == ("InvalidSignatureException", "Credential should be scoped to a valid region, not 'eu-west-1'.")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_signature_for_the_configured_region_is_accepted(ddb):
    from . import testenv

    assert ddb.meta.region_name == testenv.REGION
    assert "TableNames" in ddb.list_tables()


def test_conditional_operator_with_a_condition_expression_is_a_mix(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": "1"}}, ConditionExpression="attribute_not_exists(pk)",
                     ConditionalOperator="AND")
    assert error(err) == ("ValidationException",
                          "Can not use both expression and non-expression parameters in the same request: "
                          "Non-expression parameters: {ConditionalOperator} Expression parameters: "
                          "{ConditionExpression}")
