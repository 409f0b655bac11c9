"""Rotate an access key: a new key for the same user (secret printed once), the old
key kept working for a grace period so applications can move over."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.keys import AccessKeyError, parse_grace, rotate_access_key

from ._output import print_new_key


class Command(BaseCommand):
    help = ("Create a new access key for the user of ACCESS_KEY_ID (the secret is printed once) and let the "
            "old key expire after --grace (default 1d).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("access_key_id", help="The key to rotate (it must be active)")
        parser.add_argument("--grace", default="1d",
                            help="How long the old key keeps working: 'never', or a number with s/m/h/d "
                                 "(e.g. 0, 1h, 1d, 7d; default 1d)")

    def handle(self, *args, access_key_id: str, grace: str, **options) -> None:
        try:
            key, secret, old = rotate_access_key(access_key_id, parse_grace(grace))
        except AccessKeyError as exc:
            raise CommandError(str(exc)) from None
        print_new_key(self, key, secret)
        ends = old.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if old.expires_at else "never"
        self.stdout.write(f"OLD_ACCESS_KEY_ID={old.access_key_id} EXPIRES={ends}")
