"""`manage.py sweepttl`: one Time to Live pass now (what the background sweeper
does every EXTENDDB_TTL_SWEEP_SECONDS), reading every table with TTL in full."""
from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Delete expired items of every table with Time to Live enabled (one pass), and trim old stream records."

    def handle(self, *args, **options) -> None:
        from wireapi import ttl_sweeper
        from wireapi.runtime import shutdown

        async def run() -> int:
            try:
                return await ttl_sweeper.sweep_once()
            finally:
                await shutdown()

        deleted = asyncio.run(run())
        self.stdout.write(f"deleted {deleted} expired items")
