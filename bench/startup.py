#!/usr/bin/env python3
"""Start-up time: from the command to the first answered GetItem.

Two figures, each the median of several starts on an already installed and
initialised deployment (the first start, which installs, migrates and creates
the first key, is not counted):

  bootstrap   `python3 bootstrap.py serve` (install check, init steps, serve)
  serve       `manage.py serve` alone

A start is timed from the moment the process is spawned to the first HTTP 200
answer to a signed GetItem over HTTPS; the client retries every few
milliseconds while the port refuses or the TLS handshake fails. The time the
`Endpoint:` line appears is reported too (it must never come before the port
answers).

    .venv/bin/python bench/startup.py                      # SQLite, 5 starts of each
    .venv/bin/python bench/startup.py --backend postgres --runs 7 --json /tmp/startup.json
    .venv/bin/python bench/startup.py --baseline /tmp/base # and another checkout, interleaved (before/after)

A --baseline tree (e.g. `git archive main | tar -x -C /tmp/base`) runs on its own
.venv, which may be a symlink to this tree's.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import servers  # noqa: E402
import workload  # noqa: E402

POLL_SECONDS = 0.005
START_DEADLINE_SECONDS = 120.0


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--runs", type=int, default=5, help="starts of each kind; the median is reported")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--modes", default="bootstrap,serve")
    ap.add_argument("--baseline", type=Path, help="another checkout, started in turn with this one")
    ap.add_argument("--json", help="write the figures here")
    return ap.parse_args(argv)


@dataclass
class Start:
    """One start: seconds from spawn to the Endpoint line and to the first GetItem answer."""
    endpoint_line: float | None
    first_answer: float
    output: list[str] = field(default_factory=list)


class Deployment:
    """A throw-away data directory (and PostgreSQL database) started over and over."""

    def __init__(self, root: Path, backend: str, workers: int) -> None:
        self.root, self.workers = root, workers
        self.data_dir = Path(tempfile.mkdtemp(prefix="extenddb-startup-"))
        self.env = {**os.environ, "EXTENDDB_DATA_DIR": str(self.data_dir), "PYTHONUNBUFFERED": "1"}
        self.env.pop("DATABASE_URL", None)
        self.dbname = None
        if backend == "postgres":
            self.dbname, self.env["DATABASE_URL"] = servers.create_pg_database()
        self.key_id = self.secret = ""

    def command(self, mode: str, port: int) -> list[str]:
        args = ["serve", "--port", str(port), "--workers", str(self.workers)]
        if mode == "bootstrap":
            return [sys.executable, str(self.root / "bootstrap.py"), *args]
        return [str(self.root / ".venv" / "bin" / "python"), str(self.root / "manage.py"), *args]

    def start(self, mode: str, request: bytes | None) -> tuple[Start, subprocess.Popen]:
        port = servers.free_port()
        lines: list[str] = []
        endpoint_at: list[float] = []
        t0 = time.perf_counter()
        proc = subprocess.Popen(self.command(mode, port), cwd=self.root, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)

        def read() -> None:
            for line in proc.stdout:
                if line.startswith("Endpoint:") and not endpoint_at:
                    endpoint_at.append(time.perf_counter() - t0)
                lines.append(line.rstrip("\n"))

        threading.Thread(target=read, daemon=True).start()
        ca = self.data_dir / "tls-cert.pem"
        while True:
            if time.perf_counter() - t0 > START_DEADLINE_SECONDS or proc.poll() is not None:
                stop(proc)
                raise RuntimeError(f"{mode} did not answer:\n" + "\n".join(lines))
            if request is None:  # the first start: only wait for the key and the health answer
                if servers._tls_health(port, str(ca)):
                    break
            elif _answered(port, ca, request):
                break
            time.sleep(POLL_SECONDS)
        took = time.perf_counter() - t0
        deadline = time.monotonic() + 10
        while not endpoint_at and time.monotonic() < deadline:
            time.sleep(0.01)
        return Start(endpoint_at[0] if endpoint_at else None, took, lines), proc

    def initialise(self) -> bytes:
        """The first start (install, migrate, first key); a table and an item; the GetItem to time."""
        first, proc = self.start("bootstrap", None)
        try:
            text = "\n".join(first.output)
            deadline = time.monotonic() + 30
            while "AWS_SECRET_ACCESS_KEY=" not in text and time.monotonic() < deadline:
                time.sleep(0.05)
                text = "\n".join(first.output)
            self.key_id = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", text).group(1)
            self.secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", text).group(1)
            port = _port_of(proc)
            endpoint = f"https://127.0.0.1:{port}"
            workload.create_table(endpoint, self.key_id, self.secret, str(self.data_dir / "tls-cert.pem"))
        finally:
            stop(proc)
        body = json.dumps({"TableName": workload.TABLE, "Key": {"pk": {"S": "p"}, "sk": {"S": "s"}}}).encode()
        return self.signed_get(body)

    def signed_get(self, body: bytes) -> bytes:
        # Signed for a host of 127.0.0.1 without a port: the signature covers the Host header,
        # so the request is sent with the same header whatever port the server listens on.
        headers, raw = workload.sign("https://127.0.0.1", self.key_id, self.secret, "GetItem", body)
        return workload.raw_request(headers, raw)

    def cleanup(self) -> None:
        if self.dbname:
            servers.drop_pg_database(self.dbname)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _port_of(proc: subprocess.Popen) -> int:
    """The --port of the command line the process runs."""
    args = proc.args
    return int(args[args.index("--port") + 1])


def _answered(port: int, ca: Path, request: bytes) -> bool:
    if not ca.exists():
        return False
    try:
        ctx = ssl.create_default_context(cafile=str(ca))
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(request)
                head = tls.recv(65536)
                return head.startswith(b"HTTP/1.1 200")
    except (OSError, ssl.SSLError):
        return False


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "runs": [round(v, 3) for v in values]}


def main(argv=None) -> int:
    args = parse_args(argv)
    trees = {"": servers.ROOT}
    if args.baseline:
        trees["baseline "] = args.baseline.resolve()
    results: dict = {"backend": args.backend, "workers": args.workers, "load_average": os.getloadavg(),
                     "trees": {name.strip() or "this": str(root) for name, root in trees.items()}, "modes": {}}
    deployments = {name: Deployment(root, args.backend, args.workers) for name, root in trees.items()}
    try:
        requests = {name: d.initialise() for name, d in deployments.items()}
        runs = [(name, mode) for name in trees for mode in args.modes.split(",")]
        answers: dict[str, list[float]] = {name + mode: [] for name, mode in runs}
        lines: dict[str, list[float]] = {name + mode: [] for name, mode in runs}
        for run in range(args.runs):
            for name, mode in runs:  # interleaved, so a noisy moment hits every kind alike
                start, proc = deployments[name].start(mode, requests[name])
                stop(proc)
                answers[name + mode].append(start.first_answer)
                if start.endpoint_line is not None:
                    lines[name + mode].append(start.endpoint_line)
                line = f"{start.endpoint_line:.2f} s" if start.endpoint_line is not None else "none"
                print(f"run {run + 1}: {name + mode:<18} first GetItem answered {start.first_answer:6.2f} s"
                      f"  (Endpoint line {line})", flush=True)
        for label in answers:
            results["modes"][label] = {"first_answer_s": summary(answers[label]),
                                       "endpoint_line_s": summary(lines[label]) if lines[label] else None}
            print(f"{label:<18} median {results['modes'][label]['first_answer_s']['median']:.2f} s to the "
                  f"first answered GetItem ({args.runs} starts, {args.backend}, {args.workers} workers)",
                  flush=True)
    finally:
        for d in deployments.values():
            d.cleanup()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
