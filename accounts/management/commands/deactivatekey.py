"""Deactivate an access key; every worker stops accepting it within moments."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.keys import AccessKeyError, deactivate_access_key


class Command(BaseCommand):
    help = "Mark an access key Inactive (requests signed with it are then refused)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("access_key_id", help="The access key to make Inactive")

    def handle(self, *args, access_key_id: str, **options) -> None:
        try:
            key = deactivate_access_key(access_key_id)
        except AccessKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"AWS_ACCESS_KEY_ID={key.access_key_id} STATUS={key.status}")
