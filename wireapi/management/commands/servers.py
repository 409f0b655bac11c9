"""`manage.py servers`: the servers sharing this database and the work each one runs."""
from __future__ import annotations

import asyncio
import json
import time

from django.core.management.base import BaseCommand

from storage.backends import get_backend
from wireapi.background import SERVER_ALIVE_SECONDS


class Command(BaseCommand):
    help = ("List the servers using this database (from their heartbeats), whether each is alive, "
            "and which once-per-cluster work (TTL sweeper, jobs, backfills, retention) each runs.")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="one JSON object per server")

    def handle(self, *args, **opts):
        servers = asyncio.run(self._list())
        now = time.time()
        for s in servers:
            alive = now - s.heartbeat_at <= SERVER_ALIVE_SECONDS
            if opts["json"]:
                self.stdout.write(json.dumps({
                    "server_id": s.server_id, "host": s.host, "port": s.port, "pid": s.pid, "version": s.version,
                    "started_at": s.started_at, "heartbeat_at": s.heartbeat_at, "alive": alive,
                    "leads": list(s.leads)}))
            else:
                age = int(now - s.heartbeat_at)
                self.stdout.write(f"{s.host}:{s.port} pid {s.pid} {'alive' if alive else 'silent'} "
                                  f"(heartbeat {age} s ago) runs: {', '.join(s.leads) or '-'}")

    @staticmethod
    async def _list():
        backend = get_backend()
        try:
            return await backend.list_servers()
        finally:
            await backend.close()
