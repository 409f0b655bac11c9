"""Create an access key (and the user, if new); print the secret exactly once.

A user this command creates gets the built-in AdministratorAccess policy unless
--policy or --no-policy says otherwise."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.keys import AccessKeyError, create_access_key

from ._output import print_new_key
from ._policies import add_policy_options, attach_for_new_key, atomic, user_exists


class Command(BaseCommand):
    help = ("Create an access key for a user (created if missing). The secret is printed once. "
            "A new user gets AdministratorAccess unless --policy/--no-policy is given.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", default="admin", help="IAM user name (default: admin)")
        add_policy_options(parser)

    def handle(self, *args, user: str, policies: list[str] | None, no_policy: bool, **options) -> None:
        try:
            with atomic():  # an unknown --policy leaves no key behind
                was_new = not user_exists(user)
                key, secret = create_access_key(user)
                attach_for_new_key(user, was_new, policies, no_policy)
        except AccessKeyError as exc:
            raise CommandError(str(exc)) from None
        print_new_key(self, key, secret)
