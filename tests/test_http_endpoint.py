"""The endpoint's `POST /` served straight from the HTTP parser (extenddb_site.http_endpoint):
what an HTTP/1.1 client may do on one connection still works, over real TLS."""
from __future__ import annotations

import uuid

import orjson
import pytest

from .reliability.harness import signed_request, tls_connect


class Wire:
    """One TLS connection, read as a stream of responses (several may arrive in one read)."""

    def __init__(self, server) -> None:
        self.sock = tls_connect(server)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed; unread: {self.buf!r}")
        self.buf += chunk

    def response(self) -> tuple[int, dict[bytes, bytes], bytes]:
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
        length = int(headers.get(b"content-length", b"0"))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return int(lines[0].split(b" ", 2)[1]), headers, body

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def table(hash_table):
    return hash_table


def _put(server, key, table: str, pk: str) -> bytes:
    return b"".join(signed_request(server, key, "PutItem", orjson.dumps(
        {"TableName": table, "Item": {"pk": {"S": pk}, "n": {"N": "1"}}})))


def _get(server, key, table: str, pk: str) -> bytes:
    return b"".join(signed_request(server, key, "GetItem", orjson.dumps(
        {"TableName": table, "Key": {"pk": {"S": pk}}, "ConsistentRead": True})))


def test_pipelined_requests_are_answered_in_order(server, key, table):
    pk = uuid.uuid4().hex
    wire = Wire(server)
    try:
        # A write, a read of it and a health check, in one TLS write: answered one after the other.
        wire.send(_put(server, key, table, pk) + _get(server, key, table, pk)
                  + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + _get(server, key, table, "absent"))
        status, headers, body = wire.response()
        assert (status, orjson.loads(body)) == (200, {})
        status, _, body = wire.response()
        assert status == 200 and orjson.loads(body)["Item"]["pk"] == {"S": pk}
        status, _, body = wire.response()
        assert status == 200 and body.startswith(b"healthy")
        status, _, body = wire.response()
        assert (status, orjson.loads(body)) == (200, {})
    finally:
        wire.close()


def test_body_arriving_in_pieces_is_read_whole(server, key, table):
    pk = uuid.uuid4().hex
    request = _put(server, key, table, pk)
    wire = Wire(server)
    try:
        for start in range(0, len(request), 7):
            wire.send(request[start:start + 7])
        status, headers, body = wire.response()
        assert status == 200, body
        assert len(headers[b"x-amzn-requestid"]) == 52 and b"date" in headers
        wire.send(_get(server, key, table, pk))  # and the connection is still good
        assert orjson.loads(wire.response()[2])["Item"]["pk"] == {"S": pk}
    finally:
        wire.close()


def test_expect_100_continue_is_honoured(server, key, table):
    pk = uuid.uuid4().hex
    head, body = signed_request(server, key, "PutItem", orjson.dumps({"TableName": table, "Item": {"pk": {"S": pk}}}))
    wire = Wire(server)
    try:
        wire.send(head.replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n"))
        assert wire.response()[0] == 100
        wire.send(body)
        assert wire.response()[0] == 200
    finally:
        wire.close()


def test_http_1_0_is_answered_and_closed(server, key, table):
    head, body = signed_request(server, key, "ListTables", b"{}")
    wire = Wire(server)
    try:
        wire.send(head.replace(b"HTTP/1.1", b"HTTP/1.0", 1) + body)
        status, headers, payload = wire.response()
        assert status == 200 and "TableNames" in orjson.loads(payload)
        assert headers.get(b"connection") == b"close"
        with pytest.raises((ConnectionError, OSError)):
            wire.response()
    finally:
        wire.close()


def test_a_bad_request_still_gets_its_dynamodb_error(server, key, table):
    head, body = signed_request(server, key, "GetItem", b"{not json")
    wire = Wire(server)
    try:
        wire.send(head + body)
        status, headers, payload = wire.response()
        assert status == 400 and orjson.loads(payload)["__type"].endswith("SerializationException")
        assert headers[b"content-type"] == b"application/x-amz-json-1.0"
    finally:
        wire.close()
