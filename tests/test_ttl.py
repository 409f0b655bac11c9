"""Time to Live: UpdateTimeToLive / DescribeTimeToLive as DynamoDB answers them,
`manage.py sweepttl`, and the background sweeper of a server of our own
(short sweep interval) deleting an expired item and writing its stream record."""
from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import make_client
from .reliability.harness import deployment
from .server import manage

TTL_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


def error(exc_info) -> tuple[str, str]:
    return exc_info.value.response["Error"]["Code"], exc_info.value.response["Error"]["Message"]


def ttl_table(ddb, attribute="expires", stream=True, gsi=False):
    name = f"ttl-{uuid.uuid4().hex[:12]}"
    extra = {}
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if stream:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if gsi:
        attrs.append({"AttributeName": "g", "AttributeType": "S"})
        extra["GlobalSecondaryIndexes"] = [{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                            "Projection": {"ProjectionType": "ALL"}}]
    out = ddb.create_table(TableName=name, AttributeDefinitions=attrs,
                           KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                           BillingMode="PAY_PER_REQUEST", **extra)
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute})
    return name, out["TableDescription"].get("LatestStreamArn")


def stream_records(streams, arn):
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = []
    while it:
        out = streams.get_records(ShardIterator=it)
        if not out["Records"]:
            break
        records += out["Records"]
        it = out.get("NextShardIterator")
    return records


def test_update_and_describe_time_to_live(ddb, hash_table):
    assert ddb.describe_time_to_live(TableName=hash_table)["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    out = ddb.update_time_to_live(TableName=hash_table,
                                  TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert out["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "exp"}
    assert ddb.describe_time_to_live(TableName=hash_table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    assert "_ttl" not in ddb.describe_table(TableName=hash_table)["Table"]

    with pytest.raises(ClientError) as err:
        ddb.update_time_to_live(TableName=hash_table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert error(err) == ("ValidationException", "TimeToLive is already enabled")
    for enabled in (True, False):
        with pytest.raises(ClientError) as err:
            ddb.update_time_to_live(TableName=hash_table,
                                    TimeToLiveSpecification={"Enabled": enabled, "AttributeName": "other"})
        assert error(err) == ("ValidationException",
                              "TimeToLive is active on a different AttributeName: current AttributeName is exp")

    out = ddb.update_time_to_live(TableName=hash_table,
                                  TimeToLiveSpecification={"Enabled": False, "AttributeName": "exp"})
    assert out["TimeToLiveSpecification"] == {"Enabled": False, "AttributeName": "exp"}
    assert ddb.describe_time_to_live(TableName=hash_table)["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    with pytest.raises(ClientError) as err:
        ddb.update_time_to_live(TableName=hash_table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "exp"})
    assert error(err) == ("ValidationException", "TimeToLive is already disabled")


def test_time_to_live_errors(ddb):
    for call in (lambda: ddb.describe_time_to_live(TableName="no-such-table"),
                 lambda: ddb.update_time_to_live(TableName="no-such-table",
                                                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "x"})):
        with pytest.raises(ClientError) as err:
            call()
        assert error(err) == ("ResourceNotFoundException",
                              "Requested resource not found: Table: no-such-table not found")


def test_sweepttl_command_deletes_only_expired_numbers(server, key, ddb):
    table, arn = ttl_table(ddb, gsi=True)
    now = int(time.time())
    items = {
        "expired": {"expires": {"N": str(now - 100)}, "g": {"S": "x"}},
        "expired-fraction": {"expires": {"N": f"{now - 5}.5"}},
        "future": {"expires": {"N": str(now + 3600)}, "g": {"S": "x"}},
        # DynamoDB ignores expiry times more than five years in the past.
        "four-years-ago": {"expires": {"N": str(now - 4 * 365 * 86400)}},
        "six-years-ago": {"expires": {"N": str(now - 6 * 365 * 86400)}},
        "string": {"expires": {"S": str(now - 100)}},
        "set": {"expires": {"NS": [str(now - 100)]}},
        "no-ttl": {},
    }
    for pk, attrs in items.items():
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}, **attrs})

    out = manage("sweepttl").stdout
    assert "expired items" in out
    left = {i["pk"]["S"] for i in ddb.scan(TableName=table)["Items"]}
    assert left == {"future", "six-years-ago", "string", "set", "no-ttl"}
    by_g = ddb.query(TableName=table, IndexName="by-g", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": {"S": "x"}})["Items"]
    assert [i["pk"]["S"] for i in by_g] == ["future"]  # the index entry went with the item

    removes = [r for r in stream_records(make_client(server, key, "dynamodbstreams"), arn)
               if r["eventName"] == "REMOVE"]
    assert sorted(r["dynamodb"]["Keys"]["pk"]["S"] for r in removes) == ["expired", "expired-fraction",
                                                                            "four-years-ago"]
    for r in removes:
        assert r["userIdentity"] == TTL_IDENTITY
        assert "OldImage" in r["dynamodb"]
    ddb.delete_table(TableName=table)


@pytest.fixture(scope="module")
def fast_server():
    """A server of its own database, sweeping every half second and with 2-second
    shard iterators. (Of several servers on one database only one runs the sweeper:
    the session's server would hold it.)"""
    overrides = {"EXTENDDB_TTL_SWEEP_SECONDS": "0.5", "EXTENDDB_STREAM_ITERATOR_SECONDS": "2"}
    with deployment() as dep:
        key = dep.create_key("ttl")
        srv = dep.start(env=overrides)
        clients = []
        yield srv, lambda service="dynamodb": clients.append(make_client(srv, key, service)) or clients[-1]
        for client in clients:
            client.close()  # no idle keep-alive connections to wait for at shutdown


def test_background_sweeper_deletes_expired_item(fast_server):
    srv, client = fast_server
    ddb, streams = client(), client("dynamodbstreams")
    table, arn = ttl_table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "soon"}, "expires": {"N": str(int(time.time()) + 1)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "later"}, "expires": {"N": str(int(time.time()) + 3600)}})
    deadline = time.monotonic() + 20
    while "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "soon"}}):
        assert time.monotonic() < deadline, "the expired item was not swept"
        time.sleep(0.2)
    assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "later"}})
    records = stream_records(streams, arn)
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", "soon"), ("INSERT", "later"), ("REMOVE", "soon")]
    assert records[-1]["userIdentity"] == TTL_IDENTITY
    assert all("userIdentity" not in r for r in records[:2])
    ddb.delete_table(TableName=table)


def test_stream_iterator_expires(fast_server):
    srv, client = fast_server
    ddb, streams = client(), client("dynamodbstreams")
    table, arn = ttl_table(ddb)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    time.sleep(2.5)
    with pytest.raises(ClientError) as err:
        streams.get_records(ShardIterator=it)
    code, message = error(err)
    assert code == "ExpiredIteratorException"
    assert message.startswith("Iterator expired.")
    ddb.delete_table(TableName=table)
