"""Access keys that expire, rotation with a grace period, and the master key's
rotation under a live server (issue 14 §6). Real server, real boto3 clients, the
operator's real commands."""
from __future__ import annotations

import re
import threading
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from .conftest import make_client
from .reliability.harness import client, deployment
from .server import Key, create_key, manage

CACHE_BOUND = 6.0  # the credential cache's lifetime (5 s) and some room; expiry needs none of it


def _error(call) -> tuple[str, str, int] | None:
    try:
        call()
    except ClientError as exc:
        return (exc.response["Error"]["Code"], exc.response["Error"]["Message"],
                exc.response["ResponseMetadata"]["HTTPStatusCode"])
    return None


def _rotate(key_id: str, grace: str) -> tuple[Key, str]:
    out = manage("rotatekey", key_id, "--grace", grace).stdout
    new = Key(re.search(r"AWS_ACCESS_KEY_ID=(\S+)", out).group(1), re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", out).group(1))
    return new, re.search(r"OLD_ACCESS_KEY_ID=\S+ EXPIRES=(\S+)", out).group(1)


def test_expired_key_is_refused_exactly_like_an_inactive_or_unknown_one(server):
    unknown = _error(make_client(server, Key("AKIAUNKNOWNUNKNOWN00", "x" * 40)).list_tables)
    inactive_key = create_key(f"ex{uuid.uuid4().hex[:8]}")
    manage("deactivatekey", inactive_key.access_key_id)
    inactive = _error(make_client(server, inactive_key).list_tables)

    expiring = create_key(f"ex{uuid.uuid4().hex[:8]}")
    app = make_client(server, expiring)
    app.list_tables()
    manage("expirekey", expiring.access_key_id, "--in", "4s")
    ends = time.monotonic() + 4
    # Works until then (from the cache: the expiry was read when the change bumped it).
    while time.monotonic() < ends - 1.5:
        app.list_tables()
        time.sleep(0.2)
    # Refused from the instant it passes, though nothing invalidates the cache then.
    time.sleep(max(0.0, ends - time.monotonic()) + 0.3)
    expired = _error(app.list_tables)
    assert expired == inactive == unknown == (
        "UnrecognizedClientException", "The security token included in the request is invalid.", 400)
    out = manage("listkeys").stdout
    assert re.search(rf"^{expiring.access_key_id}\tExpired\t", out, re.M)
    # Clearing the expiry brings the key back (within the cache bound).
    manage("expirekey", expiring.access_key_id, "--in", "never")
    deadline = time.monotonic() + CACHE_BOUND
    while _error(app.list_tables) is not None:
        assert time.monotonic() < deadline, "a key whose expiry was cleared stayed refused"
        time.sleep(0.2)


def test_rotation_keeps_the_old_key_working_until_its_grace_period_ends(server):
    old = create_key(f"rot{uuid.uuid4().hex[:8]}")
    old_app = make_client(server, old)
    old_app.list_tables()
    new, expires = _rotate(old.access_key_id, "5s")
    assert expires != "never" and new.access_key_id != old.access_key_id
    ends = time.monotonic() + 5
    new_app = make_client(server, new)
    while time.monotonic() < ends - 1.5:  # both keys work during the grace period
        old_app.list_tables()
        new_app.list_tables()
        time.sleep(0.25)
    time.sleep(max(0.0, ends - time.monotonic()) + 0.3)
    assert _error(old_app.list_tables)[0] == "UnrecognizedClientException"
    new_app.list_tables()
    # An expired key cannot be rotated again.
    refused = manage("rotatekey", old.access_key_id, check=False)
    assert refused.returncode != 0 and "not active" in refused.stderr


def test_rotation_with_no_expiry_keeps_the_old_key_until_deactivated(server):
    old = create_key(f"rot{uuid.uuid4().hex[:8]}")
    new, expires = _rotate(old.access_key_id, "never")
    assert expires == "never"
    old_app, new_app = make_client(server, old), make_client(server, new)
    old_app.list_tables()
    new_app.list_tables()
    manage("deactivatekey", old.access_key_id)
    deadline = time.monotonic() + CACHE_BOUND
    while _error(old_app.list_tables) is None:
        assert time.monotonic() < deadline, "the deactivated old key was still accepted"
        time.sleep(0.2)
    new_app.list_tables()


def test_grace_periods_are_parsed_strictly():
    bad = manage("rotatekey", "AKIAWHATEVER00000000", "--grace", "1 week", check=False)
    assert bad.returncode != 0 and "Invalid grace period" in bad.stderr


class Signer(threading.Thread):
    """Signed requests through one server, without pause, counting every failure."""

    def __init__(self, server, keys: list[Key]) -> None:
        super().__init__(daemon=True)
        self.clients = [client(server, k) for k in keys]
        self.stop = threading.Event()
        self.ok = 0
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            for c in self.clients:
                try:
                    c.list_tables()
                    self.ok += 1
                except Exception as exc:  # any error is a failure of the rollover
                    self.failures.append(repr(exc))

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=60)


def test_master_key_rotation_under_a_live_server():
    """rotatemasterkey re-encrypts every secret under a new key while the server keeps
    answering signed requests (with keys cached and keys it must load afresh), then the
    old key is retired; nothing the old key alone can open is left."""
    with deployment() as dep:
        keys = [dep.create_key(f"mk{i}") for i in range(3)]
        server = dep.start(workers=2)
        key_file = Path(dep.data_dir) / "master.key"
        old_master = key_file.read_text().split()
        assert len(old_master) == 1
        signer = Signer(server, keys)
        signer.start()
        try:
            time.sleep(1)
            out = dep.manage("rotatemasterkey").stdout
            assert re.search(r"^REENCRYPTED=3$", out, re.M), out
            ring = key_file.read_text().split()
            assert len(ring) == 2 and ring[1] == old_master[0]  # new key first, the old one still decrypts
            # A key created now is encrypted under the new key; the server accepts it at once.
            fresh = dep.create_key("mk-after")
            client(server, fresh).list_tables()
            time.sleep(6)  # past the credential cache: every key is loaded and decrypted again
            out = dep.manage("rotatemasterkey", "--retire").stdout
            assert "REENCRYPTED=4" in out and key_file.read_text().split() == [ring[0]]
            assert (key_file.stat().st_mode & 0o777) == 0o600
            time.sleep(6)  # and again, with the new key alone
            client(server, fresh).list_tables()
        finally:
            signer.finish()
        assert signer.failures == [] and signer.ok > 50, (signer.ok, signer.failures[:3])
        # Nothing in the database opens with the old key any more.
        check = dep.manage("shell", "-c", (
            "from accounts.crypto import opens_with; from accounts.models import AccessKey; "
            f"print(sum(opens_with(k.secret_ciphertext, {old_master[0]!r}) for k in AccessKey.objects.all()))"))
        assert check.stdout.strip().splitlines()[-1] == "0"
        assert old_master[0] not in dep.manage("listkeys").stdout


def test_master_key_staged_rotation_for_several_servers():
    """--stage adds a decrypt-only key, --promote makes it the encrypting key and
    re-encrypts; an unknown key id changes nothing."""
    with deployment() as dep:
        dep.create_key("stage")
        key_file = Path(dep.data_dir) / "master.key"
        old = key_file.read_text().split()
        staged = re.search(r"STAGED_KEY_ID=(\w+)", dep.manage("rotatemasterkey", "--stage").stdout).group(1)
        ring = key_file.read_text().split()
        assert ring[0] == old[0] and len(ring) == 2
        wrong = dep.manage("rotatemasterkey", "--promote", "000000000000", check=False)
        assert wrong.returncode != 0 and key_file.read_text().split() == ring
        out = dep.manage("rotatemasterkey", "--promote", staged).stdout
        assert f"MASTER_KEY_ID={staged}" in out and "REENCRYPTED=1" in out
        assert key_file.read_text().split() == [ring[1], ring[0]]
        dep.manage("rotatemasterkey", "--retire")
        assert key_file.read_text().split() == [ring[1]]


@pytest.mark.parametrize("option", ["--stage", "--promote=abc"])
def test_a_master_key_from_the_environment_is_not_rewritten(option):
    with deployment() as dep:
        import subprocess
        import sys

        from accounts.crypto import generate_master_key

        from .server import ROOT

        env = {**dep.env, "EXTENDDB_MASTER_KEY": generate_master_key()}
        done = subprocess.run([sys.executable, str(ROOT / "manage.py"), "rotatemasterkey", option], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode != 0 and "EXTENDDB_MASTER_KEY" in done.stderr
        assert env["EXTENDDB_MASTER_KEY"] not in done.stderr + done.stdout
