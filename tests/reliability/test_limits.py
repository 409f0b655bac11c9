"""Overload, slow clients, oversized requests and graceful shutdown, against a
server of the test's own with short deadlines (so the test takes seconds)."""
from __future__ import annotations

import gzip
import signal
import socket
import ssl
import threading
import time
import uuid

import orjson
import pytest

from .harness import client, deployment, read_response, record_figures, signed_request, tls_connect

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


def test_clients_that_hang_up_mid_body_give_their_slots_back(site):
    """EXTENDDB_MAX_INFLIGHT=3: six requests that hang up after part of their body must not
    keep the worker full (each took an in-flight slot as its head arrived)."""
    _, server, key, ddb = site
    for round_ in range(2):
        socks = []
        for i in range(3):
            head, body = signed_request(server, key, "PutItem", _put_body(f"gone-{round_}-{i}"))
            sock = tls_connect(server)
            sock.sendall(head + body[:5])
            socks.append(sock)
        time.sleep(0.3)
        for sock in socks:
            sock.close()
        time.sleep(0.3)
    for i in range(4):  # more than the cap, one after the other: every one is served
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": f"after-hangups-{i}"}})
    assert ddb.get_item(TableName=TABLE, Key={"pk": {"S": "gone-0-0"}}).get("Item") is None  # never acted on


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


# --- hostile requests cost milliseconds, and others are served meanwhile ---------------------

def _deep(levels: int) -> bytes:
    return b'{"L":[' * levels + b'{"S":"x"}' + b"]}" * levels


def _hostile_requests() -> list[tuple[str, str, bytes, dict[str, str], tuple[int, ...]]]:
    """(label, operation, body, extra headers, acceptable statuses): each at a limit, built
    to make the server work as hard as a request that size can."""
    values = {":v": {"S": "x"}}
    or_chain = " OR ".join(["a = :v"] * 4096)[:4090].rpartition(" OR ")[0]
    projection = ",".join(f"a{i}" for i in range(1200))[:4096].rpartition(",")[0]
    sixteen_mb = 16 * 1024 * 1024 - 4096
    cases = [
        ("4 KB of OR", "PutItem", {"Item": {"pk": {"S": "h1"}}, "ConditionExpression": or_chain,
                                    "ExpressionAttributeValues": values}, (400,)),
        ("4 KB of parentheses", "PutItem", {"Item": {"pk": {"S": "h2"}},
                                             "ConditionExpression": "(" * 2045 + "a = :v" + ")" * 2045,
                                             "ExpressionAttributeValues": values}, (400,)),
        ("4 KB of NOT", "PutItem", {"Item": {"pk": {"S": "h3"}}, "ConditionExpression": "NOT " * 1022 + "a = :v",
                                     "ExpressionAttributeValues": values}, (400,)),
        ("4 KB of nested size()", "PutItem", {"Item": {"pk": {"S": "h4"}},
                                               "ConditionExpression": "size(" * 680 + "a" + ")" * 680 + " = :v",
                                               "ExpressionAttributeValues": values}, (400,)),
        ("4 KB projection of 1000 paths", "GetItem", {"Key": {"pk": {"S": "h5"}}, "ProjectionExpression": projection},
         (200,)),
        ("4 KB document path", "GetItem", {"Key": {"pk": {"S": "h6"}},
                                           "ProjectionExpression": "a" + "[1]" * 1360}, (400,)),
        ("4 KB update", "UpdateItem", {"Key": {"pk": {"S": "h7"}}, "ExpressionAttributeValues": values,
                                       "UpdateExpression": "SET " + ", ".join(f"b{i} = :v" for i in range(600))[:4000]
                                       .rpartition(",")[0]}, (200, 400)),
        ("16 MB string", "PutItem", {"Item": {"pk": {"S": "h8"}, "big": {"S": "x" * sixteen_mb}}}, (400,)),
        ("16 MB of attributes", "PutItem",
         {"Item": {f"a{i}": {"S": ""} for i in range(sixteen_mb // 21)}}, (400,)),
    ]
    out = [(label, op, orjson.dumps({"TableName": TABLE, **body}), {}, ok) for label, op, body, ok in cases]
    out.append(("JSON 400 deep", "PutItem", b'{"TableName":"%s","Item":{"pk":{"S":"h9"},"d":%s}}'
                % (TABLE.encode(), _deep(400)), {}, (400,)))
    bomb = gzip.compress(_put_body("h10")[:-1] + b" " * (64 * 1024 * 1024) + b"}", 9)
    out.append(("gzip bomb of 64 MB", "PutItem", bomb, {"Content-Encoding": "gzip"}, (413,)))
    return out


def _post(server, key, operation: str, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    head, body = signed_request(server, key, operation, body)
    if headers:
        head = head[:-2] + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n"
    sock = tls_connect(server, timeout=60)
    try:
        sock.sendall(head + body)
        started = time.monotonic()  # from the last byte sent: the server's time, not the upload's
        status, _ = read_response(sock)
        return status, time.monotonic() - started
    finally:
        sock.close()


def test_hostile_requests_cost_milliseconds_and_others_are_served_meanwhile(site):
    """The issue's bar: no hostile request under 16 MB keeps a worker busy more than a second
    (one worker here, so a request that held the event loop would hold up the other client)."""
    _, server, key, ddb = site
    stop = threading.Event()
    latencies: list[float] = []

    def other_client():
        while not stop.is_set():
            started = time.monotonic()
            ddb.get_item(TableName=TABLE, Key={"pk": {"S": "meanwhile"}})
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)

    requests = _hostile_requests()
    # What no server can avoid: reading the JSON. Measured here, so a loaded machine
    # (CI shares two cores) raises the bound with it instead of failing the test.
    unavoidable = {}
    for label, _, body, headers, _ in requests:
        started = time.perf_counter()
        if not headers:
            try:
                orjson.loads(body)
            except orjson.JSONDecodeError:
                pass
        unavoidable[label] = time.perf_counter() - started
    thread = threading.Thread(target=other_client, daemon=True)
    thread.start()
    timings = {}
    try:
        for label, operation, body, headers, acceptable in requests:
            status, elapsed = _post(server, key, operation, body, headers)
            timings[label] = round(elapsed, 3)
            assert status in acceptable, (label, status)
    finally:
        stop.set()
        thread.join(timeout=30)
    record_figures("hostile_requests", **timings, other_client_max=round(max(latencies), 3))
    # (An idle machine: milliseconds each; "16 MB of attributes", mostly JSON parsing, ~0.5 s.)
    slow = {label: seconds for label, seconds in timings.items() if seconds > max(1.0, 4 * unavoidable[label])}
    assert not slow, (timings, unavoidable)
    assert latencies and max(latencies) < 1.0 + 4 * max(unavoidable.values()), (max(latencies), timings)
    for pk in ("h1", "h2", "h3", "h4", "h8", "h9", "h10"):  # refused: nothing written
        assert "Item" not in ddb.get_item(TableName=TABLE, Key={"pk": {"S": pk}})


def test_request_head_over_64_kb_is_answered_431_and_others_are_served(site):
    _, server, key, ddb = site
    sock = tls_connect(server)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: ")
    started = time.monotonic()
    try:
        for _ in range(200):  # 3.2 MB in 16 KB pieces, if the server kept reading
            sock.sendall(b"a" * 16384)
    except OSError:
        pass  # closed by the server: what the test wants
    ddb.get_item(TableName=TABLE, Key={"pk": {"S": "meanwhile"}})
    try:
        answer = sock.recv(4096)
    except OSError:
        answer = b""
    sock.close()
    assert answer.startswith(b"HTTP/1.1 431") or answer == b"", answer
    assert time.monotonic() - started < 10
    # A long but legal head is served.
    head, body = signed_request(server, key, "GetItem", orjson.dumps({"TableName": TABLE, "Key": {"pk": {"S": "x"}}}))
    head = head[:-2] + b"X-Padding: " + b"p" * 32768 + b"\r\n\r\n"
    sock = tls_connect(server)
    sock.sendall(head + body)
    assert read_response(sock)[0] == 200
    sock.close()


def _cpu_seconds(session_id: int) -> float:
    """User + system CPU of every process of the server's session (it starts one)."""
    import os

    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:  # field 6 of stat: the session
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def test_large_body_of_a_client_that_hung_up_is_not_parsed(site):
    """A client that sends a large body of small JSON values and hangs up costs the server
    reading the bytes, not parsing them: the hang-up is seen while the body is read (a
    partial body is never acted on), before the parse that nobody would get the answer of."""
    _, server, key, ddb = site
    body = orjson.dumps({"TableName": TABLE, "Item": {f"a{i}": {"S": ""} for i in range(700_000)}})
    assert 1024 * 1024 < len(body) < 16 * 1024 * 1024
    started = time.process_time()
    orjson.loads(body)
    parse = time.process_time() - started  # this machine's price of parsing it once
    head, body = signed_request(server, key, "PutItem", body)
    before = _cpu_seconds(server.process.pid)
    for _ in range(3):
        # All but the last byte, then hang up: the server can never hold the whole body, so
        # whatever it spends is reading (a client that sent every byte before closing races
        # the server to the last one, and the server may rightly parse a complete body).
        sock = tls_connect(server)
        sock.sendall(head + body[:-1])
        sock.close()
    time.sleep(1.0)
    ddb.get_item(TableName=TABLE, Key={"pk": {"S": "meanwhile"}})  # the worker is free
    used = _cpu_seconds(server.process.pid) - before
    record_figures("hung_up_large_bodies", server_cpu=round(used, 3), one_parse=round(parse, 3))
    assert used < 1.5 * parse, (used, parse)  # three bodies read, none parsed (that would be 3 parses and more)
