"""Encryption of access-key secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The master key comes from settings.EXTENDDB_MASTER_KEY, else from
DATA_DIR/master.key, created on first use with mode 0600. Either holds a keyring:
one or more keys (comma- or line-separated); the first encrypts, every key
decrypts, so secrets written under an old key stay readable while
`manage.py rotatemasterkey` re-encrypts them under a new one. Keys are named in
output by their key id (a hash prefix, never the key). The file is read again at
each use, so running servers follow a rotation without a restart. The key itself
is never logged or echoed in error messages.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

KEY_FILE_NAME = "master.key"

_lock = threading.Lock()
_cache: dict[tuple[str, str], MultiFernet] = {}


class MasterKeyError(RuntimeError):
    """The master key is missing, malformed, or does not open a stored secret."""


def _key_file() -> Path:
    return Path(settings.DATA_DIR) / KEY_FILE_NAME


def _create_key_file(path: Path) -> None:
    """Write a new key to a private temp file, then link it into place.

    os.link fails if the file already exists, so concurrent first uses (several
    workers, a management command) agree on one key, and no reader ever sees a
    half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".master.key.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race; use its key
    finally:
        os.unlink(tmp)


def _load_keys() -> tuple[str, str]:
    """Return (source label, key material) without caching the material's origin in logs."""
    configured = (getattr(settings, "EXTENDDB_MASTER_KEY", "") or "").strip()
    if configured:
        return "settings", configured
    path = _key_file()
    if not path.exists():
        _create_key_file(path)
    return str(path), path.read_text().strip()


_SEPARATORS = re.compile(r"[\s,]+")


def _split(material: str) -> list[str]:
    return [k for k in _SEPARATORS.split(material) if k]


def key_id(key: str) -> str:
    """A key's public name: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(key.strip().encode()).hexdigest()[:12]


def keyring() -> tuple[str, list[str]]:
    """(where it comes from: "settings" or the file's path, the keys, encrypting key first)."""
    source, material = _load_keys()
    return source, _split(material)


def write_keyring(keys: list[str]) -> Path:
    """Replace DATA_DIR/master.key with these keys (first encrypts), atomically, mode 0600.
    Readers see the old file or the new one, never a part."""
    for key in keys:
        Fernet(key.encode())  # refuse to write a key that cannot be used
    path = _key_file()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".master.key.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write("".join(k + "\n" for k in keys).encode())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def reencrypt(token: bytes | memoryview | str) -> bytes:
    """The same secret encrypted under the keyring's first key."""
    raw = token.encode() if isinstance(token, str) else bytes(token)
    try:
        return _fernet().rotate(raw)
    except InvalidToken:
        raise MasterKeyError("A stored access-key secret cannot be decrypted with any key of the keyring.") from None


def opens_with(token: bytes | memoryview | str, key: str) -> bool:
    raw = token.encode() if isinstance(token, str) else bytes(token)
    try:
        Fernet(key.encode()).decrypt(raw)
    except InvalidToken:
        return False
    return True


def _fernet() -> MultiFernet:
    source, material = _load_keys()
    with _lock:
        hit = _cache.get((source, material))
        if hit is not None:
            return hit
        try:
            fernet = MultiFernet([Fernet(k.encode()) for k in _split(material)])
        except (ValueError, TypeError):
            where = "EXTENDDB_MASTER_KEY" if source == "settings" else source
            raise MasterKeyError(
                f"The master key in {where} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes).") from None
        _cache.clear()
        _cache[(source, material)] = fernet
        return fernet


def generate_master_key() -> str:
    """A fresh value suitable for EXTENDDB_MASTER_KEY."""
    return Fernet.generate_key().decode()


def encrypt_secret(secret: str) -> bytes:
    return _fernet().encrypt(secret.encode("utf-8"))


def decrypt_secret(token: bytes | memoryview | str) -> str:
    # SQLite returns bytes for a BinaryField, PostgreSQL a memoryview.
    raw = token.encode() if isinstance(token, str) else bytes(token)
    try:
        return _fernet().decrypt(raw).decode("utf-8")
    except InvalidToken:
        raise MasterKeyError(
            "A stored access-key secret cannot be decrypted: the master key "
            "differs from the one it was encrypted with.") from None
