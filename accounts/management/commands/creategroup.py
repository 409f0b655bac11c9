"""Create a group of users; its policies apply to every member."""
from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError

from accounts.models import GROUP_NAME_PATTERN, Group

from ._policies import atomic, get_user, policies_by_name


class Command(BaseCommand):
    help = "Create a group, optionally with policies and members."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="Group name")
        parser.add_argument("--policy", action="append", dest="policies", default=[], metavar="NAME",
                            help="Attach this policy (repeatable)")
        parser.add_argument("--user", action="append", dest="users", default=[], metavar="NAME",
                            help="Add this IAM user (repeatable)")

    def handle(self, *args, name: str, policies: list[str], users: list[str], **options) -> None:
        if not re.fullmatch(GROUP_NAME_PATTERN, name):
            raise CommandError(f"Invalid group name {name!r}: use 1-128 letters, digits and +=,.@_-")
        with atomic():
            if Group.objects.filter(name=name).exists():
                raise CommandError(f"Group {name} already exists")
            group = Group.objects.create(name=name)
            group.policies.add(*policies_by_name(policies))
            group.users.add(*[get_user(u) for u in users])
        self.stdout.write(f"GROUP={group.name} ARN={group.arn}")
