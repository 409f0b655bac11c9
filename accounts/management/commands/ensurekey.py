"""First-run helper: make sure at least one Active access key exists."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.keys import AccessKeyError, create_access_key
from accounts.models import AccessKey

from ._output import print_new_key


class Command(BaseCommand):
    help = ("If no Active access key exists, create one for user 'admin' and print it; "
            "otherwise list the active key IDs.")

    def handle(self, *args, **options) -> None:
        active = list(AccessKey.objects.filter(status=AccessKey.ACTIVE).select_related("user"))
        if not active:
            try:
                key, secret = create_access_key("admin")
            except AccessKeyError as exc:
                raise CommandError(str(exc)) from None
            print_new_key(self, key, secret)
            return
        for key in active:
            self.stdout.write(f"ACTIVE_ACCESS_KEY_ID={key.access_key_id} USER={key.user.name}")
        self.stdout.write("Secrets are shown only when a key is created; "
                          "use `manage.py createkey --user NAME` for a new one.")
