"""List access keys (never secrets), one tab-separated line each."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.models import AccessKey


def _ts(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else "-"


class Command(BaseCommand):
    help = "List access keys: ID, status (Active, Inactive or Expired), user, created, last used, expires."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", default=None, help="Only this user's keys")

    def handle(self, *args, user: str | None, **options) -> None:
        keys = AccessKey.objects.select_related("user").order_by("user__name", "created_at")
        if user:
            keys = keys.filter(user__name=user)
        self.stdout.write("ACCESS_KEY_ID\tSTATUS\tUSER\tCREATED\tLAST_USED\tEXPIRES")
        for key in keys:
            self.stdout.write("\t".join(
                [key.access_key_id, key.effective_status, key.user.name, _ts(key.created_at), _ts(key.last_used_at),
                 _ts(key.expires_at)]))
