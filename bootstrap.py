#!/usr/bin/env python3
"""Quick start: `python3 bootstrap.py serve` and `python3 bootstrap.py test`.

Needs only python3. Creates .venv, installs the pinned requirements, then
  serve: migrates (the init step), creates a first access key if there is
         none, and serves HTTPS on the embedded SQLite default;
  test:  installs the test tools (and the JavaScript SDK when npm is present)
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
    os.execv(PY, [str(PY), "manage.py", "serve", *args])


def test(args: list[str]) -> None:
    install("requirements-dev.txt")
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
