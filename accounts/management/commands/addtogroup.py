"""Add a user to a group (or remove it with --remove)."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from ._policies import atomic, get_group, get_user


class Command(BaseCommand):
    help = "Add a user to a group, or remove it with --remove."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--group", required=True, help="Group name")
        parser.add_argument("--user", required=True, help="IAM user name")
        parser.add_argument("--remove", action="store_true", help="Remove the user from the group instead")

    def handle(self, *args, group: str, user: str, remove: bool, **options) -> None:
        with atomic():
            found, member = get_group(group), get_user(user)
            (found.users.remove if remove else found.users.add)(member)
        self.stdout.write(f"{'REMOVED' if remove else 'ADDED'} USER={user} GROUP={group}")
