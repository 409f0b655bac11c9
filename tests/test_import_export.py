"""ExportTableToPointInTime, ImportTable and their Describe/List calls, end to end:
boto3 over HTTPS, the background job runner of `manage.py serve`, and the S3
root folder (EXTENDDB_S3_ROOT, by default <data dir>/s3) the files land in."""
from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import os
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import zstandard
from boto3.dynamodb.types import Binary, TypeSerializer
from botocore.exceptions import ClientError

from . import testenv
from .conftest import wait_job

S3_ROOT = Path(testenv.DATA_DIR) / "s3"
WAIT_SECONDS = 90

ITEMS = [
    {"pk": "minimal", "sk": Decimal(1)},
    {"pk": "strings", "sk": Decimal(2), "unicode": "zażółć 日本語 🦑", "escapes": 'q" b\\ n\n t\t', "empty": ""},
    {"pk": "numbers", "sk": Decimal(3), "neg": Decimal("-17.5"), "digits": Decimal("1" * 38),
     "small": Decimal("1E-130"), "big": Decimal("9.99999E+37"), "zero": Decimal(0)},
    {"pk": "binary", "sk": Decimal(4), "bytes": Binary(b"\x00\x01\xfe\xff"), "none": Binary(b"")},
    {"pk": "scalars", "sk": Decimal(5), "yes": True, "no": False, "nothing": None},
    {"pk": "sets", "sk": Decimal(6), "ss": {"a", "b"}, "ns": {Decimal(1), Decimal("-2.5")},
     "bs": {Binary(b"\x00"), Binary(b"\x01")}},
    {"pk": "documents", "sk": Decimal(7), "list": ["s", Decimal(1), True, None, [], {}],
     "map": {"a": {"b": "c"}, "Size": Decimal(2)}, "null": "keyword name", "a.b": "dotted name"},
    {"pk": "shared", "sk": Decimal(8), "g": "x"},
    {"pk": "shared", "sk": Decimal(9), "g": "x"},
]

_serializer = TypeSerializer()


def wire(item: dict) -> dict:
    """boto3 types -> DynamoDB JSON as on the wire (binary as base64 text)."""
    def encode(av):
        kind, value = next(iter(av.items()))
        if kind == "B":
            return {"B": base64.b64encode(bytes(value)).decode()}
        if kind == "BS":
            return {"BS": [base64.b64encode(bytes(v)).decode() for v in value]}
        if kind == "L":
            return {"L": [encode(v) for v in value]}
        if kind == "M":
            return {"M": {k: encode(v) for k, v in value.items()}}
        return av
    return {k: encode(_serializer.serialize(v)) for k, v in item.items()}


def error(exc_info) -> tuple[str, str]:
    return exc_info.value.response["Error"]["Code"], exc_info.value.response["Error"]["Message"]


def scan_all(ddb, table: str) -> list[dict]:
    items, kwargs = [], {"TableName": table}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def canonical(items: list[dict]) -> list[str]:
    """Items as sortable text, sets sorted (they have no order)."""
    def norm(value):
        if isinstance(value, dict):
            kind, inner = next(iter(value.items()))
            if kind in ("SS", "NS", "BS"):
                return {kind: sorted(inner)}
            if kind == "L":
                return {"L": [norm(v) for v in inner]}
            if kind == "M":
                return {"M": {k: norm(v) for k, v in inner.items()}}
        return value
    def text(value):
        return base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)
    return sorted(json.dumps({k: norm(v) for k, v in item.items()}, sort_keys=True, default=text) for item in items)


@pytest.fixture
def bucket():
    name = f"bucket-{uuid.uuid4().hex[:10]}"
    (S3_ROOT / name).mkdir(parents=True)
    return name


@pytest.fixture
def new_table_name(ddb):
    name = f"imp-{uuid.uuid4().hex[:12]}"
    yield name
    try:
        ddb.delete_table(TableName=name)
    except ClientError:
        pass


def enable_pitr(ddb, table: str) -> None:
    try:
        ddb.update_continuous_backups(TableName=table,
                                      PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "UnknownOperationException":
            pytest.skip("UpdateContinuousBackups is not available on this server, so PITR cannot be enabled")
        raise


def wait_export(ddb, arn: str) -> dict:
    return wait_job(lambda: ddb.describe_export(ExportArn=arn)["ExportDescription"], "ExportStatus", WAIT_SECONDS)


def wait_import(ddb, arn: str) -> dict:
    return wait_job(lambda: ddb.describe_import(ImportArn=arn)["ImportTableDescription"], "ImportStatus",
                    WAIT_SECONDS)


def table_params(name: str, **extra) -> dict:
    return {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "N"},
                                 *extra.pop("definitions", [])],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
        **extra,
    }


def start_import(ddb, bucket: str, prefix: str, name: str, fmt: str = "DYNAMODB_JSON",
                 compression: str = "NONE", **extra) -> dict:
    return ddb.import_table(
        S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": prefix}, InputFormat=fmt,
        InputCompressionType=compression, TableCreationParameters=table_params(name, **extra.pop("table", {})),
        **extra)["ImportTableDescription"]


def write_object(bucket: str, key: str, data: bytes) -> Path:
    path = S3_ROOT / bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def md5_b64(data: bytes) -> bytes:
    return base64.b64encode(hashlib.md5(data).digest())


# --- export then import back ----------------------------------------------------------

@pytest.mark.parametrize("fmt", ["DYNAMODB_JSON", "ION"])
def test_export_then_import_gives_the_same_items(ddb, range_table, bucket, new_table_name, fmt):
    for item in ITEMS:
        ddb.put_item(TableName=range_table, Item=wire(item))
    enable_pitr(ddb, range_table)
    table_arn = ddb.describe_table(TableName=range_table)["Table"]["TableArn"]

    started = ddb.export_table_to_point_in_time(TableArn=table_arn, S3Bucket=bucket, S3Prefix="nightly/run1",
                                                ExportFormat=fmt)["ExportDescription"]
    assert started["ExportStatus"] == "IN_PROGRESS"
    assert started["ExportArn"].startswith(table_arn + "/export/")
    assert started["ExportFormat"] == fmt and started["S3Prefix"] == "nightly/run1"
    assert started["ClientToken"] and "ExportType" not in started
    done = wait_export(ddb, started["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED", done
    assert done["ItemCount"] == len(ITEMS)
    assert done["BilledSizeBytes"] > 0 and done["EndTime"] >= done["StartTime"]

    # DynamoDB's layout: <prefix>/AWSDynamoDB/<export id>/...
    export_id = started["ExportArn"].rpartition("/")[2]
    export_dir = S3_ROOT / bucket / "nightly/run1/AWSDynamoDB" / export_id
    assert done["ExportManifest"] == f"nightly/run1/AWSDynamoDB/{export_id}/manifest-summary.json"
    assert {p.name for p in export_dir.iterdir()} == {
        "_started", "data", "manifest-files.json", "manifest-files.md5", "manifest-summary.json",
        "manifest-summary.md5"}
    for name in ("manifest-files", "manifest-summary"):
        content = (export_dir / f"{name}.json").read_bytes()
        assert (export_dir / f"{name}.md5").read_bytes().strip() == md5_b64(content)
    summary = json.loads((export_dir / "manifest-summary.json").read_bytes())
    assert summary["exportArn"] == started["ExportArn"] and summary["tableArn"] == table_arn
    assert summary["itemCount"] == len(ITEMS) and summary["outputFormat"] == fmt
    assert summary["s3Bucket"] == bucket and summary["s3Prefix"] == "nightly/run1"
    assert summary["manifestFilesS3Key"] == f"nightly/run1/AWSDynamoDB/{export_id}/manifest-files.json"
    counted = 0
    for line in (export_dir / "manifest-files.json").read_text().splitlines():
        entry = json.loads(line)
        data = (S3_ROOT / bucket / entry["dataFileS3Key"]).read_bytes()
        assert entry["md5Checksum"].encode() == md5_b64(data) and entry["etag"]
        assert entry["dataFileS3Key"].endswith(".ion.gz" if fmt == "ION" else ".json.gz")
        lines = gzip.decompress(data).decode().splitlines()
        assert len(lines) == entry["itemCount"]
        if fmt == "ION":
            assert all(line.startswith("$ion_1_0 {Item:{") for line in lines)
        else:
            assert all(set(json.loads(line)) == {"Item"} for line in lines)
        counted += entry["itemCount"]
    assert counted == len(ITEMS)

    # ...and imported back into a new table (with a GSI), through the gzip reader.
    gsi = {"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
           "Projection": {"ProjectionType": "ALL"}}
    imported = start_import(ddb, bucket, f"nightly/run1/AWSDynamoDB/{export_id}/data/", new_table_name, fmt,
                            "GZIP", table={"definitions": [{"AttributeName": "g", "AttributeType": "S"}],
                                           "GlobalSecondaryIndexes": [gsi]})
    assert imported["ImportStatus"] == "IN_PROGRESS"
    final = wait_import(ddb, imported["ImportArn"])
    assert final["ImportStatus"] == "COMPLETED", final
    assert final["ProcessedItemCount"] == final["ImportedItemCount"] == len(ITEMS)
    assert final["ErrorCount"] == 0 and final["ProcessedSizeBytes"] > 0
    assert ddb.describe_table(TableName=new_table_name)["Table"]["TableStatus"] == "ACTIVE"
    assert canonical(scan_all(ddb, new_table_name)) == canonical(scan_all(ddb, range_table))
    by_g = ddb.query(TableName=new_table_name, IndexName="by-g", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": {"S": "x"}})["Items"]
    assert sorted(i["sk"]["N"] for i in by_g) == ["8", "9"]


def test_export_of_an_empty_table_and_listing(ddb, hash_table, bucket):
    enable_pitr(ddb, hash_table)
    table_arn = ddb.describe_table(TableName=hash_table)["Table"]["TableArn"]
    arns = [ddb.export_table_to_point_in_time(TableArn=table_arn, S3Bucket=bucket,
                                              ExportType="FULL_EXPORT")["ExportDescription"]["ExportArn"]
            for _ in range(3)]
    for arn in arns:
        done = wait_export(ddb, arn)
        assert done["ExportStatus"] == "COMPLETED" and done["ItemCount"] == 0
        assert done["ExportType"] == "FULL_EXPORT"
    # One (empty) data file even for an empty table; no prefix: AWSDynamoDB/ at the bucket's top.
    export_dir = S3_ROOT / bucket / "AWSDynamoDB" / arns[0].rpartition("/")[2]
    files = [json.loads(line) for line in (export_dir / "manifest-files.json").read_text().splitlines()]
    assert [f["itemCount"] for f in files] == [0]

    listed, kwargs = [], {"TableArn": table_arn, "MaxResults": 2}
    while True:
        page = ddb.list_exports(**kwargs)
        assert len(page["ExportSummaries"]) <= 2
        listed += page["ExportSummaries"]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert [s["ExportArn"] for s in listed] == arns[::-1]  # newest first
    assert all(s["ExportStatus"] == "COMPLETED" and s["ExportType"] == "FULL_EXPORT" for s in listed)


# --- export errors ------------------------------------------------------------------

def test_export_requires_point_in_time_recovery(ddb, hash_table, bucket):
    table_arn = ddb.describe_table(TableName=hash_table)["Table"]["TableArn"]
    with pytest.raises(ClientError) as err:
        ddb.export_table_to_point_in_time(TableArn=table_arn, S3Bucket=bucket)
    assert error(err) == ("PointInTimeRecoveryUnavailableException",
                          f"Point in time recovery is not enabled for table '{hash_table}'")
    with pytest.raises(ClientError) as err:
        ddb.export_table_to_point_in_time(TableArn=table_arn + "-gone", S3Bucket=bucket)
    assert error(err)[0] == "TableNotFoundException"


def test_export_time_in_the_future_is_refused(ddb, hash_table, bucket):
    enable_pitr(ddb, hash_table)
    table_arn = ddb.describe_table(TableName=hash_table)["Table"]["TableArn"]
    with pytest.raises(ClientError) as err:
        ddb.export_table_to_point_in_time(TableArn=table_arn, S3Bucket=bucket, ExportTime=time.time() + 600)
    assert error(err) == ("InvalidExportTimeException", "Export Time is invalid")
    with pytest.raises(ClientError) as err:  # before point-in-time recovery was enabled
        ddb.export_table_to_point_in_time(TableArn=table_arn, S3Bucket=bucket, ExportTime=time.time() - 86400)
    assert error(err)[0] == "InvalidExportTimeException"
    with pytest.raises(ClientError) as err:
        ddb.export_table_to_point_in_time(TableArn=table_arn, S3Bucket=bucket, ExportType="INCREMENTAL_EXPORT")
    assert error(err)[0] == "ValidationException"


def test_export_client_token(ddb, hash_table, bucket):
    enable_pitr(ddb, hash_table)
    table_arn = ddb.describe_table(TableName=hash_table)["Table"]["TableArn"]
    token = str(uuid.uuid4())
    first = ddb.export_table_to_point_in_time(TableArn=table_arn, S3Bucket=bucket, ClientToken=token)
    again = ddb.export_table_to_point_in_time(TableArn=table_arn, S3Bucket=bucket, ClientToken=token)
    assert first["ExportDescription"]["ExportArn"] == again["ExportDescription"]["ExportArn"]
    assert again["ExportDescription"]["ClientToken"] == token
    with pytest.raises(ClientError) as err:
        ddb.export_table_to_point_in_time(TableArn=table_arn, S3Bucket=bucket, ClientToken=token,
                                          ExportFormat="ION")
    assert error(err) == ("ExportConflictException", "Duplicate request detected with conflicting parameters")
    wait_export(ddb, first["ExportDescription"]["ExportArn"])


def test_export_to_a_missing_bucket_fails(ddb, hash_table):
    enable_pitr(ddb, hash_table)
    table_arn = ddb.describe_table(TableName=hash_table)["Table"]["TableArn"]
    arn = ddb.export_table_to_point_in_time(TableArn=table_arn, S3Bucket=f"missing-{uuid.uuid4().hex[:8]}",
                                            )["ExportDescription"]["ExportArn"]
    done = wait_export(ddb, arn)
    assert done["ExportStatus"] == "FAILED"
    assert done["FailureCode"] == "S3NoSuchBucket" and "bucket does not exist" in done["FailureMessage"]


def test_describe_export_errors(ddb, hash_table):
    table_arn = ddb.describe_table(TableName=hash_table)["Table"]["TableArn"]
    with pytest.raises(ClientError) as err:
        ddb.describe_export(ExportArn=table_arn + "/export/01234567890123-0badf00d")
    assert error(err)[0] == "ExportNotFoundException"
    with pytest.raises(ClientError) as err:
        ddb.describe_export(ExportArn=table_arn + "-and-some-more-characters")
    assert error(err) == ("ValidationException", "Invalid Export ARN")
    with pytest.raises(ClientError) as err:
        ddb.list_exports(NextToken="0123456789abcdef" * 16 + "x")
    assert error(err)[0] == "ValidationException"


# --- paths may not leave the S3 root -----------------------------------------------

def test_prefixes_escaping_the_root_are_refused(ddb, hash_table, bucket, new_table_name):
    table_arn = ddb.describe_table(TableName=hash_table)["Table"]["TableArn"]
    for prefix in ("../../etc", "a/../../../etc", "/etc"):
        with pytest.raises(ClientError) as err:
            ddb.export_table_to_point_in_time(TableArn=table_arn, S3Bucket=bucket, S3Prefix=prefix)
        assert error(err)[0] == "ValidationException"
        with pytest.raises(ClientError) as err:
            start_import(ddb, bucket, prefix, new_table_name)
        assert error(err)[0] == "ValidationException"
    with pytest.raises(ClientError) as err:  # the bucket name pattern refuses '..'
        start_import(ddb, "..", "", new_table_name)
    assert error(err)[0] == "ValidationException"
    with pytest.raises(ClientError):
        ddb.describe_table(TableName=new_table_name)  # nothing was created


def test_symlink_out_of_the_root_fails_the_import(ddb, bucket, new_table_name, tmp_path):
    outside = tmp_path / "secret.json"
    outside.write_text('{"Item": {"pk": {"S": "leak"}, "sk": {"N": "1"}}}\n')
    (S3_ROOT / bucket / "in").mkdir()
    os.symlink(outside, S3_ROOT / bucket / "in" / "data.json")
    final = wait_import(ddb, start_import(ddb, bucket, "in/", new_table_name)["ImportArn"])
    assert final["ImportStatus"] == "FAILED" and final["FailureCode"] == "S3AccessDenied"
    with pytest.raises(ClientError) as err:
        ddb.describe_table(TableName=new_table_name)
    assert error(err)[0] == "ResourceNotFoundException"


# --- imports ------------------------------------------------------------------------

@pytest.mark.parametrize("compression", ["NONE", "ZSTD"])
def test_csv_import(ddb, bucket, new_table_name, compression):
    rows = [["pk", "sk", "name", "count"], ["a", "1", "Ann", "10"], ["b", "2.50", "Bob; Jr", ""],
            ["c", "3", "multi\nline", "7"]]
    text = io.StringIO()
    csv.writer(text, delimiter=";", lineterminator="\n").writerows(rows[1:])  # HeaderList gives the header
    data = text.getvalue().encode()
    key = "csv/part-0001.csv"
    if compression == "ZSTD":
        data, key = zstandard.ZstdCompressor().compress(data), key + ".zst"
    write_object(bucket, key, data)
    started = start_import(ddb, bucket, "csv/part-", new_table_name, "CSV", compression,
                           InputFormatOptions={"Csv": {"Delimiter": ";", "HeaderList": rows[0]}})
    assert started["InputFormatOptions"]["Csv"]["Delimiter"] == ";"
    final = wait_import(ddb, started["ImportArn"])
    assert final["ImportStatus"] == "COMPLETED", final
    assert final["ImportedItemCount"] == 3 and final["ErrorCount"] == 0
    assert final["ProcessedSizeBytes"] == len(text.getvalue().encode())  # uncompressed bytes
    items = {i["pk"]["S"]: i for i in scan_all(ddb, new_table_name)}
    # Keys typed by the key schema; everything else a string; empty values left out.
    assert items["a"] == {"pk": {"S": "a"}, "sk": {"N": "1"}, "name": {"S": "Ann"}, "count": {"S": "10"}}
    assert items["b"] == {"pk": {"S": "b"}, "sk": {"N": "2.5"}, "name": {"S": "Bob; Jr"}}
    assert items["c"]["name"] == {"S": "multi\nline"}


def test_csv_header_row_and_default_delimiter(ddb, bucket, new_table_name):
    write_object(bucket, "h/one.csv", b"sk,pk,colour\n1,x,red\n2,y,blue\n")
    final = wait_import(ddb, start_import(ddb, bucket, "h/", new_table_name, "CSV")["ImportArn"])
    assert final["ImportStatus"] == "COMPLETED" and final["ImportedItemCount"] == 2
    item = ddb.get_item(TableName=new_table_name, Key={"pk": {"S": "y"}, "sk": {"N": "2"}})["Item"]
    assert item["colour"] == {"S": "blue"}


def test_import_with_bad_lines_imports_the_good_ones(ddb, bucket, new_table_name):
    good = [json.dumps({"Item": wire({"pk": "good", "sk": Decimal(i), "v": "kept"})}) for i in (1, 2, 3)]
    bad = ['{"NotAnItem": {"pk": {"S": "x"}, "sk": {"N": "1"}}}',
           '{"Item": {"sk": {"N": "1"}}}',  # no partition key
           '{"Item": {"pk": {"S": "x"}, "sk": {"S": "1"}}}',  # sort key of the wrong type
           '{"Item": ',  # not JSON
           '{"Item": {"pk": {"S": "x"}, "sk": {"N": "1"}, "n": {"N": "not a number"}}}']
    lines = [good[0], bad[0], "", "   ", bad[1], good[1], bad[2], bad[3], bad[4], good[2]]
    write_object(bucket, "mixed/a.json", ("\n".join(lines) + "\n").encode())
    started = start_import(ddb, bucket, "mixed/", new_table_name)
    final = wait_import(ddb, started["ImportArn"])
    assert final["ImportStatus"] == "FAILED"
    assert final["FailureCode"] == "ItemValidationError" and final["FailureMessage"]
    assert (final["ProcessedItemCount"], final["ImportedItemCount"], final["ErrorCount"]) == (8, 3, 5)
    assert sorted(i["sk"]["N"] for i in scan_all(ddb, new_table_name)) == ["1", "2", "3"]
    # The bad lines are logged next to the data, one JSON line each.
    import_id = started["ImportArn"].rpartition("/")[2]
    log = S3_ROOT / bucket / "AWSDynamoDB" / "import-errors" / f"{import_id}.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["itemS3Pointer"]["itemIndex"] for e in entries] == [2, 5, 7, 8, 9]
    assert all(e["itemS3Pointer"]["key"] == "mixed/a.json" and e["errorMessages"] for e in entries)


def test_import_failures_and_conflicts(ddb, hash_table, bucket, new_table_name):
    # A bucket that does not exist: FAILED, and the table is not kept.
    missing = start_import(ddb, f"missing-{uuid.uuid4().hex[:8]}", "", new_table_name)
    assert missing["CloudWatchLogGroupArn"].startswith("arn:aws:logs:")
    final = wait_import(ddb, missing["ImportArn"])
    assert final["ImportStatus"] == "FAILED" and final["FailureCode"] == "S3NoSuchBucket"
    with pytest.raises(ClientError) as err:
        ddb.describe_table(TableName=new_table_name)
    assert error(err)[0] == "ResourceNotFoundException"
    # An existing table.
    with pytest.raises(ClientError) as err:
        start_import(ddb, bucket, "", hash_table)
    assert error(err) == ("ResourceInUseException", f"Table already exists: {hash_table}")
    # A prefix that matches nothing: COMPLETED, with an empty table.
    final = wait_import(ddb, start_import(ddb, bucket, "nothing-here/", new_table_name)["ImportArn"])
    assert final["ImportStatus"] == "COMPLETED" and final["ImportedItemCount"] == 0
    assert ddb.describe_table(TableName=new_table_name)["Table"]["TableStatus"] == "ACTIVE"
    # Csv options with another format.
    with pytest.raises(ClientError) as err:
        start_import(ddb, bucket, "", f"imp-{uuid.uuid4().hex[:12]}", InputFormatOptions={"Csv": {"Delimiter": ","}})
    assert error(err)[0] == "ValidationException" and "InputFormatOptions" in error(err)[1]


def test_describe_and_list_imports(ddb, bucket, new_table_name):
    write_object(bucket, "one/x.json", (json.dumps({"Item": wire(ITEMS[0])}) + "\n").encode())
    first = start_import(ddb, bucket, "one/", new_table_name)
    other = f"imp-{uuid.uuid4().hex[:12]}"
    try:
        second = start_import(ddb, bucket, "one/", other)
        for started in (first, second):
            assert wait_import(ddb, started["ImportArn"])["ImportStatus"] == "COMPLETED"
        mine = ddb.list_imports(TableArn=first["TableArn"])["ImportSummaryList"]
        assert [s["ImportArn"] for s in mine] == [first["ImportArn"]]
        assert set(mine[0]) == {"ImportArn", "ImportStatus", "TableArn", "S3BucketSource",
                                "CloudWatchLogGroupArn", "InputFormat", "StartTime", "EndTime"}
        page = ddb.list_imports(PageSize=1)
        assert len(page["ImportSummaryList"]) == 1 and "NextToken" in page
        paged, kwargs = [], {"PageSize": 1}
        while True:
            page = ddb.list_imports(**kwargs)
            paged += [s["ImportArn"] for s in page["ImportSummaryList"]]
            if "NextToken" not in page:
                break
            kwargs["NextToken"] = page["NextToken"]
        assert len(paged) == len(set(paged)) and {first["ImportArn"], second["ImportArn"]} <= set(paged)
    finally:
        ddb.delete_table(TableName=other)
    with pytest.raises(ClientError) as err:
        ddb.describe_import(ImportArn=first["TableArn"] + "/import/01234567890123-0badf00d")
    assert error(err)[0] == "ImportNotFoundException"
    with pytest.raises(ClientError) as err:
        ddb.describe_import(ImportArn=first["TableArn"].rpartition("/")[0] + "/x/import/01658528578619-c4d4e311")
    assert error(err) == ("ValidationException", "Invalid Import ARN")


def test_import_client_token(ddb, bucket, new_table_name):
    write_object(bucket, "tok/x.json", (json.dumps({"Item": wire(ITEMS[0])}) + "\n").encode())
    token = uuid.uuid4().hex
    first = start_import(ddb, bucket, "tok/", new_table_name, ClientToken=token)
    other = f"imp-{uuid.uuid4().hex[:12]}"
    with pytest.raises(ClientError) as err:
        start_import(ddb, bucket, "tok/", other, ClientToken=token)
    assert error(err)[0] == "ImportConflictException"
    with pytest.raises(ClientError):
        ddb.describe_table(TableName=other)  # the conflicting request left no table behind
    wait_import(ddb, first["ImportArn"])
    with pytest.raises(ClientError) as err:  # once it ended, its table exists
        start_import(ddb, bucket, "tok/", new_table_name, ClientToken=token)
    assert error(err)[0] == "ResourceInUseException"


@pytest.mark.slow
def test_large_gzip_import_streams(ddb, bucket, new_table_name):
    count = 20_000
    path = S3_ROOT / bucket / "big" / "items.json.gz"
    path.parent.mkdir()
    with gzip.open(path, "wb") as out:  # written as a stream: the test holds no list of 20k items either
        for i in range(count):
            out.write(b'{"Item":{"pk":{"S":"p%d"},"sk":{"N":"%d"},"v":{"S":"value %d"}}}\n' % (i % 97, i, i))
    final = wait_import(ddb, start_import(ddb, bucket, "big/", new_table_name, compression="GZIP")["ImportArn"])
    assert final["ImportStatus"] == "COMPLETED", final
    assert final["ImportedItemCount"] == count and final["ErrorCount"] == 0
    assert ddb.describe_table(TableName=new_table_name)["Table"]["ItemCount"] == count
    item = ddb.get_item(TableName=new_table_name, Key={"pk": {"S": "p5"}, "sk": {"N": "19405"}})["Item"]
    assert item["v"] == {"S": "value 19405"}

    # Exported again: many snapshot pages, streamed into the data files.
    enable_pitr(ddb, new_table_name)
    table_arn = ddb.describe_table(TableName=new_table_name)["Table"]["TableArn"]
    done = wait_export(ddb, ddb.export_table_to_point_in_time(
        TableArn=table_arn, S3Bucket=bucket, S3Prefix="again")["ExportDescription"]["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED" and done["ItemCount"] == count
    lines = 0
    for data_file in (S3_ROOT / bucket).glob("again/AWSDynamoDB/*/data/*.json.gz"):
        with gzip.open(data_file) as f:
            lines += sum(1 for _ in f)
    assert lines == count


def test_corrupt_object_counts_as_one_error(ddb, bucket, new_table_name):
    good = gzip.compress((json.dumps({"Item": wire(ITEMS[0])}) + "\n").encode())
    broken = gzip.compress(b'{"Item":{"pk":{"S":"x"},"sk":{"N":"9"}}}\n' * 200)
    write_object(bucket, "gz/1.json.gz", good)
    write_object(bucket, "gz/2.json.gz", broken[: len(broken) // 2])  # truncated
    write_object(bucket, "gz/3.json.gz", b"not gzip at all\n")
    final = wait_import(ddb, start_import(ddb, bucket, "gz/", new_table_name, compression="GZIP")["ImportArn"])
    assert final["ImportStatus"] == "FAILED" and final["FailureCode"] == "ItemValidationError"
    assert final["ErrorCount"] == 2 and final["ImportedItemCount"] >= 1
    assert {"pk": {"S": "minimal"}, "sk": {"N": "1"}} in scan_all(ddb, new_table_name)


def test_ion_lines_as_dynamodb_documents_them(ddb, bucket, new_table_name):
    # The example item of DynamoDB's export format documentation, one line.
    line = ('$ion_1_0 {Item:{pk:"book",sk:103.,Authors:$dynamodb_SS::["Author1","Author2"],'
            'Dimensions:"8.5 x 11.0 x 1.5",InPublication:false,PageCount:6d2,Price:2d3,'
            'Cover:{{aGVsbG8=}},Ratios:$dynamodb_NS::[1.5,2d0],Thumbs:$dynamodb_BS::[{{AA==}}],'
            'Nothing:null,Tags:["a",1.],Meta:{k:"v"}}}\n')
    write_object(bucket, "ion/book.ion", line.encode() + b"$ion_1_0 {NotItem:{}}\n")
    final = wait_import(ddb, start_import(ddb, bucket, "ion/", new_table_name, "ION")["ImportArn"])
    assert (final["ImportedItemCount"], final["ErrorCount"]) == (1, 1)
    item = ddb.get_item(TableName=new_table_name, Key={"pk": {"S": "book"}, "sk": {"N": "103"}})["Item"]
    assert sorted(item["Authors"]["SS"]) == ["Author1", "Author2"]
    assert item["PageCount"] == {"N": "600"} and item["Price"] == {"N": "2000"}
    assert item["InPublication"] == {"BOOL": False} and item["Nothing"] == {"NULL": True}
    assert item["Cover"] == {"B": b"hello"} and item["Thumbs"] == {"BS": [b"\x00"]}
    assert sorted(item["Ratios"]["NS"]) == ["1.5", "2"]
    assert item["Tags"] == {"L": [{"S": "a"}, {"N": "1"}]} and item["Meta"] == {"M": {"k": {"S": "v"}}}


def test_runners_never_claim_the_same_job(django_db_setup):
    """The claim is atomic: runners racing on their own connections (threads, so
    SQLite's lock and PostgreSQL's row locks really contend) share out the jobs."""
    import asyncio
    import threading

    from django.conf import settings

    from storage.backends import get_backend

    def one_connection_backend():
        if testenv.BACKEND == "postgres":  # one connection each: the test server shares PostgreSQL's limit
            from storage.backends.postgres import PostgresBackend

            return PostgresBackend(settings.DATABASES["default"], min_size=1, max_size=1)
        return get_backend()

    kind, total, runners = f"T{uuid.uuid4().hex[:6]}", 60, 4  # a kind of its own: the server's runner leaves it

    async def add_jobs() -> None:
        backend = one_connection_backend()
        for i in range(total):
            await backend.create_job(f"arn:test:{kind}/{i}", kind, time.time(), {"ClientToken": f"{kind}{i}"},
                                     f"{kind}{i}", 0.0)
        await backend.close()

    async def drain(out: list[str]) -> None:
        backend = one_connection_backend()
        while (job := await backend.claim_job(kind, time.time(), 0.0)) is not None:
            assert job.status == "RUNNING"
            out.append(job.arn)
        await backend.close()

    def in_threads(*coroutines) -> None:
        # Each on a thread and event loop of its own (the test's thread may have a loop running).
        threads = [threading.Thread(target=asyncio.run, args=(c,)) for c in coroutines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    in_threads(add_jobs())
    claimed: list[list[str]] = [[] for _ in range(runners)]
    in_threads(*(drain(out) for out in claimed))
    everything = [arn for out in claimed for arn in out]
    assert sorted(everything) == sorted(f"arn:test:{kind}/{i}" for i in range(total))  # each exactly once


def test_export_data_files_are_cut_at_the_size_bound(tmp_path):
    """EXTENDDB_EXPORT_FILE_BYTES bounds each data file (the writer on its own: the
    session's server keeps the 64 MiB default)."""
    from wireapi.transfer.export_files import ExportWriter

    writer = ExportWriter(tmp_path / "AWSDynamoDB" / "x", "p/AWSDynamoDB/x", "DYNAMODB_JSON", max_file_bytes=1000)
    writer.start()
    bodies = [json.dumps(wire({"pk": f"k{i}", "v": "x" * 100})).encode() for i in range(50)]
    for body in bodies:
        writer.add(body)
    manifest = writer.finish({"version": "2020-06-30"})
    assert manifest == "p/AWSDynamoDB/x/manifest-summary.json"
    assert len(writer.files) > 5 and sum(f["itemCount"] for f in writer.files) == 50
    lines = []
    for entry in writer.files:
        path = tmp_path / entry["dataFileS3Key"].removeprefix("p/")
        assert len(gzip.decompress(path.read_bytes())) < 1000 + 200  # cut once past the bound
        lines += gzip.decompress(path.read_bytes()).splitlines()
    assert lines == [b'{"Item":' + body + b"}" for body in bodies]
