"""docs/install.md's air-gapped install, step by step: a wheel bundle downloaded
from the pinned requirements on a connected machine, then installed into a
fresh virtualenv with no index at all, and the application loads from it.

About a minute (67 MB of wheels; pip's cache makes a second run quicker), so
it runs once per CI run, in the SQLite pass, not once per backend."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from . import testenv
from .server import ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(testenv.BACKEND != "sqlite",
                                 reason="installs packages, not a backend: runs once, in the SQLite pass")]


def _offline_env(tmp_path) -> dict[str, str]:
    """No pip configuration, no index, no extra wheel folders: only the bundle."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               EXTENDDB_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=f"sqlite:///{tmp_path}/data/x.sqlite3")
    return env


def test_wheel_bundle_installs_with_no_index(tmp_path):
    wheels, venv = tmp_path / "wheels", tmp_path / "venv"
    # On the connected machine: the bundle, binary wheels only (no compiler on the target).
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                    "-r", str(ROOT / "requirements.txt"), "-d", str(wheels)],
                   check=True, capture_output=True, timeout=600)
    assert all(p.suffix == ".whl" for p in wheels.iterdir())

    # On the air-gapped host: a fresh virtualenv, pip told to use nothing but the bundle.
    env = _offline_env(tmp_path)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    python = str(venv / "bin" / "python")
    install = subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(wheels),
                              "-r", str(ROOT / "requirements.txt")], env=env, capture_output=True, text=True,
                             timeout=600)
    assert install.returncode == 0, install.stderr
    check = subprocess.run([python, "-m", "pip", "check"], env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout

    # The application runs from it: Django's checks, a migration of a new database.
    for args in (["check"], ["migrate", "--noinput", "-v", "0"]):
        out = subprocess.run([python, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stderr
    assert (tmp_path / "data" / "x.sqlite3").stat().st_size > 0
