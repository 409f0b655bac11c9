"""SigV4 verification against requests signed by botocore itself."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from wireapi import sigv4
from wireapi.errors import IncompleteSignature, InvalidSignature, MissingAuthenticationToken
from wireapi.sigv4 import SigV4Request, parse_auth, verify

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
URL = "https://127.0.0.1:8443/"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
STAMP = "20250102T030405Z"
HEADERS = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"}


def _sign(auth: SigV4Auth, req: AWSRequest, stamp: str = STAMP) -> AWSRequest:
    """botocore's add_auth, with the client's clock reading `stamp`."""
    req.context["timestamp"] = stamp
    auth._modify_request_before_signing(req)
    signature = auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req)
    auth._inject_signature_to_request(req, signature)
    return req


def signed(body: bytes = b'{"Limit": 5}', stamp: str = STAMP, secret: str = SECRET, url: str = URL,
           region: str = "us-east-1", headers: dict | None = None) -> SigV4Request:
    req = AWSRequest(method="POST", url=url, data=body, headers=dict(headers or HEADERS))
    _sign(SigV4Auth(Credentials(KEY_ID, secret), "dynamodb", region), req, stamp)
    return to_wire(req, body)


def presigned(body: bytes = b"{}", stamp: str = STAMP, expires: int = 300) -> SigV4Request:
    req = AWSRequest(method="POST", url=URL, data=body, headers=dict(HEADERS))
    _sign(SigV4QueryAuth(Credentials(KEY_ID, SECRET), "dynamodb", "us-east-1", expires=expires), req, stamp)
    return to_wire(req, body)


def to_wire(req: AWSRequest, body: bytes) -> SigV4Request:
    """What an ASGI server would hand us for the request botocore sends."""
    prepared = req.prepare()
    parts = urlsplit(prepared.url)
    headers = [(b"host", parts.netloc.encode())]
    headers += [(k.lower().encode(), v.encode() if isinstance(v, str) else v) for k, v in prepared.headers.items()]
    return SigV4Request("POST", parts.path.encode(), parts.query.encode(), headers, body)


def replace_header(req: SigV4Request, name: bytes, value: bytes | None) -> SigV4Request:
    headers = [(k, v) for k, v in req.headers if k != name]
    if value is not None:
        headers.append((name, value))
    return SigV4Request(req.method, req.path, req.query_string, headers, req.body)


def check(req: SigV4Request, secret: str = SECRET, now: datetime = NOW) -> None:
    verify(parse_auth(req), req, secret, now)


def error(exc_type, req: SigV4Request, **kwargs) -> str:
    with pytest.raises(exc_type) as exc:
        check(req, **kwargs)
    return exc.value.message


# --- valid requests -------------------------------------------------------------

def test_botocore_signed_request_verifies():
    req = signed()
    info = parse_auth(req)
    assert (info.access_key_id, info.date, info.region, info.service) == (KEY_ID, "20250102", "us-east-1", "dynamodb")
    assert not info.presigned and "host" in info.signed_headers and info.amz_date == STAMP
    verify(info, req, SECRET, NOW)


def test_any_region_and_odd_paths_and_queries_verify():
    check(signed(region="local"))
    check(signed(url="https://localhost/a/./b//c/../d%20e/?z=1&a=b%2Fc&a=a&empty="))
    check(signed(body=b""))
    check(signed(headers={**HEADERS, "X-Custom": "  spaced    out  value "}))


def test_within_skew_verifies():
    check(signed(), now=NOW + timedelta(minutes=4, seconds=59))
    check(signed(), now=NOW - timedelta(minutes=5))


def test_presigned_request_verifies():
    req = presigned()
    info = parse_auth(req)
    assert info.presigned and info.expires == 300
    verify(info, req, SECRET, NOW + timedelta(seconds=299))


def test_declared_content_sha256_must_match_body():
    req = AWSRequest(method="POST", url=URL, data=b"{}", headers={**HEADERS, "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    _sign(SigV4Auth(Credentials(KEY_ID, SECRET), "dynamodb", "us-east-1"), req)
    check(to_wire(req, b'{"any": "body"}'))  # the client chose not to sign the body
    good = signed()
    declared = replace_header(good, b"x-amz-content-sha256", hashlib.sha256(b"other").hexdigest().encode())
    assert error(InvalidSignature, declared) == InvalidSignature.default_message


def test_signing_key_is_cached():
    sigv4._signing_key.cache_clear()
    check(signed())
    check(signed(body=b"{}"))
    assert sigv4._signing_key.cache_info().hits >= 1


# --- wrong signatures --------------------------------------------------------------

def test_wrong_secret():
    assert error(InvalidSignature, signed(), secret="y" * 40) == (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")


def test_tampered_body():
    req = signed()
    req.body = b'{"Limit": 6}'
    assert error(InvalidSignature, req) == InvalidSignature.default_message


def test_tampered_signed_header():
    req = replace_header(signed(), b"x-amz-target", b"DynamoDB_20120810.DeleteTable")
    assert error(InvalidSignature, req) == InvalidSignature.default_message


def test_tampered_presigned_query():
    req = presigned()
    req.query_string = req.query_string.replace(b"X-Amz-Expires=300", b"X-Amz-Expires=600")
    assert error(InvalidSignature, req) == InvalidSignature.default_message


def test_non_ascii_signature_is_just_wrong():
    req = signed()
    auth = dict(req.headers)[b"authorization"]
    req = replace_header(req, b"authorization", auth[:-2] + "é".encode("latin-1") + b"0")
    assert error(InvalidSignature, req) == InvalidSignature.default_message


# --- time window ---------------------------------------------------------------------

def test_expired_timestamp():
    assert error(InvalidSignature, signed(), now=NOW + timedelta(minutes=10)) == (
        "Signature expired: 20250102T030405Z is now earlier than 20250102T030905Z (20250102T031405Z - 5 min.)")


def test_future_timestamp():
    assert error(InvalidSignature, signed(), now=NOW - timedelta(minutes=10)) == (
        "Signature not yet current: 20250102T030405Z is still later than 20250102T025905Z "
        "(20250102T025405Z + 5 min.)")


def test_skew_is_configurable_and_named_in_minutes():
    req = signed()
    with pytest.raises(InvalidSignature) as exc:
        verify(parse_auth(req), req, SECRET, NOW + timedelta(minutes=20), skew_seconds=900)
    assert exc.value.message == (
        "Signature expired: 20250102T030405Z is now earlier than 20250102T030905Z (20250102T032405Z - 15 min.)")


def test_time_checked_in_parse_when_now_given():
    with pytest.raises(InvalidSignature) as exc:
        parse_auth(signed(), now=NOW + timedelta(hours=1))
    assert exc.value.message.startswith("Signature expired: 20250102T030405Z is now earlier than ")


def test_expired_presigned_url():
    assert error(InvalidSignature, presigned(expires=60), now=NOW + timedelta(seconds=61)) == (
        "Signature expired: 20250102T030405Z is now earlier than 20250102T030406Z (20250102T030506Z - 1 min.)")


# --- missing and malformed authentication -------------------------------------------

def test_missing_authentication():
    req = replace_header(signed(), b"authorization", None)
    assert error(MissingAuthenticationToken, req) == "Request is missing Authentication Token"
    assert error(MissingAuthenticationToken, replace_header(req, b"authorization", b"Basic abc")) == (
        "Request is missing Authentication Token")


def test_partial_authorization_header():
    req = replace_header(replace_header(signed(), b"x-amz-date", None), b"authorization", b"AWS4-HMAC-SHA256 ")
    assert error(IncompleteSignature, req) == (
        "Authorization header requires 'Credential' parameter. "
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256 ")
    req = replace_header(signed(), b"authorization", b"AWS4-HMAC-SHA256 Credential=a/b/c/d/e, Signature=x")
    assert error(IncompleteSignature, req) == (
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization=AWS4-HMAC-SHA256 Credential=a/b/c/d/e, Signature=x")


def test_missing_equal_sign():
    auth = b"AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders"
    assert error(IncompleteSignature, replace_header(signed(), b"authorization", auth)) == (
        "'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: "
        "'AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders'.")


def _auth(credential: str, signed_headers: str = "host;x-amz-date", algorithm: str = "AWS4-HMAC-SHA256") -> bytes:
    return f"{algorithm} Credential={credential}, SignedHeaders={signed_headers}, Signature=abc".encode()


def test_bad_date_format():
    req = replace_header(signed(), b"x-amz-date", b"201")
    assert error(IncompleteSignature, req) == (
        "Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601")


def test_host_must_be_signed():
    req = replace_header(signed(), b"authorization", _auth(f"{KEY_ID}/20250102/us-east-1/dynamodb/aws4_request",
                                                           "x-amz-date"))
    assert error(InvalidSignature, req) == "'Host' must be a 'SignedHeader' in the AWS Authorization."


def test_unsupported_algorithm():
    req = replace_header(signed(), b"authorization", _auth("a/b/c/d/e", algorithm="AWS4-HMAC-SHA25"))
    assert error(IncompleteSignature, req) == (
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). ")


def test_credential_shape_and_scope():
    req = replace_header(signed(), b"authorization", _auth("a/b/c/d"))
    assert error(IncompleteSignature, req) == (
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'")
    check_trailing = replace_header(signed(), b"authorization", _auth("a/b/c/d/e//"))
    assert error(InvalidSignature, check_trailing).startswith("Credential should be scoped")
    req = replace_header(signed(), b"authorization", _auth("a/b//d/e"))
    assert error(InvalidSignature, req) == (
        "Credential should be scoped to a valid region, not ''. "
        "Credential should be scoped to correct service: 'dynamodb'. "
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. "
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
        "'b' != '20250102', from '20250102T030405Z'.")


def test_expected_region_enforced_when_given():
    with pytest.raises(InvalidSignature) as exc:
        parse_auth(signed(region="eu-west-1"), region="us-east-1")
    assert exc.value.message == "Credential should be scoped to a valid region, not 'eu-west-1'."


def test_both_header_and_query_auth():
    req = presigned()
    req.headers.append((b"authorization", _auth("a/b/c/d/e")))
    assert error(InvalidSignature, req) == (
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")


def test_partial_presigned_query():
    req = SigV4Request("POST", b"/", b"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20250102T030405Z",
                       [(b"host", b"localhost")], b"{}")
    assert error(IncompleteSignature, req) == (
        "AWS query-string parameters must include 'X-Amz-Credential'. "
        "AWS query-string parameters must include 'X-Amz-Signature'. "
        "AWS query-string parameters must include 'X-Amz-SignedHeaders'. "
        "Re-examine the query-string parameters.")


def test_date_header_stands_in_for_x_amz_date():
    req = AWSRequest(method="POST", url=URL, data=b"{}", headers={**HEADERS, "Date": "x"})
    _sign(SigV4Auth(Credentials(KEY_ID, SECRET), "dynamodb", "us-east-1"), req)
    wire = to_wire(req, b"{}")
    assert dict(wire.headers).get(b"x-amz-date") is None
    info = parse_auth(wire)
    assert info.amz_date == STAMP
    verify(info, wire, SECRET, NOW)


def test_canonical_request_matches_botocore():
    url = "https://localhost:8443/a/./b//c/../d%20e/?z=1&a=b%2Fc&a=a&empty="
    headers = {**HEADERS, "X-Custom": "  spaced    out  value "}
    req = AWSRequest(method="POST", url=url, data=b"{}", headers=dict(headers))
    auth = SigV4Auth(Credentials(KEY_ID, SECRET), "dynamodb", "us-east-1")
    req.context["timestamp"] = STAMP
    auth._modify_request_before_signing(req)
    expected = auth.canonical_request(req)
    auth._inject_signature_to_request(req, auth.signature(auth.string_to_sign(req, expected), req))
    wire = to_wire(req, b"{}")
    assert sigv4.canonical_request(parse_auth(wire), wire, sigv4._payload_hashes(parse_auth(wire), wire)[0]) == expected
