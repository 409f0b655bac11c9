"""The whole-database backup of docs/operations.md, restored and served: items
written through the API come back through a second server running on the copy."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import boto3
import pytest

from . import testenv
from .conftest import CLIENT_CONFIG
from .server import manage, start_server

pytestmark = pytest.mark.slow


@pytest.fixture
def restored_env():
    """A fresh data directory (with the master key copied, as the guide says) and
    the DATABASE_URL the restored copy will live at; removed afterwards."""
    data_dir = tempfile.mkdtemp(prefix="extenddb-restored-")
    shutil.copy2(Path(testenv.DATA_DIR) / "master.key", Path(data_dir) / "master.key")
    dbname = None
    if testenv.BACKEND == "postgres":
        import psycopg

        dbname = f"{testenv.PG_DBNAME}_restored"
        with psycopg.connect(testenv.PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        url = testenv.PG_URL.rsplit("/", 1)[0] + "/" + dbname
    else:
        url = f"sqlite:///{data_dir}/extenddb.sqlite3"
    yield data_dir, url
    shutil.rmtree(data_dir, ignore_errors=True)
    if dbname:
        import psycopg

        with psycopg.connect(testenv.PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def test_backup_restore_and_serve(ddb, hash_table, key, restored_env, monkeypatch):
    data_dir, url = restored_env
    items = {f"k{i}": f"value {i} ü" for i in range(20)}
    for k, v in items.items():
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": k}, "v": {"S": v}})

    # Taken while the server runs, as the guide describes.
    dump = Path(data_dir) / ("extenddb.pgdump" if testenv.BACKEND == "postgres" else "extenddb.sqlite3")
    out = manage("backupdb", str(dump)).stdout
    assert "master key" in out
    if testenv.BACKEND == "postgres":
        env = {**os.environ, "PGDATABASE": url.rsplit("/", 1)[1]}
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", url, str(dump)],
                       env=env, check=True, capture_output=True, timeout=120)
    # A write after the backup is not in the copy.
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "late"}})

    monkeypatch.setenv("EXTENDDB_DATA_DIR", data_dir)
    monkeypatch.setenv("DATABASE_URL", url)
    second = start_server(data_dir, workers=1)
    try:
        client = boto3.client("dynamodb", endpoint_url=second.endpoint, region_name=testenv.REGION,
                              aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
                              verify=second.ca_bundle, config=CLIENT_CONFIG)
        got = client.scan(TableName=hash_table)["Items"]
        assert {i["pk"]["S"]: i["v"]["S"] for i in got} == items
        assert "Item" not in client.get_item(TableName=hash_table, Key={"pk": {"S": "late"}})
        # The copy is a working database, not a read-only image.
        client.put_item(TableName=hash_table, Item={"pk": {"S": "new"}, "v": {"S": "x"}})
        assert client.get_item(TableName=hash_table, Key={"pk": {"S": "new"}})["Item"]["v"]["S"] == "x"
    finally:
        second.stop()
        monkeypatch.undo()


def test_backupdb_refuses_to_overwrite(tmp_path):
    target = tmp_path / "exists"
    target.write_text("keep me")
    result = manage("backupdb", str(target), check=False)
    assert result.returncode != 0
    assert "already exists" in result.stderr
    assert target.read_text() == "keep me"
