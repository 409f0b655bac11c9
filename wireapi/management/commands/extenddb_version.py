"""`manage.py extenddb_version`: the product's version (`manage.py version` is Django's)."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from extenddb_site.version import __version__


class Command(BaseCommand):
    help = "Print ExtendDB's version (`manage.py version` prints Django's)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(__version__)
