"""Exports read from point-in-time history (ExportTime honoured, INCREMENTAL_EXPORT
against a model of the table) and bulk puts (StartBulkPutItems with errors, a
condition, idempotency and a cancel in the middle), through boto3 and the
background runner of `manage.py serve`."""
from __future__ import annotations

import gzip
import json
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from . import testenv
from .test_import_export import bucket  # noqa: F401 - a fixture
from .test_pitr import Model, _item, _keyed, _scan, pitr_table  # noqa: F401 - pitr_table: a fixture

S3_ROOT = Path(testenv.DATA_DIR) / "s3"
WAIT_SECONDS = 120


def _wait(describe, status_key: str, done=("COMPLETED", "FAILED")) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        desc = describe()
        if desc[status_key] in done:
            return desc
        time.sleep(0.2)
    raise AssertionError(f"still {desc[status_key]}")


def _export(ddb, bucket: str, **kwargs) -> tuple[dict, list[dict]]:
    arn = ddb.export_table_to_point_in_time(S3Bucket=bucket, **kwargs)["ExportDescription"]["ExportArn"]
    desc = _wait(lambda: ddb.describe_export(ExportArn=arn)["ExportDescription"], "ExportStatus")
    assert desc["ExportStatus"] == "COMPLETED", desc
    folder = S3_ROOT / bucket / desc["ExportManifest"].rpartition("/")[0]
    summary = json.loads((folder / "manifest-summary.json").read_text())
    lines = []
    for entry in (folder / "manifest-files.json").read_text().splitlines():
        path = S3_ROOT / bucket / json.loads(entry)["dataFileS3Key"]
        lines += [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines() if line]
    return summary, lines


def test_full_export_is_the_table_as_of_export_time(ddb, pitr_table, bucket):
    arn = ddb.describe_table(TableName=pitr_table)["Table"]["TableArn"]
    model = Model()
    for n in range(3):
        item = _item("e", n, v="first")
        ddb.put_item(TableName=pitr_table, Item=item)
        model.put(item)
    model.mark(ddb, pitr_table)
    ddb.delete_item(TableName=pitr_table, Key={"pk": {"S": "e"}, "sk": {"N": "0"}})
    ddb.put_item(TableName=pitr_table, Item=_item("e", 9, v="later"))
    instant, expected = model.points[0]
    _, lines = _export(ddb, bucket, TableArn=arn, ExportTime=instant)
    assert _keyed([line["Item"] for line in lines]) == expected


def test_incremental_export_matches_the_model(ddb, pitr_table, bucket):
    arn = ddb.describe_table(TableName=pitr_table)["Table"]["TableArn"]
    model = Model()
    ddb.put_item(TableName=pitr_table, Item=_item("i", 1, v="kept"))
    ddb.put_item(TableName=pitr_table, Item=_item("i", 2, v="old"))
    ddb.put_item(TableName=pitr_table, Item=_item("i", 3, v="deleted later"))
    model.put(_item("i", 1, v="kept"))
    model.put(_item("i", 2, v="old"))
    model.put(_item("i", 3, v="deleted later"))
    model.mark(ddb, pitr_table)  # the window opens here
    ddb.put_item(TableName=pitr_table, Item=_item("i", 2, v="new"))
    model.put(_item("i", 2, v="new"))
    ddb.delete_item(TableName=pitr_table, Key={"pk": {"S": "i"}, "sk": {"N": "3"}})
    model.delete("i", 3)
    ddb.put_item(TableName=pitr_table, Item=_item("i", 4, v="inserted"))
    model.put(_item("i", 4, v="inserted"))
    ddb.put_item(TableName=pitr_table, Item=_item("i", 5, v="born and gone"))
    ddb.delete_item(TableName=pitr_table, Key={"pk": {"S": "i"}, "sk": {"N": "5"}})
    model.mark(ddb, pitr_table)  # ... and closes here
    ddb.put_item(TableName=pitr_table, Item=_item("i", 6, v="after the window"))
    (since, before), (until, after) = model.points
    for view in ("NEW_AND_OLD_IMAGES", "NEW_IMAGE"):
        summary, lines = _export(ddb, bucket, TableArn=arn, ExportType="INCREMENTAL_EXPORT",
                                 IncrementalExportSpecification={"ExportFromTime": since, "ExportToTime": until,
                                                                 "ExportViewType": view})
        assert summary["exportType"] == "INCREMENTAL_EXPORT" and summary["outputView"] == view
        got = {(r["Keys"]["pk"]["S"], r["Keys"]["sk"]["N"]): r for r in lines}
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        assert set(got) == changed  # ("i", "5") came and went inside the window: no record
        for key, record in got.items():
            assert record.get("NewImage") == after.get(key)
            assert record.get("OldImage") == (before.get(key) if view == "NEW_AND_OLD_IMAGES" else None)
            assert int(record["Metadata"]["WriteTimestampMicros"]["N"]) <= until.timestamp() * 1e6 + 1
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ExportType="INCREMENTAL_EXPORT")
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ExportType="INCREMENTAL_EXPORT",
                                          IncrementalExportSpecification={"ExportFromTime": time.time() - 86400})
    assert exc.value.response["Error"]["Code"] == "InvalidExportTimeException"


def _bulk(ddb, table: str, bucket: str, prefix: str, **kwargs) -> str:
    return ddb.start_bulk_put_items(
        TableName=table, InputS3Configuration={"S3Bucket": bucket, "S3KeyPrefix": prefix,
                                               "InputFormat": "DYNAMODB_JSON", "InputCompressionType": "GZIP"},
        OutputS3Configuration={"S3Bucket": bucket, "S3KeyPrefix": "out",
                               "OutputType": ["ERROR", "CONDITION_CHECK_FAILURE"]},
        **kwargs)["BulkOperationDescription"]["BulkOperationArn"]


def _describe_bulk(ddb, arn: str) -> dict:
    return ddb.describe_bulk_operation(BulkOperationArn=arn)["BulkOperationDescription"]


def test_bulk_put_with_errors_and_a_condition(ddb, pitr_table, bucket):
    ddb.put_item(TableName=pitr_table, Item=_item("b", 0, v="existing"))
    lines = [json.dumps({"Item": _item("b", n, g="gb", v="bulk")}) for n in range(1, 6)]
    lines.append("not json")
    lines.append(json.dumps({"Item": {"pk": {"S": "no sort key"}}}))
    lines.append(json.dumps({"Item": _item("b", 0, v="refused"), "ConditionExpression": "attribute_not_exists(pk)"}))
    (S3_ROOT / bucket / "in").mkdir()
    (S3_ROOT / bucket / "in" / "part-1.json.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    token = str(uuid.uuid4())
    arn = _bulk(ddb, pitr_table, bucket, "in/", ClientToken=token)
    assert _bulk(ddb, pitr_table, bucket, "in/", ClientToken=token) == arn  # the same operation
    with pytest.raises(ClientError) as exc:
        _bulk(ddb, pitr_table, bucket, "other/", ClientToken=token)
    assert exc.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    desc = _wait(lambda: _describe_bulk(ddb, arn), "BulkOperationStatus",
                 ("COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED"))
    assert desc["BulkOperationStatus"] == "COMPLETED_WITH_ERRORS"
    assert (desc["ProcessedItemCount"], desc["FailedItemCount"]) == (8, 2)
    assert desc["TableDetails"][0]["TableName"] == pitr_table and "EndTime" in desc
    items = _keyed(_scan(ddb, pitr_table))
    assert items[("b", "0")]["v"] == {"S": "existing"}  # its condition failed
    assert all(items[("b", str(n))]["v"] == {"S": "bulk"} for n in range(1, 6))
    out = S3_ROOT / bucket / "out" / "AWSDynamoDB" / "bulk-operations" / arn.rpartition("/")[2]
    errors = [json.loads(line) for line in (out / "ERROR.jsonl").read_text().splitlines()]
    assert [e["itemS3Pointer"]["itemIndex"] for e in errors] == [6, 7]
    failed = [json.loads(line) for line in (out / "CONDITION_CHECK_FAILURE.jsonl").read_text().splitlines()]
    assert failed[0]["existingItem"]["v"] == {"S": "existing"}
    listed = ddb.list_bulk_operations()["BulkOperationsSummaryList"]
    assert arn in [s["BulkOperationArn"] for s in listed]
    with pytest.raises(ClientError) as exc:
        ddb.describe_bulk_operation(BulkOperationArn=arn + "0")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_bulk_put_cancelled_in_the_middle_keeps_what_it_wrote(ddb, pitr_table, bucket):
    count = 6000
    lines = "".join(json.dumps({"Item": _item("c", n)}) + "\n" for n in range(count))
    (S3_ROOT / bucket / "big").mkdir()
    (S3_ROOT / bucket / "big" / "all.json.gz").write_bytes(gzip.compress(lines.encode()))
    arn = _bulk(ddb, pitr_table, bucket, "big/", MaxWriteRequestUnits=1024)  # about 6 s of writing
    deadline = time.monotonic() + WAIT_SECONDS
    while _describe_bulk(ddb, arn).get("ProcessedItemCount", 0) < 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    answer = ddb.cancel_bulk_operation(BulkOperationArn=arn)
    assert answer["BulkOperationStatus"] == "CANCELLING"
    desc = _wait(lambda: _describe_bulk(ddb, arn), "BulkOperationStatus", ("CANCELLED", "COMPLETED"))
    assert desc["BulkOperationStatus"] == "CANCELLED"
    written = len(_scan(ddb, pitr_table))
    assert 200 <= written < count
    assert desc["ProcessedItemCount"] >= written - 100
    time.sleep(0.5)
    assert len(_scan(ddb, pitr_table)) == written  # it stopped
