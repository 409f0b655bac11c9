"""The upgrade procedure of docs/operations.md, run on a database made by the
previous release: its own code (checked out from git into a temporary folder)
migrates a new database and writes tables with a GSI and an LSI, streams, TTL,
tags, point-in-time recovery, a backup, an export, access keys and a policy
through its own server. Then, as the guide says: backupdb, the current code's
migrate, checkconsistency, the current server; and every item, index entry,
stream record, key, policy, backup and export must be served as the old server
served them.

PostgreSQL runs several servers on one database, so there the old server keeps
serving through the migration and beside the new server (the rolling window);
SQLite is one server on one host, stopped for the migration."""
from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import uuid
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from . import testenv
from .reliability import harness
from .server import ROOT, Key, Server, _healthy, free_port
from .test_import_export import canonical
from .test_streams import read_all

pytestmark = pytest.mark.slow

# The release before this one: 0.10.0, the state of main before this round (no tag
# needed: a clean clone has the commit, tags or not).
PREVIOUS_RELEASE = "e8136df"
# docs/operations.md, "Upgrading": this release's migrations keep the previous
# release's servers working, so PostgreSQL clusters upgrade one server at a time.
# A release whose migrations break old servers sets this to False and says so in
# CHANGELOG.md (stop every server, migrate, start them).
ROLLING_FROM_PREVIOUS = True

ORDERS = "orders"
EXPIRES_IN = 10  # seconds: one item expires while the upgrade runs
READER_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
    "Resource": ["arn:aws:dynamodb:*:*:table/orders", "arn:aws:dynamodb:*:*:table/orders/index/*"]}]}


# --- the previous release, from git --------------------------------------------------

def _previous_release(dest: Path) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a clone of the repository to check out the previous release")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", PREVIOUS_RELEASE],
                             capture_output=True, timeout=120)
    assert archive.returncode == 0, (f"commit {PREVIOUS_RELEASE} (the previous release) is not in this clone: "
                                     f"{archive.stderr.decode()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def _python_for(release: Path, tmp: Path) -> str:
    """This venv's python if it has the release's pinned requirements; else a venv of its own."""
    pins = [line.split("#")[0].strip() for line in (release / "requirements.txt").read_text().splitlines()]
    pins = [p for p in pins if "==" in p]

    def installed(pin: str) -> bool:
        name, version = pin.split("==")
        try:
            return metadata.version(name.split("[")[0]) == version
        except metadata.PackageNotFoundError:
            return False

    if all(installed(p) for p in pins):
        return sys.executable
    venv = tmp / "venv-previous"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "-r",
                    str(release / "requirements.txt")], check=True, capture_output=True, timeout=900)
    return str(venv / "bin/python")


class Release:
    def __init__(self, code: Path, python: str, env: dict[str, str]) -> None:
        self.code, self.python, self.env = code, python, env

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([self.python, str(self.code / "manage.py"), *args], cwd=self.code, env=self.env,
                              capture_output=True, text=True, timeout=300, check=check)

    def create_key(self, user: str, *extra: str) -> Key:
        out = self.manage("createkey", "--user", user, *extra).stdout
        fields = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        return Key(fields["AWS_ACCESS_KEY_ID"], fields["AWS_SECRET_ACCESS_KEY"])

    def serve(self, data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> Server:
        port, log_path = free_port(), data_dir / f"serve-{self.code.name}-{time.monotonic_ns()}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen([self.python, str(self.code / "manage.py"), "serve", "--port", str(port),
                                        "--workers", "1", *extra], cwd=self.code, env={**self.env, **(env or {})},
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        ca = str(data_dir / "tls-cert.pem")
        deadline = time.monotonic() + 90
        while not _healthy(port, ca):
            if process.poll() is not None or time.monotonic() > deadline:
                harness.kill_group(process)
                raise AssertionError(f"{self.code.name} server did not come up: {log_path.read_text()}")
            time.sleep(0.2)
        return Server(process, port, ca, log_path)


@contextmanager
def _database():
    """A new, empty database on the test run's backend (nothing migrated yet)."""
    data_dir = Path(testenv.DATA_DIR) / f"upgrade-{uuid.uuid4().hex[:8]}"
    data_dir.mkdir()
    if testenv.BACKEND == "postgres":
        import psycopg

        name = f"extenddb_upgrade_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(testenv.PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield data_dir, testenv.PG_URL.rsplit("/", 1)[0] + "/" + name
        finally:
            with psycopg.connect(testenv.PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield data_dir, f"sqlite:///{data_dir}/extenddb.sqlite3"


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        harness.kill_group(server.process, signal.SIGTERM)
        try:
            server.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            harness.kill_group(server.process)


# --- what the old release writes, and what any server must answer ------------------------

def _write_old_data(ddb, bucket_dir: Path) -> dict:
    ddb.create_table(
        TableName=ORDERS, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in
                              (("pk", "S"), ("sk", "N"), ("customer", "S"), ("amount", "N"))],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        LocalSecondaryIndexes=[{"IndexName": "by-amount", "Projection": {"ProjectionType": "KEYS_ONLY"},
                                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                              {"AttributeName": "amount", "KeyType": "RANGE"}]}],
        GlobalSecondaryIndexes=[{"IndexName": "by-customer", "Projection": {"ProjectionType": "INCLUDE",
                                                                           "NonKeyAttributes": ["note"]},
                                 "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                                               {"AttributeName": "sk", "KeyType": "RANGE"}]}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        Tags=[{"Key": "ward", "Value": "cardiology"}])
    ddb.update_time_to_live(TableName=ORDERS, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    ddb.update_continuous_backups(TableName=ORDERS,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    ddb.create_table(TableName="blobs", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "B"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    expiring = None
    for i in range(40):
        item = {"pk": {"S": f"patient-{i % 8}"}, "sk": {"N": str(i)}, "customer": {"S": f"c{i % 5}"},
                "amount": {"N": f"{i * 7 % 13}.{i}"}, "note": {"S": f"note ü {i}"},
                "tags": {"SS": [f"t{i % 3}", "all"]}, "doc": {"M": {"l": {"L": [{"N": "1"}, {"BOOL": True},
                                                                                {"NULL": True}]}}},
                "expires": {"N": str(int(time.time()) + 86400)}}
        if i == 39:
            expiring = item  # written below, once the old server's sweeper has made its one pass
        else:
            ddb.put_item(TableName=ORDERS, Item=item)
        ddb.put_item(TableName="blobs", Item={"id": {"B": bytes([i, 255 - i])}, "n": {"N": str(i)}})
    ddb.update_item(TableName=ORDERS, Key={"pk": {"S": "patient-1"}, "sk": {"N": "1"}},
                    UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"S": "changed"}})
    ddb.delete_item(TableName=ORDERS, Key={"pk": {"S": "patient-2"}, "sk": {"N": "2"}})
    bucket_dir.mkdir(parents=True)
    arn = ddb.describe_table(TableName=ORDERS)["Table"]["TableArn"]
    export = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket_dir.name)["ExportDescription"]
    deadline = time.monotonic() + 90
    while ddb.describe_export(ExportArn=export["ExportArn"])["ExportDescription"]["ExportStatus"] == "IN_PROGRESS":
        assert time.monotonic() < deadline, "the old release's export did not finish"
        time.sleep(0.3)
    # The export ran, so the background process (runner and sweeper) is up and its first
    # sweep is behind it; the next is an hour away. This item expires during the upgrade.
    expires = time.time() + EXPIRES_IN
    expiring["expires"] = {"N": str(int(expires))}
    ddb.put_item(TableName=ORDERS, Item=expiring)
    backup = ddb.create_backup(TableName=ORDERS, BackupName="before-upgrade")["BackupDetails"]["BackupArn"]
    return {"backup": backup, "export": export["ExportArn"], "expires": expires}


def _paged(call, key: str, **kwargs) -> list:
    out = []
    while True:
        page = call(**kwargs)
        out += page[key]
        if "LastEvaluatedKey" not in page:
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _records(streams, stream_arn: str) -> list[dict]:
    assert len(streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]) == 1
    return read_all(streams, stream_arn)


def _observe(ddb, streams) -> dict:
    """Everything a client can read of the old data."""
    table = ddb.describe_table(TableName=ORDERS)["Table"]
    seen = {
        "schema": {k: table[k] for k in ("KeySchema", "AttributeDefinitions", "TableArn", "StreamSpecification",
                                         "LatestStreamArn")},
        "indexes": sorted(i["IndexName"] for i in table["LocalSecondaryIndexes"] + table["GlobalSecondaryIndexes"]),
        "items": canonical(_paged(ddb.scan, "Items", TableName=ORDERS)),
        "blobs": canonical(_paged(ddb.scan, "Items", TableName="blobs")),
        "gsi": {c: _paged(ddb.query, "Items", TableName=ORDERS, IndexName="by-customer",
                          KeyConditionExpression="customer = :c", ExpressionAttributeValues={":c": {"S": c}})
                for c in ("c0", "c1", "c2", "c3", "c4")},
        "lsi": {p: _paged(ddb.query, "Items", TableName=ORDERS, IndexName="by-amount",
                          KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": p}})
                for p in (f"patient-{n}" for n in range(8))},
        "gsi_scan": canonical(_paged(ddb.scan, "Items", TableName=ORDERS, IndexName="by-customer")),
        "ttl": ddb.describe_time_to_live(TableName=ORDERS)["TimeToLiveDescription"],
        "pitr": ddb.describe_continuous_backups(TableName=ORDERS)["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
        "tags": ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"],
        "backups": [b["BackupArn"] for b in ddb.list_backups(TableName=ORDERS)["BackupSummaries"]],
        "records": _records(streams, table["LatestStreamArn"]),
    }
    assert len(seen["records"]) == 42  # 40 inserts, one modify, one remove
    return seen


def _code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


# --- the upgrade ----------------------------------------------------------------------

def test_upgrade_from_the_previous_release(tmp_path):
    old_code = _previous_release(tmp_path / "v0.10.0")
    with _database() as (data_dir, database_url):
        env = {**os.environ, "EXTENDDB_DATA_DIR": str(data_dir), "DATABASE_URL": database_url,
               "EXTENDDB_TTL_SWEEP_SECONDS": "3600"}  # sweeps only when the test says (sweepttl)
        old = Release(old_code, _python_for(old_code, tmp_path), env)
        new = Release(ROOT, sys.executable, env)

        old.manage("migrate", "--noinput")
        admin = old.create_key("app")
        reader = old.create_key("reader", "--no-policy")
        (tmp_path / "reader.json").write_text(json.dumps(READER_POLICY))
        old.manage("putpolicy", "--name", "OrdersReader", "--file", str(tmp_path / "reader.json"), "--user", "reader")
        retired = old.create_key("retired")
        old.manage("deactivatekey", retired.access_key_id)

        old_server = old.serve(data_dir)
        try:
            ddb = harness.client(old_server, admin)
            made = _write_old_data(ddb, data_dir / "s3" / "exports")
            before = _observe(ddb, harness.client(old_server, admin, service="dynamodbstreams"))

            # 1. Back up (with the release being replaced), 2. migrate once, from one host.
            backup_file = tmp_path / "before-upgrade.dump"
            old.manage("backupdb", str(backup_file))
            assert backup_file.stat().st_size > 0
            rolling = testenv.BACKEND == "postgres"
            if not rolling:  # SQLite: one server, stopped for the migration
                _stop(old_server)
            migrated = new.manage("migrate", "--noinput")
            assert "Traceback" not in migrated.stderr
            check = new.manage("checkconsistency")
            assert "0 problem(s)" in check.stdout, check.stdout

            if rolling:  # the old server keeps working on the migrated schema, beside a new one
                assert ROLLING_FROM_PREVIOUS, "this release cannot be rolled: stop every server to migrate"
                ddb.put_item(TableName="blobs", Item={"id": {"B": b"during"}, "n": {"N": "-1"}})
                assert ddb.get_item(TableName=ORDERS, Key={"pk": {"S": "patient-0"}, "sk": {"N": "0"}})["Item"]
            # 3. Restart the servers on the new release, one at a time.
            new_server = new.serve(data_dir, "--no-background")  # its first TTL sweep is the test's sweepttl
            try:
                client = harness.client(new_server, admin)
                if rolling:
                    assert client.get_item(TableName="blobs", Key={"id": {"B": b"during"}})["Item"]["n"]["N"] == "-1"
                    client.delete_item(TableName="blobs", Key={"id": {"B": b"during"}})
                    _stop(old_server)
                streams = harness.client(new_server, admin, service="dynamodbstreams")
                after = _observe(client, streams)
                assert after == before

                _check_the_rest(new, client, streams, new_server, admin, reader, retired, made, before)
            finally:
                _stop(new_server)
        finally:
            _stop(old_server)


def _check_the_rest(new: Release, client, streams, server: Server, admin: Key, reader: Key, retired: Key,
                    made: dict, before: dict) -> None:
    # Keys and policies made by the old release: the reader reads orders and nothing else,
    # the deactivated key stays refused.
    as_reader = harness.client(server, reader)
    assert as_reader.get_item(TableName=ORDERS, Key={"pk": {"S": "patient-3"}, "sk": {"N": "3"}})["Item"]
    for call in (lambda: as_reader.put_item(TableName=ORDERS, Item={"pk": {"S": "x"}, "sk": {"N": "0"}}),
                 lambda: as_reader.scan(TableName="blobs")):
        with pytest.raises(ClientError) as denied:
            call()
        assert _code(denied.value) == "AccessDeniedException"
    with pytest.raises(ClientError) as refused:
        harness.client(server, retired).list_tables()
    assert _code(refused.value) == "UnrecognizedClientException"

    # The old export and backup: described, and the backup restores with its indexes.
    assert client.describe_export(ExportArn=made["export"])["ExportDescription"]["ExportStatus"] == "COMPLETED"
    client.restore_table_from_backup(TargetTableName="orders-restored", BackupArn=made["backup"])
    assert canonical(_paged(client.scan, "Items", TableName="orders-restored")) == before["items"]
    restored_gsi = client.query(TableName="orders-restored", IndexName="by-customer",
                                KeyConditionExpression="customer = :c", ExpressionAttributeValues={":c": {"S": "c3"}})
    assert restored_gsi["Items"] == before["gsi"]["c3"]

    # New writes go on from the old stream's sequence, and TTL still removes expired items.
    client.put_item(TableName=ORDERS, Item={"pk": {"S": "patient-0"}, "sk": {"N": "100"}, "customer": {"S": "c9"},
                                            "amount": {"N": "1"}})
    time.sleep(max(0.0, made["expires"] + 1 - time.time()))  # (long past, unless the machine is idle)
    sweep = new.manage("sweepttl")
    assert "deleted 1 expired items" in sweep.stdout
    assert "Item" not in client.get_item(TableName=ORDERS, Key={"pk": {"S": "patient-7"}, "sk": {"N": "39"}})
    records = _records(streams, before["schema"]["LatestStreamArn"])
    assert records[:len(before["records"])] == before["records"]
    tail = records[len(before["records"]):]
    assert [r["eventName"] for r in tail] == ["INSERT", "REMOVE"]
    assert int(tail[0]["dynamodb"]["SequenceNumber"]) > int(before["records"][-1]["dynamodb"]["SequenceNumber"])
    assert tail[1]["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}  # TTL
    check = new.manage("checkconsistency")
    assert "0 problem(s)" in check.stdout, check.stdout
