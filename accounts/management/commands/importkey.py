"""Register an existing key pair; the secret is read from stdin by default."""
from __future__ import annotations

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.keys import AccessKeyError, import_access_key

from ._policies import add_policy_options, attach_for_new_key, atomic, user_exists


class Command(BaseCommand):
    help = ("Import an existing access key. The secret is read from stdin (prompted for without "
            "echo on a terminal).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", required=True, help="IAM user name (created if missing)")
        parser.add_argument("--access-key-id", required=True, help="The existing key ID (the secret is read from stdin)")
        parser.add_argument(
            "--secret-access-key", default=None,
            help="The secret on the command line. Avoid: it leaks into shell history and the process list.")
        add_policy_options(parser)

    def handle(self, *args, user: str, access_key_id: str, secret_access_key: str | None,
               policies: list[str] | None = None, no_policy: bool = False, **options) -> None:
        secret = secret_access_key
        if secret is None:
            if sys.stdin.isatty():
                secret = getpass.getpass("Secret access key: ")
            else:
                secret = sys.stdin.readline()
        secret = secret.strip()
        if not secret:
            raise CommandError("No secret access key given on stdin")
        try:
            with atomic():
                was_new = not user_exists(user)
                key = import_access_key(user, access_key_id, secret)
                attach_for_new_key(user, was_new, policies, no_policy)  # new users: AdministratorAccess
        except AccessKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"USER={key.user.name}")
        self.stdout.write(f"AWS_ACCESS_KEY_ID={key.access_key_id}")
        self.stdout.write("Imported; the secret is stored encrypted.")
