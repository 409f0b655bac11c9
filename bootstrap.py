#!/usr/bin/env python3
"""Quick start: `python3 bootstrap.py serve` and `python3 bootstrap.py test`.

Needs only python3. Creates .venv, installs the pinned requirements, then
  serve: migrates (the init step), creates a first access key and a first
         web admin if there are none, and serves HTTPS on the embedded
         SQLite default;
  test:  installs the test tools (the JavaScript SDK when npm is present,
         Debian's chromium and systemd for the browser and packaging tests
         when running as root)
         and runs the test suite (EXTENDDB_TEST_BACKEND=postgres for PostgreSQL).
Extra arguments go to `manage.py serve` or to pytest.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"


def run(*cmd: str | Path, cwd: Path = ROOT) -> None:
    subprocess.run([str(c) for c in cmd], cwd=cwd, check=True)


def install(requirements: str) -> None:
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{requirements}"
    files = [ROOT / "requirements.txt", ROOT / requirements]
    newest = max(f.stat().st_mtime for f in files)
    if not stamp.exists() or stamp.stat().st_mtime < newest:
        run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", ROOT / requirements)
        stamp.touch()


def serve(args: list[str]) -> None:
    install("requirements.txt")
    run(PY, "manage.py", "migrate", "--noinput", "-v", "0")
    run(PY, "manage.py", "ensurekey")
    run(PY, "manage.py", "createadmin", "--if-none")  # first start: web admin password shown once
    os.execv(PY, [str(PY), "manage.py", "serve", *args])


# Debian packages the tests use, by a file each installs: the browser tests drive
# chromium; the packaging tests run systemd-analyze on the systemd unit.
TEST_PACKAGES = {"/usr/bin/chromium": "chromium", "/usr/bin/systemd-analyze": "systemd"}


def ensure_test_packages() -> None:
    """Install the missing ones when we may (root, apt)."""
    missing = [pkg for path, pkg in TEST_PACKAGES.items() if not Path(path).exists()]
    if not missing or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
        if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            return  # the tests that need them skip, saying why


def test(args: list[str]) -> None:
    install("requirements-dev.txt")
    ensure_test_packages()
    js = ROOT / "tests" / "js"
    if shutil.which("npm") and not (js / "node_modules").exists():
        run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=js)
    os.execv(PY, [str(PY), "-m", "pytest", *args])


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "test"):
        sys.exit(__doc__)
    {"serve": serve, "test": test}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
