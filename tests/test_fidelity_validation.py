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
