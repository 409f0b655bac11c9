"""Overload, slow clients, oversized requests and graceful shutdown, against a
server of the test's own with short deadlines (so the test takes seconds)."""
from __future__ import annotations

import signal
import socket
import ssl
import threading
import time
import uuid

import orjson
import pytest

from .harness import client, deployment, read_response, signed_request, tls_connect

HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 6.0
SERVER_ENV = {"EXTENDDB_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
              "EXTENDDB_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
              "EXTENDDB_MAX_INFLIGHT": "3"}
TABLE = "limits"


@pytest.fixture(scope="module")
def site():
    """One worker, so in-flight counts and connections are all on one process."""
    with deployment() as dep:
        key = dep.create_key()
        server = dep.start(workers=1, env=SERVER_ENV)
        ddb = client(server, key)
        ddb.create_table(TableName=TABLE, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
        yield dep, server, key, ddb


def _put_body(pk: str, pad: int = 0) -> bytes:
    return orjson.dumps({"TableName": TABLE, "Item": {"pk": {"S": pk}, "pad": {"S": "x" * pad}}})


def _closed_within(sock, seconds: float) -> float | None:
    """Seconds until the server closed the connection, or None if it was still open."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except (socket.timeout, TimeoutError):
        return None
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    return time.monotonic() - started


def test_client_that_trickles_its_body_is_cut_off_and_others_are_served(site):
    _, server, key, ddb = site
    pk = f"slow-{uuid.uuid4().hex}"
    head, body = signed_request(server, key, "PutItem", _put_body(pk))
    slow = tls_connect(server)
    slow.sendall(head + body[:10])
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "meanwhile"}})  # served while the slow one waits
    closed = _closed_within(slow, BODY_TIMEOUT + 10)  # generous: the CI machine may be busy
    assert closed is not None
    slow.close()
    assert "Item" not in ddb.get_item(TableName=TABLE, Key={"pk": {"S": pk}})


def test_slowloris_headers_do_not_block_other_clients(site):
    _, server, _, ddb = site
    attackers = []
    for _ in range(20):
        sock = tls_connect(server)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        attackers.append(sock)
    stop = threading.Event()

    def trickle():
        while not stop.is_set():
            for sock in attackers:
                try:
                    sock.sendall(b"X-a: b\r\n")
                except OSError:
                    pass
            time.sleep(0.3)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        for i in range(5):
            started = time.monotonic()
            ddb.get_item(TableName=TABLE, Key={"pk": {"S": f"k{i}"}})
            assert time.monotonic() - started < 5  # (an idle machine: milliseconds)
        time.sleep(HEADER_TIMEOUT + 1)
        assert all(_closed_within(sock, 10) is not None for sock in attackers)
    finally:
        stop.set()
        for sock in attackers:
            sock.close()


def test_idle_connection_is_closed(site):
    _, server, _, _ = site
    sock = tls_connect(server)
    closed = _closed_within(sock, HEADER_TIMEOUT + 10)
    assert closed is not None and closed >= HEADER_TIMEOUT - 0.5
    sock.close()


def test_overload_answers_503_in_dynamodb_shape_then_recovers(site):
    """EXTENDDB_MAX_INFLIGHT=3: three requests waiting for their bodies fill the worker."""
    _, server, key, ddb = site
    pending = []
    for i in range(3):
        head, body = signed_request(server, key, "PutItem", _put_body(f"held-{i}"))
        sock = tls_connect(server)
        sock.sendall(head + body[:5])
        pending.append((sock, body))
    time.sleep(0.3)
    with pytest.raises(ddb.exceptions.ClientError) as info:
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": "over"}})
    error = info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert error["Error"]["Code"] == "ServiceUnavailableException"
    for sock, body in pending:  # the held requests complete normally
        sock.sendall(body[5:])
        assert read_response(sock)[0] == 200
        sock.close()
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "after"}})
    assert ddb.get_item(TableName=TABLE, Key={"pk": {"S": "held-2"}})["Item"]["pk"]["S"] == "held-2"


def test_request_over_16_mb_is_refused_with_413(site):
    _, server, key, _ = site
    head, body = signed_request(server, key, "PutItem", _put_body("huge", pad=16 * 1024 * 1024))
    sock = tls_connect(server)
    sock.sendall(head)
    try:
        sock.sendall(body)
    except OSError:
        pass  # the server may answer before the body is all sent
    status, payload = read_response(sock)
    sock.close()
    assert status == 413
    assert orjson.loads(payload)["__type"].endswith("RequestEntityTooLarge")


def test_sigterm_lets_in_flight_requests_finish():
    with deployment() as dep:
        key = dep.create_key()
        server = dep.start(workers=1, env={**SERVER_ENV, "EXTENDDB_MAX_INFLIGHT": "256",
                                           "EXTENDDB_BODY_TIMEOUT_SECONDS": "60"})
        ddb = client(server, key)
        ddb.create_table(TableName=TABLE, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
        in_flight = []
        for i in range(4):
            head, body = signed_request(server, key, "PutItem", _put_body(f"inflight-{i}"))
            sock = tls_connect(server)
            sock.sendall(head + body[:7])
            in_flight.append((sock, body))
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)  # shutting down now, with four requests half received
        for sock, body in in_flight:
            sock.sendall(body[7:])
        answers = [read_response(sock) for sock, _ in in_flight]
        for sock, _ in in_flight:
            sock.close()
        assert [status for status, _ in answers] == [200] * 4, answers
        server.process.wait(timeout=30)
        restarted = dep.start(workers=1)
        ddb = client(restarted, key)
        for i in range(4):
            assert ddb.get_item(TableName=TABLE, Key={"pk": {"S": f"inflight-{i}"}})["Item"]
