#!/usr/bin/env python3
"""Quick start: `python3 bootstrap.py serve`, `python3 bootstrap.py test`,
`python3 bootstrap.py --version`.

Needs only python3. Creates .venv, installs the pinned requirements (again
only when a requirements file's content changed: a stamp in .venv holds their
hash), then
  serve: `manage.py serve --init`: in that one process, migrates (the init
         step) when migrations are pending, creates a first access key and a
         first web admin if there are none, and serves HTTPS on the embedded
         SQLite default;
  test:  installs the test tools (the JavaScript SDK when npm is present,
         Debian's chromium and systemd for the browser and packaging tests
         when running as root)
         and runs the test suite (EXTENDDB_TEST_BACKEND=postgres for PostgreSQL).
Extra arguments go to `manage.py serve` or to pytest.
"""
from __future__ import annotations

import hashlib
import os
import re
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


def _included(path: Path) -> list[Path]:
    """The requirements file and every file it includes (-r), in order."""
    found, pending = [], [path]
    while pending:
        path = pending.pop(0)
        if path not in found:
            found.append(path)
            pending += [path.parent / m for m in re.findall(r"^-r\s+(\S+)", path.read_text(), re.M)]
    return found


def _requirements_hash(path: Path) -> str:
    digest = hashlib.sha256()
    for included in _included(path):
        digest.update(included.name.encode() + b"\0" + included.read_bytes() + b"\0")
    return digest.hexdigest()


def _stamp(path: Path) -> Path:
    return VENV / f".installed-{path.name}"


def install(requirements: str) -> None:
    """pip only when a requirements file changed: the stamp holds the hash of what was installed."""
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    path = ROOT / requirements
    stamp = _stamp(path)
    if stamp.exists() and stamp.read_text().strip() == _requirements_hash(path):
        return
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", path)
    for included in _included(path):  # what requirements-dev.txt includes is installed too
        _stamp(included).write_text(_requirements_hash(included) + "\n")


def serve(args: list[str]) -> None:
    install("requirements.txt")
    # One process: migrations, the first key and admin (each a query when there is
    # nothing to do; the first start shows the secret and the password once), then serve.
    os.execv(PY, [str(PY), "manage.py", "serve", "--init", *args])


def version() -> str:
    text = (ROOT / "extenddb_site" / "version.py").read_text()
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


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
    if sys.argv[1:2] == ["--version"]:
        print(version())
        return
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "test"):
        sys.exit(__doc__)
    {"serve": serve, "test": test}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
