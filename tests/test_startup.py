"""Starting: `Endpoint:` only once the port answers, a clear error naming a
port in use, the product's version everywhere it is shown, and the first-run
steps of `bootstrap.py serve` done in the serving process (secrets shown on
the first start only)."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from extenddb_site.version import __version__

from .reliability import harness
from .server import ROOT, free_port, root_answer


def _answers_once(port: int, ca: str) -> bytes:
    """One attempt (no retry): connect, GET /, read the answer."""
    return root_answer(port, ca, timeout=10)


def _start(cmd: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    return out


def _read_until(process: subprocess.Popen, prefix: str, timeout: float = 90) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith(prefix):
            return lines
    raise AssertionError(f"no {prefix!r} line:\n" + "\n".join(lines))


def test_endpoint_line_comes_once_the_port_answers():
    with harness.deployment() as dep:
        port = free_port()
        process = _start([sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(port),
                          "--workers", "2"], dep.env)
        try:
            lines = _read_until(process, "Endpoint:")
            answer = _answers_once(port, str(dep.data_dir / "tls-cert.pem"))  # at once, no retry
            assert answer.startswith(b"HTTP/1.1 200") and b"healthy: dynamodb.local" in answer
            assert lines[-1] == f"Endpoint: https://127.0.0.1:{port}  (2 workers, ExtendDB {__version__})"
        finally:
            _stop(process)


def test_port_in_use_is_a_clear_error_naming_it():
    with harness.deployment() as dep, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(port)], cwd=ROOT,
                             env=dep.env, capture_output=True, text=True, timeout=60)
        assert out.returncode != 0
        assert f"cannot listen on https://127.0.0.1:{port}: the port is in use" in out.stderr
        assert "Errno" not in out.stderr and "Endpoint:" not in out.stdout

        free = free_port()
        out = subprocess.run([sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(free),
                              "--plaintext-port", str(port)], cwd=ROOT, env=dep.env, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode != 0
        assert f"cannot listen on http://127.0.0.1:{port}: the port is in use" in out.stderr


def test_version_commands():
    out = subprocess.run([sys.executable, str(ROOT / "bootstrap.py"), "--version"], capture_output=True, text=True,
                         check=True, timeout=30)
    assert out.stdout.strip() == __version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    out = subprocess.run([sys.executable, str(ROOT / "manage.py"), "extenddb_version"], cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == __version__
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## Unreleased" in changelog and re.search(r"^## 0\.\d+\.0 ", changelog, re.M)


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="bootstrap.py serves from .venv")
def test_bootstrap_first_run_steps_in_the_serving_process(tmp_path):
    """First start: migrate, a key and an admin password shown once; next start: nothing new, no secret."""
    env = {**os.environ, "EXTENDDB_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    outputs = []
    for _ in range(2):
        port = free_port()
        process = _start([sys.executable, str(ROOT / "bootstrap.py"), "serve", "--port", str(port),
                          "--workers", "1"], env)
        try:
            outputs.append("\n".join(_read_until(process, "Endpoint:")))
            assert _answers_once(port, str(tmp_path / "tls-cert.pem")).startswith(b"HTTP/1.1 200")
        finally:
            _stop(process)
    first, second = outputs
    assert re.search(r"^AWS_SECRET_ACCESS_KEY=\S+$", first, re.M) and "ADMIN_PASSWORD=" in first
    key_id = re.search(r"^AWS_ACCESS_KEY_ID=(\S+)$", first, re.M).group(1)
    assert "AWS_SECRET_ACCESS_KEY" not in second and "ADMIN_PASSWORD" not in second
    assert f"ACTIVE_ACCESS_KEY_ID={key_id} USER=admin" in second
    assert "an administrator exists" in second
    assert (tmp_path / "db.sqlite3").exists()
