"""Compressed request and response bodies (HTTP content codings), as DynamoDB has them.

Requests: `Content-Encoding: gzip` or `deflate` bodies are decompressed before
they are parsed (the SigV4 payload hash stays that of the bytes as sent). The
inflated size is bounded by the same 16 MB as a plain body, checked as it
inflates, so a small "gzip bomb" costs at most 16 MB of output and is refused.
DynamoDB answers an unknown coding, and a body that does not decompress, with
HTTP 500; so does this server (errors.UndecodableBody), with nothing done.

Responses: a body of at least 4 KB (DynamoDB's threshold) is compressed when
the request's Accept-Encoding accepts gzip or deflate, chosen the way DynamoDB
chooses (measured by ScyllaDB's Alternator tests against DynamoDB: q-values,
`*`, first listed wins a tie, explicit beats `*`, `identity` ignored). The
x-amz-crc32 header is then the CRC32 of the compressed bytes as sent, which is
what botocore checks (it reads the raw, undecoded body: retryhandler.CRC32Checker).
"""
from __future__ import annotations

import zlib

from . import errors

MAX_BODY_BYTES = 16 * 1024 * 1024  # DynamoDB's request limit, compressed or not
COMPRESS_MIN_BYTES = 4096  # DynamoDB compresses responses from 4 KB on
_CODINGS = ("gzip", "deflate")
_CHUNK = 256 * 1024  # compressed input fed to zlib per step
# "amz-1.0" is the AWS JSON protocol's own marker, sent by clients that write the
# protocol by hand (Coral reads it as no coding at all).
_IDENTITY = frozenset({b"identity", b"amz-1.0", b"amz-1.1"})


def decode_body(body: bytes, content_encoding: bytes) -> bytes:
    """The body with its content codings undone (applied left to right, so undone
    right to left). RequestTooLarge past 16 MB inflated; UndecodableBody for an
    unknown coding or bytes that are not what the header says."""
    codings = [c.strip().lower() for c in content_encoding.split(b",")]
    codings = [c for c in codings if c and c not in _IDENTITY]
    for coding in reversed(codings):
        if coding in (b"gzip", b"x-gzip"):
            body = _inflate(body, 16 + zlib.MAX_WBITS, members=True)
        elif coding == b"deflate":
            body = _inflate(body, zlib.MAX_WBITS, members=False)
        else:
            raise errors.UndecodableBody()
    return body


def _inflate(data: bytes, wbits: int, members: bool) -> bytes:
    """Decompress incrementally, never holding more than the limit: each step's
    output is capped at what is left of it. gzip allows concatenated members."""
    out: list[bytes] = []
    size = 0
    pending = memoryview(data)
    if not pending:
        raise errors.UndecodableBody()
    while True:
        inflater = zlib.decompressobj(wbits)
        view = pending
        while not inflater.eof:
            if not view and not inflater.unconsumed_tail:
                raise errors.UndecodableBody()  # truncated
            source = inflater.unconsumed_tail or view[:_CHUNK]
            if not inflater.unconsumed_tail:
                view = view[_CHUNK:]
            try:
                chunk = inflater.decompress(source, MAX_BODY_BYTES + 1 - size)
            except zlib.error:
                raise errors.UndecodableBody() from None
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise errors.RequestTooLarge()
            out.append(chunk)
        rest = inflater.unused_data + bytes(view)
        if not rest:
            return b"".join(out)
        if not members:
            raise errors.UndecodableBody()  # bytes after the end of the stream
        pending = memoryview(rest)  # another gzip member, or junk (refused by zlib)


def response_coding(accept_encoding: bytes | None) -> str | None:
    """gzip, deflate or None (identity) for this Accept-Encoding header."""
    if not accept_encoding:
        return None
    explicit: dict[str, tuple[float, int]] = {}  # coding -> (best q, first position)
    star: float | None = None
    for position, entry in enumerate(accept_encoding.decode("latin-1").split(",")):
        name, *params = entry.split(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                q = _quality(value.strip())
                break  # the first q counts
        if name == "*":
            star = q if star is None else max(star, q)
        elif name in _CODINGS:
            best, first = explicit.get(name, (0.0, position))
            explicit[name] = (max(best, q), first)
    ranked = []
    for rank, coding in enumerate(_CODINGS):
        if coding in explicit:
            q, position = explicit[coding]
            ranked.append((q, 1, -position, coding))
        elif star is not None:
            ranked.append((star, 0, -rank, coding))  # `*`: gzip before deflate
    ranked = [r for r in ranked if r[0] > 0]
    return max(ranked)[3] if ranked else None


def _quality(text: str) -> float:
    try:
        q = float(text)
    except ValueError:
        return 1.0  # DynamoDB takes an unreadable q as 1
    if not q >= 0:  # negative, NaN
        return 0.0
    return min(q, 1.0)


def compress(body: bytes, coding: str) -> bytes:
    """Level 1: JSON compresses well at it, and a 16 MB response costs ~50 ms, not ~300."""
    wbits = 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS
    compressor = zlib.compressobj(1, zlib.DEFLATED, wbits)
    return compressor.compress(body) + compressor.flush()
