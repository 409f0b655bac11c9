"""Key pages that cannot be repeated: a one-time token per form shown, and the new
secret handed from the POST to the page that shows it (POST-redirect-GET).

A form's token is spent (and the session saved) before the key is created, so a
resubmitted POST finds it gone and creates nothing. The secret waits in the
session for its one GET encrypted under the master key (the session table never
holds it in clear), and that GET removes it: a reload shows "already shown".
"""
from __future__ import annotations

import secrets

from django.http import HttpRequest

from .crypto import decrypt_secret, encrypt_secret

_FORMS = "extenddb_key_forms"  # tokens of the key forms shown and not yet submitted
_SHOWN = "extenddb_new_keys"  # show id -> (key ID, encrypted secret, rotated key ID or "")
_KEEP = 20


def new_form_token(request: HttpRequest) -> str:
    token = secrets.token_urlsafe(16)
    request.session[_FORMS] = request.session.get(_FORMS, [])[-(_KEEP - 1):] + [token]
    return token


def spend_form_token(request: HttpRequest, token: str) -> bool:
    pending = request.session.get(_FORMS, [])
    if not token or token not in pending:
        return False
    pending.remove(token)
    request.session[_FORMS] = pending
    request.session.save()  # spent before the key exists: a second submission finds it gone
    return True


def stash_secret(request: HttpRequest, access_key_id: str, secret: str, rotated: str = "") -> str:
    """Keep the new secret for one showing; returns the id the showing page is called with."""
    show_id = secrets.token_urlsafe(16)
    waiting = dict(list(request.session.get(_SHOWN, {}).items())[-(_KEEP - 1):])
    waiting[show_id] = (access_key_id, encrypt_secret(secret).decode("ascii"), rotated)
    request.session[_SHOWN] = waiting
    return show_id


def take_secret(request: HttpRequest, show_id: str) -> tuple[str, str, str] | None:
    """(key ID, secret, rotated key ID) the first time, None ever after."""
    waiting = request.session.get(_SHOWN, {})
    entry = waiting.pop(show_id, None)
    if entry is None:
        return None
    request.session[_SHOWN] = waiting
    request.session.save()
    access_key_id, token, rotated = entry
    return access_key_id, decrypt_secret(token), rotated
