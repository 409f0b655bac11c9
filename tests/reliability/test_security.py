"""Security properties of the endpoint: TLS 1.2+ with AEAD ciphers only,
constant-time signature comparison, stale (replayed) signatures refused, and
SQL injection impossible by construction and shown harmless end to end."""
from __future__ import annotations

import ast
import inspect
import socket
import ssl
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from wireapi import sigv4

from .. import testenv

ROOT = Path(__file__).resolve().parents[2]
AEAD = ("GCM", "CHACHA20")


# --- TLS ---------------------------------------------------------------------------

def _handshake(server, context: ssl.SSLContext) -> tuple[str, str]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.version(), tls.cipher()[0]


def _client(minimum: ssl.TLSVersion, maximum: ssl.TLSVersion, ciphers: str = "ALL:@SECLEVEL=0") -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version, context.maximum_version = minimum, maximum
    context.set_ciphers(ciphers)
    return context


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_old_tls_versions_are_refused(server, version):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = getattr(ssl.TLSVersion, version)
    with pytest.raises(ssl.SSLError):
        _handshake(server, _client(old, old))
    # The same permissive client does connect once TLS 1.2 is allowed: the refusal was the version.
    assert _handshake(server, _client(old, ssl.TLSVersion.TLSv1_2))[0] == "TLSv1.2"


def test_tls12_offers_only_forward_secret_aead_ciphers(server):
    for weak in ("AES128-SHA:AES256-SHA", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384",
                 "DES-CBC3-SHA", "RC4-SHA:NULL-SHA"):
        try:
            context = _client(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2, weak + ":@SECLEVEL=0")
        except ssl.SSLError:
            continue  # this OpenSSL does not even offer it
        with pytest.raises(ssl.SSLError):
            _handshake(server, context)
    version, cipher = _handshake(server, _client(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2))
    assert cipher.startswith("ECDHE") and any(a in cipher for a in AEAD), cipher
    version, cipher = _handshake(server, _client(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3))
    assert version == "TLSv1.3" and any(a in cipher for a in AEAD), cipher


# --- signatures --------------------------------------------------------------------

def test_signatures_are_compared_in_constant_time():
    """By inspection: verify() compares with hmac.compare_digest and never with == / !=."""
    source = inspect.getsource(sigv4.verify)
    assert "hmac.compare_digest(" in source
    tree = ast.parse(inspect.getsource(sigv4))
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
            for operand in (node.left, *node.comparators):
                secret_like = (isinstance(operand, ast.Name) and operand.id in {"signature", "given", "expected"}) \
                    or (isinstance(operand, ast.Attribute) and operand.attr == "signature")
                assert not secret_like, ast.unparse(node)


def _signed_at(server, key, moment: datetime, body: bytes = b"{}") -> requests.Response:
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    auth = SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "dynamodb", testenv.REGION)
    request.context["timestamp"] = moment.strftime("%Y%m%dT%H%M%SZ")
    auth._modify_request_before_signing(request)
    auth._inject_signature_to_request(request, auth.signature(
        auth.string_to_sign(request, auth.canonical_request(request)), request))
    prepared = request.prepare()
    return requests.post(prepared.url, data=body, headers=dict(prepared.headers), verify=server.ca_bundle,
                         timeout=30)


def test_replayed_request_outside_the_clock_skew_is_refused(server, key):
    now = datetime.now(timezone.utc)
    fresh = _signed_at(server, key, now)
    assert fresh.status_code == 200
    for moment, words in ((now - timedelta(minutes=16), "Signature expired"),
                          (now + timedelta(minutes=16), "Signature not yet current")):
        replay = _signed_at(server, key, moment)
        assert replay.status_code == 400
        error = orjson.loads(replay.content)
        assert error["__type"].endswith("InvalidSignatureException")
        assert words in error["message"]


# --- SQL injection -------------------------------------------------------------------

_EXECUTE = {"execute", "executemany", "executescript", "raw", "extra"}
# Call sites allowed to format SQL, and why: each interpolates a value from a fixed set.
_FORMATTING_ALLOWED = {
    ("storage/backends/sqlite.py", "PRAGMA synchronous="),  # settings allow FULL, NORMAL or EXTRA only
}


def _storage_modules():
    for path in sorted((ROOT / "storage").rglob("*.py")):
        if "migrations" not in path.parts:
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


def test_no_sql_is_formatted_at_a_call_site():
    """Statements reach the driver as constants or builder output, never formatted in place."""
    offenders = []
    for name, tree in _storage_modules():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _EXECUTE and node.args):
                continue
            statement = node.args[0]
            formatted = isinstance(statement, ast.JoinedStr) or (
                isinstance(statement, ast.BinOp) and isinstance(statement.op, ast.Mod)) or (
                isinstance(statement, ast.Call) and isinstance(statement.func, ast.Attribute)
                and statement.func.attr == "format")
            if formatted and not any(name == f and marker in ast.unparse(statement)
                                     for f, marker in _FORMATTING_ALLOWED):
                offenders.append(f"{name}:{node.lineno}: {ast.unparse(statement)[:80]}")
    assert not offenders, offenders


def test_sql_builders_take_only_fixed_shapes():
    """Builders in sql.py format text only from booleans (which clauses), fixed column names and
    other statements of the module: their parameters say so, and string parameters get constants."""
    tree = ast.parse((ROOT / "storage/backends/sql.py").read_text())
    # WritePart: a Literal of WRITE_PARTS' keys (write_many looks them up, never formats them).
    allowed = {"bool", "tuple[bool, bool, bool, bool]", "KeyRange", "tuple[WritePart, ...]"}
    string_params: dict[str, list[int]] = {}  # builder -> positions of its str parameters
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any(isinstance(n, ast.JoinedStr) for n in ast.walk(node)):
            for position, arg in enumerate(node.args.args):
                annotation = ast.unparse(arg.annotation) if arg.annotation else ""
                if annotation == "str":
                    string_params.setdefault(node.name, []).append(position)
                else:
                    assert annotation in allowed, f"sql.{node.name}({arg.arg}: {annotation})"
    for name, tree in _storage_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if called in string_params:
                    for arg in (node.args[p] for p in string_params[called] if p < len(node.args)):
                        text = ast.unparse(arg)
                        fixed = isinstance(arg, ast.Constant) or text.rpartition(".")[2].isupper()
                        assert fixed, f"{name}:{node.lineno}: {called}({text})"


HOSTILE = ["'; DROP TABLE ddb_item; --", '" OR 1=1 --', "' OR '1'='1", "a'); DELETE FROM ddb_table; --",
           "\\'; SELECT pg_sleep(5); --", "%s %s %(x)s ? ?1 :name $1", "Robert'); DROP TABLE Students;--",
           "\u00e9\u4e2d\U0001F600 ' \" ` \\ ;"]


def test_hostile_names_and_values_are_stored_verbatim(ddb, range_table):
    tables_before = set(ddb.list_tables()["TableNames"])
    for i, text in enumerate(HOSTILE):
        item = {"pk": {"S": text}, "sk": {"N": str(i)}, text: {"S": text}, "nested": {"M": {text: {"L": [
            {"S": text}, {"B": text.encode()}]}}}, "set": {"SS": [text, text + "2"]}}
        ddb.put_item(TableName=range_table, Item=item)
        got = ddb.get_item(TableName=range_table, Key={"pk": {"S": text}, "sk": {"N": str(i)}},
                           ConsistentRead=True)["Item"]
        assert got == item
        queried = ddb.query(TableName=range_table, KeyConditionExpression="pk = :p",
                            FilterExpression="#a = :p", ProjectionExpression="#a, pk",
                            ExpressionAttributeNames={"#a": text},
                            ExpressionAttributeValues={":p": {"S": text}})["Items"]
        assert queried == [{"pk": {"S": text}, text: {"S": text}}]
        ddb.update_item(TableName=range_table, Key={"pk": {"S": text}, "sk": {"N": str(i)}},
                        UpdateExpression="SET #a = :v", ExpressionAttributeNames={"#a": text},
                        ExpressionAttributeValues={":v": {"S": text + text}})
    # Injection-shaped keys match nothing they should not.
    assert ddb.query(TableName=range_table, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "' OR '1'='1' --"}})["Items"] == []
    scanned = ddb.scan(TableName=range_table, ConsistentRead=True)["Items"]
    assert sorted(i["pk"]["S"] for i in scanned) == sorted(HOSTILE)
    assert all(i[i["pk"]["S"]]["S"] == i["pk"]["S"] * 2 for i in scanned)
    assert set(ddb.list_tables()["TableNames"]) == tables_before


@pytest.mark.parametrize("name", ["x'; DROP TABLE ddb_item; --", 'a" OR 1=1', "t;--"])
def test_hostile_table_names_are_validation_errors(ddb, name):
    before = set(ddb.list_tables()["TableNames"])
    with pytest.raises(ddb.exceptions.ClientError) as info:
        ddb.create_table(TableName=name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    assert info.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ddb.exceptions.ClientError):
        ddb.get_item(TableName=name, Key={"pk": {"S": "x"}})
    assert set(ddb.list_tables()["TableNames"]) == before
