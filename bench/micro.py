#!/usr/bin/env python3
"""The request path's own cost, in process: no HTTP, no TLS, no load generator.

Drives `wireapi.app.application` with a fake ASGI receive/send on a real
database (a throw-away PostgreSQL database on 127.0.0.1:5432, or SQLite) and
reports, per operation, the process CPU time per request (the Python cost:
steadier than req/s on a shared machine), the wall time per request with one
request in flight (latency: round trips), the rate with 16 in flight, and the
database round trips per request (the times psycopg waits for the server to
answer; fewer than one under concurrency when requests share statements).

    .venv/bin/python bench/micro.py                       # PostgreSQL, every operation
    .venv/bin/python bench/micro.py --backend sqlite --ops UpdateItem --requests 2000
    .venv/bin/python bench/micro.py --http endpoint --tls   # through the server's HTTP protocol too

`--http uvicorn|endpoint` sends the same requests over loopback TCP connections
(one per request in flight, kept alive; `--tls` adds the server's TLS) to a
listener in this process running uvicorn's httptools protocol as `serve` sets
it up (deadlines, joined writes), through ASGI (`uvicorn`) or with the
endpoint's direct `POST /` path (`endpoint`, what `serve` runs). The client's
CPU is counted too, the same for both.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(ROOT))

import orjson  # noqa: E402

import servers  # noqa: E402
import workload  # noqa: E402

ENDPOINT = "https://127.0.0.1:8000"


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--ops", default=",".join(workload.OPERATIONS))
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--partitions", type=int, default=100)
    ap.add_argument("--requests", type=int, default=3000, help="requests per operation and concurrency")
    ap.add_argument("--concurrency", default="1,16")
    ap.add_argument("--rounds", type=int, default=3, help="repeat each measurement; the best round counts")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--provisioned", action="store_true", help="a PROVISIONED table (40,000 RCU/WCU: never "
                    "throttled here) rather than PAY_PER_REQUEST, to measure capacity enforcement's cost")
    ap.add_argument("--pitr", action="store_true", help="enable point-in-time recovery on the table (its writes "
                    "then keep item history)")
    ap.add_argument("--gsi", action="store_true", help="the growth run's table with three GSIs and items "
                    "(bench/growth.py); adds the operations Query:gsi1..3 and UpdateItem:gsi (moves all three)")
    ap.add_argument("--http", choices=["asgi", "uvicorn", "endpoint"], default="asgi",
                    help="asgi: call the ASGI app in process (default); uvicorn / endpoint: over loopback HTTP "
                    "through uvicorn's ASGI cycle / the endpoint's direct path (extenddb_site.http_endpoint)")
    ap.add_argument("--tls", action="store_true", help="with --http: TLS on the loopback connections")
    ap.add_argument("--profile", action="store_true",
                    help="cProfile each operation's last run and print the top functions by self time")
    return ap.parse_args(argv)


def setup_environment(backend: str) -> tuple[dict, list]:
    """A throw-away data dir (and PostgreSQL database), migrated, with one access key."""
    data_dir = Path(tempfile.mkdtemp(prefix="extenddb-micro-"))
    cleanup: list = [lambda: shutil.rmtree(data_dir, ignore_errors=True)]
    env = {"EXTENDDB_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "extenddb_site.settings"}
    os.environ.pop("DATABASE_URL", None)
    if backend == "postgres":
        name, url = servers.create_pg_database()
        env["DATABASE_URL"] = url
        cleanup.append(lambda: servers.drop_pg_database(name))
    os.environ.update(env)
    py = [sys.executable, str(ROOT / "manage.py")]
    try:
        subprocess.run(py + ["migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
        out = subprocess.run(py + ["createkey", "--user", "micro"], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout
    except BaseException:
        for fn in reversed(cleanup):  # no throw-away database left behind
            fn()
        raise
    key = {"id": re.search(r"AWS_ACCESS_KEY_ID=(\S+)", out).group(1),
           "secret": re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", out).group(1)}
    return key, cleanup


class Driver:
    def __init__(self, app, key: dict) -> None:
        self.app = app
        self.key = key
        self.host = ENDPOINT.split("://", 1)[1].encode()

    def build(self, op: str, body: dict) -> tuple[dict, bytes]:
        headers, raw = workload.sign(ENDPOINT, self.key["id"], self.key["secret"], op, orjson.dumps(body))
        scope = {"type": "http", "method": "POST", "path": "/", "raw_path": b"/", "query_string": b"",
                 "http_version": "1.1", "scheme": "https", "client": ("127.0.0.1", 50000),
                 "server": ("127.0.0.1", 8000),
                 "headers": [(k.lower().encode(), str(v).encode()) for k, v in headers.items()]
                 + [(b"content-length", str(len(raw)).encode())]}
        return scope, raw

    async def call(self, scope: dict, body: bytes) -> tuple[int, bytes]:
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        return sent[0]["status"], sent[1]["body"]


class HttpDriver(Driver):
    """The same requests over kept-alive loopback connections to an in-process listener."""

    def __init__(self, app, key: dict, protocol: str, tls: bool, connections: int) -> None:
        super().__init__(app, key)
        self.protocol, self.tls, self.connections = protocol, tls, connections
        self.idle: asyncio.Queue | None = None

    async def start(self) -> None:
        import ssl

        import uvicorn
        from uvicorn.server import ServerState

        from extenddb_site.http_endpoint import EndpointHttpProtocol
        from extenddb_site.http_timeouts import DeadlineHttpToolsProtocol
        from extenddb_site.tls import ensure_self_signed
        from wireapi.management.commands.serve import _uvicorn_options

        cls = EndpointHttpProtocol if self.protocol == "endpoint" else DeadlineHttpToolsProtocol
        options = {**_uvicorn_options("127.0.0.1", 0, 1), "http": cls, "lifespan": "off"}
        config = uvicorn.Config(self.app, **options)
        config.load()
        state, app_state = ServerState(), {}
        server_ctx = client_ctx = None
        if self.tls:
            from django.conf import settings
            cert, key = ensure_self_signed(settings.DATA_DIR, ["127.0.0.1"])
            server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            server_ctx.load_cert_chain(str(cert), str(key))
            client_ctx = ssl.create_default_context(cafile=str(cert))
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: cls(config=config, server_state=state, app_state=app_state),
                                          "127.0.0.1", 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        self.idle = asyncio.Queue()
        for _ in range(self.connections):
            self.idle.put_nowait(await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx,
                                                               server_hostname="127.0.0.1" if self.tls else None))

    async def call(self, scope: dict, body: bytes) -> tuple[int, bytes]:
        if self.idle is None:
            await self.start()
        reader, writer = await self.idle.get()
        try:
            head = [b"POST / HTTP/1.1\r\n"]
            head += [name + b": " + value + b"\r\n" for name, value in scope["headers"]]
            writer.write(b"".join(head) + b"\r\n" + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            return int(status_line.split()[1]), await reader.readexactly(length)
        finally:
            self.idle.put_nowait((reader, writer))


async def run_pool(driver: Driver, pool: list[tuple[dict, bytes]], concurrency: int) -> dict:
    errors: list[str] = []
    queue = iter(pool)

    async def worker() -> None:
        for scope, body in queue:
            status, out = await driver.call(scope, body)
            if status != 200:
                errors.append(f"{status} {out[:200]!r}")

    waits_before = WAITS[0]
    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    n = len(pool)
    return {"requests": n, "errors": len(errors), "error_sample": errors[0] if errors else "",
            "cpu_us": round(cpu / n * 1e6, 1), "wall_us": round(wall / n * 1e6, 1), "rps": round(n / wall),
            "db_waits": round((WAITS[0] - waits_before) / n, 2)}


WAITS = [0]


def count_waits() -> None:
    """Count the times psycopg waits to read the server's answer: one per round trip."""
    try:
        from psycopg import AsyncConnection
        from psycopg.waiting import Wait
    except ImportError:
        return
    original = AsyncConnection.wait

    def counted(gen):
        value = None
        try:
            while True:
                state = gen.send(value)
                if state == Wait.R:
                    WAITS[0] += 1
                value = yield state
        except StopIteration as stop:
            return stop.value

    async def wait(self, gen, *args, **kwargs):
        return await original(self, counted(gen), *args, **kwargs)

    AsyncConnection.wait = wait


async def main_async(args, key: dict) -> dict:
    import django
    django.setup()
    from wireapi.app import application
    count_waits()

    if args.http == "asgi":
        driver = Driver(application, key)
    else:
        from extenddb_site.asgi import application as site  # the routing serve runs
        driver = HttpDriver(site, key, args.http, args.tls, max(int(c) for c in args.concurrency.split(",")))
    create = {
        "TableName": workload.TABLE,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        **({"BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": 40000,
                                                                    "WriteCapacityUnits": 40000}}
           if args.provisioned else {"BillingMode": "PAY_PER_REQUEST"})}
    if args.gsi:
        import growth

        class Recorder:  # growth.create_gsi_table's request, sent in process
            def create_table(self, **kwargs):
                create.update(kwargs)

            def describe_table(self, **kwargs):
                return {"Table": {"TableStatus": "ACTIVE"}}

        growth.create_gsi_table(Recorder(), workload.TABLE)
    status, out = await driver.call(*driver.build("CreateTable", create))
    assert status == 200, out
    if args.pitr:
        status, out = await driver.call(*driver.build("UpdateContinuousBackups", {
            "TableName": workload.TABLE, "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}))
        assert status == 200, out
    ds = growth.GsiDataSet(args.items, args.partitions) if args.gsi else workload.DataSet(args.items, args.partitions)
    own = getattr(ds, "request_body", None)

    def body_of(op: str, rng, seq: int) -> dict:
        made = own(op, rng, seq, workload.TABLE) if own else None
        return made if made is not None else workload.request_body(op, ds, rng, seq)
    load = [driver.build("BatchWriteItem", {"RequestItems": {workload.TABLE: [
        {"PutRequest": {"Item": ds.item(i)}} for i in range(start, min(start + 25, ds.count))]}})
        for start in range(0, ds.count, 25)]
    t0 = time.perf_counter()
    res = await run_pool(driver, load, 4)
    assert not res["errors"], res
    print(f"loaded {ds.count} items in {time.perf_counter() - t0:.1f} s", flush=True)

    import random
    results: dict = {"backend": args.backend, "items": ds.count, "pitr": args.pitr, "ops": {}}
    for n, op in enumerate(args.ops.split(",")):
        rng = random.Random(n)
        results["ops"][op] = {}
        for conc in (int(c) for c in args.concurrency.split(",")):
            best = None
            for _ in range(args.rounds):
                pool = [driver.build(op.split(":")[0], body_of(op, rng, seq)) for seq in range(args.requests)]
                await run_pool(driver, pool[:50], conc)  # warm: statements prepared, caches filled
                res = await run_pool(driver, pool[50:], conc)
                if best is None or res["cpu_us"] < best["cpu_us"]:
                    best = res
            results["ops"][op][conc] = best
            if args.profile:
                import cProfile
                import io
                import pstats
                pool = [driver.build(op.split(":")[0], body_of(op, rng, seq)) for seq in range(args.requests)]
                prof = cProfile.Profile()
                prof.enable()
                await run_pool(driver, pool, conc)
                prof.disable()
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
                print(out.getvalue()[-6000:], flush=True)
            print(f"{op:>18} c={conc:<3} cpu {best['cpu_us']:>7} us/req  wall {best['wall_us']:>7} us/req  "
                  f"{best['rps']:>6} req/s  round trips {best['db_waits']:>5}/req  errors {best['errors']}"
                  + (f"  {best['error_sample']}" if best["errors"] else ""), flush=True)
    from wireapi.runtime import shutdown
    await shutdown()
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    key, cleanup = setup_environment(args.backend)
    try:
        try:
            import uvloop  # the server's event loop
            runner = uvloop.run
        except ImportError:
            runner = asyncio.run
        results = runner(main_async(args, key))
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    finally:
        for fn in reversed(cleanup):
            fn()
    return 0


if __name__ == "__main__":
    sys.exit(main())
