"""Administrator accounts (Django users) and what each may do in the console.

Rights are Django permissions, offered as a few roles rather than the model
admin's list of every permission: data (storage.Table: view, change, add,
delete; console.grants turns them into what the API allows), identities
(the accounts models), the access log, and administrators themselves
(auth users and groups and the lock-out records).
"""
from __future__ import annotations

import secrets

from django.contrib.auth.models import Group, Permission, User
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import Q

# role -> (label, permissions as app_label.codename)
ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tables_read": ("Read tables and items", ("storage.view_table",)),
    "tables_write": ("Write items and change table settings", ("storage.change_table",)),
    "tables_create": ("Create and restore tables", ("storage.add_table",)),
    "tables_delete": ("Delete tables and backups", ("storage.delete_table",)),
    "identities_read": ("See users, groups, policies and keys", (
        "accounts.view_iamuser", "accounts.view_group", "accounts.view_policy", "accounts.view_accesskey")),
    "identities_manage": ("Manage users, groups, policies and keys", tuple(
        f"accounts.{action}_{model}" for model in ("iamuser", "group", "policy", "accesskey")
        for action in ("add", "change", "delete", "view"))),
    "access_log": ("Read the access log", ("storage.view_accesslogentry",)),
    "administrators": ("Manage administrators and lock-outs", tuple(
        [f"auth.{action}_{model}" for model in ("user", "group") for action in ("add", "change", "delete", "view")]
        + [f"axes.{action}_{model}" for model in ("accessattempt", "accesslog", "accessfailurelog")
           for action in ("view", "delete")])),
}


def _permissions(names: list[str]) -> list[Permission]:
    query = Q(pk__in=[])
    for name in names:
        app, _, codename = name.partition(".")
        query |= Q(content_type__app_label=app, codename=codename)
    return list(Permission.objects.filter(query))


def permissions_of_roles(roles: list[str]) -> list[Permission]:
    return _permissions([p for role in roles if role in ROLES for p in ROLES[role][1]])


def roles_of(user: User) -> list[str]:
    granted = user.get_all_permissions()
    return [role for role, (_, perms) in ROLES.items() if set(perms) <= granted]


def generate_password() -> str:
    """About 144 bits from the OS's CSPRNG, URL-safe so it survives copy and paste."""
    return secrets.token_urlsafe(18)


def create_administrator(username: str, superuser: bool, roles: list[str]) -> tuple[User, str]:
    """A staff account with a generated password (returned once, for the page to show)."""
    if User.objects.filter(username=username).exists():
        raise ValueError(f"An administrator named {username!r} exists already")
    password = generate_password()
    candidate = User(username=username, is_staff=True, is_superuser=superuser)
    validate_password(password, candidate)
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, is_staff=True, is_superuser=superuser)
        user.user_permissions.set(permissions_of_roles(roles))
    return user, password


def set_roles(user: User, superuser: bool, roles: list[str], groups: list[Group]) -> None:
    with transaction.atomic():
        user.is_superuser = superuser
        user.save(update_fields=["is_superuser"])
        user.user_permissions.set(permissions_of_roles(roles))
        user.groups.set(groups)


def create_group(name: str, roles: list[str]) -> Group:
    if Group.objects.filter(name=name).exists():
        raise ValueError(f"A group named {name!r} exists already")
    with transaction.atomic():
        group = Group.objects.create(name=name)
        group.permissions.set(permissions_of_roles(roles))
    return group
