"""The data set, the loader and the pre-signed request pools.

Items: `count` items of about 1 KB spread evenly over `partitions` partition
keys (pk "p000042", sk "s00017"), each {pk, sk, v (N, the UpdateItem counter),
payload (S)}. The same items go into every server.

Requests: wrk replays whatever the Lua script returns, so every request is
built and SigV4-signed here with botocore (real keys) just before its wrk run,
each with its own keys, and written as a Lua table of raw HTTP/1.1 requests.
"""
from __future__ import annotations

import json
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = os.environ.get("EXTENDDB_REGION", "us-east-1")  # the server refuses other regions
TABLE = "bench"
TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
PAYLOAD_LEN = 960
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_NOISE = "".join(random.Random(42).choices(_ALPHABET, k=8192))

OPERATIONS = ["GetItem", "Query", "BatchGetItem", "PutItem", "UpdateItem", "TransactWriteItems"]


@dataclass(frozen=True)
class DataSet:
    count: int
    partitions: int

    @property
    def per_partition(self) -> int:
        return -(-self.count // self.partitions)

    def key_of(self, i: int) -> tuple[str, str]:
        return f"p{i % self.partitions:06d}", f"s{i // self.partitions:06d}"

    def key(self, i: int) -> dict:
        pk, sk = self.key_of(i)
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    def item(self, i: int, version: int = 0) -> dict:
        pk, sk = self.key_of(i)
        off = (i * 7919 + version * 104729) % (len(_NOISE) - PAYLOAD_LEN)
        return {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"N": "0"},
                "payload": {"S": _NOISE[off:off + PAYLOAD_LEN]}}

    def items_in(self, partition: int) -> int:
        """How many items partition p holds (i = p + k * partitions < count)."""
        return len(range(partition, self.count, self.partitions))


def item_size(item: dict) -> int:
    """DynamoDB's item size: the server's wireapi.values.item_size, or the same rule for S/N-only items."""
    try:
        from wireapi.values import item_size as server_item_size
        return server_item_size(item)
    except Exception:  # noqa: BLE001 - the server tree may be mid-change
        pass
    total = 0
    for name, av in item.items():
        total += len(name.encode())
        (kind, val), = av.items()
        if kind == "S":
            total += len(val.encode())
        else:
            digits = val.lstrip("-").replace(".", "").strip("0") or "0"
            total += (len(digits) + 1) // 2 + 1
    return total


def create_table(endpoint: str, key: str, secret: str, verify, name: str = TABLE) -> None:
    client = make_client(endpoint, key, secret, verify)
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST")
    for _ in range(200):
        if client.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE":
            return
        time.sleep(0.05)
    raise RuntimeError(f"table {name} did not become ACTIVE")


def make_client(endpoint: str, key: str, secret: str, verify):
    import botocore.session
    from botocore.config import Config
    session = botocore.session.get_session()
    return session.create_client(
        "dynamodb", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key,
        aws_secret_access_key=secret, verify=verify,
        config=Config(retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=4,
                      connect_timeout=10, read_timeout=120))


def _load_slice(args) -> tuple[int, int]:
    endpoint, key, secret, verify, ds, indices, method = args
    import urllib3
    urllib3.disable_warnings()
    client = make_client(endpoint, key, secret, verify)
    calls = retries = 0
    if method == "PutItem":
        for i in indices:
            client.put_item(TableName=TABLE, Item=ds.item(i))
            calls += 1
        return calls, retries
    for start in range(0, len(indices), 25):
        pending = {TABLE: [{"PutRequest": {"Item": ds.item(i)}} for i in indices[start:start + 25]]}
        delay = 0.01
        while pending:
            out = client.batch_write_item(RequestItems=pending)
            calls += 1
            pending = out.get("UnprocessedItems") or {}
            if pending:
                retries += 1
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
    return calls, retries


def batch_write_supported(endpoint: str, key: str, secret: str, verify) -> bool:
    from botocore.exceptions import ClientError
    try:
        make_client(endpoint, key, secret, verify).batch_write_item(
            RequestItems={TABLE: [{"DeleteRequest": {"Key": {"pk": {"S": "-"}, "sk": {"S": "-"}}}}]})
        return True
    except ClientError as exc:
        return "UnknownOperation" not in exc.response.get("Error", {}).get("Code", "")


def load(endpoint: str, key: str, secret: str, verify, ds: DataSet, loaders: int) -> dict:
    """BatchWriteItem, 25 items a call, `loaders` concurrent client processes (PutItem, one item a
    call, if the server does not support BatchWriteItem: the method is reported with the timing)."""
    method = "BatchWriteItem" if batch_write_supported(endpoint, key, secret, verify) else "PutItem"
    order = list(range(ds.count))
    slices = [order[n::loaders] for n in range(loaders)]
    started = time.perf_counter()
    with ProcessPoolExecutor(loaders) as pool:
        results = list(pool.map(_load_slice, [(endpoint, key, secret, verify, ds, s, method) for s in slices]))
    elapsed = time.perf_counter() - started
    return {"items": ds.count, "seconds": round(elapsed, 2), "items_per_s": round(ds.count / elapsed, 1),
            "calls": sum(r[0] for r in results), "unprocessed_retries": sum(r[1] for r in results),
            "loaders": loaders, "method": method}


# --- request pools ------------------------------------------------------------

def request_body(op: str, ds: DataSet, rng: random.Random, seq: int, table: str = TABLE) -> dict:
    n = ds.count
    if op == "GetItem":
        return {"TableName": table, "Key": ds.key(rng.randrange(n))}
    if op == "PutItem":
        return {"TableName": table, "Item": ds.item(rng.randrange(n), seq + 1)}
    if op == "UpdateItem":
        return {"TableName": table, "Key": ds.key(rng.randrange(n)),
                "UpdateExpression": "SET v = v + :one", "ConditionExpression": "attribute_exists(v)",
                "ExpressionAttributeValues": {":one": {"N": "1"}}}
    if op == "Query":
        p = rng.randrange(ds.partitions)
        span = max(ds.items_in(p) - 10, 0)
        start = rng.randrange(span + 1)
        return {"TableName": table, "KeyConditionExpression": "pk = :pk AND sk >= :from",
                "ExpressionAttributeValues": {":pk": {"S": f"p{p:06d}"}, ":from": {"S": f"s{start:06d}"}},
                "Limit": 10}
    if op == "BatchGetItem":
        keys = rng.sample(range(n), 10)
        return {"RequestItems": {table: {"Keys": [ds.key(i) for i in keys]}}}
    if op == "TransactWriteItems":
        a, b = rng.sample(range(n), 2)
        return {"TransactItems": [{"Put": {"TableName": table, "Item": ds.item(a, seq + 1)}},
                                  {"Put": {"TableName": table, "Item": ds.item(b, seq + 1)}}]}
    raise ValueError(op)


def sign(endpoint: str, key: str, secret: str, op: str, body: bytes) -> tuple[dict, bytes]:
    req = AWSRequest(method="POST", url=endpoint + "/", data=body,
                     headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + op})
    SigV4Auth(Credentials(key, secret), "dynamodb", REGION).add_auth(req)
    host = endpoint.split("://", 1)[1]
    headers = {"Host": host, "Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + op,
               "X-Amz-Date": req.headers["X-Amz-Date"], "Authorization": req.headers["Authorization"]}
    return headers, body


def raw_request(headers: dict, body: bytes) -> bytes:
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def lua_string(data: bytes) -> str:
    out = ['"']
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x22:
            out.append('\\"')
        elif b == 0x0D:
            out.append("\\r")
        elif b == 0x0A:
            out.append("\\n")
        elif b < 0x20 or b >= 0x7F:
            out.append(f"\\{b:03d}")
        else:
            out.append(chr(b))
    out.append('"')
    return "".join(out)


def build_pool(path: Path, endpoint: str, key: str, secret: str, op: str, ds: DataSet, size: int,
               seed: int, table: str = TABLE, raws: list[bytes] | None = None) -> tuple[dict, bytes]:
    """Sign `size` requests of one operation now and write them as a Lua table
    (and append them to `raws` if given). Returns the first request (headers, body) for a probe."""
    rng = random.Random(seed)
    first = None
    own = getattr(ds, "request_body", None)  # a data set with operations of its own (bench/growth.py)
    target = op.split(":", 1)[0]  # "Query:g1" is a Query
    with open(path, "w") as f:
        f.write("return {\n")
        for seq in range(size):
            made = own(op, rng, seq, table) if own else None
            made = made if made is not None else request_body(target, ds, rng, seq, table)
            headers, body = sign(endpoint, key, secret, target, orjson.dumps(made))
            if first is None:
                first = (headers, body)
            raw = raw_request(headers, body)
            if raws is not None:
                raws.append(raw)
            f.write(lua_string(raw))
            f.write(",\n")
        f.write("}\n")
    return first


def probe(endpoint: str, headers: dict, body: bytes) -> tuple[int, str]:
    """Send one pool request; (status, body text) — tells an unsupported operation apart."""
    import http.client
    import ssl
    host, port = endpoint.split("://", 1)[1].split(":")
    if endpoint.startswith("https"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=120)
    else:
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def is_unsupported(status: int, text: str) -> bool:
    if status < 400:
        return False
    try:
        kind = json.loads(text).get("__type", "")
    except ValueError:
        kind = ""
    return "UnknownOperation" in kind or "not supported" in text.lower() or "not yet implemented" in text.lower()
