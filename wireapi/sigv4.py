"""AWS Signature Version 4 verification, as DynamoDB's front end (Coral) does it.

Pure: no Django, no database. The caller parses, looks the access key up
itself (unknown key -> UnrecognizedClient, its business), then verifies:

    info = parse_auth(req, now=now, skew_seconds=skew)   # shape, date, scope
    secret = lookup(info.access_key_id)
    verify(info, req, secret, now, skew)                 # time window, signature

Checks run in Coral's order (as recorded by dynalite): key=value syntax,
required parameters, date format, expiry, Host signed, algorithm, credential
shape, credential scope; then the key lookup; then the signature. Error texts
are AWS's, byte for byte, because SDKs and applications match on them.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import cached_property, lru_cache
from urllib.parse import quote, unquote

from .errors import IncompleteSignature, InvalidSignature, MissingAuthenticationToken

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
BASIC_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_PRESIGN_EXPIRES = 604800  # one week, the SigV4 maximum

_HEADER_PARAMS = ("Credential", "Signature", "SignedHeaders")
_QUERY_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date")


@dataclass
class SigV4Request:
    method: str
    path: str | bytes  # raw (still percent-encoded) path, e.g. ASGI raw_path
    query_string: bytes  # raw ASGI query string, without "?"
    headers: list[tuple[bytes, bytes]]  # raw ASGI header list, lower-case names
    body: bytes

    @cached_property
    def header_values(self) -> dict[str, list[str]]:
        """Every value of each header, by lower-case name, in arrival order.

        Built once: a request's signature check reads five headers and
        canonicalises the signed ones (a scan of the list each was ~40% of it)."""
        grouped: dict[str, list[str]] = {}
        for name, value in self.headers:
            grouped.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        return grouped


@dataclass(frozen=True, slots=True)
class AuthInfo:
    access_key_id: str
    date: str  # credential scope date, yyyymmdd
    region: str
    service: str
    signed_headers: tuple[str, ...]  # lower-case, as listed by the client
    signature: str
    amz_date: str  # request time in ISO-8601 basic format, as signed
    presigned: bool
    expires: int | None  # X-Amz-Expires (presigned only)
    algorithm: str = ALGORITHM
    security_token: str | None = None  # X-Amz-Security-Token; we issue no session tokens

    @property
    def credential_scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{TERMINATOR}"

    @property
    def timestamp(self) -> datetime:
        return parse_basic(self.amz_date)


# --- parsing -------------------------------------------------------------------

def _header(req: SigV4Request, name: str) -> str | None:
    """All values of one header, comma-joined (as HTTP folds repeats); None if absent."""
    values = req.header_values.get(name)
    return ",".join(values) if values else None


def _query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    """Decoded (name, value) pairs; "+" stays literal, as in SigV4 canonicalisation."""
    pairs: list[tuple[str, str]] = []
    if not query_string:
        return pairs
    for part in query_string.decode("latin-1").split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def _parse_header_params(auth_header: str) -> tuple[str, dict[str, str]]:
    algorithm, _, rest = auth_header.strip().partition(" ")
    params: dict[str, str] = {}
    for token in rest.replace(",", " ").split():
        name, eq, value = token.partition("=")
        if not eq:
            raise IncompleteSignature(
                f"'{name}' not a valid key=value pair (missing equal-sign) in Authorization header: "
                f"'{auth_header}'.")
        params[name] = value
    return algorithm, params


@lru_cache(maxsize=256)
def parse_basic(value: str) -> datetime:
    """yyyymmddThhmmssZ -> aware datetime. Every request parses one; strptime
    costs ~14 µs, slicing ~1 µs, and repeated stamps hit the cache."""
    if len(value) != 16 or value[8] != "T" or value[15] != "Z" or not (value[:8] + value[9:15]).isdigit():
        raise ValueError(value)
    return datetime(int(value[0:4]), int(value[4:6]), int(value[6:8]), int(value[9:11]),
                    int(value[11:13]), int(value[13:15]), tzinfo=timezone.utc)


def _basic_date(value: str) -> str:
    """Validate an X-Amz-Date value; Coral wants exactly yyyymmddThhmmssZ."""
    try:
        parse_basic(value)
    except ValueError:
        raise IncompleteSignature(
            f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601") from None
    return value


def _http_date(value: str) -> str:
    """A Date header (RFC 7231) stands in for X-Amz-Date; sign with its basic form."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None:
        raise IncompleteSignature(
            f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).strftime(BASIC_FORMAT)


def parse_auth(req: SigV4Request, now: datetime | None = None, skew_seconds: int = 300,
               region: str | None = None, service: str = "dynamodb") -> AuthInfo:
    """Read and check the signature's shape and scope; everything short of the secret.

    Pass `now` to have the time window checked here, in Coral's order (before the
    key lookup); verify() checks it again either way. `region`, if given, is the
    only credential-scope region accepted (None accepts any, like a local endpoint).
    """
    auth_header = _header(req, "authorization")
    query = dict(_query_pairs(req.query_string))  # a repeated name: the last one wins
    presigned = "X-Amz-Algorithm" in query

    if auth_header is not None and presigned:
        raise InvalidSignature(
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
    if (auth_header is None and not presigned) or (
            auth_header is not None and not auth_header.strip().startswith("AWS4-")):
        raise MissingAuthenticationToken()

    expires: int | None = None
    if auth_header is not None:
        algorithm, params = _parse_header_params(auth_header)
        amz_date = _header(req, "x-amz-date")
        http_date = _header(req, "date")
        msg = "".join(f"Authorization header requires '{p}' parameter. " for p in _HEADER_PARAMS if not params.get(p))
        if amz_date is None and http_date is None:
            msg += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        if msg:
            raise IncompleteSignature(msg + "Authorization=" + auth_header)
        credential, signature = params["Credential"], params["Signature"]
        signed_headers = params["SignedHeaders"]
        stamp = _basic_date(amz_date) if amz_date is not None else _http_date(http_date or "")
        security_token = _header(req, "x-amz-security-token")
    else:
        msg = "".join(f"AWS query-string parameters must include '{p}'. " for p in _QUERY_PARAMS if not query.get(p))
        if msg:
            raise IncompleteSignature(msg + "Re-examine the query-string parameters.")
        algorithm, credential = query["X-Amz-Algorithm"], query["X-Amz-Credential"]
        signature, signed_headers = query["X-Amz-Signature"], query["X-Amz-SignedHeaders"]
        stamp = _basic_date(query["X-Amz-Date"])
        expires = _parse_expires(query.get("X-Amz-Expires"))
        security_token = query.get("X-Amz-Security-Token")

    header_names = _signed_header_names(signed_headers)
    if now is not None:
        _check_window(stamp, presigned, expires, now, skew_seconds)
    if "host" not in header_names:
        raise InvalidSignature("'Host' must be a 'SignedHeader' in the AWS Authorization.")
    if algorithm != ALGORITHM:
        raise IncompleteSignature(f"Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). ")

    parts = credential.rstrip("/").split("/")  # Coral ignores trailing slashes
    if len(parts) != 5:
        raise IncompleteSignature(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{credential}'")
    key_id, scope_date, scope_region, scope_service, terminator = parts
    problems = []
    if not scope_region or (region is not None and scope_region != region):
        problems.append(f"Credential should be scoped to a valid region, not '{scope_region}'.")
    if scope_service != service:
        problems.append(f"Credential should be scoped to correct service: '{service}'.")
    if terminator != TERMINATOR:
        problems.append(f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'.")
    if scope_date != stamp[:8]:
        problems.append(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{scope_date}' != '{stamp[:8]}', from '{stamp}'.")
    if problems:
        raise InvalidSignature(" ".join(problems))

    return AuthInfo(key_id, scope_date, scope_region, scope_service, header_names, signature, stamp,
                    presigned, expires, algorithm, security_token)


@lru_cache(maxsize=64)
def _signed_header_names(signed_headers: str) -> tuple[str, ...]:
    # A client signs the same header list on every call.
    return tuple(h.strip().lower() for h in signed_headers.split(";") if h.strip())


def _parse_expires(value: str | None) -> int | None:
    # Texts from S3's presigned-URL checks; Coral's own are not documented.
    if value is None:
        return None
    try:
        seconds = int(value)
    except ValueError:
        raise IncompleteSignature("X-Amz-Expires should be a number") from None
    if seconds < 0:
        raise IncompleteSignature("X-Amz-Expires must be non-negative")
    if seconds > MAX_PRESIGN_EXPIRES:
        raise IncompleteSignature(f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}")
    return seconds


# --- time window -----------------------------------------------------------------

def _fmt(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(BASIC_FORMAT)


def _span(seconds: int) -> str:
    return f"{seconds // 60} min." if seconds % 60 == 0 else f"{seconds} sec."


def check_time(info: AuthInfo, now: datetime, skew_seconds: int = 300) -> None:
    """Reject stale or future-dated signatures with Coral's texts.

    Header-signed: the request time must be within the skew of now. Presigned:
    valid from (time - skew) until (time + X-Amz-Expires).
    """
    _check_window(info.amz_date, info.presigned, info.expires, now, skew_seconds)


@lru_cache(maxsize=256)
def _epoch(amz_date: str) -> int:
    return int(parse_basic(amz_date).timestamp())


def _check_window(amz_date: str, presigned: bool, expires: int | None, now: datetime, skew_seconds: int) -> None:
    # Whole seconds, as Coral compares; datetimes are built only for the error texts.
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    now_s = int(now.timestamp())
    signed_s = _epoch(amz_date)
    if signed_s > now_s + skew_seconds:
        now = now.replace(microsecond=0)
        skew = timedelta(seconds=skew_seconds)
        raise InvalidSignature(
            f"Signature not yet current: {amz_date} is still later than {_fmt(now + skew)} "
            f"({_fmt(now)} + {_span(skew_seconds)})")
    window = expires if presigned and expires is not None else skew_seconds
    if signed_s < now_s - window:
        now = now.replace(microsecond=0)
        raise InvalidSignature(
            f"Signature expired: {amz_date} is now earlier than {_fmt(now - timedelta(seconds=window))} "
            f"({_fmt(now)} - {_span(window)})")


# --- canonical request and signature --------------------------------------------

def _remove_dot_segments(path: str) -> str:
    # As botocore (RFC 3986 5.2.4, plus AWS's collapsing of repeated slashes).
    out: list[str] = []
    for seg in path.split("/"):
        if seg and seg != ".":
            if seg == "..":
                if out:
                    out.pop()
            else:
                out.append(seg)
    result = "/" + "/".join(out)
    if path.endswith("/") and result != "/":
        result += "/"
    return result


@lru_cache(maxsize=256)  # endpoints are called on "/" (or a few fixed paths)
def canonical_path(raw_path: str | bytes) -> str:
    """Non-S3 services encode the already-encoded path once more, as SDKs sign it."""
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else raw_path
    path = path.split("?", 1)[0] or "/"
    return quote(_remove_dot_segments(path), safe="/~")


def canonical_query(query_string: bytes, presigned: bool) -> str:
    if not query_string:
        return ""
    pairs = [(quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in _query_pairs(query_string)
             if not (presigned and k == "X-Amz-Signature")]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


@lru_cache(maxsize=64)
def _sorted_names(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(set(names)))


def canonical_headers(req: SigV4Request, names: tuple[str, ...]) -> str:
    values = req.header_values
    lines = []
    for name in _sorted_names(names):
        # Trimall: strip, and collapse inner runs of spaces to one.
        lines.append(f"{name}:{','.join([' '.join(v.split()) for v in values.get(name, ())])}\n")
    return "".join(lines)


def _payload_hashes(info: AuthInfo, req: SigV4Request) -> list[str]:
    """The payload hash(es) the client may have signed with.

    A declared x-amz-content-sha256 is what was signed, so it must match the body
    (else the body could be swapped under a valid signature). Presigned URLs
    cannot sign a body: accept UNSIGNED-PAYLOAD, the body's hash, and the empty
    hash (botocore's SigV4QueryAuth moves a JSON body into the query and signs an
    empty payload).
    """
    body_hash = hashlib.sha256(req.body).hexdigest()
    declared = _header(req, "x-amz-content-sha256")
    if declared is None and info.presigned:
        declared = dict(_query_pairs(req.query_string)).get("X-Amz-Content-Sha256")
    if declared is not None:
        declared = declared.strip()
        if declared != UNSIGNED_PAYLOAD and declared.lower() != body_hash:
            raise InvalidSignature()
        return [declared]
    if info.presigned:
        return [body_hash, UNSIGNED_PAYLOAD, EMPTY_SHA256]
    return [body_hash]


def canonical_request(info: AuthInfo, req: SigV4Request, payload_hash: str) -> str:
    names = _sorted_names(info.signed_headers)
    return "\n".join([
        req.method.upper(),
        canonical_path(req.path),
        canonical_query(req.query_string, info.presigned),
        canonical_headers(req, names),
        ";".join(names),
        payload_hash,
    ])


def string_to_sign(info: AuthInfo, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return "\n".join([ALGORITHM, info.amz_date, info.credential_scope, digest])


@lru_cache(maxsize=1024)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    # Valid for a whole day per (key, region, service): worth caching on the hot path.
    k = hmac.new(("AWS4" + secret).encode("utf-8"), date.encode("utf-8"), hashlib.sha256).digest()
    for part in (region, service, TERMINATOR):
        k = hmac.new(k, part.encode("utf-8"), hashlib.sha256).digest()
    return k


def signature_for(info: AuthInfo, req: SigV4Request, secret: str, payload_hash: str) -> str:
    key = _signing_key(secret, info.date, info.region, info.service)
    sts = string_to_sign(info, canonical_request(info, req, payload_hash))
    return hmac.digest(key, sts.encode("utf-8"), "sha256").hex()  # one-shot: OpenSSL's HMAC, no hmac object


def verify(info: AuthInfo, req: SigV4Request, secret: str, now: datetime, skew_seconds: int = 300) -> None:
    """Raise InvalidSignature unless the request is fresh and signed with `secret`."""
    check_time(info, now, skew_seconds)
    given = info.signature.encode("latin-1", "replace")
    matched = False
    for payload_hash in _payload_hashes(info, req):
        expected = signature_for(info, req, secret, payload_hash).encode("ascii")
        matched |= hmac.compare_digest(expected, given)  # no early exit: constant work per candidate
    if not matched:
        raise InvalidSignature()
