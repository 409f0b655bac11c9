"""The write-joining transport under uvicorn: one write per response, nothing held past a loop turn."""
from __future__ import annotations

import asyncio

from extenddb_site.http_writes import WriteJoiningTransport


class Recorder(asyncio.Transport):
    """The socket side: records what would be sent, and each send separately."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 1) if name == "peername" else default


def _run(body) -> Recorder:
    async def main() -> Recorder:
        raw = Recorder()
        await body(WriteJoiningTransport(raw, asyncio.get_running_loop()), raw)
        return raw
    return asyncio.run(main())


def test_head_and_body_written_in_one_turn_leave_as_one_write():
    async def body(t, raw):
        t.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        t.write(b"{}")
        assert raw.sent == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
        await asyncio.sleep(0)
        assert len(raw.sent) == 1
    _run(body)


def test_a_lone_write_goes_out_at_the_end_of_the_turn():
    async def body(t, raw):
        t.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        assert raw.sent == []
        await asyncio.sleep(0)
        assert raw.sent == [b"HTTP/1.1 100 Continue\r\n\r\n"]
        t.write(b"next")  # a streamed response keeps going out as it is written
        await asyncio.sleep(0)
        assert raw.sent[-1] == b"next"
    _run(body)


def test_close_sends_what_is_held_first_and_abort_drops_it():
    async def body(t, raw):
        t.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        t.close()
        assert raw.sent == [b"HTTP/1.1 400 Bad Request\r\n\r\n"] and raw.closed
    _run(body)

    async def aborted(t, raw):
        t.write(b"partial")
        t.abort()
        await asyncio.sleep(0)
        assert raw.sent == [] and raw.aborted
    _run(aborted)


def test_everything_else_is_the_wrapped_transport():
    async def body(t, raw):
        assert t.get_extra_info("peername") == ("127.0.0.1", 1)
        assert t.is_closing() is False
    _run(body)
