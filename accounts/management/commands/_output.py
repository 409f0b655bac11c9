"""Shared, stable output lines for the key commands (scripts grep these)."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.models import AccessKey

NOT_SHOWN_AGAIN = "The secret access key will not be shown again; store it now."


def print_new_key(cmd: BaseCommand, key: AccessKey, secret: str) -> None:
    cmd.stdout.write(f"USER={key.user.name}")
    cmd.stdout.write(f"AWS_ACCESS_KEY_ID={key.access_key_id}")
    cmd.stdout.write(f"AWS_SECRET_ACCESS_KEY={secret}")
    cmd.stdout.write(NOT_SHOWN_AGAIN)
