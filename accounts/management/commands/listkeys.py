"""List access keys (never secrets), one tab-separated line each."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.models import AccessKey


def _ts(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else "-"


class Command(BaseCommand):
    help = "List access keys: ID, status, user, created, last used."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", default=None, help="Only this user's keys")

    def handle(self, *args, user: str | None, **options) -> None:
        keys = AccessKey.objects.select_related("user").order_by("user__name", "created_at")
        if user:
            keys = keys.filter(user__name=user)
        self.stdout.write("ACCESS_KEY_ID\tSTATUS\tUSER\tCREATED\tLAST_USED")
        for key in keys:
            self.stdout.write("\t".join(
                [key.access_key_id, key.status, key.user.name, _ts(key.created_at), _ts(key.last_used_at)]))
