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
