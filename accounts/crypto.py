"""Encryption of access-key secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The master key comes from settings.EXTENDDB_MASTER_KEY (a comma-separated list
is accepted for rotation: the first key encrypts, every key decrypts), else
from DATA_DIR/master.key, created on first use with mode 0600. The key itself
is never logged or echoed in error messages.
"""
from __future__ import annotations

import os
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


def _fernet() -> MultiFernet:
    source, material = _load_keys()
    with _lock:
        hit = _cache.get((source, material))
        if hit is not None:
            return hit
        try:
            fernet = MultiFernet([Fernet(k.strip().encode()) for k in material.split(",") if k.strip()])
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
