"""The DynamoDB endpoint's requests served straight from the HTTP parser.

Every SDK call is `POST /` with a JSON body. Through ASGI each one costs a
scope, a RequestResponseCycle with its asyncio.Event, a task that awaits
receive() for the body, two send() messages whose headers uvicorn checks one
by one against regular expressions, and the routing frames of
extenddb_site.asgi. Here such a request is gathered by the parser callbacks
and, once its body is whole, handed to wireapi.app.serve in one task; the
answer leaves in one write. Everything else (the console, the admin, health
checks, websockets, `Expect: 100-continue`, anything past uvicorn's
concurrency limit) takes uvicorn's ASGI path unchanged, and so does the
endpoint under another ASGI server (wireapi.app.application).

A direct request is a cycle to uvicorn's bookkeeping: it has the attributes
uvicorn reads (response_complete, keep_alive, disconnected, message_event)
and starts through run_asgi, so pipelining, graceful shutdown (which waits
for server_state.tasks), limit_max_requests and the keep-alive timer behave
as for any other request. `manage.py serve` passes this class as uvicorn's
`http` protocol.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from wireapi.app import MAX_REQUEST_BYTES, release_slot, serve, take_slot

from .http_timeouts import DeadlineHttpToolsProtocol

log = logging.getLogger("extenddb.http")

_SERVER_ERROR = (b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain; charset=utf-8\r\n"
                 b"content-length: 21\r\nconnection: close\r\n\r\nInternal Server Error")


class DirectCycle:
    """One `POST /` request: its body as it arrives, then its answer."""

    __slots__ = ("protocol", "scope", "keep_alive", "chunks", "size", "too_large", "read", "started",
                 "pipelined", "slot", "waiter", "response_complete", "disconnected")

    def __init__(self, protocol: EndpointHttpProtocol, scope: dict[str, Any], keep_alive: bool,
                 pipelined: bool) -> None:
        self.protocol = protocol
        self.scope = scope
        self.keep_alive = keep_alive
        self.chunks: list[bytes] = []
        self.size = 0
        self.too_large = False  # past 16 MB: answered at once, the rest of the body ignored
        self.read = False  # the body is whole
        self.started = False  # its task is started (or scheduled)
        self.pipelined = pipelined  # behind an unanswered request: uvicorn's pipeline starts it
        # wireapi.app's in-flight slot, taken as the head arrives (slow bodies count against the
        # cap, as on the ASGI path); refused: answered 503 at once. A pipelined request takes
        # its own when it starts.
        self.slot: bool | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.response_complete = False
        self.disconnected = False
        if not pipelined:
            self.slot = take_slot()
            if not self.slot:
                protocol.start_direct(self)

    @property
    def message_event(self) -> DirectCycle:
        return self  # uvicorn's connection_lost calls message_event.set(): see set()

    def set(self) -> None:
        """The connection went away (or the body is whole): wake a task waiting for its body."""
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        elif self.disconnected and not self.started and self.slot:
            self.slot = None  # it will never run: give its slot back
            release_slot()

    def add(self, chunk: bytes) -> None:
        if self.too_large or self.response_complete:
            return
        self.size += len(chunk)
        if self.size > MAX_REQUEST_BYTES:
            self.too_large, self.chunks = True, []
            self._ready()  # DynamoDB answers as soon as the limit is passed
        else:
            self.chunks.append(chunk)

    def body_complete(self) -> None:
        if not self.too_large:
            self.read = True
            self._ready()

    def _ready(self) -> None:
        if self.started:
            self.set()
        elif not self.pipelined:
            self.protocol.start_direct(self)

    async def run_asgi(self, app: Any) -> None:
        """Serve the request (the name is uvicorn's: its pipeline starts every cycle through it)."""
        self.started = True
        if self.slot is False:  # the worker is full: no need for the body
            await serve(self.scope, b"", self.respond, False)
            return
        if not (self.read or self.too_large):  # started by the pipeline before its body came
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
            if not (self.read or self.too_large):
                if self.slot:
                    release_slot()
                return  # disconnected: never act on a partial body
        body = None if self.too_large else b"".join(self.chunks)
        self.chunks = []
        try:
            await serve(self.scope, body, self.respond, self.slot)
        except Exception:  # serve() answers its own errors: this is a bug, answered as uvicorn would
            log.exception("internal error in the endpoint")
            if not self.response_complete and not self.disconnected:
                self.protocol.transport.write(_SERVER_ERROR)
                self.protocol.transport.close()

    async def respond(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if self.disconnected or self.response_complete:
            return
        protocol = self.protocol
        parts = [STATUS_LINE[status]]
        for name, value in protocol.server_state.default_headers:  # date (and server, if configured)
            parts += (name, b": ", value, b"\r\n")
        for name, value in headers:
            parts += (name, b": ", value, b"\r\n")
        if not self.keep_alive:
            parts.append(b"connection: close\r\n")
        parts += (b"\r\n", body)
        protocol.transport.write_whole(b"".join(parts))  # type: ignore[attr-defined]
        self.response_complete = True
        if not self.keep_alive:
            protocol.transport.close()
        protocol.on_response_complete()


class EndpointHttpProtocol(DeadlineHttpToolsProtocol):
    """uvicorn's httptools protocol (with deadlines and joined writes), `POST /` served directly."""

    def on_headers_complete(self) -> None:
        if not self._direct():
            super().on_headers_complete()
            return
        scope = self.scope
        scope.update(method="POST", path="/", raw_path=b"/", query_string=b"")
        http_version = self.parser.get_http_version()
        if http_version != "1.1":
            scope["http_version"] = http_version
        existing = self.cycle
        pipelined = existing is not None and not existing.response_complete
        self.cycle = cycle = DirectCycle(self, scope, http_version != "1.0" and self.parser.should_keep_alive(),
                                         pipelined)
        if pipelined:
            self.flow.pause_reading()
            self.pipeline.appendleft((cycle, None))  # type: ignore[arg-type]
        self.head_complete()

    def _direct(self) -> bool:
        # The routing of extenddb_site.asgi sends every request for "/" to the endpoint.
        if self.url != b"/" or self.expect_100_continue or self.parser.get_method() != b"POST":
            return False
        if self.parser.should_upgrade():
            return False
        limit = self.limit_concurrency  # past it, uvicorn's own 503 (its ASGI path)
        return limit is None or (len(self.connections) < limit and len(self.tasks) < limit)

    def start_direct(self, cycle: DirectCycle) -> None:
        cycle.started = True
        self._start_asgi_task(cycle, None)  # type: ignore[arg-type]

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if type(cycle) is DirectCycle:
            cycle.add(body)
        else:
            super().on_body(body)

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if type(cycle) is DirectCycle:
            cycle.body_complete()
            self.message_complete()
        else:
            super().on_message_complete()
