"""Hostile input end to end: a smaller sample of what test_hostile_input tries
in-process, sent through real HTTPS to the real server. Every answer is a
DynamoDB error in DynamoDB's shape (400, or 413 for size), never a 500."""
from __future__ import annotations

import os

import orjson
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wireapi import shapes

from .. import testenv
from . import strategies as S

EXAMPLES = int(os.environ.get("EXTENDDB_HYPOTHESIS_HTTP_EXAMPLES", "60"))
bounded = settings(max_examples=EXAMPLES, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# Operations a random body could make do damage to other tests' tables are left out.
DESTRUCTIVE = {"DeleteTable", "UpdateTable", "DeleteBackup", "RestoreTableFromBackup",
               "RestoreTableToPointInTime", "DeleteResourcePolicy", "PutResourcePolicy", "UpdateTimeToLive",
               "UpdateContinuousBackups", "TagResource", "UntagResource", "ImportTable"}
OPERATIONS = sorted(shapes.operation_names("dynamodb") - DESTRUCTIVE)


@pytest.fixture(scope="module")
def http(server, key):
    session = requests.Session()
    session.verify = server.ca_bundle
    credentials = Credentials(key.access_key_id, key.secret_access_key)

    def post(body: bytes, target: str, sign: bool = True, headers: dict | None = None) -> requests.Response:
        request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
            "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target, **(headers or {})})
        if sign:
            SigV4Auth(credentials, "dynamodb", testenv.REGION).add_auth(request)
        prepared = request.prepare()
        return session.post(prepared.url, data=body, headers=dict(prepared.headers), timeout=30,
                            verify=server.ca_bundle)
    yield post
    session.close()


def assert_dynamodb_error(response: requests.Response) -> None:
    assert response.status_code != 500, response.text
    if response.status_code == 200:
        return
    assert response.status_code in (400, 404, 413), (response.status_code, response.text)
    if response.status_code == 400:
        assert "__type" in orjson.loads(response.content), response.text


@bounded
@given(st.sampled_from(OPERATIONS), st.dictionaries(
    st.sampled_from(["TableName", "Key", "Item", "Limit", "ExclusiveStartKey", "RequestItems", "TransactItems",
                     "ExpressionAttributeValues", "ExpressionAttributeNames", "UpdateExpression",
                     "ConditionExpression", "ProjectionExpression", "KeyConditionExpression", "Statement"]),
    st.one_of(S.json_values, S.expression_text, S.items), max_size=5))
def test_random_requests_get_dynamodb_errors(http, operation, body):
    assert_dynamodb_error(http(orjson.dumps(body), f"DynamoDB_20120810.{operation}"))


@bounded
@given(st.binary(max_size=300))
def test_random_bodies(http, body):
    assert_dynamodb_error(http(body, "DynamoDB_20120810.PutItem"))


@bounded
@given(S.expression_text, S.names_param, S.values_param)
def test_random_expressions_against_a_real_table(http, hash_table, text, names, vals):
    body = {"TableName": hash_table, "Key": {"pk": {"S": "k"}}, "UpdateExpression": text,
            "ConditionExpression": text}
    if names is not None:
        body["ExpressionAttributeNames"] = names
    if vals is not None:
        body["ExpressionAttributeValues"] = vals
    assert_dynamodb_error(http(orjson.dumps(body), "DynamoDB_20120810.UpdateItem"))
    query = {"TableName": hash_table, "KeyConditionExpression": text, "FilterExpression": text,
             "ProjectionExpression": text, **{k: v for k, v in body.items() if k.startswith("Expression")}}
    assert_dynamodb_error(http(orjson.dumps(query), "DynamoDB_20120810.Query"))


@bounded
@given(S.auth_headers, S.amz_dates)
def test_forged_signature_headers(http, authorization, amz_date):
    headers = {"Authorization": authorization, "X-Amz-Date": amz_date}
    headers = {k: v.strip() for k, v in headers.items() if v.isprintable() and v.isascii() and v.strip()}
    response = http(b"{}", "DynamoDB_20120810.ListTables", sign=False, headers=headers)
    assert response.status_code == 400, response.text
    assert "__type" in orjson.loads(response.content)


@pytest.mark.parametrize("av", [{"BS": [None]}, {"BS": ["YQ==", None]}, {"SS": [None]}, {"NS": [None]},
                                {"L": [None]}, {"M": {"a": None}}])
@pytest.mark.parametrize("where", ["Item", "ExpressionAttributeValues"])
def test_null_members_of_collections_are_refused_with_400(http, hash_table, av, where):
    """Found by hypothesis: `{"BS": [null]}` reached the base64 check of the request's shape as a 500.
    A null in a set is a ValidationException; a null in L or M (an AttributeValue) a SerializationException."""
    if where == "Item":
        body, target = {"TableName": hash_table, "Item": {"pk": {"S": "k"}, "a": av}}, "PutItem"
    else:
        body, target = {"TableName": hash_table, "Key": {"pk": {"S": "k"}}, "UpdateExpression": "SET a = :v",
                        "ExpressionAttributeValues": {":v": av}}, "UpdateItem"
    response = http(orjson.dumps(body), f"DynamoDB_20120810.{target}")
    assert response.status_code == 400, response.text
    assert orjson.loads(response.content)["__type"].rsplit("#", 1)[-1] in (
        "ValidationException", "SerializationException"), response.text
