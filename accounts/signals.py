"""Every change to users, groups, policies, attachments or keys bumps the shared
generation counter, so each worker drops its cached credentials and compiled
policies and a revoked key or changed policy takes effect within moments.

QuerySet.update() sends no signals: code that updates in bulk (accounts.keys)
bumps the counter itself.
"""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from .keys import bump_generation
from .models import AccessKey, Group, IamUser, Policy


def _bump_after_commit(**_: Any) -> None:
    # After commit: a worker that reloads on the bump must see the new rows.
    transaction.on_commit(bump_generation)


def _bump_on_m2m(action: str, **_: Any) -> None:
    if action.startswith("post_"):
        transaction.on_commit(bump_generation)


def connect() -> None:
    for model in (IamUser, AccessKey, Group, Policy):
        post_save.connect(_bump_after_commit, sender=model, dispatch_uid=f"extenddb-bump-save-{model.__name__}")
        post_delete.connect(_bump_after_commit, sender=model, dispatch_uid=f"extenddb-bump-delete-{model.__name__}")
    for through in (IamUser.policies.through, Group.users.through, Group.policies.through):
        m2m_changed.connect(_bump_on_m2m, sender=through, dispatch_uid=f"extenddb-bump-m2m-{through.__name__}")
