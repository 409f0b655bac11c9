"""Policy attachment shared by the user, key and policy commands."""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from accounts.models import ADMINISTRATOR_ACCESS, USER_NAME_PATTERN, Group, IamUser, Policy
from accounts.policy_validation import validate_policy_document


def add_policy_options(parser: CommandParser) -> None:
    """--policy NAME (repeatable) / --no-policy, for commands that may create a user."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--policy", action="append", dest="policies", metavar="NAME", default=None,
        help=f"Attach this policy to the user (repeatable). Default for a new user: {ADMINISTRATOR_ACCESS}.")
    group.add_argument(
        "--no-policy", action="store_true",
        help="Attach no policy: the user can do nothing until one is attached (IAM's default).")


def policies_by_name(names: Iterable[str]) -> list[Policy]:
    names = list(names)
    found = {p.name: p for p in Policy.objects.filter(name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise CommandError(f"No such policy: {', '.join(missing)}")
    return [found[n] for n in names]


def user_exists(name: str) -> bool:
    return IamUser.objects.filter(name=name).exists()


def attach_for_new_key(user_name: str, was_new: bool, policies: list[str] | None, no_policy: bool) -> list[str]:
    """After a key command: attach --policy names, or AdministratorAccess to a user it created."""
    if no_policy:
        return []
    if policies is None:
        if not was_new:
            return []  # an existing user keeps exactly the policies it has
        policies = [ADMINISTRATOR_ACCESS]
    user = IamUser.objects.get(name=user_name)
    user.policies.add(*policies_by_name(policies))
    return policies


def read_document(path: str) -> dict:
    """A policy document from a file ("-" for stdin), validated."""
    import sys

    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    problems = validate_policy_document(text)
    if problems:
        raise CommandError("Invalid policy document:\n  " + "\n  ".join(problems))
    return json.loads(text)


def get_user(name: str, create: bool = False) -> IamUser:
    import re

    if not re.fullmatch(USER_NAME_PATTERN, name):
        raise CommandError(f"Invalid user name {name!r}: use 1-64 letters, digits and +=,.@_-")
    if create:
        return IamUser.objects.get_or_create(name=name)[0]
    try:
        return IamUser.objects.get(name=name)
    except IamUser.DoesNotExist:
        raise CommandError(f"No such user: {name}") from None


def get_group(name: str) -> Group:
    try:
        return Group.objects.get(name=name)
    except Group.DoesNotExist:
        raise CommandError(f"No such group: {name}") from None


atomic = transaction.atomic
