"""Attach a policy to a user or a group (takes effect within seconds on every worker)."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from ._policies import atomic, get_group, get_user, policies_by_name


class Command(BaseCommand):
    help = "Attach a policy to a user or a group."
    detach = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("--policy", required=True, help="Policy name")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--user", help="Attach to this IAM user")
        target.add_argument("--group", help="Attach to this group")

    def handle(self, *args, policy: str, user: str | None, group: str | None, **options) -> None:
        (found,) = policies_by_name([policy])
        with atomic():
            owner = get_user(user) if user else get_group(group)
            (owner.policies.remove if self.detach else owner.policies.add)(found)
        verb = "DETACHED" if self.detach else "ATTACHED"
        self.stdout.write(f"{verb} POLICY={found.name} {'USER' if user else 'GROUP'}={user or group}")
