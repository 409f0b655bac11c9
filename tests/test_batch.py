"""BatchGetItem and BatchWriteItem through boto3."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def error(exc_info):
    return exc_info.value.response["Error"]["Code"], exc_info.value.response["Error"]["Message"]


def test_batch_write_then_get_across_tables(ddb, hash_table, range_table):
    ddb.batch_write_item(RequestItems={
        hash_table: [{"PutRequest": {"Item": {"pk": {"S": f"h{i}"}, "v": {"N": str(i)}}}} for i in range(10)],
        range_table: [{"PutRequest": {"Item": {"pk": {"S": "r"}, "sk": {"N": str(i)}}}} for i in range(5)],
    })
    out = ddb.batch_get_item(RequestItems={
        hash_table: {"Keys": [{"pk": {"S": f"h{i}"}} for i in range(0, 12, 2)], "ProjectionExpression": "v"},
        range_table: {"Keys": [{"pk": {"S": "r"}, "sk": {"N": "3"}}], "ConsistentRead": True},
    }, ReturnConsumedCapacity="TOTAL")
    assert sorted(int(i["v"]["N"]) for i in out["Responses"][hash_table]) == [0, 2, 4, 6, 8]
    assert all(set(i) == {"v"} for i in out["Responses"][hash_table])
    assert out["Responses"][range_table] == [{"pk": {"S": "r"}, "sk": {"N": "3"}}]
    assert out["UnprocessedKeys"] == {}
    assert {c["TableName"]: c["CapacityUnits"] for c in out["ConsumedCapacity"]} == {
        hash_table: 3.0, range_table: 1.0}  # 6 eventually consistent reads (one missing), 1 consistent

    # Without a projection the items come back whole and exactly as written.
    out = ddb.batch_get_item(RequestItems={hash_table: {"Keys": [{"pk": {"S": "h1"}}, {"pk": {"S": "h3"}}]}})
    assert sorted(out["Responses"][hash_table], key=lambda i: i["pk"]["S"]) == [
        {"pk": {"S": "h1"}, "v": {"N": "1"}}, {"pk": {"S": "h3"}, "v": {"N": "3"}}]
    assert "ConsumedCapacity" not in out

    ddb.batch_write_item(RequestItems={hash_table: [{"DeleteRequest": {"Key": {"pk": {"S": f"h{i}"}}}}
                                                    for i in range(10)]})
    out = ddb.batch_get_item(RequestItems={hash_table: {"Keys": [{"pk": {"S": "h1"}}]}})
    assert out["Responses"][hash_table] == []


def test_batch_get_rejects_duplicates_and_too_many(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.batch_get_item(RequestItems={hash_table: {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "a"}}]}})
    assert error(err) == ("ValidationException", "Provided list of item keys contains duplicates")
    with pytest.raises(ClientError) as err:
        ddb.batch_get_item(RequestItems={hash_table: {"Keys": [{"pk": {"S": str(i)}} for i in range(101)]}})
    assert error(err)[0] == "ValidationException"


def test_batch_write_rejects_bad_input_without_partial_write(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(RequestItems={hash_table: [
            {"PutRequest": {"Item": {"pk": {"S": "ok"}}}},
            {"PutRequest": {"Item": {"pk": {"N": "1"}}}},
        ]})
    assert error(err) == ("ValidationException", "The provided key element does not match the schema")
    assert "Item" not in ddb.get_item(TableName=hash_table, Key={"pk": {"S": "ok"}})
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(RequestItems={hash_table: [
            {"PutRequest": {"Item": {"pk": {"S": "dup"}}}}, {"DeleteRequest": {"Key": {"pk": {"S": "dup"}}}}]})
    assert error(err) == ("ValidationException", "Provided list of item keys contains duplicates")
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(RequestItems={hash_table: [{"PutRequest": {"Item": {"pk": {"S": str(i)}}}}
                                                        for i in range(26)]})
    assert error(err)[0] == "ValidationException"
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(RequestItems={"no-such-table": [{"PutRequest": {"Item": {"pk": {"S": "x"}}}}]})
    assert error(err)[0] == "ResourceNotFoundException"


def test_batch_write_oversize_item(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.batch_write_item(RequestItems={hash_table: [
            {"PutRequest": {"Item": {"pk": {"S": "big"}, "v": {"S": "x" * 410_000}}}}]})
    assert error(err) == ("ValidationException", "Item size has exceeded the maximum allowed size")
