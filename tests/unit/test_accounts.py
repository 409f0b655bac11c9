"""Secret encryption, key formats, and the key lifecycle in the database."""
from __future__ import annotations

import os
import re
import stat

import pytest
from cryptography.fernet import Fernet

from accounts import crypto
from accounts.keys import generate_access_key_id, generate_secret_access_key


@pytest.fixture
def key_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.EXTENDDB_MASTER_KEY = ""
    return tmp_path


def test_crypto_round_trip_with_key_file(key_dir):
    token = crypto.encrypt_secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert b"wJalrXUtnFEMI" not in token
    assert crypto.decrypt_secret(token) == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert crypto.decrypt_secret(memoryview(token)) == crypto.decrypt_secret(token.decode())  # PG / text columns
    path = key_dir / "master.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    Fernet(path.read_bytes().strip())  # a valid key
    assert [p.name for p in key_dir.iterdir()] == ["master.key"]  # no temp file left behind


def test_key_file_is_reused(key_dir):
    token = crypto.encrypt_secret("s" * 40)
    first = (key_dir / "master.key").read_bytes()
    assert crypto.decrypt_secret(token) == "s" * 40
    assert (key_dir / "master.key").read_bytes() == first


def test_master_key_from_settings_and_rotation(key_dir, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.EXTENDDB_MASTER_KEY = old
    token = crypto.encrypt_secret("secret-under-old-key")
    assert not (key_dir / "master.key").exists()
    settings.EXTENDDB_MASTER_KEY = f"{new},{old}"  # new first: encrypts; old still decrypts
    assert crypto.decrypt_secret(token) == "secret-under-old-key"
    settings.EXTENDDB_MASTER_KEY = new
    with pytest.raises(crypto.MasterKeyError) as exc:
        crypto.decrypt_secret(token)
    assert "secret-under-old-key" not in str(exc.value)


def test_bad_master_key_is_not_echoed(key_dir, settings):
    settings.EXTENDDB_MASTER_KEY = "not-a-fernet-key"
    with pytest.raises(crypto.MasterKeyError) as exc:
        crypto.encrypt_secret("x")
    assert "not-a-fernet-key" not in str(exc.value)


def test_generated_formats():
    ids = {generate_access_key_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"AKIA[A-Z2-7]{16}", i) for i in ids)
    secrets = {generate_secret_access_key() for _ in range(200)}
    assert len(secrets) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9+/]{40}", s) for s in secrets)


# --- database -------------------------------------------------------------------

def test_create_import_deactivate(db, settings):
    from accounts.keys import AccessKeyError, create_access_key, deactivate_access_key, import_access_key
    from accounts.models import AccessKey, IamUser

    key, secret = create_access_key("unit-user")
    assert key.user.name == "unit-user" and key.status == "Active"
    assert key.user.arn == f"arn:aws:iam::{settings.EXTENDDB_ACCOUNT_ID}:user/unit-user"
    stored = AccessKey.objects.get(access_key_id=key.access_key_id)
    assert secret.encode() not in bytes(stored.secret_ciphertext)
    assert crypto.decrypt_secret(stored.secret_ciphertext) == secret

    key2, _ = create_access_key("unit-user")  # same user, second key
    assert IamUser.objects.filter(name="unit-user").count() == 1 and key2.user_id == key.user_id

    imported = import_access_key("legacy", "AKIAIMPORTEDKEY00099", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert crypto.decrypt_secret(imported.secret_ciphertext) == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    with pytest.raises(AccessKeyError, match="already exists"):
        import_access_key("legacy", "AKIAIMPORTEDKEY00099", "x" * 40)
    with pytest.raises(AccessKeyError, match="16-128 characters of A-Z and 0-9"):
        import_access_key("legacy", "akia-lower", "x" * 40)
    with pytest.raises(AccessKeyError, match="printable") as exc:
        import_access_key("legacy", "AKIAIMPORTEDKEY00100", "short")
    assert "short" not in str(exc.value)
    with pytest.raises(AccessKeyError, match="Invalid user name"):
        create_access_key("bad name!")

    assert deactivate_access_key(key.access_key_id).status == "Inactive"
    with pytest.raises(AccessKeyError, match="No access key"):
        deactivate_access_key("AKIANOSUCHKEY0000000")
    assert repr(stored) == f"<AccessKey {key.access_key_id} Active user={key.user_id}>"  # no ciphertext


def test_keyring_file_first_key_encrypts_every_key_decrypts(key_dir):
    old = crypto.encrypt_secret("o" * 40)
    (old_key,) = crypto.keyring()[1]
    new_key = crypto.generate_master_key()
    crypto.write_keyring([new_key, old_key])
    assert stat.S_IMODE(os.stat(key_dir / "master.key").st_mode) == 0o600
    assert crypto.decrypt_secret(old) == "o" * 40  # the old key still opens what it wrote
    fresh = crypto.encrypt_secret("n" * 40)
    assert crypto.opens_with(fresh, new_key) and not crypto.opens_with(fresh, old_key)
    moved = crypto.reencrypt(old)
    assert crypto.opens_with(moved, new_key) and not crypto.opens_with(moved, old_key)
    crypto.write_keyring([new_key])
    assert crypto.decrypt_secret(moved) == "o" * 40
    with pytest.raises(crypto.MasterKeyError):
        crypto.decrypt_secret(old)
    assert len(crypto.key_id(new_key)) == 12 and crypto.key_id(new_key) not in new_key


def test_write_keyring_refuses_a_bad_key(key_dir):
    crypto.encrypt_secret("x" * 40)
    before = (key_dir / "master.key").read_bytes()
    with pytest.raises(ValueError):
        crypto.write_keyring(["not-a-key"])
    assert (key_dir / "master.key").read_bytes() == before


@pytest.mark.parametrize(("text", "seconds"), [("0", 0), ("90", 90), ("90s", 90), ("15m", 900), ("1h", 3600),
                                               ("1d", 86400), ("7d", 604800), ("never", None), ("NEVER", None)])
def test_grace_periods(text, seconds):
    from accounts.keys import parse_grace

    grace = parse_grace(text)
    assert (None if grace is None else grace.total_seconds()) == seconds


@pytest.mark.parametrize("text", ["", "-1h", "1w", "1.5h", "1 h", "forever"])
def test_bad_grace_periods(text):
    from accounts.keys import AccessKeyError, parse_grace

    with pytest.raises(AccessKeyError):
        parse_grace(text)
