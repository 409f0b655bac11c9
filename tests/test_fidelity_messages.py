"""Validation message texts in Coral's form (issue 13)."""
from __future__ import annotations

import json

import pytest

from .test_protocol import signed_post

_TABLE_KEYS = ("Map keys must satisfy constraint: [Member must have length less than or equal to 255, "
               "Member must have length greater than or equal to 3, "
               "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]")


def raw(server, key, operation: str, body: dict):
    resp = signed_post(server, key, f"DynamoDB_20120810.{operation}", json.dumps(body).encode())
    out = resp.json()
    return resp.status_code, out["__type"].rpartition("#")[2], out.get("message")


@pytest.mark.parametrize("operation, body, expected", [
    ("BatchWriteItem", {"RequestItems": {"a!": [{"DeleteRequest": {"Key": {"pk": {"S": "a"}}}}]}},
     "1 validation error detected: Value '{a!=[{DeleteRequest={Key={pk={S=a}}}}]}' at "
     "'requestItems' failed to satisfy constraint: " + _TABLE_KEYS),
    ("BatchGetItem", {"RequestItems": {"ab": {"Keys": [{"pk": {"S": "a"}}]}}},
     "1 validation error detected: Value '{ab={Keys=[{pk={S=a}}]}}' at 'requestItems' failed to "
     "satisfy constraint: " + _TABLE_KEYS),
    ("BatchWriteItem", {"RequestItems": {"abc": []}},
     "1 validation error detected: Value '{abc=[]}' at 'requestItems' failed to satisfy constraint: "
     "Map value must satisfy constraint: [Member must have length less than or equal to 25, "
     "Member must have length greater than or equal to 1]"),
    ("Query", {"TableName": "a!", "Limit": 0},
     "3 validation errors detected: Value 'a!' at 'tableName' failed to satisfy constraint: Member must satisfy "
     "regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a!' at 'tableName' failed to satisfy constraint: "
     "Member must have length greater than or equal to 3; Value '0' at 'limit' failed to satisfy constraint: "
     "Member must have value greater than or equal to 1"),
    ("ListTables", {"Limit": 0},
     "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
     "Member must have value greater than or equal to 1"),
    ("BatchGetItem", {"RequestItems": {"abc": {"Keys": []}}},
     "1 validation error detected: Value '[]' at 'requestItems.abc.member.keys' failed to satisfy constraint: "
     "Member must have length greater than or equal to 1"),
])
def test_coral_messages(server, key, operation, body, expected):
    assert raw(server, key, operation, body) == (400, "ValidationException", expected)


@pytest.mark.parametrize("start, detail", [
    ({"zz": {"S": "a"}}, "The provided key element does not match the schema"),
    ({"pk": {"N": "1"}}, "The provided key element does not match the schema"),
    ({"pk": {"S": ""}}, "One or more parameter values were invalid: The AttributeValue for a key attribute cannot "
                        "contain an empty string value. Key: pk"),
])
def test_exclusive_start_key_errors_name_the_starting_key(ddb, server, key, hash_table, start, detail):
    for operation, extra in (("Scan", {}), ("Query", {"KeyConditionExpression": "pk = :p",
                                                       "ExpressionAttributeValues": {":p": {"S": "a"}}})):
        body = {"TableName": hash_table, "ExclusiveStartKey": start, **extra}
        assert raw(server, key, operation, body) == (
            400, "ValidationException", "The provided starting key is invalid: " + detail)
