"""Mark an access key Active again (the counterpart of deactivatekey)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.keys import AccessKeyError, set_access_key_status
from accounts.models import AccessKey


class Command(BaseCommand):
    help = "Mark an access key Active (requests signed with it are accepted again)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("access_key_id", help="The access key to make Active again")

    def handle(self, *args, access_key_id: str, **options) -> None:
        try:
            key = set_access_key_status(access_key_id, AccessKey.ACTIVE)
        except AccessKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"AWS_ACCESS_KEY_ID={key.access_key_id} STATUS={key.status}")
