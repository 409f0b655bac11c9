"""First-run helper: make sure at least one Active access key exists."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.keys import AccessKeyError, create_access_key
from accounts.models import AccessKey

from ._output import print_new_key
from ._policies import attach_for_new_key, atomic, user_exists


class Command(BaseCommand):
    help = ("If no Active access key exists, create one for user 'admin' (with AdministratorAccess "
            "when the user is new) and print it; "
            "otherwise list the active key IDs.")

    def handle(self, *args, **options) -> None:
        active = list(AccessKey.objects.filter(status=AccessKey.ACTIVE).select_related("user"))
        if not active:
            try:
                with atomic():
                    was_new = not user_exists("admin")
                    key, secret = create_access_key("admin")
                    attach_for_new_key("admin", was_new, None, False)  # a new admin gets AdministratorAccess
            except AccessKeyError as exc:
                raise CommandError(str(exc)) from None
            print_new_key(self, key, secret)
            return
        for key in active:
            self.stdout.write(f"ACTIVE_ACCESS_KEY_ID={key.access_key_id} USER={key.user.name}")
        self.stdout.write("Secrets are shown only when a key is created; "
                          "use `manage.py createkey --user NAME` for a new one.")
