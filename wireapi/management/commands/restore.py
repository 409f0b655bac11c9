"""`manage.py restore`: restore a table from an on-demand backup or to a point in
time, from the command line, through the same handlers (and checks) as the API.

    manage.py restore --backup-arn ARN --as NEW_TABLE
    manage.py restore --table T --to 2026-12-01T10:42:00Z --as T_restored
    manage.py restore --table T --latest --as T_restored

A point-in-time restore is a background job: this command takes it itself when
no server's runner has (claimed atomically, so it runs once) and draws a progress
bar of the items written; otherwise it follows the server's progress.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from storage.management.progress import add_progress_option, progress_bar

from ... import errors
from ...dispatch import Request
from ...operations import backups
from ...runtime import Runtime, get_runtime, shutdown
from ...transfer import jobs, runner

WATCH_SECONDS = 0.5


def _instant(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--to must be an ISO 8601 time such as 2026-12-01T10:42:00Z, not {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class Command(BaseCommand):
    help = "Restore a table from an on-demand backup (--backup-arn) or to a point in time (--table with --to or --latest)."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--backup-arn", help="the on-demand (or SYSTEM) backup to restore")
        source.add_argument("--table", help="the table (or a deleted table) with point-in-time recovery")
        when = parser.add_mutually_exclusive_group()
        when.add_argument("--to", help="the instant to restore to, ISO 8601 (UTC unless it says otherwise)")
        when.add_argument("--latest", action="store_true", help="the latest restorable instant")
        parser.add_argument("--as", dest="target", required=True, help="the name of the new table")
        add_progress_option(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["table"] and not (options["to"] or options["latest"]):
            raise CommandError("--table needs --to TIME or --latest")
        if options["backup_arn"] and (options["to"] or options["latest"]):
            raise CommandError("--to and --latest go with --table, not --backup-arn")
        try:
            description = asyncio.run(self._restore(options))
        except errors.DynamoDBError as exc:
            raise CommandError(f"{type(exc).__name__}: {exc.message}") from None
        self.stdout.write(f"{description['TableName']}: {description['TableStatus']} "
                          f"({description.get('ItemCount', 0)} items)")

    async def _restore(self, options: dict[str, Any]) -> dict[str, Any]:
        runtime = get_runtime()
        try:
            req = Request(runtime, None, "manage-restore")  # type: ignore[arg-type] - the operator
            if options["backup_arn"]:
                out = await backups.restore_table_from_backup(
                    req, {"BackupArn": options["backup_arn"], "TargetTableName": options["target"]})
                return out["TableDescription"]
            data: dict[str, Any] = {"SourceTableName": options["table"], "TargetTableName": options["target"]}
            if options["latest"]:
                data["UseLatestRestorableTime"] = True
            else:
                data["RestoreDateTime"] = _instant(options["to"])
            await backups.restore_table_to_point_in_time(req, data)
            await self._follow(runtime, options)
            record = await runtime.backend.load_table(options["target"])
            if record is None:
                raise CommandError(f"{options['target']} is gone: the restore failed")
            record.extra["indexes"] = []
            return await backups.describe(req, record)
        finally:
            await shutdown()

    async def _follow(self, runtime: Runtime, options: dict[str, Any]) -> None:
        """Run waiting restores here (ours among them) or watch a server's runner run ours."""
        target = options["target"]
        with progress_bar(options, total=None, unit="item", desc=f"restore {target}") as bar:
            while True:
                record = await runtime.backend.load_table(target)  # fresh: the catalog caches
                if record is None or record.status == "ACTIVE":
                    return
                moment = jobs.now()
                job = await runtime.backend.claim_job(jobs.RESTORE, moment, moment - runner.STALE_SECONDS)
                if job is not None:
                    ours = job.description["TableName"] == target
                    await runner.run_job(runtime, job, _BarHeartbeat(bar, runtime, job) if ours else None)
                    continue
                mine = [j for j in await runtime.backend.list_jobs(jobs.RESTORE, None, None, jobs.DEFAULT_PAGE)
                        if j.description.get("TableName") == target]
                if mine and mine[0].status == "FAILED":
                    raise CommandError(f"the restore failed: {mine[0].description.get('FailureMessage')}")
                if mine:
                    bar.n = mine[0].description.get("ItemCount", 0)
                    bar.refresh()
                await asyncio.sleep(WATCH_SECONDS)


class _BarHeartbeat:
    """Feeds the bar from the restore's own progress, which it saves as a runner does."""

    def __init__(self, bar: Any, runtime: Runtime, job: Any) -> None:
        self._bar, self._saver = bar, runner._Heartbeat(runtime, job)

    async def beat(self, **progress: Any) -> None:
        self._bar.n = progress.get("ItemCount", self._bar.n)
        self._bar.refresh()
        await self._saver.beat(**progress)
