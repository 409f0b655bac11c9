"""uvicorn's httptools protocol with deadlines against slow clients.

uvicorn bounds only the idle time between keep-alive requests. A client that
opens a connection and sends nothing, trickles its headers (slowloris) or
sends headers and then trickles the body would hold a connection, and a
concurrency slot, for ever. Here each request must deliver its headers within
EXTENDDB_HEADER_TIMEOUT_SECONDS of its first byte (or of the connection
opening) and its whole body within EXTENDDB_BODY_TIMEOUT_SECONDS of the
headers; past that the connection is closed. The application sees a
disconnect and answers nothing (wireapi.app never acts on a partial body).

Graceful shutdown drops idle keep-alive connections at once (see shutdown()).

A request's head (request line and headers) may be at most MAX_HEAD_BYTES:
httptools gathers a URL or header that arrives in pieces by concatenation
(quadratic in its length) and holds it all in memory, so past the limit the
connection is answered 431 and closed before the parser sees more.

`manage.py serve` passes this class as uvicorn's `http` protocol; the
timeouts come from settings in each worker.
"""
from __future__ import annotations

import asyncio
from typing import Any

from .http_writes import JoinedWritesHttpToolsProtocol

# SigV4 headers with a session token are ~5 KB; AWS front ends allow tens of KB.
MAX_HEAD_BYTES = 64 * 1024
_HEAD_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n"
                   b"connection: close\r\n\r\n")


def _timeouts() -> tuple[float, float]:
    from django.conf import settings

    return (float(getattr(settings, "EXTENDDB_HEADER_TIMEOUT_SECONDS", 10)),
            float(getattr(settings, "EXTENDDB_BODY_TIMEOUT_SECONDS", 60)))


class DeadlineHttpToolsProtocol(JoinedWritesHttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout, self._body_timeout = _timeouts()
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes: int | None = 0  # bytes of the head being read; None once it is complete

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._header_timeout)  # a first request must come, and come whole

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._head_bytes is None:
            super().data_received(data)
            return
        # A chunk may hold a whole request (head and body): only a head still
        # incomplete after it counts against the limit.
        self._head_bytes += len(data)
        super().data_received(data)
        if self._head_bytes is not None and self._head_bytes > MAX_HEAD_BYTES:
            self._head_bytes = None
            self._disarm()
            if not self.transport.is_closing():
                self.transport.write(_HEAD_TOO_LARGE)
                self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm(self._header_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self.head_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.message_complete()

    def head_complete(self) -> None:
        """The body has until the body deadline."""
        self._head_bytes = None
        self._arm(self._body_timeout)

    def message_complete(self) -> None:
        self._disarm()
        self._head_bytes = 0  # the next request's head

    def handle_websocket_upgrade(self) -> None:
        # The connection is the websocket protocol's from here on (the console's stream
        # tail stays open for hours): no request deadline may close it.
        self._disarm()
        super().handle_websocket_upgrade()

    def shutdown(self) -> None:
        """Graceful shutdown (SIGTERM): in-flight requests finish; idle connections go now.

        uvicorn closes an idle TLS connection with close(), which waits up to 30 s
        for the client's close_notify; pooled SDK connections never send one, so
        shutdown would always take the full grace period. abort() drops them at
        once (the SDK reconnects on its next call)."""
        if self.cycle is None or self.cycle.response_complete:
            self._disarm()
            self.transport.abort()
        else:
            super().shutdown()
