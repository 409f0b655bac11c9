"""Capacity enforcement (wireapi.throttle), through boto3 against the real server:
PROVISIONED tables and GSIs throttle past their capacity and its 300 s burst,
on-demand tables past OnDemandThroughput, and the SDK's retries get through."""
from __future__ import annotations

import time
import uuid

import boto3
import pytest
from botocore.config import Config

from .conftest import _drop, poll
from .reliability.harness import client, deployment
from .test_observability import scrape

TABLE_TEXT = ("The level of configured provisioned throughput for the table was exceeded. "
              "Consider increasing your provisioning level with the UpdateTable API.")
GSI_TEXT = ("The level of configured provisioned throughput for one or more global secondary indexes of the "
            "table was exceeded. Consider increasing your provisioning level for the under-provisioned global "
            "secondary indexes with the UpdateTable API")
KB = 1024


def _item(pk: str, kb: int, **extra) -> dict:
    # A little under `kb` KB by DynamoDB's size rules: `kb` write units.
    return {"pk": {"S": pk}, "v": {"S": "x" * (kb * KB - 64)}, **extra}


@pytest.fixture
def provisioned(ddb):
    made = []

    def create(read: int, write: int, **kwargs) -> str:
        name = f"cap-{uuid.uuid4().hex[:10]}"
        attrs = [{"AttributeName": "pk", "AttributeType": "S"}] + kwargs.pop("attrs", [])
        ddb.create_table(TableName=name, AttributeDefinitions=attrs,
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PROVISIONED",
                         ProvisionedThroughput={"ReadCapacityUnits": read, "WriteCapacityUnits": write}, **kwargs)
        made.append(name)
        return name

    yield create
    for name in made:
        _drop(ddb, name)


def _drain_writes(ddb, table: str) -> int:
    """Write until the table throttles: big items, then 1 KB ones. The writes made."""
    made = 0
    for kb in (100, 1):
        while True:
            try:
                ddb.put_item(TableName=table, Item=_item(f"d{made}", kb))
            except ddb.exceptions.ProvisionedThroughputExceededException:
                break
            made += 1
    return made


def test_a_5_wcu_table_throttles_a_burst_and_the_sdk_retries_succeed(ddb, server, key, provisioned):
    table = provisioned(5, 5)
    started = time.monotonic()
    made = _drain_writes(ddb, table)
    spent = time.monotonic() - started
    # 300 s of 5 WCU of burst (1500 units: fifteen 100 KB writes, then at most a hundred
    # 1 KB ones) and what refilled meanwhile; nothing more.
    assert 15 <= made <= 15 + 100 + int(5 * spent) + 2

    # Retries disabled: the refusal itself, with DynamoDB's type, text and reason (50 units
    # take 10 s to refill).
    with pytest.raises(ddb.exceptions.ProvisionedThroughputExceededException) as caught:
        ddb.put_item(TableName=table, Item=_item("refused", 50))
    error = caught.value.response
    assert error["Error"]["Message"] == TABLE_TEXT
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ThrottlingReasons"] == [{"reason": "TableWriteProvisionedThroughputExceeded",
                                           "resource": f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}"}]
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "refused"}}, ConsistentRead=True)

    # boto3's standard retry mode backs off until the bucket refilled (5 units a second).
    retrying = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name="us-east-1",
                            aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
                            verify=server.ca_bundle, config=Config(retries={"max_attempts": 10, "mode": "standard"}))
    for i in range(5):
        retrying.put_item(TableName=table, Item=_item(f"retried{i}", 1))
    for i in range(5):
        assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": f"retried{i}"}}, ConsistentRead=True)

    # The operator sees it: throttled requests and consumed units, by table.
    def counted():
        samples = scrape(server)
        throttled = samples.get(f'extenddb_throttled_requests_total{{operation="PutItem",table="{table}"}}', 0)
        written = samples.get(f'extenddb_consumed_write_capacity_units_total{{table="{table}"}}', 0)
        return samples if throttled >= 3 and written >= 1500 else None

    assert poll(counted, 30, 0.2), "the throttled and consumed-capacity counters did not move"


def test_reads_are_charged_by_the_size_read(ddb, provisioned):
    table = provisioned(1, 1000)  # 300 read units of burst
    for i in range(4):
        ddb.put_item(TableName=table, Item=_item(f"big{i}", 350))
    # Each strongly consistent read of a 350 KB item costs 88 units, charged after the read:
    # four of them overdraw the bucket, and the next read is refused before any work.
    for i in range(4):
        got = ddb.get_item(TableName=table, Key={"pk": {"S": f"big{i}"}}, ConsistentRead=True,
                           ReturnConsumedCapacity="TOTAL")
        assert got["ConsumedCapacity"]["CapacityUnits"] == 88.0
    with pytest.raises(ddb.exceptions.ProvisionedThroughputExceededException) as caught:
        ddb.get_item(TableName=table, Key={"pk": {"S": "big0"}})
    assert caught.value.response["ThrottlingReasons"][0]["reason"] == "TableReadProvisionedThroughputExceeded"
    with pytest.raises(ddb.exceptions.ProvisionedThroughputExceededException):
        ddb.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "x"}})
    with pytest.raises(ddb.exceptions.ProvisionedThroughputExceededException):
        ddb.scan(TableName=table)
    with pytest.raises(ddb.exceptions.ProvisionedThroughputExceededException):  # every key throttled
        ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "big1"}}]}})


def test_batch_write_returns_the_throttled_writes_as_unprocessed(ddb, provisioned):
    table = provisioned(5, 1)  # 300 write units of burst
    requests = [{"PutRequest": {"Item": _item(f"b{i}", 100)}} for i in range(10)]
    got = ddb.batch_write_item(RequestItems={table: requests})
    unprocessed = got["UnprocessedItems"][table]
    assert len(unprocessed) == 7  # three of 100 units each spent the burst
    assert unprocessed == requests[3:]
    stored = {item["pk"]["S"] for item in ddb.scan(TableName=table, ProjectionExpression="pk")["Items"]}
    assert stored == {"b0", "b1", "b2"}
    # Nothing left: every write throttled fails the whole call.
    with pytest.raises(ddb.exceptions.ProvisionedThroughputExceededException):
        ddb.batch_write_item(RequestItems={table: unprocessed})


def test_a_throttled_transaction_is_cancelled_before_any_work(ddb, provisioned):
    table = provisioned(5, 1)
    ddb.put_item(TableName=table, Item=_item("spend", 300))  # the whole burst
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as caught:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": _item("t", 1)}}])
    reasons = caught.value.response["CancellationReasons"]
    assert reasons == [{"Code": "ProvisionedThroughputExceeded", "Message": TABLE_TEXT}]
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "t"}}, ConsistentRead=True)


def test_a_gsi_throttles_writes_with_its_own_capacity(ddb, provisioned):
    table = provisioned(5, 1000, attrs=[{"AttributeName": "g", "AttributeType": "S"}], GlobalSecondaryIndexes=[{
        "IndexName": "byg", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}])
    # 350 units charged to the GSI (300 of burst): in debt, it refuses the next write.
    ddb.put_item(TableName=table, Item=_item("a", 350, g={"S": "x"}))
    with pytest.raises(ddb.exceptions.ProvisionedThroughputExceededException) as caught:
        ddb.put_item(TableName=table, Item=_item("b", 1, g={"S": "x"}))
    assert caught.value.response["Error"]["Message"] == GSI_TEXT
    assert caught.value.response["ThrottlingReasons"][0] == {
        "reason": "IndexWriteProvisionedThroughputExceeded",
        "resource": f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}/index/byg"}


def test_update_table_capacity_takes_effect(ddb, provisioned):
    table = provisioned(5, 1)
    ddb.put_item(TableName=table, Item=_item("spend", 300))
    with pytest.raises(ddb.exceptions.ProvisionedThroughputExceededException):
        ddb.put_item(TableName=table, Item=_item("x", 10))
    ddb.update_table(TableName=table, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 1000})
    # Every worker reloads the definition within the catalog's bound; 1000 units refill each second.
    deadline = time.monotonic() + 10
    while True:
        try:
            ddb.put_item(TableName=table, Item=_item("x", 10))
            break
        except ddb.exceptions.ProvisionedThroughputExceededException:
            assert time.monotonic() < deadline, "the new capacity did not take effect"
            time.sleep(0.2)


def test_on_demand_maximum_throttles_with_throttling_exception(ddb):
    table = f"od-{uuid.uuid4().hex[:10]}"
    ddb.create_table(TableName=table, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
                     OnDemandThroughput={"MaxWriteRequestUnits": 5})
    try:
        assert ddb.describe_table(TableName=table)["Table"]["OnDemandThroughput"] == {
            "MaxReadRequestUnits": -1, "MaxWriteRequestUnits": 5}
        with pytest.raises(ddb.exceptions.ClientError) as caught:
            for i in range(20):  # a second of 5 units: 10 KB items spend it at once
                ddb.put_item(TableName=table, Item=_item(f"o{i}", 10))
        assert caught.value.response["Error"]["Code"] == "ThrottlingException"
        assert caught.value.response["throttlingReasons"][0]["reason"] == "TableWriteMaxOnDemandThroughputExceeded"
        for i in range(20):  # reads have no maximum
            ddb.get_item(TableName=table, Key={"pk": {"S": "o0"}})
        ddb.update_table(TableName=table, OnDemandThroughput={"MaxWriteRequestUnits": -1})
        assert ddb.describe_table(TableName=table)["Table"]["OnDemandThroughput"]["MaxWriteRequestUnits"] == -1
    finally:
        _drop(ddb, table)


def test_enforcement_can_be_turned_off():
    with deployment() as dep:
        key = dep.create_key("capacity-off")
        server = dep.start(workers=1, env={"EXTENDDB_ENFORCE_CAPACITY": "false"})
        ddb = client(server, key)
        table = f"off-{uuid.uuid4().hex[:8]}"
        ddb.create_table(TableName=table, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PROVISIONED",
                         ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
        for i in range(3):  # 900 units of a 300-unit burst: all served
            ddb.put_item(TableName=table, Item=_item(f"o{i}", 300))
        got = ddb.get_item(TableName=table, Key={"pk": {"S": "o0"}}, ReturnConsumedCapacity="TOTAL")
        assert got["ConsumedCapacity"]["CapacityUnits"] == 37.5  # still counted: 300 KB, eventually consistent


def test_partiql_statements_are_throttled_too(ddb, provisioned):
    table = provisioned(5, 1)
    ddb.put_item(TableName=table, Item=_item("spend", 300))  # the whole write burst
    with pytest.raises(ddb.exceptions.ProvisionedThroughputExceededException):
        ddb.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'p1'}}")
    got = ddb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'p2'}}"}])
    assert got["Responses"][0]["Error"] == {"Code": "ProvisionedThroughputExceeded", "Message": TABLE_TEXT}
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as caught:
        ddb.execute_transaction(TransactStatements=[{"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'p3'}}"}])
    assert caught.value.response["CancellationReasons"][0]["Code"] == "ProvisionedThroughputExceeded"
    for pk in ("p1", "p2", "p3"):
        assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True)


def test_a_write_consumes_the_larger_of_the_old_and_new_item(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item=_item("u", 3))

    def units(**kwargs) -> float:
        got = ddb.update_item(TableName=hash_table, Key={"pk": {"S": "u"}}, ReturnConsumedCapacity="TOTAL", **kwargs)
        return got["ConsumedCapacity"]["CapacityUnits"]

    assert units(UpdateExpression="REMOVE v") == 3.0  # 3 KB before, a few bytes after
    assert units(UpdateExpression="SET w = :w", ExpressionAttributeValues={":w": {"S": "x" * 1500}}) == 2.0
    got = ddb.delete_item(TableName=hash_table, Key={"pk": {"S": "u"}}, ReturnConsumedCapacity="TOTAL")
    assert got["ConsumedCapacity"]["CapacityUnits"] == 2.0
    got = ddb.delete_item(TableName=hash_table, Key={"pk": {"S": "u"}}, ReturnConsumedCapacity="TOTAL")
    assert got["ConsumedCapacity"]["CapacityUnits"] == 1.0  # absent: the minimum
