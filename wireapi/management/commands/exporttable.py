"""`manage.py exporttable`: ExportTableToPointInTime for operators, through
the API's own validation and job machinery, followed to its end with a
progress bar. The files land in EXTENDDB_S3_ROOT/<bucket>/<prefix>/AWSDynamoDB/
<export id>/ in DynamoDB's export layout, readable by their owner only.

As through the API, the table needs point-in-time recovery enabled
(`aws dynamodb update-continuous-backups`), and the export is of the table's
state when the export starts.
"""
from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from wireapi.transfer import cli, jobs
from wireapi.transfer.cli import read_request

_RESULT_FIELDS = ("ExportArn", "ExportManifest", "ItemCount", "BilledSizeBytes", "FailureCode", "FailureMessage")


class Command(BaseCommand):
    help = "Export a table into the S3 root folder (ExportTableToPointInTime), showing progress until done."

    def add_arguments(self, parser):
        parser.add_argument("--input", metavar="FILE",
                            help="the ExportTableToPointInTime request as JSON ('-' reads stdin); "
                                 "options below override it")
        parser.add_argument("--table", help="the table's name or ARN")
        parser.add_argument("--bucket", help="destination bucket: a folder directly under EXTENDDB_S3_ROOT")
        parser.add_argument("--prefix", help="key prefix of the export inside the bucket")
        parser.add_argument("--export-format", help="DYNAMODB_JSON (default) or ION")
        parser.add_argument("--export-time", type=_epoch, metavar="TIME",
                            help="ISO 8601 time or epoch seconds inside the recovery window (default: now)")
        cli.add_job_options(parser, "export")

    def handle(self, *args, **opts):
        data = _request(opts)
        name = jobs.table_name_from_arn(data.get("TableArn", ""))

        async def start(runtime) -> tuple[dict[str, Any], int | None]:
            started = (await cli.submit(runtime, "ExportTableToPointInTime", data))["ExportDescription"]
            table = await runtime.catalog.get(name) if name else None
            return started, (await runtime.backend.table_stats(table.id))[0] if table else None

        started, items = cli.run(start)
        self.stdout.write(f"ExportArn={started['ExportArn']}")
        if opts["no_wait"]:
            return
        job = cli.run(lambda runtime: cli.follow(
            runtime, started["ExportArn"], jobs.EXPORT, opts, total=items, desc="export",
            count=lambda d: d.get("ItemCount", d.get("_ItemsWritten"))))
        cli.report(self, job, _RESULT_FIELDS[1:])


def _epoch(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time or epoch seconds: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone (e.g. {text}Z): {text!r}")
    return moment.timestamp()


def _request(opts: dict[str, Any]) -> dict[str, Any]:
    data = read_request(opts["input"])
    if opts["table"] is not None:
        table = opts["table"]
        data["TableArn"] = table if table.startswith("arn:") else (
            f"arn:aws:dynamodb:{settings.EXTENDDB_REGION}:{settings.EXTENDDB_ACCOUNT_ID}:table/{table}")
    for option, member in (("bucket", "S3Bucket"), ("prefix", "S3Prefix"), ("export_format", "ExportFormat"),
                           ("export_time", "ExportTime"), ("client_token", "ClientToken")):
        if opts[option] is not None:
            data[member] = opts[option]
    return data
