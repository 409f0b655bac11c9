"""Compressed request bodies (Content-Encoding) and responses (Accept-Encoding),
as DynamoDB has them: through boto3 where it can send or read them, and as raw
signed requests for what no SDK sends (broken bodies, unknown codings, bombs)."""
from __future__ import annotations

import gzip
import time
import uuid
import zlib

import boto3
import orjson
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from . import testenv

THRESHOLD = 4096  # DynamoDB compresses responses from 4 KB on


def signed_post(server, key, operation: str, body: bytes, headers: dict | None = None,
                stream: bool = False) -> requests.Response:
    """Signed over the body as sent (compressed), as an SDK signs it."""
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        "Accept-Encoding": "identity", **(headers or {})})
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "dynamodb", testenv.REGION).add_auth(request)
    prepared = request.prepare()
    return requests.post(prepared.url, data=body, headers=dict(prepared.headers), verify=server.ca_bundle,
                         timeout=60, stream=stream)


def put_body(table: str, pk: str, **attrs: str) -> bytes:
    item = {"pk": {"S": pk}, **{name: {"S": value} for name, value in attrs.items()}}
    return orjson.dumps({"TableName": table, "Item": item})


def stored(ddb, table: str, pk: str) -> dict | None:
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


@pytest.fixture(scope="module")
def compressing_client(server, key):
    """boto3 compressing every request body with gzip: botocore compresses only operations
    its model marks (none of DynamoDB's yet), so the model is marked here."""
    client = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=testenv.REGION,
                          aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
                          verify=server.ca_bundle,
                          config=Config(request_min_compression_size_bytes=1, retries={"max_attempts": 1}))
    for definition in client.meta.service_model._service_description["operations"].values():
        definition["requestcompression"] = {"encodings": ["gzip"]}
    sent = []
    client.meta.events.register("before-send.dynamodb", lambda request, **_: sent.append(
        request.headers.get("Content-Encoding")))
    client.sent_encodings = sent
    yield client
    client.close()


def test_boto3_gzip_compressed_requests_are_understood(compressing_client, ddb, hash_table):
    pk = uuid.uuid4().hex
    big = "x" * 20000 + uuid.uuid4().hex
    compressing_client.put_item(TableName=hash_table, Item={"pk": {"S": pk}, "big": {"S": big}})
    assert compressing_client.sent_encodings[-1] in ("gzip", b"gzip")  # it really was compressed
    got = compressing_client.get_item(TableName=hash_table, Key={"pk": {"S": pk}}, ConsistentRead=True)
    assert got["Item"]["big"]["S"] == big
    assert stored(ddb, hash_table, pk)["big"]["S"] == big


@pytest.mark.parametrize("encode, header", [
    (gzip.compress, "gzip"),
    (zlib.compress, "deflate"),
    (lambda b: gzip.compress(b[:10]) + gzip.compress(b[10:]), "gzip"),  # two gzip members
    (gzip.compress, "GZIP"),
    (lambda b: gzip.compress(gzip.compress(b)), "gzip, gzip"),
    (gzip.compress, "identity, gzip"),
    (lambda b: b, "amz-1.0"),  # the JSON protocol's marker, sent by hand-written clients: no coding
    (lambda b: b, "identity"),
])
def test_compressed_request_body_is_written(server, key, ddb, hash_table, encode, header):
    pk = uuid.uuid4().hex
    response = signed_post(server, key, "PutItem", encode(put_body(hash_table, pk, v="w")),
                           {"Content-Encoding": header})
    assert response.status_code == 200, response.text
    assert stored(ddb, hash_table, pk)["v"]["S"] == "w"


@pytest.mark.parametrize("encode, header", [
    (lambda b: b, "gzip"),                          # a plain body said to be gzip (was written as is)
    (lambda b: b, "deflate"),
    (lambda b: gzip.compress(b), "br"),            # a coding DynamoDB does not know
    (lambda b: b, "garbage"),
    (lambda b: gzip.compress(b)[:-1], "gzip"),     # truncated
    (lambda b: gzip.compress(b)[:20], "gzip"),
    (lambda b: gzip.compress(b) + b"junk", "gzip"),
    (lambda b: zlib.compress(b) + b"junk", "deflate"),
])
def test_undecodable_body_is_refused_as_dynamodb_does_and_nothing_is_written(
        server, key, ddb, hash_table, encode, header):
    """DynamoDB answers these with HTTP 500 (measured against DynamoDB by ScyllaDB's Alternator tests)."""
    pk = uuid.uuid4().hex
    response = signed_post(server, key, "PutItem", encode(put_body(hash_table, pk)), {"Content-Encoding": header})
    assert response.status_code == 500, response.text
    assert response.json()["__type"].endswith("#InternalServerError")
    assert stored(ddb, hash_table, pk) is None


def test_empty_body_said_to_be_gzip_is_refused(server, key):
    response = signed_post(server, key, "ListTables", b"", {"Content-Encoding": "gzip"})
    assert response.status_code == 500


def test_gzip_bomb_is_refused_without_inflating_it(server, key, ddb, hash_table):
    """20 MB of JSON that compresses to ~20 KB: refused at 16 MB inflated, in milliseconds."""
    pk = uuid.uuid4().hex
    body = put_body(hash_table, pk)
    bomb = gzip.compress(body[:-1] + b" " * (20 * 1024 * 1024) + body[-1:], 9)
    assert len(bomb) < 64 * 1024
    started = time.monotonic()
    zlib.decompressobj(31).decompress(bomb, 16 * 1024 * 1024 + 1)
    inflate = time.monotonic() - started  # this machine's price of the 16 MB the server inflates
    started = time.monotonic()
    response = signed_post(server, key, "PutItem", bomb, {"Content-Encoding": "gzip"})
    elapsed = time.monotonic() - started
    assert response.status_code == 413
    assert response.json()["__type"].endswith("RequestEntityTooLarge")
    assert elapsed < 1.0 + 4 * inflate, (elapsed, inflate)  # (an idle machine: ~30 ms; CI shares 2 cores)
    assert stored(ddb, hash_table, pk) is None
    # Just under the limit inflated is served.
    near = gzip.compress(body[:-1] + b" " * (15 * 1024 * 1024) + body[-1:])
    assert signed_post(server, key, "PutItem", near, {"Content-Encoding": "gzip"}).status_code == 200
    assert stored(ddb, hash_table, pk) is not None


# --- responses ------------------------------------------------------------------------

@pytest.fixture
def accepting_client(server, key):
    """boto3 asking for compressed responses and inflating them before parsing (botocore
    neither asks nor inflates). botocore's CRC32 check reads the raw body as received, so
    a call that succeeds proves x-amz-crc32 is that of the compressed bytes."""
    client = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=testenv.REGION,
                          aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
                          verify=server.ca_bundle, config=Config(retries={"max_attempts": 1, "mode": "legacy"}))
    seen: list[dict] = []

    def ask(params, **_):
        params["headers"]["Accept-Encoding"] = client.accept

    def inflate(response_dict, **_):
        headers = response_dict["headers"]
        seen.append({"encoding": headers.get("Content-Encoding"), "length": len(response_dict["body"]),
                     "crc32": int(headers["x-amz-crc32"]), "raw_crc32": zlib.crc32(response_dict["body"])})
        if headers.get("Content-Encoding") == "gzip":
            response_dict["body"] = gzip.decompress(response_dict["body"])
        elif headers.get("Content-Encoding") == "deflate":
            response_dict["body"] = zlib.decompress(response_dict["body"])

    client.accept = "gzip"
    client.meta.events.register("before-call.dynamodb", ask)
    client.meta.events.register("before-parse.dynamodb", inflate)
    client.seen = seen
    yield client
    client.close()


def test_large_response_is_gzip_compressed_with_crc32_of_the_bytes_sent(accepting_client, ddb, hash_table):
    pk = uuid.uuid4().hex
    data = "x" * (THRESHOLD - 25)
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": pk}, "x": {"S": data}})
    got = accepting_client.get_item(TableName=hash_table, Key={"pk": {"S": pk}}, ProjectionExpression="pk, x")
    assert got["Item"]["x"]["S"] == data
    last = accepting_client.seen[-1]
    assert last["encoding"] == "gzip"
    assert last["length"] * 30 < THRESHOLD  # really compressed
    assert last["crc32"] == last["raw_crc32"]
    # Under 4 KB: sent as is, even though the client accepts gzip.
    got = accepting_client.get_item(TableName=hash_table, Key={"pk": {"S": pk}}, ProjectionExpression="x")
    assert got["Item"]["x"]["S"] == data
    assert accepting_client.seen[-1]["encoding"] is None


def test_deflate_and_no_compression_without_accept_encoding(accepting_client, ddb, hash_table):
    pk = uuid.uuid4().hex
    data = uuid.uuid4().hex * 400
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": pk}, "x": {"S": data}})
    accepting_client.accept = "deflate"
    assert accepting_client.get_item(TableName=hash_table, Key={"pk": {"S": pk}})["Item"]["x"]["S"] == data
    assert accepting_client.seen[-1]["encoding"] == "deflate"
    assert accepting_client.seen[-1]["crc32"] == accepting_client.seen[-1]["raw_crc32"]
    accepting_client.accept = "identity"
    assert accepting_client.get_item(TableName=hash_table, Key={"pk": {"S": pk}})["Item"]["x"]["S"] == data
    assert accepting_client.seen[-1]["encoding"] is None


@pytest.mark.parametrize("accept, expected", [
    ("gzip, deflate", "gzip"), ("br, identity, deflate, gzip", "deflate"), ("GZIP, identity", "gzip"),
    ("dog, gzip ,, cat", "gzip"), ("gzip;q=0.8, deflate;q=0.5", "gzip"),
    ("br, gzip;q=0, deflate; q = 0.5 , identity;q=0", "deflate"), ("*", "gzip"), ("*, deflate", "deflate"),
    ("*, gzip;q=0.5", "deflate"), ("gzip ;q=0", None), ("*;q=0", None), ("x-gzip", None), ("br", None),
    ("gzip br", None), ('"gzip"', None), ("deflate;q=0.5, gzip;q=31", "gzip"),
    ("deflate;q=0.5,gzip;q=0.x", "gzip"), ("deflate;q=-0.5,gzip;q=0.2", "gzip"),
    ("gzip;q=0, gzip;q=1, gzip;q=0", "gzip"), ("br;q=0.8,identity;q=0.5,*;q=0", None),
])
def test_accept_encoding_is_read_as_dynamodb_reads_it(server, key, ddb, hash_table, accept, expected):
    """The cases ScyllaDB's Alternator tests measured against DynamoDB."""
    pk = uuid.uuid4().hex
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": pk}, "x": {"S": "y" * THRESHOLD}})
    body = orjson.dumps({"TableName": hash_table, "Key": {"pk": {"S": pk}}})
    response = signed_post(server, key, "GetItem", body, {"Accept-Encoding": accept}, stream=True)
    raw = response.raw.read(decode_content=False)
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == expected
    assert int(response.headers["x-amz-crc32"]) == zlib.crc32(raw)
    assert int(response.headers["Content-Length"]) == len(raw)
    plain = {"gzip": gzip.decompress, "deflate": zlib.decompress, None: bytes}[expected](raw)
    assert orjson.loads(plain)["Item"]["x"]["S"] == "y" * THRESHOLD
