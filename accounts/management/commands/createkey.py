"""Create an access key (and the user, if new); print the secret exactly once."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.keys import AccessKeyError, create_access_key

from ._output import print_new_key


class Command(BaseCommand):
    help = "Create an access key for a user (created if missing). The secret is printed once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", default="admin", help="IAM user name (default: admin)")

    def handle(self, *args, user: str, **options) -> None:
        try:
            key, secret = create_access_key(user)
        except AccessKeyError as exc:
            raise CommandError(str(exc)) from None
        print_new_key(self, key, secret)
