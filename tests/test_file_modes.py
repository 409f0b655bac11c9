"""Files that hold data are readable by their owner only (0600), whatever the
umask: the SQLite database with its WAL and SHM files, `manage.py backupdb`
output, exports and import error logs. Checked on a deployment started with
the common umask 022, after its server has written."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from . import testenv
from .conftest import wait_job
from .reliability import harness
from .server import ROOT


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture(scope="module")
def deployed():
    previous = os.umask(0o022)  # what a shell usually has; the server's children inherit it
    try:
        with harness.deployment() as dep:
            key = dep.create_key()
            server = dep.start(workers=1)
            yield dep, harness.client(server, key)
    finally:
        os.umask(previous)


def _table(ddb, name: str) -> None:
    ddb.create_table(TableName=name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    for i in range(20):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, "secret": {"S": "patient record"}})


@pytest.mark.skipif(testenv.BACKEND != "sqlite", reason="PostgreSQL's files belong to the PostgreSQL server")
def test_sqlite_database_wal_and_shm_are_owner_only(deployed):
    dep, ddb = deployed
    _table(ddb, f"m-{uuid.uuid4().hex[:8]}")
    database = Path(dep.database_url.removeprefix("sqlite:///"))
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    assert all(f.exists() for f in files)  # WAL mode, written to, server running
    assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    assert _mode(dep.data_dir) == 0o700


def test_backupdb_output_is_owner_only(deployed):
    dep, ddb = deployed
    _table(ddb, f"b-{uuid.uuid4().hex[:8]}")
    target = dep.data_dir / f"backup-{uuid.uuid4().hex[:6]}"
    dep.manage("backupdb", str(target))
    assert target.stat().st_size > 0 and _mode(target) == 0o600


def test_export_files_and_import_error_logs_are_owner_only(deployed):
    dep, ddb = deployed
    name = f"e-{uuid.uuid4().hex[:8]}"
    _table(ddb, name)
    bucket = dep.data_dir / "s3" / "modes"
    bucket.mkdir(parents=True)
    ddb.update_continuous_backups(TableName=name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="modes", S3Prefix="x")["ExportDescription"]
    done = wait_job(lambda: ddb.describe_export(ExportArn=started["ExportArn"])["ExportDescription"], "ExportStatus")
    assert done["ExportStatus"] == "COMPLETED", done
    written = [p for p in (bucket / "x").rglob("*") if p.is_file()]
    assert len(written) >= 6  # _started, a data file, two manifests and their .md5
    assert {str(p): _mode(p) for p in written} == {str(p): 0o600 for p in written}

    (bucket / "bad").mkdir()
    (bucket / "bad" / "lines.json").write_text('{"Item": {"pk": {"S": "a"}}}\nnot json\n')
    imported = ddb.import_table(
        S3BucketSource={"S3Bucket": "modes", "S3KeyPrefix": "bad/"}, InputFormat="DYNAMODB_JSON",
        TableCreationParameters={"TableName": f"i-{uuid.uuid4().hex[:8]}", "BillingMode": "PAY_PER_REQUEST",
                                 "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                                 "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]})["ImportTableDescription"]
    final = wait_job(lambda: ddb.describe_import(ImportArn=imported["ImportArn"])["ImportTableDescription"],
                  "ImportStatus")
    assert final["ErrorCount"] == 1, final
    logs = list((bucket / "AWSDynamoDB" / "import-errors").glob("*.jsonl"))
    assert len(logs) == 1 and _mode(logs[0]) == 0o600


@pytest.mark.skipif(testenv.BACKEND != "sqlite", reason="an SQLite file of an older release")
def test_an_older_world_readable_database_is_narrowed(tmp_path):
    database = tmp_path / "old.sqlite3"
    previous = os.umask(0o022)
    try:
        conn = sqlite3.connect(database)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        assert _mode(database) == 0o644 and _mode(Path(f"{database}-wal")) == 0o644
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "EXTENDDB_DATA_DIR": str(tmp_path)}
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "check"], env=env, cwd=ROOT, check=True,
                       capture_output=True, timeout=120)
        assert (_mode(database), _mode(Path(f"{database}-wal"))) == (0o600, 0o600)
        conn.close()
    finally:
        os.umask(previous)
