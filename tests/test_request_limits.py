"""DynamoDB's size and depth limits on expressions, placeholders, attribute names
and nested values, through boto3 (and raw signed requests where boto3 cannot
build the request: JSON nested hundreds deep). Each refusal writes nothing."""
from __future__ import annotations

import uuid

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from . import testenv

NESTING = ("Nesting Levels have exceeded supported limits: "
           "Attributes in the item have nested levels beyond supported limit")


def refused(ddb, call, **kwargs) -> str:
    with pytest.raises(ddb.exceptions.ClientError) as info:
        call(**kwargs)
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Message"]


def stored(ddb, table, pk):
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def signed_post(server, key, operation: str, body: bytes) -> requests.Response:
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{operation}"})
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "dynamodb", testenv.REGION).add_auth(request)
    prepared = request.prepare()
    return requests.post(prepared.url, data=body, headers=dict(prepared.headers), verify=server.ca_bundle, timeout=60)


# --- expressions: 4 KB each, before parsing --------------------------------------------

def test_projection_expression_of_4096_bytes_is_served_and_4097_refused(ddb, hash_table):
    pk = uuid.uuid4().hex
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": pk}, "a" * 4096: {"S": "v"}})
    got = ddb.get_item(TableName=hash_table, Key={"pk": {"S": pk}}, ProjectionExpression="a" * 4096)
    assert got["Item"] == {"a" * 4096: {"S": "v"}}
    message = refused(ddb, ddb.get_item, TableName=hash_table, Key={"pk": {"S": pk}}, ProjectionExpression="a" * 4097)
    assert message == ("Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size; "
                       "expression size: 4097")


def test_expression_size_counts_utf8_bytes(ddb, hash_table):
    """2049 characters of two bytes each: refused for its size (4098) before its syntax."""
    message = refused(ddb, ddb.get_item, TableName=hash_table, Key={"pk": {"S": "x"}},
                      ProjectionExpression="é" * 2049)
    assert message.endswith("expression size: 4098")


@pytest.mark.parametrize("operation, field", [
    ("put_item", "ConditionExpression"), ("update_item", "UpdateExpression"),
    ("update_item", "ConditionExpression"), ("delete_item", "ConditionExpression"),
])
def test_oversized_write_expression_is_refused_and_nothing_is_written(ddb, hash_table, operation, field):
    pk = uuid.uuid4().hex
    text = ("SET a = :v, " + ", ".join(f"b{i} = :v" for i in range(600))) if field == "UpdateExpression" \
        else " OR ".join(["a = :v"] * 600)
    assert len(text) > 4096
    kwargs = {"TableName": hash_table, field: text, "ExpressionAttributeValues": {":v": {"S": "x"}}}
    if operation == "put_item":
        kwargs["Item"] = {"pk": {"S": pk}, "a": {"S": "x"}}
    else:
        kwargs["Key"] = {"pk": {"S": pk}}
        if operation == "update_item" and field == "ConditionExpression":
            kwargs["UpdateExpression"] = "SET a = :v"
    message = refused(ddb, getattr(ddb, operation), **kwargs)
    assert message == (f"Invalid {field}: Expression size has exceeded the maximum allowed size; "
                       f"expression size: {len(text)}")
    assert stored(ddb, hash_table, pk) is None


@pytest.mark.parametrize("field", ["KeyConditionExpression", "FilterExpression", "ProjectionExpression"])
def test_oversized_query_expressions_are_refused(ddb, hash_table, field):
    kwargs = {"TableName": hash_table, "KeyConditionExpression": "pk = :v",
              "ExpressionAttributeValues": {":v": {"S": "x"}}}
    kwargs[field] = ("pk = :v AND " if field == "KeyConditionExpression" else "") + " OR ".join(["a = :v"] * 700) \
        if field != "ProjectionExpression" else ", ".join(f"a{i}" for i in range(900))
    message = refused(ddb, ddb.query, **kwargs)
    assert message.startswith(f"Invalid {field}: Expression size has exceeded the maximum allowed size; ")


# --- placeholders -----------------------------------------------------------------------

def test_placeholder_names_of_255_bytes_are_fine_256_refused(ddb, hash_table):
    pk = uuid.uuid4().hex
    name, value = "#" + "n" * 254, ":" + "v" * 254
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": pk}, "a": {"S": "x"}},
                 ConditionExpression=f"attribute_not_exists({name}) OR {name} = {value}",
                 ExpressionAttributeNames={name: "a"}, ExpressionAttributeValues={value: {"S": "x"}})
    message = refused(ddb, ddb.put_item, TableName=hash_table, Item={"pk": {"S": pk}},
                      ConditionExpression=f"attribute_not_exists({name}n)", ExpressionAttributeNames={name + "n": "a"})
    assert message == ("ExpressionAttributeNames contains invalid key: The expression attribute map contains a key "
                       "that is too long; size of key: 256")
    message = refused(ddb, ddb.put_item, TableName=hash_table, Item={"pk": {"S": pk}},
                      ConditionExpression=f"a = {value}v", ExpressionAttributeValues={value + "v": {"S": "x"}})
    assert message == ("ExpressionAttributeValues contains invalid key: The expression attribute map contains a key "
                       "that is too long;")


def test_substitutions_over_2_mb_are_refused(ddb, hash_table):
    pk = uuid.uuid4().hex
    values = {f":v{i}": {"S": "x" * (700 * 1024)} for i in range(3)}
    message = refused(ddb, ddb.put_item, TableName=hash_table, Item={"pk": {"S": pk}},
                      ConditionExpression="a IN (:v0, :v1, :v2)", ExpressionAttributeValues=values)
    assert "2 MB" in message
    assert stored(ddb, hash_table, pk) is None


# --- attribute names and nesting ---------------------------------------------------------

def test_attribute_name_of_64_kb_is_stored_and_a_longer_one_refused(ddb, hash_table):
    pk = uuid.uuid4().hex
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": pk}, "n" * 65535: {"S": "v"}})
    assert stored(ddb, hash_table, pk)["n" * 65535] == {"S": "v"}
    other = uuid.uuid4().hex
    message = refused(ddb, ddb.put_item, TableName=hash_table, Item={"pk": {"S": other}, "n" * 65536: {"S": "v"}})
    assert "65535" in message
    assert stored(ddb, hash_table, other) is None


def nested(levels: int, kind: str = "M") -> dict:
    value: dict = {"S": "leaf"}
    for _ in range(levels):
        value = {"M": {"m": value}} if kind == "M" else {"L": [value]}
    return value


@pytest.mark.parametrize("kind", ["M", "L"])
def test_32_levels_of_nesting_are_stored_33_refused(ddb, hash_table, kind):
    pk = uuid.uuid4().hex
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": pk}, "d": nested(32, kind)})
    assert stored(ddb, hash_table, pk)["d"] == nested(32, kind)
    other = uuid.uuid4().hex
    assert refused(ddb, ddb.put_item, TableName=hash_table, Item={"pk": {"S": other}, "d": nested(33, kind)}) == NESTING
    assert stored(ddb, hash_table, other) is None
    message = refused(ddb, ddb.update_item, TableName=hash_table, Key={"pk": {"S": other}},
                      UpdateExpression="SET d = :v", ExpressionAttributeValues={":v": nested(33, kind)})
    assert message == f"ExpressionAttributeValues contains invalid value: {NESTING} for key :v"


@pytest.mark.parametrize("levels", [100, 500, 1000])
def test_json_nested_hundreds_deep_is_a_validation_error_not_a_500(server, key, ddb, hash_table, levels):
    """Deep JSON used to recurse until Python's RecursionError: an InternalServerError."""
    pk = uuid.uuid4().hex
    deep = '{"L":[' * levels + '{"S":"x"}' + "]}" * levels
    body = ('{"TableName":"%s","Item":{"pk":{"S":"%s"},"d":%s}}' % (hash_table, pk, deep)).encode()
    response = signed_post(server, key, "PutItem", body)
    if levels >= 512:  # past the JSON parser's own depth (1024 arrays and objects)
        assert response.status_code == 400
        assert response.json()["__type"].endswith("SerializationException")
    else:
        assert response.status_code == 400, response.text
        assert response.json()["message"] == NESTING
    assert stored(ddb, hash_table, pk) is None


def test_document_path_of_32_levels_is_fine_33_refused(ddb, hash_table):
    pk = uuid.uuid4().hex
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": pk}, "m": nested(31)})
    path32 = "m" + ".m" * 31
    got = ddb.get_item(TableName=hash_table, Key={"pk": {"S": pk}}, ProjectionExpression=path32)
    assert got["Item"] == {"m": nested(31)}
    message = refused(ddb, ddb.get_item, TableName=hash_table, Key={"pk": {"S": pk}},
                      ProjectionExpression=path32 + "[0]")
    assert message == ("Invalid ProjectionExpression: The document path has too many nesting levels; "
                       "nesting levels: 33")


@pytest.mark.parametrize("text", [
    "(" * 2000 + "a = :v" + ")" * 2000,
    "NOT " * 1000 + "a = :v",
    "size(" * 600 + "a" + ")" * 600 + " = :v",
])
def test_absurd_nesting_in_an_expression_is_a_validation_error(ddb, hash_table, text):
    message = refused(ddb, ddb.put_item, TableName=hash_table, Item={"pk": {"S": "n"}}, ConditionExpression=text,
                      ExpressionAttributeValues={":v": {"S": "x"}})
    assert message.startswith("Invalid ConditionExpression: ")
    assert stored(ddb, hash_table, "n") is None
