"""CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable through boto3."""
from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError


def error(exc_info):
    return exc_info.value.response["Error"]["Code"], exc_info.value.response["Error"]["Message"]


def test_create_describe_delete(ddb, table_name):
    created = ddb.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
    )["TableDescription"]
    assert created["TableName"] == table_name
    assert created["TableStatus"] in ("CREATING", "ACTIVE")
    assert created["TableArn"].endswith(f":table/{table_name}")
    ddb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1})

    table = ddb.describe_table(TableName=table_name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    assert table["ItemCount"] == 0

    deleted = ddb.delete_table(TableName=table_name)["TableDescription"]
    assert deleted["TableStatus"] == "DELETING"
    with pytest.raises(ClientError) as err:
        ddb.describe_table(TableName=table_name)
    assert error(err) == ("ResourceNotFoundException",
                          f"Requested resource not found: Table: {table_name} not found")


def test_create_existing_table(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.create_table(TableName=hash_table,
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         BillingMode="PAY_PER_REQUEST")
    assert error(err) == ("ResourceInUseException", f"Table already exists: {hash_table}")


@pytest.mark.parametrize("kwargs,message", [
    (dict(AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}],
          KeySchema=[{"AttributeName": "b", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST"),
     "One or more parameter values were invalid: Some index key attributes are not defined in "
     "AttributeDefinitions. Keys: [b], AttributeDefinitions: [a]"),
    (dict(AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}],
          KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}]),
     "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be "
     "specified when BillingMode is PROVISIONED"),
    (dict(AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}],
          KeySchema=[{"AttributeName": "a", "KeyType": "RANGE"}], BillingMode="PAY_PER_REQUEST"),
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    (dict(AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"},
                                {"AttributeName": "b", "AttributeType": "S"}],
          KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST"),
     "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match "
     "number of attributes defined in AttributeDefinitions"),
    (dict(AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}],
          KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
          ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}),
     "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be "
     "specified when BillingMode is PAY_PER_REQUEST"),
])
def test_create_table_validation(ddb, table_name, kwargs, message):
    with pytest.raises(ClientError) as err:
        ddb.create_table(TableName=table_name, **kwargs)
    assert error(err) == ("ValidationException", message)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_table_name_shape_errors(ddb):
    with pytest.raises(ClientError) as err:
        ddb.describe_table(TableName="a!")
    assert error(err) == ("ValidationException",
                          "TableName must be at least 3 characters long and at most 255 characters long")
    with pytest.raises(ClientError) as err:
        ddb.get_item(TableName="a!", Key={"k": {"S": "x"}})
    code, message = error(err)
    assert code == "ValidationException"
    assert message.startswith("2 validation errors detected: ")
    assert "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+" in message
    assert "Member must have length greater than or equal to 3" in message


def test_list_tables_pagination(ddb):
    prefix = f"lt-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in names:
        ddb.create_table(TableName=name, AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    try:
        seen, start = [], None
        while True:
            kwargs = {"Limit": 2}
            if start:
                kwargs["ExclusiveStartTableName"] = start
            page = ddb.list_tables(**kwargs)
            assert len(page["TableNames"]) <= 2
            seen += page["TableNames"]
            start = page.get("LastEvaluatedTableName")
            if not start:
                break
            assert start == page["TableNames"][-1]
        assert [n for n in seen if n.startswith(prefix)] == names
        assert seen == sorted(seen)
        paginated = [n for p in ddb.get_paginator("list_tables").paginate() for n in p["TableNames"]]
        assert set(names) <= set(paginated)
    finally:
        for name in names:
            ddb.delete_table(TableName=name)


def test_deletion_protection(ddb, table_name):
    ddb.create_table(TableName=table_name, AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
                     DeletionProtectionEnabled=True)
    with pytest.raises(ClientError) as err:
        ddb.delete_table(TableName=table_name)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "protected against deletion" in err.value.response["Error"]["Message"]
    ddb.update_table(TableName=table_name, DeletionProtectionEnabled=False)
    ddb.delete_table(TableName=table_name)


def test_update_table_billing_and_streams(ddb, hash_table):
    out = ddb.update_table(TableName=hash_table, BillingMode="PROVISIONED",
                           ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4})
    assert out["TableDescription"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    out = ddb.update_table(TableName=hash_table,
                           StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    desc = ddb.describe_table(TableName=hash_table)["Table"]
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert desc["LatestStreamArn"].startswith(desc["TableArn"] + "/stream/")
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    out = ddb.update_table(TableName=hash_table, BillingMode="PAY_PER_REQUEST")
    assert out["TableDescription"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_update_missing_table(ddb):
    with pytest.raises(ClientError) as err:
        ddb.update_table(TableName="no-such-table", DeletionProtectionEnabled=True)
    assert error(err) == ("ResourceNotFoundException", "Requested resource not found: Table: no-such-table not found")


def test_describe_counts_items(ddb, hash_table):
    for i in range(3):
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": f"k{i}"}, "v": {"S": "x" * 10}})
    table = ddb.describe_table(TableName=hash_table)["Table"]
    assert table["ItemCount"] == 3
    assert table["TableSizeBytes"] > 30
