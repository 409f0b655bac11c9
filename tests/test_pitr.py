"""Point-in-time recovery end to end: item history kept by every write path,
RestoreTableToPointInTime to instants between writes compared with a model of the
table (items and index entries), the window DescribeContinuousBackups reports, the
errors, restore of a deleted table, its SYSTEM backup, and the retention purge.

Instants come from the server: LatestRestorableDateTime read right after a write is
acknowledged is a restore point that holds that write and none after it."""
from __future__ import annotations

import copy
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from .server import manage

WAIT_SECONDS = 90


def _error(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def _scan(ddb, table: str, **kwargs) -> list[dict]:
    items, page = [], {"TableName": table, "ConsistentRead": True, **kwargs}
    if "IndexName" in kwargs:
        page.pop("ConsistentRead")
    while True:
        out = ddb.scan(**page)
        items += out["Items"]
        if "LastEvaluatedKey" not in out:
            return items
        page["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def _keyed(items: list[dict]) -> dict[tuple, dict]:
    return {(i["pk"]["S"], i["sk"]["N"]): i for i in items}


def _latest(ddb, table: str) -> object:
    return ddb.describe_continuous_backups(TableName=table)[
        "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["LatestRestorableDateTime"]


def _wait_active(ddb, table: str) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        desc = ddb.describe_table(TableName=table)["Table"]
        if desc["TableStatus"] == "ACTIVE":
            return desc
        time.sleep(0.1)
    raise AssertionError(f"{table} did not become ACTIVE")


def _drop(ddb, *names: str) -> None:
    for name in names:
        try:
            ddb.delete_table(TableName=name)
        except ClientError:
            pass


def _create(ddb, name: str) -> None:
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "g", "AttributeType": "S"},
                              {"AttributeName": "l", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        LocalSecondaryIndexes=[{"IndexName": "by_l", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                  {"AttributeName": "l", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "ALL"}}])


def _item(pk: str, sk: int, **attrs) -> dict:
    item = {"pk": {"S": pk}, "sk": {"N": str(sk)}}
    for name, value in attrs.items():
        item[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    return item


class Model:
    """The expected table after each acknowledged write, with the instant it is true at."""

    def __init__(self) -> None:
        self.items: dict[tuple, dict] = {}
        self.points: list[tuple[object, dict[tuple, dict]]] = []

    def put(self, item: dict) -> None:
        self.items[(item["pk"]["S"], item["sk"]["N"])] = item

    def delete(self, pk: str, sk: int) -> None:
        self.items.pop((pk, str(sk)), None)

    def mark(self, ddb, table: str) -> None:
        self.points.append((_latest(ddb, table), copy.deepcopy(self.items)))


def _index_view(items: dict[tuple, dict]) -> tuple[list, list]:
    """What the GSI (KEYS_ONLY on g) and the LSI (ALL on l) should hold."""
    gsi = sorted((i["g"]["S"], i["pk"]["S"], i["sk"]["N"]) for i in items.values() if "g" in i)
    lsi = sorted((i["pk"]["S"], i["l"]["N"], i["sk"]["N"]) for i in items.values() if "l" in i)
    return gsi, lsi


def _check_restored(ddb, name: str, expected: dict[tuple, dict]) -> None:
    assert _keyed(_scan(ddb, name)) == expected
    gsi = sorted((i["g"]["S"], i["pk"]["S"], i["sk"]["N"]) for i in _scan(ddb, name, IndexName="by_g"))
    lsi = sorted((i["pk"]["S"], i["l"]["N"], i["sk"]["N"]) for i in _scan(ddb, name, IndexName="by_l"))
    assert (gsi, lsi) == _index_view(expected)


@pytest.fixture
def pitr_table(ddb):
    name = f"pitr-{uuid.uuid4().hex[:8]}"
    _create(ddb, name)
    ddb.update_continuous_backups(TableName=name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    yield name
    _drop(ddb, name)


def test_restore_to_instants_between_writes_matches_the_model(ddb, pitr_table):
    table, model = pitr_table, Model()
    model.mark(ddb, table)  # the empty table, just after enabling
    for n in range(4):
        item = _item("a", n, g=f"g{n % 2}", l=10 - n, v="one")
        ddb.put_item(TableName=table, Item=item)
        model.put(item)
    model.mark(ddb, table)
    ddb.update_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
                    UpdateExpression="SET v = :v, g = :g REMOVE l",
                    ExpressionAttributeValues={":v": {"S": "two"}, ":g": {"S": "moved"}})
    model.put(_item("a", 1, g="moved", v="two"))
    model.mark(ddb, table)
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "2"}})
    model.delete("a", 2)
    model.mark(ddb, table)
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": _item("b", 1, g="g0", v="txn")}},
        {"Delete": {"TableName": table, "Key": {"pk": {"S": "a"}, "sk": {"N": "0"}}}},
        {"Update": {"TableName": table, "Key": {"pk": {"S": "a"}, "sk": {"N": "3"}},
                    "UpdateExpression": "SET l = :l", "ExpressionAttributeValues": {":l": {"N": "99"}}}}])
    model.put(_item("b", 1, g="g0", v="txn"))
    model.delete("a", 0)
    model.put({**model.items[("a", "3")], "l": {"N": "99"}})
    model.mark(ddb, table)
    ddb.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": _item("c", 1, v="batch")}},
        {"DeleteRequest": {"Key": {"pk": {"S": "b"}, "sk": {"N": "1"}}}}]})
    model.put(_item("c", 1, v="batch"))
    model.delete("b", 1)
    model.mark(ddb, table)
    ddb.execute_statement(Statement=f"UPDATE \"{table}\" SET v = 'partiql' WHERE pk = 'c' AND sk = 1")
    model.put(_item("c", 1, v="partiql"))
    model.mark(ddb, table)
    # Time to Live: an expired item, deleted by the sweeper through the normal write path.
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    expired = {**_item("d", 1, v="expires"), "exp": {"N": str(int(time.time()) - 60)}}
    ddb.put_item(TableName=table, Item=expired)
    model.put(expired)
    model.mark(ddb, table)
    manage("sweepttl")
    model.delete("d", 1)
    model.mark(ddb, table)
    assert _keyed(_scan(ddb, table)) == model.items
    check = manage("checkconsistency", "--table", table)  # the history's last versions are the table
    assert "history versions: ok" in check.stdout, check.stdout

    restored = []
    try:
        for n, (instant, expected) in enumerate(model.points):
            target = f"{table}-r{n}"
            out = ddb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=target,
                                                     RestoreDateTime=instant)["TableDescription"]
            restored.append(target)
            assert out["TableStatus"] == "CREATING"
            assert out["RestoreSummary"]["RestoreInProgress"] is True
        for target, (instant, expected) in zip(restored, model.points):
            desc = _wait_active(ddb, target)
            assert desc["RestoreSummary"]["RestoreInProgress"] is False
            assert desc["RestoreSummary"]["RestoreDateTime"] == instant
            assert desc["RestoreSummary"]["SourceTableArn"].endswith(f"table/{table}")
            _check_restored(ddb, target, expected)
        # The restored tables do not inherit PITR (DynamoDB restores neither it nor TTL).
        pitr = ddb.describe_continuous_backups(TableName=restored[0])["ContinuousBackupsDescription"]
        assert pitr["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
    finally:
        _drop(ddb, *restored)


def test_use_latest_and_overrides(ddb, pitr_table):
    ddb.put_item(TableName=pitr_table, Item=_item("x", 1, g="gx", l=1))
    target = f"{pitr_table}-latest"
    try:
        out = ddb.restore_table_to_point_in_time(
            SourceTableArn=ddb.describe_table(TableName=pitr_table)["Table"]["TableArn"], TargetTableName=target,
            UseLatestRestorableTime=True, GlobalSecondaryIndexOverride=[], BillingModeOverride="PROVISIONED",
            ProvisionedThroughputOverride={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4})["TableDescription"]
        assert "GlobalSecondaryIndexes" not in out
        desc = _wait_active(ddb, target)
        assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
        assert [i["IndexName"] for i in desc["LocalSecondaryIndexes"]] == ["by_l"]
        assert _keyed(_scan(ddb, target)) == {("x", "1"): _item("x", 1, g="gx", l=1)}
    finally:
        _drop(ddb, target)


def test_continuous_backups_report_the_window(ddb, hash_table):
    off = ddb.describe_continuous_backups(TableName=hash_table)["ContinuousBackupsDescription"]
    assert off == {"ContinuousBackupsStatus": "ENABLED",
                   "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    before = time.time()
    on = ddb.update_continuous_backups(TableName=hash_table, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert on["PointInTimeRecoveryStatus"] == "ENABLED" and on["RecoveryPeriodInDays"] == 35
    earliest = on["EarliestRestorableDateTime"].timestamp()
    assert before - 1 <= earliest <= time.time() + 1
    assert on["LatestRestorableDateTime"].timestamp() >= earliest
    seven = ddb.update_continuous_backups(TableName=hash_table, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7})["ContinuousBackupsDescription"]
    assert seven["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 7
    assert seven["PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"].timestamp() == earliest
    with pytest.raises(ClientError) as exc:
        ddb.update_continuous_backups(TableName=hash_table, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 36})
    assert _error(exc) == "ValidationException"
    off = ddb.update_continuous_backups(TableName=hash_table, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": False})["ContinuousBackupsDescription"]
    assert off["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
    with pytest.raises(ClientError) as exc:
        ddb.restore_table_to_point_in_time(SourceTableName=hash_table, TargetTableName=f"{hash_table}-x",
                                           UseLatestRestorableTime=True)
    assert _error(exc) == "PointInTimeRecoveryUnavailableException"


def test_restore_errors(ddb, pitr_table):
    latest = _latest(ddb, pitr_table)
    cases = [
        ({"SourceTableName": "no-such-table", "TargetTableName": "t-x", "UseLatestRestorableTime": True},
         "TableNotFoundException"),
        ({"SourceTableName": pitr_table, "TargetTableName": pitr_table, "UseLatestRestorableTime": True},
         "TableAlreadyExistsException"),
        ({"SourceTableName": pitr_table, "TargetTableName": "t-x", "RestoreDateTime": time.time() - 86400},
         "InvalidRestoreTimeException"),
        ({"SourceTableName": pitr_table, "TargetTableName": "t-x", "RestoreDateTime": time.time() + 3600},
         "InvalidRestoreTimeException"),
        ({"SourceTableName": pitr_table, "TargetTableName": "t-x"}, "ValidationException"),
        ({"SourceTableName": pitr_table, "TargetTableName": "t-x", "RestoreDateTime": latest,
          "UseLatestRestorableTime": True}, "ValidationException"),
        ({"TargetTableName": "t-x", "UseLatestRestorableTime": True}, "ValidationException"),
        ({"SourceTableName": pitr_table, "TargetTableName": "t-x", "UseLatestRestorableTime": True,
          "GlobalSecondaryIndexOverride": [{"IndexName": "nope", "KeySchema": [{"AttributeName": "v",
                                                                              "KeyType": "HASH"}],
                                            "Projection": {"ProjectionType": "ALL"}}]}, "ValidationException"),
    ]
    for request, code in cases:
        with pytest.raises(ClientError) as exc:
            ddb.restore_table_to_point_in_time(**request)
        assert _error(exc) == code, request
    assert "t-x" not in ddb.list_tables()["TableNames"]


def test_deleted_table_keeps_its_window_and_a_system_backup(ddb):
    name = f"pitr-del-{uuid.uuid4().hex[:8]}"
    _create(ddb, name)
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    items = {("k", str(n)): _item("k", n, g="g", l=n) for n in range(3)}
    for item in items.values():
        ddb.put_item(TableName=name, Item=item)
    middle = _latest(ddb, name)
    ddb.delete_item(TableName=name, Key={"pk": {"S": "k"}, "sk": {"N": "0"}})
    ddb.delete_table(TableName=name)
    targets = [f"{name}-at-deletion", f"{name}-middle", f"{name}-from-backup"]
    try:
        system = ddb.list_backups(TableName=name, BackupType="SYSTEM")["BackupSummaries"]
        assert len(system) == 1 and system[0]["BackupType"] == "SYSTEM"
        assert system[0]["BackupName"] == f"{name}$DeletedTableBackup"
        assert not ddb.list_backups(TableName=name)["BackupSummaries"]  # USER by default
        assert ddb.list_backups(TableName=name, BackupType="ALL")["BackupSummaries"] == system
        ddb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=targets[0],
                                           UseLatestRestorableTime=True)
        ddb.restore_table_to_point_in_time(SourceTableName=name, TargetTableName=targets[1],
                                           RestoreDateTime=middle)
        ddb.restore_table_from_backup(BackupArn=system[0]["BackupArn"], TargetTableName=targets[2])
        after = {k: v for k, v in items.items() if k != ("k", "0")}
        for target in targets[:2]:
            _wait_active(ddb, target)
        _check_restored(ddb, targets[0], after)
        _check_restored(ddb, targets[1], items)
        _check_restored(ddb, targets[2], after)
    finally:
        _drop(ddb, *targets)


def test_manage_restore_point_in_time_and_backup(ddb, pitr_table):
    ddb.put_item(TableName=pitr_table, Item=_item("m", 1, v="before"))
    instant = _latest(ddb, pitr_table)
    ddb.put_item(TableName=pitr_table, Item=_item("m", 1, v="after"))
    at = instant.astimezone().isoformat()
    targets = [f"{pitr_table}-cli", f"{pitr_table}-cli-latest", f"{pitr_table}-cli-backup"]
    try:
        out = manage("restore", "--table", pitr_table, "--to", at, "--as", targets[0], "--progress")
        assert f"{targets[0]}: ACTIVE (1 items)" in out.stdout
        assert "restore" in out.stderr  # the bar
        _check_restored(ddb, targets[0], {("m", "1"): _item("m", 1, v="before")})
        manage("restore", "--table", pitr_table, "--latest", "--as", targets[1])
        _check_restored(ddb, targets[1], {("m", "1"): _item("m", 1, v="after")})
        arn = ddb.create_backup(TableName=pitr_table, BackupName="cli")["BackupDetails"]["BackupArn"]
        manage("restore", "--backup-arn", arn, "--as", targets[2])
        _check_restored(ddb, targets[2], {("m", "1"): _item("m", 1, v="after")})
        failed = manage("restore", "--table", pitr_table, "--latest", "--as", targets[0], check=False)
        assert failed.returncode != 0 and "TableAlreadyExists" in failed.stderr
    finally:
        _drop(ddb, *targets)


def test_retention_purge_keeps_what_the_window_needs(ddb, pitr_table, django_db_setup):
    import asyncio

    from storage.backends import get_backend

    model = Model()
    for item in (_item("p", 1, v="v1"), _item("p", 2, v="v1")):
        ddb.put_item(TableName=pitr_table, Item=item)
        model.put(item)
    model.mark(ddb, pitr_table)
    ddb.put_item(TableName=pitr_table, Item=_item("p", 1, v="v2"))
    model.put(_item("p", 1, v="v2"))
    ddb.delete_item(TableName=pitr_table, Key={"pk": {"S": "p"}, "sk": {"N": "2"}})
    model.delete("p", 2)
    model.mark(ddb, pitr_table)
    ddb.put_item(TableName=pitr_table, Item=_item("p", 1, v="v3"))
    model.put(_item("p", 1, v="v3"))
    model.mark(ddb, pitr_table)
    window_start = model.points[1][0].timestamp()

    async def purge() -> tuple[int, int, int]:
        # What pitr_retention.purge_once does for this window when "now" is one recovery
        # period (plus its slack) after the second instant (this window only: the others stay).
        backend = get_backend()
        try:
            table = await backend.load_table(pitr_table)
            source = await backend.load_pitr_source(table_id=table.id)
            before = (await backend.history_stats(source.id))[0]
            purged = await backend.purge_history(source.id, window_start, source.purged_to)
            return before, purged, (await backend.history_stats(source.id))[0]
        finally:
            await backend.close()

    # p/1 v1, p/2 v1 and p/2's deletion go: no restore in the window needs them.
    assert asyncio.run(purge()) == (5, 3, 2)
    assert asyncio.run(purge()) == (2, 0, 2)  # nothing new to look at
    targets = [f"{pitr_table}-w1", f"{pitr_table}-w2"]
    try:
        for target, (instant, _) in zip(targets, model.points[1:]):
            ddb.restore_table_to_point_in_time(SourceTableName=pitr_table, TargetTableName=target,
                                               RestoreDateTime=instant)
        for target, (_, expected) in zip(targets, model.points[1:]):
            _wait_active(ddb, target)
            _check_restored(ddb, target, expected)
    finally:
        _drop(ddb, *targets)

