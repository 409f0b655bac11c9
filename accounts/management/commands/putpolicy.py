"""Create or replace a policy from a JSON file; optionally attach it to a user or group."""
from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError

from accounts.models import POLICY_NAME_PATTERN, Policy

from ._policies import atomic, get_group, get_user, read_document


class Command(BaseCommand):
    help = ("Create or replace a policy (IAM JSON policy language) read from --file (\"-\" for stdin). "
            "The document is validated; with --user/--group it is also attached.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", required=True, help="Policy name (an existing policy is replaced)")
        parser.add_argument("--file", required=True, help='JSON policy document, or "-" for stdin')
        parser.add_argument("--description", default=None, help="Free text shown in the admin")
        parser.add_argument("--user", default=None, help="Attach to this user (created if missing)")
        parser.add_argument("--group", default=None, help="Attach to this group")

    def handle(self, *args, name: str, file: str, description: str | None, user: str | None,
               group: str | None, **options) -> None:
        if not re.fullmatch(POLICY_NAME_PATTERN, name):
            raise CommandError(f"Invalid policy name {name!r}: use 1-128 letters, digits and +=,.@_-")
        document = read_document(file)
        with atomic():
            policy = Policy.objects.filter(name=name).first()
            if policy is not None and policy.builtin:
                raise CommandError(f"{name} is a built-in policy and cannot be changed")
            if policy is None:
                policy = Policy(name=name)
            policy.document = document
            if description is not None:
                policy.description = description
            policy.full_clean()
            policy.save()
            if user:
                get_user(user, create=True).policies.add(policy)
            if group:
                get_group(group).policies.add(policy)
        self.stdout.write(f"POLICY={policy.name} ARN={policy.arn}")
