"""SigV4 as DynamoDB answers it: missing, unknown, wrong and stale signatures."""
from __future__ import annotations

import datetime

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from . import testenv
from .conftest import CLIENT_CONFIG


def sign_at(req: AWSRequest, auth: SigV4Auth, stamp: str) -> None:
    """Sign as botocore's add_auth does, but as a client whose clock reads `stamp`."""
    req.context["timestamp"] = stamp
    auth._modify_request_before_signing(req)
    signature = auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req)
    auth._inject_signature_to_request(req, signature)


def client_with(server, key_id, secret):
    return boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=testenv.REGION,
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        verify=server.ca_bundle, config=CLIENT_CONFIG)


def test_missing_authentication(server):
    resp = requests.post(server.endpoint + "/", data=b"{}", verify=server.ca_bundle, timeout=10, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    assert resp.status_code == 400
    assert resp.json() == {"__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
                           "message": "Request is missing Authentication Token"}


def test_unknown_access_key(server):
    with pytest.raises(ClientError) as err:
        client_with(server, "AKIAUNKNOWNUNKNOWN00", "x" * 40).list_tables()
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert err.value.response["Error"]["Message"] == "The security token included in the request is invalid."
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_wrong_secret(server, key):
    with pytest.raises(ClientError) as err:
        client_with(server, key.access_key_id, "y" * 40).list_tables()
    assert err.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert err.value.response["Error"]["Message"].startswith(
        "The request signature we calculated does not match the signature you provided.")


def test_tampered_body_fails_signature(server, key):
    body = b'{"Limit": 5}'
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "dynamodb", testenv.REGION).add_auth(req)
    headers = dict(req.prepare().headers)
    resp = requests.post(server.endpoint + "/", data=b'{"Limit": 6}', headers=headers,
                         verify=server.ca_bundle, timeout=10)
    assert resp.json()["__type"] == "com.amazon.coral.service#InvalidSignatureException"


def test_expired_timestamp(server, key):
    body = b"{}"
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    stamp = old.strftime("%Y%m%dT%H%M%SZ")
    sign_at(req, SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "dynamodb", testenv.REGION), stamp)
    prepared = req.prepare()
    resp = requests.post(prepared.url, data=body, headers=dict(prepared.headers), verify=server.ca_bundle, timeout=10)
    assert resp.status_code == 400
    payload = resp.json()
    assert payload["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert payload["message"].startswith(f"Signature expired: {stamp} is now earlier than ")


def test_presigned_query_string_request(server, key):
    body = b"{}"
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    SigV4QueryAuth(Credentials(key.access_key_id, key.secret_access_key), "dynamodb", testenv.REGION,
                   expires=300).add_auth(req)
    prepared = req.prepare()
    resp = requests.post(prepared.url, data=body, headers=dict(prepared.headers), verify=server.ca_bundle, timeout=10)
    assert resp.status_code == 200, resp.text
    assert "TableNames" in resp.json()


def test_deactivated_key_stops_working(server):
    from .server import create_key, manage

    fresh = create_key("short-lived")
    client = client_with(server, fresh.access_key_id, fresh.secret_access_key)
    client.list_tables()
    manage("deactivatekey", fresh.access_key_id)
    with pytest.raises(ClientError) as err:
        client.list_tables()
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_imported_key_works(server):
    from .server import manage

    key_id, secret = "AKIAIMPORTEDKEY00001", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    manage("importkey", "--user", "legacy-app", "--access-key-id", key_id, input=secret + "\n")
    assert "TableNames" in client_with(server, key_id, secret).list_tables()


def test_secret_never_in_clear_in_database(server, key, django_db_blocker):
    from accounts.models import AccessKey

    with django_db_blocker.unblock():
        stored = AccessKey.objects.get(access_key_id=key.access_key_id)
        blob = bytes(stored.secret_ciphertext) if not isinstance(stored.secret_ciphertext, str) \
            else stored.secret_ciphertext.encode()
    assert key.secret_access_key.encode() not in blob
    assert key.secret_access_key not in server.log_path.read_text()
