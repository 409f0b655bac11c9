"""Detach a policy from a user or a group."""
from __future__ import annotations

from .attachpolicy import Command as AttachCommand


class Command(AttachCommand):
    help = "Detach a policy from a user or a group."
    detach = True
