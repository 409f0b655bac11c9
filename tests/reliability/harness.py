"""Throw-away deployments for the fault tests: their own data directory, their
own database (a new SQLite file, or a new database on the test PostgreSQL
server), their own `manage.py serve` in its own process group (so a SIGKILL
takes the workers down with it, as a crash of the machine's process would)."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

from .. import testenv
from ..server import ROOT, Key, Server, _healthy, free_port


@dataclass
class Deployment:
    data_dir: Path
    database_url: str
    servers: list[Server] = field(default_factory=list)
    peers: list[Deployment] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = os.environ.copy()
        env.update(EXTENDDB_DATA_DIR=str(self.data_dir), DATABASE_URL=self.database_url)
        return env

    def manage(self, *args: str, check: bool = True, timeout: float = 120,
               input_text: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, check=check, timeout=timeout, input=input_text)

    def create_key(self, user: str = "reliability") -> Key:
        out = self.manage("createkey", "--user", user).stdout
        return Key(re.search(r"AWS_ACCESS_KEY_ID=(\S+)", out).group(1),
                   re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", out).group(1))

    def start(self, *extra: str, workers: int = 2, port: int | None = None,
              env: dict[str, str] | None = None) -> Server:
        port = port or free_port()
        log_path = self.data_dir / f"server-{port}-{len(self.servers)}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(port), "--workers", str(workers),
                 *extra], cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        ca = str(self.data_dir / "tls-cert.pem")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()}")
            if _healthy(port, ca):
                server = Server(process, port, ca, log_path)
                self.servers.append(server)
                return server
            time.sleep(0.2)
        kill_group(process)
        raise RuntimeError(f"server did not come up: {log_path.read_text()}")

    def stop_all(self) -> None:
        for server in self.servers:
            if server.process.poll() is None:
                server.stop()
            kill_group(server.process)  # any worker left behind
        for peer in self.peers:
            peer.stop_all()

    def sql(self, statement: str) -> None:
        """Run one statement on the deployment's PostgreSQL database, autocommit."""
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(statement)

    def peer(self) -> Deployment:
        """Another host's deployment of the same database: a data directory of its own
        holding only what docs/operations.md says must be shared (the master key and
        the Django secret key)."""
        data_dir = Path(tempfile.mkdtemp(prefix="extenddb-peer-", dir=self.data_dir))
        for name in ("master.key", "secret_key"):
            if (self.data_dir / name).exists():
                shutil.copy2(self.data_dir / name, data_dir / name)
        peer = Deployment(data_dir, self.database_url)
        self.peers.append(peer)
        return peer


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the server and every process it started (workers, background)."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    if sig == signal.SIGKILL:
        process.wait(timeout=30)


def client(server: Server, key: Key, *, retries: int = 1, read_timeout: float = 30, service: str = "dynamodb"):
    config = Config(retries={"max_attempts": retries, "mode": "standard"}, connect_timeout=5,
                    read_timeout=read_timeout, max_pool_connections=32)
    return boto3.client(service, endpoint_url=server.endpoint, region_name=testenv.REGION,
                        aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
                        verify=server.ca_bundle, config=config)


@contextmanager
def deployment(database_url: str | None = None) -> Iterator[Deployment]:
    """A migrated deployment on the test run's backend (or on `database_url`)."""
    data_dir = Path(tempfile.mkdtemp(prefix="extenddb-rel-", dir=testenv.DATA_DIR))
    dbname = None
    if database_url is None and testenv.BACKEND == "postgres":
        import psycopg

        dbname = f"extenddb_rel_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(testenv.PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        database_url = testenv.PG_URL.rsplit("/", 1)[0] + "/" + dbname
    elif database_url is None:
        database_url = f"sqlite:///{data_dir}/extenddb.sqlite3"
    dep = Deployment(data_dir, database_url)
    try:
        dep.manage("migrate", "--noinput")
        yield dep
    finally:
        dep.stop_all()
        if dbname is not None:
            import psycopg

            with psycopg.connect(testenv.PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


PG_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class PrivateCluster:
    """A PostgreSQL 15 cluster of the test's own, so restarting it disturbs nobody."""

    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"),
                        "-l", str(self.root / "pg.log"), "-w", "-t", "60", *args],
                       check=True, capture_output=True, timeout=90)

    def sql(self, statement: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []

    def options(self) -> str:
        return f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on"


@contextmanager
def standby_of(primary: PrivateCluster, synchronous: bool = False) -> Iterator[PrivateCluster]:
    """A streaming hot standby of `primary` (pg_basebackup -R), on a port of its own.
    `synchronous`: the primary then waits for it at every commit, so nothing the
    primary acknowledged is lost if it dies and the standby is promoted."""
    root = Path(tempfile.mkdtemp(prefix="extenddb-pg-standby-"))
    shutil.chown(root, "postgres", "postgres")
    standby = PrivateCluster(root, free_port())
    subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_basebackup"), "-D", str(root / "data"),
                    "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-R", "-X", "stream",
                    "--no-sync"], check=True, capture_output=True, timeout=180)
    try:
        standby.ctl("-o", standby.options() + " -c hot_standby=on", "start")
        if synchronous:
            primary.sql("ALTER SYSTEM SET synchronous_standby_names = '*'")
            primary.sql("SELECT pg_reload_conf()")
            deadline = time.monotonic() + 60
            while not primary.sql("SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'"):
                assert time.monotonic() < deadline, "the standby never became synchronous"
                time.sleep(0.2)
        yield standby
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(root / "data"),
                        "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def private_cluster_available() -> str | None:
    """None, or why a private cluster cannot be made here."""
    if not (PG_BIN / "initdb").exists():
        return "PostgreSQL 15 binaries not installed"
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "needs root and runuser to run initdb as the postgres user"
    return None


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    root = Path(tempfile.mkdtemp(prefix="extenddb-pg-"))
    shutil.chown(root, "postgres", "postgres")
    cluster = PrivateCluster(root, free_port())
    subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(root / "data"),
                    "-A", "trust", "-U", "postgres", "--no-sync"], check=True, capture_output=True, timeout=120)
    try:
        cluster.ctl("-o", cluster.options(), "start")
        yield cluster
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(root / "data"),
                        "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def record_figures(test: str, **figures: object) -> None:
    """Figures for docs/reliability.md: appended as JSON lines to $EXTENDDB_RELIABILITY_REPORT if set."""
    import json

    path = os.environ.get("EXTENDDB_RELIABILITY_REPORT")
    line = json.dumps({"test": test, "backend": testenv.BACKEND, **figures}, default=str)
    print(line)
    if path:
        with open(path, "a") as out:
            out.write(line + "\n")


def signed_request(server: Server, key: Key, target: str, body: bytes) -> tuple[bytes, bytes]:
    """(head, body) of a SigV4-signed DynamoDB request, for tests that write the wire themselves."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{target}"})
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "dynamodb", testenv.REGION).add_auth(request)
    lines = ["POST / HTTP/1.1", f"Host: 127.0.0.1:{server.port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items() if name.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), body


def tls_connect(server: Server, timeout: float = 30):
    import socket
    import ssl

    context = ssl.create_default_context(cafile=server.ca_bundle)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def read_response(sock) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response with Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, body
