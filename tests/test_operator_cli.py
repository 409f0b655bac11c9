"""Operator commands: `manage.py exporttable` and `importtable` (the API's own
validation and jobs, seen through the API afterwards), their progress bars and
backupdb's, and the help text of every `serve` option."""
from __future__ import annotations

import json
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from .reliability import harness
from .server import manage
from .test_import_export import S3_ROOT, bucket, canonical, enable_pitr, scan_all  # noqa: F401 - bucket fixture


def _fields(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if re.match(r"^[A-Za-z]+=", line))


@pytest.fixture
def filled_table(ddb, hash_table):
    for start in range(0, 250, 25):
        ddb.batch_write_item(RequestItems={hash_table: [
            {"PutRequest": {"Item": {"pk": {"S": f"k{i:03d}"}, "n": {"N": str(i)}, "g": {"S": f"g{i % 5}"}}}}
            for i in range(start, start + 25)]})
    enable_pitr(ddb, hash_table)
    return hash_table


def test_export_then_import_through_the_cli(ddb, filled_table, bucket):
    out = manage("exporttable", "--table", filled_table, "--bucket", bucket, "--prefix", "ops", "--progress")
    fields = _fields(out.stdout)
    assert fields["ExportStatus"] == "COMPLETED" and fields["ItemCount"] == "250", out
    assert "250/250" in out.stderr and "100%" in out.stderr  # the bar reached its end
    # The same job as the API's: DescribeExport knows it, the manifest is where it says.
    described = ddb.describe_export(ExportArn=fields["ExportArn"])["ExportDescription"]
    assert described["ExportStatus"] == "COMPLETED" and described["ExportManifest"] == fields["ExportManifest"]
    summary = json.loads((S3_ROOT / bucket / fields["ExportManifest"]).read_text())
    assert summary["exportArn"] == fields["ExportArn"] and summary["itemCount"] == 250

    data_prefix = fields["ExportManifest"].rpartition("/")[0] + "/data/"
    new_name = f"cli-imp-{uuid.uuid4().hex[:8]}"
    request = {"TableCreationParameters": {
        "TableName": new_name, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "g", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "ALL"}}]}}
    try:
        out = manage("importtable", "--input", "-", "--bucket", bucket, "--key-prefix", data_prefix,
                     "--compression", "GZIP", "--progress", input=json.dumps(request))
        fields = _fields(out.stdout)
        assert fields["ImportStatus"] == "COMPLETED", out
        assert fields["ImportedItemCount"] == fields["ProcessedItemCount"] == "250" and fields["ErrorCount"] == "0"
        assert "250item" in out.stderr.replace(" ", "")
        described = ddb.describe_import(ImportArn=fields["ImportArn"])["ImportTableDescription"]
        assert described["ImportStatus"] == "COMPLETED"
        assert canonical(scan_all(ddb, new_name)) == canonical(scan_all(ddb, filled_table))
        by_g = ddb.query(TableName=new_name, IndexName="by-g", KeyConditionExpression="g = :g",
                         ExpressionAttributeValues={":g": {"S": "g3"}})["Items"]
        assert len(by_g) == 50
    finally:
        ddb.delete_table(TableName=new_name)


def _api_error(call) -> str:
    with pytest.raises(ClientError) as info:
        call()
    return f"{info.value.response['Error']['Code']}: {info.value.response['Error']['Message']}"


def test_the_cli_refuses_what_the_api_refuses(ddb, hash_table, bucket):
    arn = ddb.describe_table(TableName=hash_table)["Table"]["TableArn"]
    # No point-in-time recovery on the table.
    api = _api_error(lambda: ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket))
    cli = manage("exporttable", "--table", arn, "--bucket", bucket, check=False)
    assert cli.returncode == 1 and cli.stderr.strip() == f"CommandError: {api}"

    params = {"TableName": hash_table, "BillingMode": "PAY_PER_REQUEST",
              "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
              "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}
    for request in (
        # a table that exists
        {"S3BucketSource": {"S3Bucket": bucket}, "InputFormat": "DYNAMODB_JSON", "TableCreationParameters": params},
        # CSV options on JSON input
        {"S3BucketSource": {"S3Bucket": bucket}, "InputFormat": "ION", "TableCreationParameters": params,
         "InputFormatOptions": {"Csv": {"Delimiter": ";"}}},
        # an enum value DynamoDB does not know
        {"S3BucketSource": {"S3Bucket": bucket}, "InputFormat": "XML", "TableCreationParameters": params},
    ):
        api = _api_error(lambda: ddb.import_table(ClientToken=str(uuid.uuid4()), **request))
        cli = manage("importtable", "--input", "-", input=json.dumps(request), check=False)
        assert cli.returncode == 1 and cli.stderr.strip() == f"CommandError: {api}"


def test_no_wait_leaves_the_import_to_the_servers_runner(ddb, bucket):
    (S3_ROOT / bucket / "in.json").write_text("".join(
        json.dumps({"Item": {"id": {"N": str(i)}}}) + "\n" for i in range(30)))
    name = f"cli-nw-{uuid.uuid4().hex[:8]}"
    out = manage("importtable", "--table-name", name, "--partition-key", "id:N", "--bucket", bucket, "--no-wait")
    arn = _fields(out.stdout)["ImportArn"]
    assert "ImportStatus" not in out.stdout
    try:
        from .test_import_export import wait_import

        assert wait_import(ddb, arn)["ImportedItemCount"] == 30
    finally:
        ddb.delete_table(TableName=name)


def test_importtable_runs_the_job_itself_when_no_server_runs(tmp_path):
    """Before the first start (or with every server down), the command is the runner."""
    with harness.deployment() as dep:
        seed = dep.data_dir / "s3" / "seed"
        seed.mkdir(parents=True)
        (seed / "a.csv").write_text("id,name\n1,alpha\n2,beta\n3,gamma\n")
        out = dep.manage("importtable", "--table-name", "seeded", "--partition-key", "id:N", "--bucket", "seed",
                         "--input-format", "CSV", "--no-progress", timeout=120)
        fields = _fields(out.stdout)
        assert (fields["ImportStatus"], fields["ImportedItemCount"]) == ("COMPLETED", "3"), out
        assert out.stderr == ""  # --no-progress: no bar
        check = dep.manage("checkconsistency")
        assert "seeded: 3 items" in check.stdout


def test_backupdb_progress_bar(tmp_path, server):
    out = manage("backupdb", str(tmp_path / "with-bar.dump"), "--progress")
    assert "backup" in out.stderr and "100%" in out.stderr
    quiet = manage("backupdb", str(tmp_path / "quiet.dump"))
    assert quiet.stderr == ""  # not a terminal: no bar unless asked


def test_every_serve_option_has_help():
    from django.core.management.base import BaseCommand

    from wireapi.management.commands.serve import Command

    ours = Command().create_parser("manage.py", "serve")
    django_own = {a.dest for a in BaseCommand().create_parser("manage.py", "x")._actions}
    missing = [a.option_strings for a in ours._actions if a.dest not in django_own and not (a.help or "").strip()]
    assert missing == []
