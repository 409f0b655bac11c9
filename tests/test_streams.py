"""DynamoDB Streams through boto3's `dynamodbstreams` client: stream lifecycle,
record shapes per view type, iterator types, errors, and a reader that never
misses or duplicates a record under concurrent writers."""
from __future__ import annotations

import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from .conftest import make_client


@pytest.fixture(scope="module")
def streams(server, key):
    return make_client(server, key, "dynamodbstreams")


def error(exc_info) -> tuple[str, str]:
    return exc_info.value.response["Error"]["Code"], exc_info.value.response["Error"]["Message"]


def make_table(ddb, view_type="NEW_AND_OLD_IMAGES", range_key=False):
    name = f"s-{uuid.uuid4().hex[:12]}"
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_key:
        attrs.append({"AttributeName": "sk", "AttributeType": "N"})
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
    desc = ddb.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=schema,
                            BillingMode="PAY_PER_REQUEST",
                            StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type})
    return name, desc["TableDescription"]["LatestStreamArn"]


def shard_of(streams, arn):
    return streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]


def iterator(streams, arn, kind="TRIM_HORIZON", **extra):
    return streams.get_shard_iterator(StreamArn=arn, ShardId=shard_of(streams, arn),
                                      ShardIteratorType=kind, **extra)["ShardIterator"]


def read_all(streams, arn, it=None):
    """Every record from the iterator on, until a read returns nothing."""
    it = it or iterator(streams, arn)
    records = []
    while it:
        out = streams.get_records(ShardIterator=it)
        records += out["Records"]
        if not out["Records"]:
            break
        it = out.get("NextShardIterator")
    return records


def put(ddb, table, pk, **attrs):
    item = {"pk": {"S": pk}, **{k: {"S": v} if isinstance(v, str) else v for k, v in attrs.items()}}
    ddb.put_item(TableName=table, Item=item)


def test_stream_created_with_table_and_described(ddb, streams):
    table, arn = make_table(ddb, range_key=True)
    desc = ddb.describe_table(TableName=table)["Table"]
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert desc["LatestStreamArn"] == arn == f"{desc['TableArn']}/stream/{desc['LatestStreamLabel']}"

    listed = streams.list_streams(TableName=table)["Streams"]
    assert listed == [{"StreamArn": arn, "TableName": table, "StreamLabel": desc["LatestStreamLabel"]}]

    sd = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert sd["StreamArn"] == arn and sd["StreamLabel"] == desc["LatestStreamLabel"]
    assert sd["StreamStatus"] == "ENABLED"
    assert sd["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert sd["TableName"] == table
    assert sd["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                               {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert sd["CreationRequestDateTime"].timestamp() == pytest.approx(time.time(), abs=60)
    [shard] = sd["Shards"]
    assert re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", shard["ShardId"])
    assert "StartingSequenceNumber" in shard["SequenceNumberRange"]
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]
    assert streams.describe_stream(StreamArn=arn, ExclusiveStartShardId=shard["ShardId"])[
        "StreamDescription"]["Shards"] == []
    assert streams.describe_stream(StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": shard["ShardId"]})[
        "StreamDescription"]["Shards"] == []
    ddb.delete_table(TableName=table)


def test_insert_modify_remove_records(ddb, streams):
    table, arn = make_table(ddb)
    put(ddb, table, "a", v="1")
    put(ddb, table, "a", v="2")  # a blind overwrite still reports the old image
    put(ddb, table, "a", v="2")  # nothing changes: no record
    ddb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET n = :n",
                    ExpressionAttributeValues={":n": {"N": "5"}})
    ddb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET n = :n",
                    ExpressionAttributeValues={":n": {"N": "5.0"}})  # equal number: no record
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})  # already gone: no record

    records = read_all(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "MODIFY", "REMOVE"]
    first, second, third, last = records
    for r in records:
        assert r["eventVersion"] == "1.1" and r["eventSource"] == "aws:dynamodb"
        assert r["awsRegion"] == "us-east-1"
        assert re.fullmatch(r"[0-9a-f]{32}", r["eventID"])
        assert "userIdentity" not in r
        d = r["dynamodb"]
        assert d["Keys"] == {"pk": {"S": "a"}}
        assert d["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert d["SizeBytes"] > 0
        assert d["ApproximateCreationDateTime"].timestamp() == pytest.approx(time.time(), abs=60)
        assert re.fullmatch(r"\d{21,40}", d["SequenceNumber"])
    assert first["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"S": "1"}}
    assert "OldImage" not in first["dynamodb"]
    assert second["dynamodb"]["OldImage"] == {"pk": {"S": "a"}, "v": {"S": "1"}}
    assert second["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"S": "2"}}
    assert third["dynamodb"]["NewImage"]["n"] == {"N": "5"}
    assert last["dynamodb"]["OldImage"]["n"] == {"N": "5"} and "NewImage" not in last["dynamodb"]
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert seqs == sorted(seqs) and [int(s) for s in seqs] == sorted(int(s) for s in seqs)
    assert len(set(seqs)) == 4
    assert len({r["eventID"] for r in records}) == 4
    ddb.delete_table(TableName=table)


@pytest.mark.parametrize("view_type, images", [
    ("KEYS_ONLY", set()), ("NEW_IMAGE", {"NewImage"}), ("OLD_IMAGE", {"OldImage"}),
])
def test_view_types(ddb, streams, view_type, images):
    table, arn = make_table(ddb, view_type, range_key=True)
    item = {"pk": {"S": "k"}, "sk": {"N": "1"}, "x": {"SS": ["a", "b"]}}
    ddb.put_item(TableName=table, Item=item)
    ddb.put_item(TableName=table, Item={**item, "x": {"SS": ["b", "a"]}})  # same set: no record
    ddb.put_item(TableName=table, Item={**item, "x": {"SS": ["c"]}})
    records = read_all(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    for r in records:
        assert r["dynamodb"]["Keys"] == {"pk": {"S": "k"}, "sk": {"N": "1"}}
        assert r["dynamodb"]["StreamViewType"] == view_type
    present = {name for name in ("NewImage", "OldImage") if name in records[1]["dynamodb"]}
    assert present == images
    ddb.delete_table(TableName=table)


def test_iterator_types(ddb, streams):
    table, arn = make_table(ddb)
    for i in range(3):
        put(ddb, table, f"k{i}")
    records = read_all(streams, arn)
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]

    at = read_all(streams, arn, iterator(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=seqs[1]))
    assert [r["dynamodb"]["SequenceNumber"] for r in at] == seqs[1:]
    after = read_all(streams, arn, iterator(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=seqs[1]))
    assert [r["dynamodb"]["SequenceNumber"] for r in after] == seqs[2:]

    latest = iterator(streams, arn, "LATEST")
    out = streams.get_records(ShardIterator=latest)
    assert out["Records"] == [] and out["NextShardIterator"]
    put(ddb, table, "new")
    out = streams.get_records(ShardIterator=out["NextShardIterator"])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in out["Records"]] == ["new"]

    # AT_TIMESTAMP: from the first record at or after the time; an old time is the trim horizon.
    since = records[1]["dynamodb"]["ApproximateCreationDateTime"].timestamp()
    at_time = read_all(streams, arn, iterator(streams, arn, "AT_TIMESTAMP", Timestamp=since))
    assert at_time and at_time[-1]["dynamodb"]["Keys"]["pk"]["S"] == "new"
    assert len(at_time) >= 3 and at_time[0]["dynamodb"]["SequenceNumber"] <= seqs[1]
    old = read_all(streams, arn, iterator(streams, arn, "AT_TIMESTAMP", Timestamp=1_000_000_000))
    assert len(old) == 4
    with pytest.raises(ClientError) as err:
        iterator(streams, arn, "AT_TIMESTAMP", Timestamp=time.time() + 3600)
    assert error(err)[0] == "ValidationException"

    # Limit pages through the shard.
    it, seen = iterator(streams, arn), []
    for _ in range(4):
        out = streams.get_records(ShardIterator=it, Limit=1)
        assert len(out["Records"]) == 1
        seen.append(out["Records"][0]["dynamodb"]["Keys"]["pk"]["S"])
        it = out["NextShardIterator"]
    assert seen == ["k0", "k1", "k2", "new"]
    ddb.delete_table(TableName=table)


def test_empty_shard_starting_sequence_number(ddb, streams):
    """A new stream's StartingSequenceNumber works with both iterator types
    and neither skips the first record."""
    table, arn = make_table(ddb)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
    assert start.isdecimal() and len(start) >= 21
    its = [streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=kind,
                                      SequenceNumber=start)["ShardIterator"]
           for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")]
    put(ddb, table, "first")
    for it in its:
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, arn, it)] == ["first"]
    ddb.delete_table(TableName=table)


def test_errors(ddb, streams):
    table, arn = make_table(ddb)
    shard = shard_of(streams, arn)
    for call in (lambda: streams.describe_stream(StreamArn="not-a-stream-arn-at-all-0123456789abcdef"),
                 lambda: streams.get_shard_iterator(StreamArn="not-a-stream-arn-at-all-0123456789abcdef",
                                                    ShardId=shard, ShardIteratorType="LATEST"),
                 lambda: streams.list_streams(ExclusiveStartStreamArn="not-a-stream-arn-at-all-0123456789abcdef"),
                 lambda: streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST",
                                                    SequenceNumber="100000000000000000001"),
                 lambda: streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                    ShardIteratorType="AT_SEQUENCE_NUMBER",
                                                    SequenceNumber="sdfsafglldfngjdafnasdflgnaldklkafdsgklnasdlv")):
        with pytest.raises(ClientError) as err:
            call()
        assert error(err)[0] == "ValidationException"
    assert streams.describe_stream(StreamArn=arn, ExclusiveStartShardId="z" * 40)[
        "StreamDescription"]["Shards"] == []
    missing = arn.rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    with pytest.raises(ClientError) as err:
        streams.describe_stream(StreamArn=missing)
    assert error(err) == ("ResourceNotFoundException", f"Requested resource not found: Stream: {missing} not found")
    with pytest.raises(ClientError) as err:
        streams.get_shard_iterator(StreamArn=missing, ShardId=shard, ShardIteratorType="LATEST")
    assert error(err)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER")
    assert error(err)[0] == "ValidationException"
    with pytest.raises(ClientError) as err:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="SIDEWAYS")
    assert error(err)[0] == "ValidationException"
    assert "ShardIteratorType" in error(err)[1] or "shardIteratorType" in error(err)[1]
    with pytest.raises(ClientError) as err:
        streams.get_shard_iterator(StreamArn=arn, ShardId="shardId-00000000000000000000-deadbeef",
                                   ShardIteratorType="LATEST")
    assert error(err)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        streams.get_records(ShardIterator="not-an-iterator")
    assert error(err) == ("ValidationException", "Invalid ShardIterator")
    it = iterator(streams, arn)
    forged = it[:-3] + ("AAA" if not it.endswith("AAA") else "BBB")
    with pytest.raises(ClientError) as err:
        streams.get_records(ShardIterator=forged)
    assert error(err)[0] == "ValidationException"
    with pytest.raises(ClientError) as err:
        streams.get_records(ShardIterator=it, Limit=1001)
    assert error(err)[0] == "ValidationException"
    assert "less than or equal to 1000" in error(err)[1]
    ddb.delete_table(TableName=table)


def test_batch_transaction_and_partiql_writes_are_recorded(ddb, streams):
    table, arn = make_table(ddb)
    ddb.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": {"pk": {"S": f"b{i}"}}}} for i in range(3)]})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": "t"}}}},
        {"Delete": {"TableName": table, "Key": {"pk": {"S": "b0"}}}},
        {"Update": {"TableName": table, "Key": {"pk": {"S": "b1"}}, "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "x"}}}},
    ])
    ddb.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'q'}}")
    ddb.execute_statement(Statement=f"DELETE FROM \"{table}\" WHERE pk = 'b2'")
    events = sorted((r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in read_all(streams, arn))
    assert events == [("INSERT", "b0"), ("INSERT", "b1"), ("INSERT", "b2"), ("INSERT", "q"), ("INSERT", "t"),
                      ("MODIFY", "b1"), ("REMOVE", "b0"), ("REMOVE", "b2")]
    ddb.delete_table(TableName=table)


def test_disable_reenable_and_delete(ddb, streams):
    table, arn = make_table(ddb)
    put(ddb, table, "before")
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    put(ddb, table, "while-disabled")
    desc = ddb.describe_table(TableName=table)["Table"]
    assert "StreamSpecification" not in desc and desc["LatestStreamArn"] == arn  # as DynamoDB shows it
    sd = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert sd["StreamStatus"] == "DISABLED"
    seq_range = sd["Shards"][0]["SequenceNumberRange"]
    assert seq_range["EndingSequenceNumber"] == seq_range["StartingSequenceNumber"]
    # Records stay readable; the closed shard has no next iterator once read.
    out = streams.get_records(ShardIterator=iterator(streams, arn))
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in out["Records"]] == ["before"]
    assert "NextShardIterator" not in out

    ddb.update_table(TableName=table,
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    new_arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    assert new_arn != arn
    put(ddb, table, "after")
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, new_arn)] == ["after"]
    listed = {s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]}
    assert listed == {arn, new_arn}

    ddb.delete_table(TableName=table)
    sd = streams.describe_stream(StreamArn=new_arn)["StreamDescription"]
    assert sd["StreamStatus"] == "DISABLED" and sd["TableName"] == table
    assert sd["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, new_arn)] == ["after"]
    assert {s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]} == {arn, new_arn}


def test_list_streams_pages(ddb, streams):
    tables = [make_table(ddb) for _ in range(3)]
    arns = []
    out = streams.list_streams(Limit=1)
    while True:
        arns += [s["StreamArn"] for s in out["Streams"]]
        if "LastEvaluatedStreamArn" not in out:
            break
        assert len(out["Streams"]) == 1
        out = streams.list_streams(Limit=1, ExclusiveStartStreamArn=out["LastEvaluatedStreamArn"])
    assert len(arns) == len(set(arns))
    assert {arn for _, arn in tables} <= set(arns)
    for table, _ in tables:
        ddb.delete_table(TableName=table)


def test_no_record_missed_or_duplicated_under_concurrent_writers(server, key, ddb, streams):
    """Writers (single puts, updates and two-item transactions on shared keys)
    race a reader polling GetRecords: it sees every write once, in an order
    consistent with each key's history."""
    table, arn = make_table(ddb)
    threads, per_thread = 8, 20
    keys = [f"k{i}" for i in range(4)]  # few keys: transactions and single writes collide
    done = threading.Event()
    seen: list[dict] = []

    def reader():
        it = iterator(streams, arn)
        while True:
            finished = done.is_set()
            out = streams.get_records(ShardIterator=it)
            seen.extend(out["Records"])
            it = out["NextShardIterator"]
            if finished and not out["Records"]:
                return
            time.sleep(0.01)

    def writer(n):
        client = make_client(server, key)
        for i in range(per_thread):
            a, b = keys[(n + i) % len(keys)], keys[(n + 2 * i + 1) % len(keys)]
            if n % 2 == 0 and a != b:
                client.transact_write_items(TransactItems=[
                    {"Update": {"TableName": table, "Key": {"pk": {"S": k}}, "UpdateExpression": "ADD c :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}}}} for k in (a, b)])
            else:
                client.update_item(TableName=table, Key={"pk": {"S": a}}, UpdateExpression="ADD c :one",
                                   ExpressionAttributeValues={":one": {"N": "1"}})

    reading = threading.Thread(target=reader)
    reading.start()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(writer, range(threads)))
    done.set()
    reading.join(timeout=120)
    assert not reading.is_alive()

    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in seen]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    total = sum(int(ddb.get_item(TableName=table, Key={"pk": {"S": k}})["Item"]["c"]["N"])
                for k in keys if "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": k}}))
    assert len(seen) == total
    # Each key's counter goes 1, 2, 3… in stream order: nothing missed, nothing reordered.
    for k in keys:
        counts = [int(r["dynamodb"]["NewImage"]["c"]["N"]) for r in seen if r["dynamodb"]["Keys"]["pk"]["S"] == k]
        assert counts == list(range(1, len(counts) + 1))
    ddb.delete_table(TableName=table)


def in_thread(django_db_blocker, work):
    """Run ORM work in a thread of its own: another test's event loop may be
    running in the main thread, where Django refuses synchronous queries."""
    from django.db import connections

    def run():
        try:
            with django_db_blocker.unblock():
                return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def test_records_past_retention_are_trimmed(ddb, streams, django_db_blocker):
    """Back-date records by 25 hours (as if that much time had passed) and let a
    sweep purge them: reads at or before them answer TrimmedDataAccessException."""
    from django.db.models import F

    from storage.models import Stream, StreamRecord

    from .server import manage

    table, arn = make_table(ddb)
    for i in range(3):
        put(ddb, table, f"k{i}")
    seqs = [r["dynamodb"]["SequenceNumber"] for r in read_all(streams, arn)]
    old_iterator = iterator(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=seqs[0])

    def age_first_two():
        stream = Stream.objects.get(arn=arn)
        first_two = list(StreamRecord.objects.filter(stream=stream).order_by("seq")[:2].values_list("seq", flat=True))
        StreamRecord.objects.filter(stream=stream, seq__in=first_two).update(created_at=F("created_at") - 25 * 3600)

    in_thread(django_db_blocker, age_first_two)
    manage("sweepttl")

    with pytest.raises(ClientError) as err:
        iterator(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=seqs[0])
    assert error(err)[0] == "TrimmedDataAccessException"
    with pytest.raises(ClientError) as err:
        streams.get_records(ShardIterator=old_iterator)
    assert error(err)[0] == "TrimmedDataAccessException"
    assert [r["dynamodb"]["SequenceNumber"] for r in read_all(streams, arn)] == seqs[2:]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    assert shard["SequenceNumberRange"]["StartingSequenceNumber"] == seqs[2]

    # A stream disabled more than 24 hours ago is gone with its records.
    ddb.delete_table(TableName=table)
    in_thread(django_db_blocker,
              lambda: Stream.objects.filter(arn=arn).update(disabled_at=F("disabled_at") - 25 * 3600))
    manage("sweepttl")
    with pytest.raises(ClientError) as err:
        streams.describe_stream(StreamArn=arn)
    assert error(err)[0] == "ResourceNotFoundException"
    assert arn not in {s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]}
