"""Backups: on-demand backups (create, restore to a new table, delete) and point-in-time
recovery (on or off per table, the restorable window, and restore to a time when the
server offers RestoreTableToPointInTime). All through the API's own operations."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from ..access import needs, page
from ..calls import DynamoDBError, call, message_of, supports
from .common import optional, run_and_flash


def _epoch(text: str) -> float:
    """A datetime-local value, read as UTC (every time in the console is UTC)."""
    value = datetime.fromisoformat(text)
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def _request(post: Any) -> tuple[str, dict[str, Any], str]:
    action = post.get("action", "")
    if action == "create":
        return ("CreateBackup", {"TableName": post.get("table", ""), "BackupName": post.get("backup_name", "")},
                f"Backed up {post.get('table')}.")
    if action == "restore":
        return ("RestoreTableFromBackup", {"BackupArn": post.get("backup_arn", ""),
                                           "TargetTableName": post.get("target", "").strip()},
                f"Restored into table {post.get('target', '').strip()}.")
    if action == "delete":
        return "DeleteBackup", {"BackupArn": post.get("backup_arn", "")}, "Deleted the backup."
    if action == "pitr":
        on = post.get("enabled") == "on"
        return ("UpdateContinuousBackups", {"TableName": post.get("table", ""), "PointInTimeRecoverySpecification": {
            "PointInTimeRecoveryEnabled": on}}, f"Point-in-time recovery {'on' if on else 'off'} for {post.get('table')}.")
    if action == "pitr_restore":
        data: dict[str, Any] = {"SourceTableName": post.get("table", ""), "TargetTableName": post.get("target", "").strip()}
        if post.get("when"):
            try:
                data["RestoreDateTime"] = _epoch(post["when"])
            except ValueError:
                raise ValueError("Give the time to restore to as YYYY-MM-DD HH:MM:SS (UTC)") from None
        else:
            data["UseLatestRestorableTime"] = True
        return "RestoreTableToPointInTime", data, f"Restoring {data['SourceTableName']} into {data['TargetTableName']}."
    raise ValueError(f"Unknown action {action!r}")


@needs("storage.view_table")
async def backups(request: HttpRequest) -> HttpResponse:
    table = request.GET.get("table", "")
    if request.method == "POST":
        await run_and_flash(request, lambda: _request(request.POST))
        query = urlencode({"table": table}) if table else ""
        return HttpResponseRedirect(reverse("console:backups") + (f"?{query}" if query else ""))
    error, found, tables, recovery = None, [], [], []
    try:
        tables = (await call(request, "ListTables", {"Limit": 100}))["TableNames"]
        listed = await call(request, "ListBackups", {"TableName": table} if table else {})
        found = listed.get("BackupSummaries", [])
    except DynamoDBError as exc:
        error = message_of(exc)
    for name in ([table] if table else tables):
        described = await optional(request, "DescribeContinuousBackups", {"TableName": name})
        if described is not None:
            pitr = described["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
            recovery.append({"table": name, **pitr})
    context = {"title": "Backups", "backups": found, "tables": tables, "table": table, "recovery": recovery,
               "error": error, "can_restore_to_time": supports("RestoreTableToPointInTime")}
    return await page(request, "backups/page.html", context, "Backups")
