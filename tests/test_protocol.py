"""The HTTP envelope: headers, checksums, content types, unknown operations,
malformed JSON and shape errors, sent as raw signed requests."""
from __future__ import annotations

import json
import zlib

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from . import testenv


def signed_post(server, key, target: str | None, body: bytes, content_type="application/x-amz-json-1.0",
                secret: str | None = None):
    headers = {"Content-Type": content_type}
    if target is not None:
        headers["X-Amz-Target"] = target
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=headers)
    SigV4Auth(Credentials(key.access_key_id, secret or key.secret_access_key), "dynamodb", testenv.REGION).add_auth(req)
    prepared = req.prepare()
    return requests.post(prepared.url, data=body, headers=dict(prepared.headers), verify=server.ca_bundle, timeout=30)


def test_every_response_has_request_id_and_crc32(server, key):
    resp = signed_post(server, key, "DynamoDB_20120810.ListTables", b"{}")
    assert resp.status_code == 200
    assert len(resp.headers["x-amzn-RequestId"]) == 52
    assert int(resp.headers["x-amz-crc32"]) == zlib.crc32(resp.content)
    assert resp.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert "TableNames" in resp.json()


def test_json_1_1_content_type_is_accepted(server, key):
    resp = signed_post(server, key, "DynamoDB_20120810.ListTables", b"{}", "application/x-amz-json-1.1")
    assert resp.status_code == 200


def test_error_response_has_crc32_too(server, key):
    resp = signed_post(server, key, "DynamoDB_20120810.Nope", b"{}")
    assert resp.status_code == 400
    assert int(resp.headers["x-amz-crc32"]) == zlib.crc32(resp.content)
    assert resp.json() == {"__type": "com.amazon.coral.service#UnknownOperationException"}


def test_unknown_service_prefix(server, key):
    resp = signed_post(server, key, "DynamoDB_20111205.ListTables", b"{}")
    assert resp.json()["__type"] == "com.amazon.coral.service#UnknownOperationException"


def test_missing_target(server, key):
    resp = signed_post(server, key, None, b"{}")
    assert resp.status_code == 400
    assert resp.json()["__type"] == "com.amazon.coral.service#UnknownOperationException"


def test_malformed_json(server, key):
    resp = signed_post(server, key, "DynamoDB_20120810.ListTables", b"{not json")
    assert resp.status_code == 400
    assert resp.json()["__type"] == "com.amazon.coral.service#SerializationException"


def test_wrong_parameter_type(server, key):
    resp = signed_post(server, key, "DynamoDB_20120810.DescribeTable", json.dumps({"TableName": 5}).encode())
    assert resp.status_code == 400
    assert resp.json() == {"__type": "com.amazon.coral.service#SerializationException",
                           "Message": "NUMBER_VALUE cannot be converted to String"}


def test_missing_parameter(server, key):
    resp = signed_post(server, key, "DynamoDB_20120810.DescribeTable", b"{}")
    assert resp.status_code == 400
    assert resp.json() == {
        "__type": "com.amazon.coral.validate#ValidationException",
        "message": "The parameter 'TableName' is required but was not present in the request",
    }
    resp = signed_post(server, key, "DynamoDB_20120810.GetItem", b'{"Key": {"k": {"S": "x"}}}')
    assert resp.json()["message"] == (
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null")


def test_non_json_content_type_is_404(server, key):
    resp = signed_post(server, key, "DynamoDB_20120810.ListTables", b"{}", "text/plain")
    assert resp.status_code == 404


@pytest.mark.parametrize("target", ["DynamoDB_20120810.ListTables", "DynamoDB_20120810.Bogus"])
def test_get_is_a_health_check(server, target):
    resp = requests.get(server.endpoint + "/", verify=server.ca_bundle, timeout=10)
    assert resp.status_code == 200
    assert resp.text.startswith("healthy")
