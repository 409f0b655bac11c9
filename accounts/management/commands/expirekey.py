"""Set or clear an access key's expiry; requests signed with it are refused from then on."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.keys import AccessKeyError, parse_grace, set_access_key_expiry


class Command(BaseCommand):
    help = "Make an access key expire after IN (e.g. 0, 1h, 7d), or never ('never' clears the expiry)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("access_key_id", help="The key to change")
        parser.add_argument("--in", dest="after", required=True,
                            help="'never', or a number with s/m/h/d from now (0: at once)")

    def handle(self, *args, access_key_id: str, after: str, **options) -> None:
        try:
            grace = parse_grace(after)
            key = set_access_key_expiry(access_key_id, None if grace is None else timezone.now() + grace)
        except AccessKeyError as exc:
            raise CommandError(str(exc)) from None
        ends = key.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if key.expires_at else "never"
        self.stdout.write(f"AWS_ACCESS_KEY_ID={key.access_key_id} EXPIRES={ends}")
