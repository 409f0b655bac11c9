"""Start and stop the servers under test, on loopback, and measure their memory.

Each server is a `Server` with an endpoint, credentials, a TLS flag and the
process tree to sample RSS from. ExtendDB runs exactly as an operator runs it
(`manage.py migrate`, `createkey`, `serve --workers N`) with a throw-away data
dir and, for PostgreSQL, a throw-away database on 127.0.0.1:5432.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MAIN_PY = ROOT / ".venv" / "bin" / "python"
BENCH_VENV = BENCH / ".venv"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- tools ------------------------------------------------------------------

def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install -y wrk)", flush=True)
        # another apt-get may hold the dpkg lock (a shared machine, CI's other steps): wait for it
        apt = ["apt-get", "-o", "DPkg::Lock::Timeout=300", "-q"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for step in (["install", "-y", "wrk"], ["update"], ["install", "-y", "wrk"]):
            if shutil.which("wrk"):
                break
            try:
                subprocess.run(apt + step, check=False, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=600)
            except subprocess.TimeoutExpired:
                break
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk is required: apt-get install -y wrk")
    return path


def ensure_dynalite() -> Path | None:
    """bench/node_modules/dynalite from bench/package.json (pinned), or None without node."""
    cli = BENCH / "node_modules" / "dynalite" / "cli.js"
    if cli.exists():
        return cli
    if not (shutil.which("node") and shutil.which("npm")):
        return None
    cmd = ["npm", "ci" if (BENCH / "package-lock.json").exists() else "install", "--no-audit", "--no-fund",
           "--loglevel=error", "--fetch-retries=1", "--fetch-timeout=30000"]
    try:  # without the npm registry, go on without dynalite rather than hang
        subprocess.run(cmd, cwd=BENCH, check=False, stdin=subprocess.DEVNULL, timeout=180)
    except subprocess.TimeoutExpired:
        return None
    return cli if cli.exists() else None


def ensure_bench_venv() -> Path:
    """bench/.venv with bench/requirements.txt (moto server, py-spy): kept apart from the
    server's venv because moto pins its own boto3/botocore."""
    py = BENCH_VENV / "bin" / "python"
    stamp = BENCH_VENV / ".installed"
    req = BENCH / "requirements.txt"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    if not stamp.exists() or stamp.stat().st_mtime < req.stat().st_mtime:
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(req)],
                       check=True)
        stamp.touch()
    return BENCH_VENV / "bin"


# --- memory -----------------------------------------------------------------

def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def descendants(pid: int) -> list[int]:
    kids, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# --- servers ----------------------------------------------------------------

@dataclass
class Server:
    name: str
    kind: str                   # extenddb | dynalite | moto
    port: int
    tls: bool
    access_key: str
    secret_key: str
    process: subprocess.Popen
    log_path: Path
    ca_bundle: str | None = None
    cleanup: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: uvicorn's spawned workers for ExtendDB,
        the single process otherwise."""
        tree = descendants(self.process.pid)
        if self.kind == "extenddb":
            workers = [p for p in tree if "spawn_main" in cmdline(p) and p != self.process.pid]
            return workers or tree
        # node / python (moto) may run under a wrapper; take the biggest process in the tree
        return [max(tree, key=rss_kb)]

    def memory(self) -> dict:
        tree = descendants(self.process.pid)
        workers = self.worker_pids()
        per = [round(rss_kb(p) / 1024, 1) for p in workers]
        return {"workers_mb": per, "workers_sum_mb": round(sum(per), 1),
                "total_mb": round(sum(rss_kb(p) for p in tree) / 1024, 1), "processes": len(tree)}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT if self.kind == "extenddb" else signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in reversed(descendants(self.process.pid)):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                self.process.wait()
        for fn in reversed(self.cleanup):
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - cleanup must go on
                print(f"cleanup of {self.name} failed: {exc}", file=sys.stderr)


def _wait_up(proc: subprocess.Popen, probe, log_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    broken_since = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log_path.read_text()[-4000:]}")
        if probe():
            return
        # uvicorn respawns workers that die while importing the app: a traceback that does not
        # go away means the server cannot start
        if broken_since is None and "Traceback" in log_path.read_text(errors="replace"):
            broken_since = time.monotonic()
        if broken_since is not None and time.monotonic() - broken_since > 5:
            break
        time.sleep(0.2)
    for pid in reversed(descendants(proc.pid)):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    proc.wait()
    raise RuntimeError(f"server did not come up:\n{log_path.read_text()[-4000:]}")


def _tls_health(port: int, ca: str) -> bool:
    if not os.path.exists(ca):
        return False
    try:
        ctx = ssl.create_default_context(cafile=ca)
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while len(data) < 65536:  # headers and body may come in separate records
                chunk = tls.recv(4096)
                if not chunk:
                    break
                data += chunk
            return b"healthy" in data
    except OSError:
        return False


def _tcp_up(port: int, tls: bool) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "-d", db, "-v", "ON_ERROR_STOP=1",
                    "-qAtc", sql], check=True, capture_output=True, text=True)


def create_pg_database() -> tuple[str, str]:
    name = f"extenddb_bench_{os.getpid()}_{int(time.time())}"
    _psql(f'CREATE DATABASE "{name}"')
    return name, f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def drop_pg_database(name: str) -> None:
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_extenddb(backend: str, workers: int = 2, keep_dir: bool = False, root: Path = ROOT,
                   name: str | None = None) -> Server:
    """backend: 'postgres' or 'sqlite'. `root`: the source tree to serve (another checkout, such as
    the commit before a change, runs on this tree's venv)."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"extenddb-bench-{backend}-"))
    env = os.environ.copy()
    env["EXTENDDB_DATA_DIR"] = str(data_dir)
    env.pop("DATABASE_URL", None)
    cleanup: list = []
    info = {"backend": backend, "workers": workers, "data_dir": str(data_dir)}
    if backend == "postgres":
        dbname, url = create_pg_database()
        env["DATABASE_URL"] = url
        info["database"] = dbname
        info["database_url"] = url
        cleanup.append(lambda: drop_pg_database(dbname))
    if not keep_dir:
        cleanup.append(lambda: shutil.rmtree(data_dir, ignore_errors=True))

    def manage(*args: str) -> str:
        res = subprocess.run([str(MAIN_PY), str(root / "manage.py"), *args], cwd=root, env=env,
                             capture_output=True, text=True, timeout=300)
        if res.returncode:
            for fn in reversed(cleanup):
                fn()
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}")
        return res.stdout

    manage("migrate", "--noinput", "-v", "0")
    out = manage("createkey", "--user", "bench")
    key_id = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", out).group(1)
    secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", out).group(1)
    port = free_port()
    log_path = data_dir / "server.log"
    proc = subprocess.Popen([str(MAIN_PY), str(root / "manage.py"), "serve", "--port", str(port),
                             "--workers", str(workers)], cwd=root, env=env,
                            stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    ca = str(data_dir / "tls-cert.pem")
    name = name or ("extenddb-pg" if backend == "postgres" else "extenddb-sqlite")
    if root != ROOT:
        info["tree"] = str(root)
    srv = Server(name, "extenddb", port, True, key_id, secret, proc, log_path, ca, cleanup, info)
    try:
        _wait_up(proc, lambda: _tls_health(port, ca), log_path)
    except Exception:
        srv.stop()
        raise
    # let every worker finish importing before measuring anything
    time.sleep(1.0)
    return srv


def start_dynalite(cli: Path, tls: bool) -> Server:
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="dynalite-bench-"))
    log_path = log_dir / "server.log"
    cmd = [shutil.which("node") or "node", str(cli), "--host", "127.0.0.1", "--port", str(port),
           "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]
    if tls:
        cmd.append("--ssl")
    proc = subprocess.Popen(cmd, cwd=BENCH, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    version = _pkg_version(cli.parent / "package.json")
    srv = Server("dynalite" if tls else "dynalite-http", "dynalite", port, tls, "AKIDBENCH", "benchsecret", proc,
                 log_path, None, [lambda: shutil.rmtree(log_dir, ignore_errors=True)],
                 {"version": version, "node": subprocess.run(["node", "--version"], capture_output=True,
                                                              text=True).stdout.strip(), "tls": tls})
    _wait_up(proc, lambda: _tcp_up(port, tls), log_path)
    return srv


def start_moto(bin_dir: Path) -> Server:
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="moto-bench-"))
    log_path = log_dir / "server.log"
    proc = subprocess.Popen([str(bin_dir / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], cwd=log_dir,
                            stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    version = subprocess.run([str(bin_dir / "python"), "-c", "import moto; print(moto.__version__)"],
                             capture_output=True, text=True).stdout.strip()
    srv = Server("moto", "moto", port, False, "AKIDBENCH", "benchsecret", proc, log_path, None,
                 [lambda: shutil.rmtree(log_dir, ignore_errors=True)], {"version": version})

    def probe() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False
    _wait_up(proc, probe, log_path)
    return srv


def _pkg_version(path: Path) -> str:
    import json
    try:
        return json.loads(path.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "?"
