"""TransactWriteItems and TransactGetItems through boto3."""
from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError


def put(table, pk, **attrs):
    return {"Put": {"TableName": table, "Item": {"pk": {"S": pk}, **attrs}}}


def test_all_or_nothing_with_cancellation_reasons(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "exists"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[
            put(hash_table, "new-1"),
            {"ConditionCheck": {"TableName": hash_table, "Key": {"pk": {"S": "exists"}},
                                "ConditionExpression": "v = :two", "ExpressionAttributeValues": {":two": {"N": "2"}},
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Delete": {"TableName": hash_table, "Key": {"pk": {"S": "exists"}}}} if False else put(hash_table, "new-2"),
        ])
    response = err.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["Error"]["Message"] == ("Transaction cancelled, please refer cancellation reasons for specific "
                                            "reasons [None, ConditionalCheckFailed, None]")
    reasons = response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "None"]
    assert reasons[1]["Item"] == {"pk": {"S": "exists"}, "v": {"N": "1"}}
    for pk in ("new-1", "new-2"):
        assert "Item" not in ddb.get_item(TableName=hash_table, Key={"pk": {"S": pk}})


def test_transaction_applies_every_action(ddb, hash_table, range_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "gone"}})
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "counter"}, "n": {"N": "1"}})
    ddb.transact_write_items(TransactItems=[
        put(hash_table, "a", v={"S": "x"}),
        {"Delete": {"TableName": hash_table, "Key": {"pk": {"S": "gone"}}}},
        {"Update": {"TableName": hash_table, "Key": {"pk": {"S": "counter"}}, "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": range_table, "Item": {"pk": {"S": "r"}, "sk": {"N": "1"}}}},
    ])
    got = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": hash_table, "Key": {"pk": {"S": "a"}}}},
        {"Get": {"TableName": hash_table, "Key": {"pk": {"S": "gone"}}}},
        {"Get": {"TableName": hash_table, "Key": {"pk": {"S": "counter"}}, "ProjectionExpression": "n"}},
        {"Get": {"TableName": range_table, "Key": {"pk": {"S": "r"}, "sk": {"N": "1"}}}},
    ])["Responses"]
    assert got[0]["Item"]["v"] == {"S": "x"}
    assert got[1] == {}
    assert got[2]["Item"] == {"n": {"N": "2"}}
    assert got[3]["Item"]["pk"] == {"S": "r"}


def test_two_actions_on_one_item_rejected(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[put(hash_table, "same"), put(hash_table, "same")])
    assert err.value.response["Error"]["Message"] == \
        "Transaction request cannot include multiple operations on one item"


def test_client_request_token_idempotency(ddb, hash_table):
    token = str(uuid.uuid4())
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "c"}, "n": {"N": "0"}})
    update = [{"Update": {"TableName": hash_table, "Key": {"pk": {"S": "c"}}, "UpdateExpression": "ADD n :one",
                          "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
    ddb.transact_write_items(TransactItems=update, ClientRequestToken=token)
    ddb.transact_write_items(TransactItems=update, ClientRequestToken=token)  # replay: not applied again
    assert ddb.get_item(TableName=hash_table, Key={"pk": {"S": "c"}})["Item"]["n"] == {"N": "1"}
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[put(hash_table, "other")], ClientRequestToken=token)
    assert err.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"


def test_transaction_capacity_is_doubled(ddb, hash_table):
    out = ddb.transact_write_items(TransactItems=[put(hash_table, "cap", v={"S": "x" * 100})],
                                   ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"][0]["CapacityUnits"] == 2.0
