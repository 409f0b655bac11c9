"""The DynamoDB endpoint as a plain ASGI callable.

Deliberately outside Django's request handling: Django's ASGIHandler costs
milliseconds per request in thread hops (see shared/DESIGN.md), while this
path stays on the event loop from socket to database and back.

Order of checks follows DynamoDB: content type, JSON body, target,
authentication, request shape, then the operation itself.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import random
import time
import zlib
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

import orjson
from django.conf import settings

from storage.backends import StaleSchema

from . import audit, background, authz, content_coding, errors, observe, shapes, sigv4, throttle
from .dispatch import SERVICES, STALE_RETRIES, Request, handler_for, handlers
from .runtime import get_runtime, shutdown

log = logging.getLogger("extenddb.wireapi")

MAX_REQUEST_BYTES = content_coding.MAX_BODY_BYTES
_JSON_TYPES = {b"application/x-amz-json-1.0", b"application/x-amz-json-1.1", b"application/json"}
_REPLY_TYPES = {b"application/x-amz-json-1.0", b"application/x-amz-json-1.1"}
_HEALTH = b"healthy: dynamodb.local "


def request_id() -> str:
    """52 characters of [0-9A-F], the length and alphabet class of DynamoDB's.

    An identifier, not a secret: the process's PRNG (reseeded per worker by
    uvicorn's spawn) rather than a getrandom() system call per request."""
    return f"{random.getrandbits(208):052X}"


# How an answer leaves: status, headers, body (the ASGI adapter below sends two
# messages; extenddb_site.http_endpoint writes the bytes to the connection itself).
Respond = Callable[[int, list[tuple[bytes, bytes]], bytes], Awaitable[None]]


class _Disconnected(Exception):
    """The client went away (or was cut off) before its body was complete."""


async def _read_body(receive: Any) -> bytes | None:
    """The whole body, or None once it grows past DynamoDB's 16 MB limit."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected()  # never act on a partial body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _reply(respond: Respond, status: int, body: bytes, content_type: bytes, rid: str,
                 accept_encoding: bytes | None = None) -> None:
    headers = [(b"content-type", content_type)]
    if accept_encoding and len(body) >= content_coding.COMPRESS_MIN_BYTES:
        coding = content_coding.response_coding(accept_encoding)
        if coding is not None:
            if len(body) > _THREAD_COMPRESS_BYTES:  # zlib lets go of the GIL: others are served meanwhile
                body = await asyncio.to_thread(content_coding.compress, body, coding)
            else:
                body = content_coding.compress(body, coding)
            headers.append((b"content-encoding", coding.encode()))
    headers += [
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-requestid", rid.encode()),
        # Of the bytes as sent (compressed or not): what botocore and the other SDKs check.
        (b"x-amz-crc32", str(zlib.crc32(body)).encode()),
    ]
    await respond(status, headers, body)


_THREAD_COMPRESS_BYTES = 1024 * 1024


def _error_body(exc: errors.DynamoDBError) -> bytes:
    return orjson.dumps(exc.body())


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if multiprocessing.parent_process() is not None:
                # A uvicorn worker: go when `serve` goes, even if it was SIGKILLed,
                # rather than keep the port as an orphan.
                background.die_with_parent(os.getppid())
            runtime = get_runtime()
            try:
                await runtime.backend.open()
            except Exception as exc:  # the database may come up later; requests retry
                log.warning("storage not reachable at startup: %s", exc)
            runtime.generation.read()  # starts listening for changes made by other servers
            settle_heap()
            observe.start()
            throttle.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await audit.flush()  # the last second of the access log
            except Exception as exc:
                log.warning("access log not flushed at shutdown: %s", exc)
            observe.stop()
            throttle.stop()
            await shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


def settle_heap() -> None:
    """Load what every request needs (the first request no longer pays for the
    imports), then hide the startup heap from the cyclic collector.

    A full collection scans every live object: in a worker (Django, botocore's
    DynamoDB model: ~100k objects) that is ~27 ms during which every request in
    flight on the worker waits, which set the p99. Frozen objects are never
    scanned; garbage made by requests is collected as before."""
    for service in SERVICES.values():
        shapes.operation_names(service)
    handlers()  # imports every operation module
    gc.collect()
    gc.freeze()


async def application(scope: dict, receive: Any, send: Any) -> None:
    """The endpoint as an ASGI application (uvicorn's cycle, tests, another ASGI server)."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return

    async def respond(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    if scope["method"] == "GET":
        await serve(scope, b"", respond)
        return
    slot = take_slot()  # held while the body arrives: slow bodies count against the cap
    try:
        body = await _read_body(receive) if slot else b""
    except _Disconnected:
        release_slot()
        return
    await serve(scope, body, respond, slot)


async def serve(scope: dict, body: bytes | None, respond: Respond, slot: bool | None = None) -> None:
    """Answer one endpoint request whose body has been read whole (None: it grew past
    the 16 MB limit); `scope` holds what ASGI's would: method, path, raw_path,
    query_string, headers (lower-case names), client, scheme. `slot`: whether the caller
    already took (True) or was refused (False) an in-flight slot; None takes one here."""
    rid = request_id()
    headers = dict(scope["headers"])
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip()
    # The client's own version echoed, as DynamoDB does (and never other bytes of its header).
    reply_type = content_type if content_type in _REPLY_TYPES else b"application/x-amz-json-1.0"

    if scope["method"] == "GET":
        await _reply(respond, 200, _HEALTH, b"text/plain", rid)
        return
    if slot is None:
        slot = take_slot()
    if not slot:
        # Overloaded: answer at once, in DynamoDB's shape, rather than queue without bound.
        exc = errors.ServiceUnavailable()
        await _reply(respond, exc.status, _error_body(exc), reply_type, rid)
        observe.shed()
        return
    try:
        await _serve_request(scope, body, respond, headers, content_type, reply_type, rid)
    finally:
        release_slot()


# Requests this worker is handling now (from their headers on), and the cap
# (settings.EXTENDDB_MAX_INFLIGHT).
_inflight = 0
_inflight_cap: int | None = None


def take_slot() -> bool:
    """Count one more request in flight; False (nothing counted) when the worker is full."""
    global _inflight, _inflight_cap
    if _inflight_cap is None:
        _inflight_cap = int(getattr(settings, "EXTENDDB_MAX_INFLIGHT", 256))
    if _inflight >= _inflight_cap:
        return False
    _inflight += 1
    return True


def release_slot() -> None:
    global _inflight
    _inflight -= 1


async def _serve_request(scope: dict, body: bytes | None, respond: Respond, headers: dict[bytes, bytes],
                         content_type: bytes, reply_type: bytes, rid: str) -> None:
    started = time.perf_counter()
    if body is None:
        exc: errors.DynamoDBError = errors.RequestTooLarge()
        await _reply(respond, exc.status, _error_body(exc), reply_type, rid)
        return
    if scope["method"] != "POST" or (body and content_type not in _JSON_TYPES):
        await _reply(respond, 404, b"<UnknownOperationException/>\n", b"text/plain", rid)
        return
    seen = _Seen()
    message = None
    accept_encoding = headers.get(b"accept-encoding")
    try:
        coding = headers.get(b"content-encoding")
        decoded = content_coding.decode_body(body, coding) if coding else body
        status, payload, outcome = 200, await _handle(scope, headers, body, decoded, rid, seen), "OK"
    except errors.DynamoDBError as exc:
        status, payload, outcome, message = exc.status, _error_body(exc), exc.type_name.rpartition("#")[2], exc.message
    except Exception:
        log.exception("internal error in request %s", rid)
        get_runtime().backend.connection_lost()  # if it was a broken connection, weed out its likes
        exc = errors.InternalServerError()
        status, payload, outcome = exc.status, _error_body(exc), "InternalServerError"
    await _reply(respond, status, payload, reply_type, rid, accept_encoding)
    audit.record(scope, rid, seen.principal, seen.access_key_id, seen.operation, seen.table_name, outcome,
                 seen.served_by, message, round((time.perf_counter() - started) * 1000, 3))
    observe.request(scope, rid, seen, outcome, status, started, len(body), len(payload))


class _Seen:
    """What the audit log needs to know of a request, filled in as it is understood."""

    __slots__ = ("principal", "access_key_id", "operation", "table_name", "served_by")

    def __init__(self) -> None:
        self.principal = self.access_key_id = self.operation = self.table_name = self.served_by = None


async def _handle(scope: dict, headers: dict[bytes, bytes], raw: bytes, body: bytes, rid: str,
                  seen: _Seen) -> bytes:
    """`raw` is the body as sent (what the signature covers), `body` it decompressed."""
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        raise errors.SerializationException() from None
    target = headers.get(b"x-amz-target", b"").decode("latin-1")
    service_prefix, _, operation = target.partition(".")
    service = SERVICES.get(service_prefix)
    if service is None or operation not in shapes.operation_names(service):
        raise errors.UnknownOperationException()

    seen.operation = operation
    runtime = get_runtime()
    sreq = sigv4.SigV4Request(scope["method"], scope.get("raw_path") or scope["path"].encode(),
                              scope.get("query_string", b""), scope["headers"], raw)
    now, skew = datetime.now(timezone.utc), settings.EXTENDDB_SIGV4_SKEW_SECONDS
    auth = sigv4.parse_auth(sreq, now, skew, region=settings.EXTENDDB_REGION)  # DynamoDB's regional endpoint
    credential = await runtime.credentials.lookup(auth.access_key_id)
    # An expired key is refused as DynamoDB refuses an inactive one (same error and text).
    if credential is None or not credential.usable(now.timestamp()):
        raise errors.UnrecognizedClient()
    seen.access_key_id = auth.access_key_id
    sigv4.verify(auth, sreq, credential.secret, now, skew)
    seen.principal = credential.user_name

    if not isinstance(data, dict):
        raise errors.SerializationException()
    shapes.validate_request(service, operation, data)
    table_name = data.get("TableName")
    seen.table_name = table_name if isinstance(table_name, str) else None
    request = Request(runtime, credential, rid, scope)
    result = await run_operation(request, service, operation, data, body)
    if request.reads is not None:
        seen.served_by = request.reads.source
    return result if isinstance(result, bytes) else orjson.dumps(result)


async def run_operation(request: Request, service: str, operation: str, data: dict[str, Any],
                        body: bytes) -> dict[str, Any] | bytes:
    """Authorise and run one validated operation (the endpoint's and the console's way in)."""
    handler = handler_for(service, operation)
    for attempt in range(STALE_RETRIES):
        try:
            await authz.authorize(request, service, operation, data)
            return await handler(request, data)
        except StaleSchema:
            # The table changed (through another server, most likely) after this request
            # read its definition and before its write committed: nothing was written.
            # Redo it against the table as it is now.
            request.runtime.catalog.invalidate()
            if attempt == STALE_RETRIES - 1:
                raise errors.InternalServerError() from None
            data = orjson.loads(body)  # handlers may have consumed the parsed body
            shapes.validate_request(service, operation, data)
    raise AssertionError("unreachable")
