"""Access-key creation, import, rotation, expiry and deactivation.

A secret leaves this module in clear only as the return value of
create_access_key, for the caller to show once; it is stored encrypted.
"""
from __future__ import annotations

import re
import secrets
import string
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .crypto import encrypt_secret
from .models import USER_NAME_PATTERN, AccessKey, IamUser

_ID_ALPHABET = string.ascii_uppercase + "234567"  # base32, as AWS key IDs
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"  # base64, as AWS secrets
_IMPORT_ID = re.compile(r"[A-Z0-9]{16,128}")
_IMPORT_SECRET = re.compile(r"[\x21-\x7e]{16,128}")  # printable ASCII, no spaces
_USER_NAME = re.compile(USER_NAME_PATTERN)


class AccessKeyError(ValueError):
    """A key cannot be created, imported or changed as asked (message is user-facing)."""


def generate_access_key_id() -> str:
    return "AKIA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def generate_secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def bump_generation() -> None:
    """Tell every server to drop its cached credentials now (storage.generation:
    on PostgreSQL the database's triggers already have; on SQLite this bumps the
    host's counter)."""
    from storage.generation import announce_change  # storage is optional for pure key tools

    announce_change()


def _user(user_name: str) -> IamUser:
    if not _USER_NAME.fullmatch(user_name):
        raise AccessKeyError(f"Invalid user name {user_name!r}: use 1-64 letters, digits and +=,.@_-")
    user, _ = IamUser.objects.get_or_create(name=user_name)
    return user


def _store(user_name: str, access_key_id: str, secret: str) -> AccessKey:
    ciphertext = encrypt_secret(secret)
    try:
        with transaction.atomic():
            key = AccessKey.objects.create(
                access_key_id=access_key_id, secret_ciphertext=ciphertext, user=_user(user_name))
    except IntegrityError:
        raise AccessKeyError(f"Access key {access_key_id} already exists") from None
    # A worker may have cached "unknown" for this ID (e.g. an earlier failed attempt).
    bump_generation()
    return key


def create_access_key(user_name: str) -> tuple[AccessKey, str]:
    """Create a key (and the user, if new); returns the key and its secret in clear."""
    secret = generate_secret_access_key()
    for _ in range(5):  # a 80-bit ID collides practically never; retry anyway
        access_key_id = generate_access_key_id()
        if not AccessKey.objects.filter(access_key_id=access_key_id).exists():
            return _store(user_name, access_key_id, secret), secret
    raise AccessKeyError("Could not allocate a unique access key ID")


def import_access_key(user_name: str, access_key_id: str, secret: str) -> AccessKey:
    """Register an existing key pair (e.g. one applications already hold)."""
    if not _IMPORT_ID.fullmatch(access_key_id):
        raise AccessKeyError("Access key IDs are 16-128 characters of A-Z and 0-9")
    if not _IMPORT_SECRET.fullmatch(secret):
        # Never echo the secret, not even in part.
        raise AccessKeyError("Secret access keys are 16-128 printable ASCII characters without spaces")
    if AccessKey.objects.filter(access_key_id=access_key_id).exists():
        raise AccessKeyError(f"Access key {access_key_id} already exists")
    return _store(user_name, access_key_id, secret)


def set_access_key_status(access_key_id: str, status: str) -> AccessKey:
    if status not in (AccessKey.ACTIVE, AccessKey.INACTIVE):
        raise AccessKeyError(f"Unknown status {status!r}")
    updated = AccessKey.objects.filter(access_key_id=access_key_id).update(status=status)
    if not updated:
        raise AccessKeyError(f"No access key {access_key_id}")
    bump_generation()
    return AccessKey.objects.select_related("user").get(access_key_id=access_key_id)


def deactivate_access_key(access_key_id: str) -> AccessKey:
    return set_access_key_status(access_key_id, AccessKey.INACTIVE)


# --- rotation with a grace period ---------------------------------------------------
# What the admin and the console offer; None: the old key stays active until deactivated.
GRACE_CHOICES: list[tuple[str, str, timedelta | None]] = [
    ("0", "at once (applications holding it are cut off now)", timedelta(0)),
    ("3600", "in 1 hour", timedelta(hours=1)),
    ("86400", "in 1 day", timedelta(days=1)),
    ("604800", "in 7 days", timedelta(days=7)),
    ("never", "never (deactivate it by hand)", None),
]
DEFAULT_GRACE = "86400"
_DURATION = re.compile(r"(\d+)([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_grace(text: str) -> timedelta | None:
    """'never', or seconds, or a number with s/m/h/d ('90s', '1h', '7d')."""
    text = text.strip().lower()
    if text == "never":
        return None
    match = _DURATION.fullmatch(text)
    if match is None:
        raise AccessKeyError(f"Invalid grace period {text!r}: use 'never' or a number of s, m, h or d (e.g. 1h, 7d)")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def set_access_key_expiry(access_key_id: str, expires_at: datetime | None) -> AccessKey:
    updated = AccessKey.objects.filter(access_key_id=access_key_id).update(expires_at=expires_at)
    if not updated:
        raise AccessKeyError(f"No access key {access_key_id}")
    bump_generation()
    return AccessKey.objects.select_related("user").get(access_key_id=access_key_id)


def rotate_access_key(access_key_id: str, grace: timedelta | None) -> tuple[AccessKey, str, AccessKey]:
    """A new key for the old key's user, and the old key set to expire after `grace`
    (None: it stays active until someone deactivates it). An old key that already
    expires sooner keeps its earlier expiry. Returns (new key, its secret, old key)."""
    with transaction.atomic():
        old = AccessKey.objects.select_for_update().select_related("user").filter(access_key_id=access_key_id).first()
        if old is None:
            raise AccessKeyError(f"No access key {access_key_id}")
        if old.status != AccessKey.ACTIVE or old.expired:
            raise AccessKeyError(f"Access key {access_key_id} is not active: create a new key instead")
        key, secret = create_access_key(old.user.name)
        if grace is not None:
            ends = timezone.now() + grace
            if old.expires_at is None or ends < old.expires_at:
                AccessKey.objects.filter(pk=old.pk).update(expires_at=ends)
    bump_generation()  # after the commit: every worker reloads the old key with its expiry
    return key, secret, AccessKey.objects.select_related("user").get(pk=old.pk)
