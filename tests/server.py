"""Start and stop a real `manage.py serve` process for the tests."""
from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=os.environ.copy(),
                          capture_output=True, text=True, input=input, check=check, timeout=120)


@dataclass
class Key:
    access_key_id: str
    secret_access_key: str


def create_key(user: str) -> Key:
    out = manage("createkey", "--user", user).stdout
    key_id = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", out).group(1)
    secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", out).group(1)
    return Key(key_id, secret)


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    ca_bundle: str
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(data_dir: str, *extra: str, workers: int = 2, ca: str | None = None) -> Server:
    port = free_port()
    log_path = Path(data_dir) / f"server-{port}.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(port), "--workers", str(workers), *extra],
        cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT)
    ca = ca or str(Path(data_dir) / "tls-cert.pem")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text()}")
        if _healthy(port, ca):
            return Server(process, port, ca, log_path)
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not come up: {log_path.read_text()}")


def root_answer(port: int, ca: str, timeout: float = 2) -> bytes:
    """The whole answer to one `GET /` over TLS (OSError if there is none)."""
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            response = b""
            while chunk := tls.recv(4096):
                response += chunk
            return response


def _healthy(port: int, ca: str) -> bool:
    if not os.path.exists(ca):
        return False
    try:
        return b"healthy" in root_answer(port, ca)
    except OSError:
        return False
