"""On-demand backups, restores and continuous-backup settings through boto3."""
from __future__ import annotations

import os
import re
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from . import testenv
from .conftest import _drop

BACKUP_ARN = re.compile(r"arn:aws:dynamodb:us-east-1:\d{12}:table/([^/]+)/backup/\d{14}-[0-9a-f]{8}")


def error(exc_info):
    return exc_info.value.response["Error"]["Code"], exc_info.value.response["Error"]["Message"]


@pytest.fixture
def indexed_table(ddb):
    """pk/sk table with an LSI on `lsk` and a GSI on `g`, holding a few items."""
    name = f"b-{uuid.uuid4().hex[:12]}"
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "lsk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        LocalSecondaryIndexes=[{"IndexName": "by_lsk", "Projection": {"ProjectionType": "ALL"},
                                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                              {"AttributeName": "lsk", "KeyType": "RANGE"}]}],
        GlobalSecondaryIndexes=[{"IndexName": "by_g", "Projection": {"ProjectionType": "KEYS_ONLY"},
                                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    with_items(ddb, name)
    yield name
    _drop(ddb, name)


def with_items(ddb, name):
    for i in range(6):
        item = {"pk": {"S": f"p{i % 2}"}, "sk": {"N": str(i)}, "lsk": {"S": f"l{5 - i}"}, "data": {"S": "x" * 10}}
        if i % 3 == 0:
            item["g"] = {"S": "hot"}
        ddb.put_item(TableName=name, Item=item)


def test_create_describe_list_delete(ddb, indexed_table):
    details = ddb.create_backup(TableName=indexed_table, BackupName="nightly")["BackupDetails"]
    arn = details["BackupArn"]
    assert BACKUP_ARN.fullmatch(arn).group(1) == indexed_table
    assert details["BackupName"] == "nightly"
    assert details["BackupStatus"] == "AVAILABLE"
    assert details["BackupType"] == "USER"
    assert details["BackupSizeBytes"] > 0

    # Writes after the backup do not reach it.
    ddb.put_item(TableName=indexed_table, Item={"pk": {"S": "late"}, "sk": {"N": "9"}})
    description = ddb.describe_backup(BackupArn=arn)["BackupDescription"]
    source = description["SourceTableDetails"]
    assert source["TableName"] == indexed_table
    assert source["ItemCount"] == 6
    assert source["BillingMode"] == "PAY_PER_REQUEST"
    assert source["KeySchema"][0] == {"AttributeName": "pk", "KeyType": "HASH"}
    features = description["SourceTableFeatureDetails"]
    assert [i["IndexName"] for i in features["LocalSecondaryIndexes"]] == ["by_lsk"]
    assert [i["IndexName"] for i in features["GlobalSecondaryIndexes"]] == ["by_g"]
    assert features["StreamDescription"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}

    listed = ddb.list_backups(TableName=indexed_table)["BackupSummaries"]
    assert [b["BackupArn"] for b in listed] == [arn]
    assert listed[0]["BackupName"] == "nightly" and listed[0]["TableName"] == indexed_table

    deleted = ddb.delete_backup(BackupArn=arn)["BackupDescription"]
    assert deleted["BackupDetails"]["BackupStatus"] == "DELETED"
    with pytest.raises(ClientError) as err:
        ddb.describe_backup(BackupArn=arn)
    assert error(err) == ("BackupNotFoundException", f"Backup not found: {arn}")
    assert ddb.list_backups(TableName=indexed_table)["BackupSummaries"] == []


def test_restore_copies_items_and_rebuilds_indexes(ddb, indexed_table):
    ddb.update_time_to_live(TableName=indexed_table,
                            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    arn = ddb.create_backup(TableName=indexed_table, BackupName="bk1")["BackupDetails"]["BackupArn"]
    ddb.delete_item(TableName=indexed_table, Key={"pk": {"S": "p0"}, "sk": {"N": "0"}})
    target = f"{indexed_table}-restored"
    try:
        restored = ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)["TableDescription"]
        assert restored["TableName"] == target
        assert restored["RestoreSummary"]["SourceBackupArn"] == arn
        assert restored["RestoreSummary"]["SourceTableArn"].endswith(f":table/{indexed_table}")
        assert "StreamSpecification" not in restored  # streams and TTL are not restored
        assert ddb.describe_time_to_live(TableName=target)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
        ddb.get_waiter("table_exists").wait(TableName=target, WaiterConfig={"Delay": 1})
        table = ddb.describe_table(TableName=target)["Table"]
        assert table["ItemCount"] == 6
        assert table["RestoreSummary"]["RestoreInProgress"] is False
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        # The item deleted after the backup is back.
        assert "Item" in ddb.get_item(TableName=target, Key={"pk": {"S": "p0"}, "sk": {"N": "0"}})
        # Index entries were rebuilt: LSI in lsk order, GSI sparse and KEYS_ONLY.
        lsi = ddb.query(TableName=target, IndexName="by_lsk", KeyConditionExpression="pk = :p",
                        ExpressionAttributeValues={":p": {"S": "p0"}})["Items"]
        assert [i["lsk"]["S"] for i in lsi] == ["l1", "l3", "l5"]
        gsi = ddb.query(TableName=target, IndexName="by_g", KeyConditionExpression="g = :g",
                        ExpressionAttributeValues={":g": {"S": "hot"}})["Items"]
        assert sorted(int(i["sk"]["N"]) for i in gsi) == [0, 3]
        assert all("data" not in i for i in gsi)
        # The restored table takes writes and keeps its indexes in line.
        ddb.put_item(TableName=target, Item={"pk": {"S": "p9"}, "sk": {"N": "9"}, "g": {"S": "hot"}})
        gsi = ddb.query(TableName=target, IndexName="by_g", KeyConditionExpression="g = :g",
                        ExpressionAttributeValues={":g": {"S": "hot"}})["Items"]
        assert len(gsi) == 3

        with pytest.raises(ClientError) as err:
            ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
        assert error(err) == ("TableAlreadyExistsException", f"Table already exists: {target}")
    finally:
        _drop(ddb, target)


def test_restore_overrides(ddb, indexed_table):
    arn = ddb.create_backup(TableName=indexed_table, BackupName="bk2")["BackupDetails"]["BackupArn"]
    target = f"{indexed_table}-o"
    try:
        restored = ddb.restore_table_from_backup(
            TargetTableName=target, BackupArn=arn, BillingModeOverride="PROVISIONED",
            ProvisionedThroughputOverride={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
            GlobalSecondaryIndexOverride=[{  # a new name is fine: key schema and projection match
                "IndexName": "by_g2", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}],
            LocalSecondaryIndexOverride=[])["TableDescription"]
        assert restored["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
        assert [g["IndexName"] for g in restored["GlobalSecondaryIndexes"]] == ["by_g2"]
        assert "LocalSecondaryIndexes" not in restored
        assert {d["AttributeName"] for d in restored["AttributeDefinitions"]} == {"pk", "sk", "g"}
        assert ddb.describe_table(TableName=target)["Table"]["ItemCount"] == 6
    finally:
        _drop(ddb, target)


def test_restore_provisioned_table_keeps_its_throughput(ddb, table_name):
    ddb.create_table(TableName=table_name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 6})
    target = f"{table_name}-r"
    try:
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\xff"}})
        arn = ddb.create_backup(TableName=table_name, BackupName="prov")["BackupDetails"]["BackupArn"]
        described = ddb.describe_backup(BackupArn=arn)["BackupDescription"]
        assert described["SourceTableDetails"]["ProvisionedThroughput"] == {"ReadCapacityUnits": 5,
                                                                            "WriteCapacityUnits": 6}
        assert described["SourceTableDetails"]["BillingMode"] == "PROVISIONED"
        assert described["SourceTableFeatureDetails"] == {}
        restored = ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)["TableDescription"]
        assert restored["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
        assert restored["ProvisionedThroughput"]["WriteCapacityUnits"] == 6
        item = ddb.get_item(TableName=target, Key={"pk": {"S": "a"}})["Item"]
        assert item == {"pk": {"S": "a"}, "n": {"N": "1.5"}, "b": {"B": b"\x00\xff"}}
        ddb.delete_backup(BackupArn=arn)
    finally:
        _drop(ddb, target)
        _drop(ddb, table_name)


@pytest.mark.parametrize("kwargs,message", [
    (dict(BillingModeOverride="PAY_PER_REQUEST",
          ProvisionedThroughputOverride={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}),
     "Invalid Request: Cannot override ProvisionedThroughput if BillingMode is overridden to PAY_PER_REQUEST"),
    (dict(BillingModeOverride="PROVISIONED"),
     "Invalid Request: Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED"),
    (dict(ProvisionedThroughputOverride={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}),
     "Invalid Request: Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED"),
    (dict(GlobalSecondaryIndexOverride=[{"IndexName": "other", "Projection": {"ProjectionType": "ALL"},
                                         "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}]),
     "Invalid Request: Index other does not match a secondary index that existed in the source table and "
     "cannot be created during the restore operation"),
    (dict(GlobalSecondaryIndexOverride=[{"IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                                         "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}]),
     "Invalid Request: Index by_g does not match a secondary index that existed in the source table and "
     "cannot be created during the restore operation"),
])
def test_restore_override_errors_create_nothing(ddb, indexed_table, kwargs, message):
    arn = ddb.create_backup(TableName=indexed_table, BackupName="bk3")["BackupDetails"]["BackupArn"]
    target = f"{indexed_table}-x"
    with pytest.raises(ClientError) as err:
        ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn, **kwargs)
    assert error(err) == ("ValidationException", message)
    with pytest.raises(ClientError) as err:
        ddb.describe_table(TableName=target)
    assert error(err)[0] == "ResourceNotFoundException"


def test_backup_errors(ddb, hash_table):
    missing = f"missing-{uuid.uuid4().hex[:6]}"
    with pytest.raises(ClientError) as err:
        ddb.create_backup(TableName=missing, BackupName="bkx")
    assert error(err) == ("TableNotFoundException", f"Table not found: {missing}")
    arn = ddb.describe_table(TableName=hash_table)["Table"]["TableArn"] + "/backup/01234567890123-0123abcd"
    for call in (ddb.describe_backup, ddb.delete_backup):
        with pytest.raises(ClientError) as err:
            call(BackupArn=arn)
        assert error(err) == ("BackupNotFoundException", f"Backup not found: {arn}")
    with pytest.raises(ClientError) as err:
        ddb.restore_table_from_backup(TargetTableName=f"{hash_table}-r", BackupArn=arn)
    assert error(err) == ("BackupNotFoundException", f"Backup not found: {arn}")
    table_arn = ddb.describe_table(TableName=hash_table)["Table"]["TableArn"]
    for bad, expected in [
        ("x" * 40, ("ValidationException", "Invalid Backup ARN")),
        (table_arn, ("ValidationException", "Invalid Backup ARN")),
        (arn.replace(":dynamodb:", ":s3:"), ("ValidationException", "Invalid Request: BackupArn is not valid")),
        (arn.replace(":000000000000:", ":123456789012:"), ("AccessDeniedException", "Access is denied")),
    ]:
        with pytest.raises(ClientError) as err:
            ddb.describe_backup(BackupArn=bad)
        assert error(err) == expected, bad
    with pytest.raises(ClientError) as err:
        ddb.list_backups(TimeRangeLowerBound=2000, TimeRangeUpperBound=1000)
    assert error(err) == ("ValidationException", "One or more parameter values were invalid: Time range lower "
                          "bound must be less than or equal to upper bound")


def test_list_backups_pages_and_filters(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "a"}})
    arns = []
    for i in range(3):
        arns.append(ddb.create_backup(TableName=hash_table, BackupName=f"nb{i}")["BackupDetails"]["BackupArn"])
        time.sleep(0.01)
    try:
        page = ddb.list_backups(TableName=hash_table, Limit=2)
        assert [b["BackupArn"] for b in page["BackupSummaries"]] == arns[:2]
        assert page["LastEvaluatedBackupArn"] == arns[1]
        rest = ddb.list_backups(TableName=hash_table, Limit=2, ExclusiveStartBackupArn=arns[1])
        assert [b["BackupArn"] for b in rest["BackupSummaries"]] == arns[2:]
        assert "LastEvaluatedBackupArn" not in rest
        created = [b["BackupCreationDateTime"] for b in page["BackupSummaries"]]
        windowed = ddb.list_backups(TableName=hash_table, TimeRangeLowerBound=created[1])["BackupSummaries"]
        assert [b["BackupArn"] for b in windowed] == arns[1:]
        windowed = ddb.list_backups(TableName=hash_table, TimeRangeUpperBound=created[1])["BackupSummaries"]
        assert [b["BackupArn"] for b in windowed] == arns[:1]
        assert ddb.list_backups(TableName=hash_table, BackupType="SYSTEM")["BackupSummaries"] == []
        # The cursor is a position: it need not name a backup that still exists.
        ddb.delete_backup(BackupArn=arns[1])
        rest = ddb.list_backups(TableName=hash_table, ExclusiveStartBackupArn=arns[1])
        assert [b["BackupArn"] for b in rest["BackupSummaries"]] == arns[2:]
        arns.remove(arns[1])
        # DynamoDB ignores the region part of a backup ARN.
        assert ddb.describe_backup(BackupArn=arns[0].replace(":us-east-1:", ":eu-west-1:"))[
            "BackupDescription"]["BackupDetails"]["BackupName"] == "nb0"
        assert len(ddb.list_backups(TableName=hash_table, BackupType="ALL")["BackupSummaries"]) == 2
        # Backups outlive their table.
        ddb.delete_table(TableName=hash_table)
        assert ddb.describe_backup(BackupArn=arns[0])["BackupDescription"]["SourceTableDetails"]["ItemCount"] == 1
    finally:
        for arn in arns:
            ddb.delete_backup(BackupArn=arn)


@pytest.mark.skipif(testenv.BACKEND != "postgres", reason="SQLite runs one write transaction at a time")
def test_backup_in_use_while_a_restore_holds_it(ddb, hash_table):
    import psycopg

    arn = ddb.create_backup(TableName=hash_table, BackupName="busy")["BackupDetails"]["BackupArn"]
    try:
        # A restore in progress holds the backup's row, as RestoreTableFromBackup does.
        with psycopg.connect(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)) as conn:
            conn.execute("SELECT id FROM ddb_backup WHERE arn = %s FOR UPDATE", (arn,))
            with pytest.raises(ClientError) as err:
                ddb.delete_backup(BackupArn=arn)
            assert error(err) == ("BackupInUseException", f"Backup is being used to restore table: {arn}")
            with pytest.raises(ClientError) as err:
                ddb.restore_table_from_backup(TargetTableName=f"{hash_table}-busy", BackupArn=arn)
            assert error(err) == ("BackupInUseException",
                                  f"Backup is being used to restore another table: {arn}")
            conn.rollback()
        with pytest.raises(ClientError) as err:
            ddb.describe_table(TableName=f"{hash_table}-busy")
        assert error(err)[0] == "ResourceNotFoundException"
    finally:
        ddb.delete_backup(BackupArn=arn)


def test_continuous_backups(ddb, hash_table):
    described = ddb.describe_continuous_backups(TableName=hash_table)["ContinuousBackupsDescription"]
    assert described == {"ContinuousBackupsStatus": "ENABLED",
                         "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    updated = ddb.update_continuous_backups(
        TableName=hash_table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True,
                                                                "RecoveryPeriodInDays": 7})
    pitr = updated["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr["RecoveryPeriodInDays"] == 7
    assert "EarliestRestorableDateTime" in pitr
    pitr = ddb.describe_continuous_backups(TableName=hash_table)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED" and pitr["RecoveryPeriodInDays"] == 7
    # DescribeTable does not show the setting.
    assert "PointInTimeRecoveryDescription" not in ddb.describe_table(TableName=hash_table)["Table"]
    with pytest.raises(ClientError) as err:
        ddb.update_continuous_backups(TableName=hash_table, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": False, "RecoveryPeriodInDays": 7})
    assert error(err) == ("ValidationException", "Invalid Request: Cannot specify RecoveryPeriodInDays when "
                          "disabling point-in-time recovery.")
    ddb.update_continuous_backups(TableName=hash_table,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    pitr = ddb.describe_continuous_backups(TableName=hash_table)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]
    assert pitr == {"PointInTimeRecoveryStatus": "DISABLED"}
    missing = f"missing-{uuid.uuid4().hex[:6]}"
    with pytest.raises(ClientError) as err:
        ddb.describe_continuous_backups(TableName=missing)
    assert error(err) == ("TableNotFoundException", f"Table not found: {missing}")


def test_point_in_time_restore_needs_pitr(ddb, hash_table):
    """Point-in-time restores themselves are tested in test_pitr.py."""
    with pytest.raises(ClientError) as err:
        ddb.restore_table_to_point_in_time(SourceTableName=hash_table, TargetTableName=f"{hash_table}-p",
                                           UseLatestRestorableTime=True)
    assert error(err) == ("PointInTimeRecoveryUnavailableException",
                          f"Point in time recovery is not enabled for table '{hash_table}'")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
