"""Create a web-admin superuser; its password is printed once or read from stdin.

`--if-none` makes it a first-run step: nothing happens when a superuser exists
(bootstrap.py serve uses that).
"""
from __future__ import annotations

import secrets
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

NOT_SHOWN_AGAIN = "The admin password will not be shown again; store it now."


def generate_password() -> str:
    """About 144 bits from the OS's CSPRNG, URL-safe so it survives copy and paste."""
    return secrets.token_urlsafe(18)


class Command(BaseCommand):
    help = "Create a web admin (superuser). Prints a generated password once, or reads one from stdin."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin", help="Web admin user name (default: admin)")
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input")
        parser.add_argument("--if-none", action="store_true",
                            help="do nothing if a superuser already exists")

    def handle(self, *args, username: str, password_stdin: bool, if_none: bool, **options) -> None:
        User = get_user_model()
        if if_none and User.objects.filter(is_superuser=True, is_active=True).exists():
            self.stdout.write("Console: an administrator exists; sign in at /console/ on the endpoint.")
            return
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists")
        password = sys.stdin.readline().rstrip("\r\n") if password_stdin else generate_password()
        candidate = User(username=username, is_staff=True, is_superuser=True)
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise CommandError("Password rejected: " + " ".join(exc.messages)) from None
        with transaction.atomic():
            User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(f"ADMIN_USERNAME={username}")
        if not password_stdin:
            self.stdout.write(f"ADMIN_PASSWORD={password}")
            self.stdout.write(NOT_SHOWN_AGAIN)
        self.stdout.write("Console: sign in at /console/ on the endpoint.")
