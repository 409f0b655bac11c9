"""`manage.py importtable`: ImportTable for operators, through the API's own
validation and job machinery, followed to its end with a progress bar.

The request is the ImportTable request body (`--input request.json`, as
`aws dynamodb import-table --cli-input-json` takes it), or is built from the
options for the common case of a table with a partition (and sort) key;
options override members of the file. The source objects are read from
EXTENDDB_S3_ROOT/<bucket>/<key prefix> (docs/operations.md).
"""
from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wireapi.transfer import cli, jobs
from wireapi.transfer.cli import key_attribute, read_request

_RESULT_FIELDS = ("ImportArn", "TableArn", "ProcessedItemCount", "ImportedItemCount", "ErrorCount",
                  "ProcessedSizeBytes", "FailureCode", "FailureMessage")


class Command(BaseCommand):
    help = "Import items from the S3 root folder into a new table (ImportTable), showing progress until done."

    def add_arguments(self, parser):
        parser.add_argument("--input", metavar="FILE",
                            help="the ImportTable request as JSON ('-' reads stdin); options below override it")
        parser.add_argument("--table-name", help="the table to create")
        parser.add_argument("--partition-key", metavar="NAME:TYPE", type=key_attribute,
                            help="the new table's partition key, TYPE one of S, N, B (e.g. pk:S)")
        parser.add_argument("--sort-key", metavar="NAME:TYPE", type=key_attribute,
                            help="the new table's sort key, if it has one (e.g. sk:N)")
        parser.add_argument("--bucket", help="source bucket: a folder directly under EXTENDDB_S3_ROOT")
        parser.add_argument("--key-prefix", help="read only the objects whose key starts with this")
        parser.add_argument("--input-format", help="DYNAMODB_JSON (default), ION or CSV")
        parser.add_argument("--compression", help="NONE (default), GZIP or ZSTD")
        parser.add_argument("--csv-delimiter", help="CSV field delimiter (default ,)")
        parser.add_argument("--csv-header", metavar="A,B,...",
                            help="CSV column names, when the objects have no header row")
        cli.add_job_options(parser, "import")

    def handle(self, *args, **opts):
        data = _request(opts)
        started = cli.run(lambda runtime: cli.submit(runtime, "ImportTable", data))["ImportTableDescription"]
        self.stdout.write(f"ImportArn={started['ImportArn']}")
        if opts["no_wait"]:
            return
        job = cli.run(lambda runtime: cli.follow(
            runtime, started["ImportArn"], jobs.IMPORT, opts, total=None, desc="import",
            count=lambda d: d.get("ProcessedItemCount")))
        cli.report(self, job, _RESULT_FIELDS[1:])


def _request(opts: dict[str, Any]) -> dict[str, Any]:
    data = read_request(opts["input"])
    source = data.setdefault("S3BucketSource", {})
    for option, member in (("bucket", "S3Bucket"), ("key_prefix", "S3KeyPrefix")):
        if opts[option] is not None:
            source[member] = opts[option]
    if opts["input_format"] is not None:
        data["InputFormat"] = opts["input_format"]
    data.setdefault("InputFormat", "DYNAMODB_JSON")
    if opts["compression"] is not None:
        data["InputCompressionType"] = opts["compression"]
    if opts["csv_delimiter"] is not None or opts["csv_header"] is not None:
        csv = data.setdefault("InputFormatOptions", {}).setdefault("Csv", {})
        if opts["csv_delimiter"] is not None:
            csv["Delimiter"] = opts["csv_delimiter"]
        if opts["csv_header"] is not None:
            csv["HeaderList"] = opts["csv_header"].split(",")
    params = data.setdefault("TableCreationParameters", {})
    if opts["table_name"] is not None:
        params["TableName"] = opts["table_name"]
    if opts["partition_key"] is not None:
        keys = [(opts["partition_key"], "HASH")] + ([(opts["sort_key"], "RANGE")] if opts["sort_key"] else [])
        params["AttributeDefinitions"] = [
            d for d in params.get("AttributeDefinitions", []) if d["AttributeName"] not in {k[0][0] for k in keys}
        ] + [{"AttributeName": name, "AttributeType": kind} for (name, kind), _ in keys]
        params["KeySchema"] = [{"AttributeName": name, "KeyType": role} for (name, _), role in keys]
    elif opts["sort_key"] is not None:
        raise CommandError("--sort-key needs --partition-key")
    params.setdefault("BillingMode", "PAY_PER_REQUEST")
    if opts["client_token"] is not None:
        data["ClientToken"] = opts["client_token"]
    data.setdefault("ClientToken", str(uuid.uuid4()))
    return data
