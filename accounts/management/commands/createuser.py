"""Create an IAM user (no key), optionally with policies and groups."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import IamUser

from ._policies import atomic, get_group, get_user, policies_by_name


class Command(BaseCommand):
    help = ("Create an IAM user. It may do nothing until a policy is attached "
            "(here with --policy, or later with attachpolicy/addtogroup).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="IAM user name")
        parser.add_argument("--policy", action="append", dest="policies", default=[], metavar="NAME",
                            help="Attach this policy (repeatable)")
        parser.add_argument("--group", action="append", dest="groups", default=[], metavar="NAME",
                            help="Add the user to this group (repeatable)")

    def handle(self, *args, name: str, policies: list[str], groups: list[str], **options) -> None:
        with atomic():
            if IamUser.objects.filter(name=name).exists():
                raise CommandError(f"User {name} already exists")
            user = get_user(name, create=True)
            user.policies.add(*policies_by_name(policies))
            for group in groups:
                get_group(group).users.add(user)
        self.stdout.write(f"USER={user.name} ARN={user.arn}")
