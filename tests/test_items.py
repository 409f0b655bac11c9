"""PutItem, GetItem, UpdateItem, DeleteItem through boto3 over HTTPS."""
from __future__ import annotations

import base64

import pytest
from botocore.exceptions import ClientError


def error(exc_info):
    return exc_info.value.response["Error"]["Code"], exc_info.value.response["Error"]["Message"]


def get(ddb, table, pk, **kwargs):
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True, **kwargs).get("Item")


# --- round trips -------------------------------------------------------------

def test_put_get_round_trip_all_types(ddb, hash_table):
    item = {
        "pk": {"S": "all"},
        "s": {"S": "héllo"}, "n": {"N": "-12.5"}, "b": {"B": b"\x00\x01\xff"},
        "t": {"BOOL": True}, "z": {"NULL": True},
        "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"x", b"y"]},
        "m": {"M": {"inner": {"L": [{"S": "x"}, {"N": "1"}]}}}, "l": {"L": []}, "e": {"S": ""},
    }
    ddb.put_item(TableName=hash_table, Item=item)
    got = get(ddb, hash_table, "all")
    assert got["b"] == {"B": b"\x00\x01\xff"}
    assert sorted(got["ss"]["SS"]) == ["a", "b"]
    assert sorted(got["ns"]["NS"]) == ["1", "2.5"]
    assert got["m"] == item["m"]
    assert got["n"] == {"N": "-12.5"}
    assert got["e"] == {"S": ""}
    assert got["l"] == {"L": []}


def test_numbers_are_normalised(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "n"}, "a": {"N": "1.0"}, "b": {"N": "01e2"},
                                             "c": {"N": "-0"}, "d": {"N": "0.10"}})
    got = get(ddb, hash_table, "n")
    assert got["a"] == {"N": "1"} and got["b"] == {"N": "100"} and got["c"] == {"N": "0"} and got["d"] == {"N": "0.1"}


def test_get_missing_item_returns_no_item(ddb, hash_table):
    out = ddb.get_item(TableName=hash_table, Key={"pk": {"S": "nope"}})
    assert "Item" not in out


def test_put_replaces_whole_item(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "r"}, "a": {"S": "1"}})
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "r"}, "b": {"S": "2"}})
    assert get(ddb, hash_table, "r") == {"pk": {"S": "r"}, "b": {"S": "2"}}


def test_range_table_keys(ddb, range_table):
    ddb.put_item(TableName=range_table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "one"}})
    ddb.put_item(TableName=range_table, Item={"pk": {"S": "a"}, "sk": {"N": "1.0"}, "v": {"S": "same"}})
    ddb.put_item(TableName=range_table, Item={"pk": {"S": "a"}, "sk": {"N": "2"}, "v": {"S": "two"}})
    got = ddb.get_item(TableName=range_table, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})["Item"]
    assert got["v"] == {"S": "same"}
    assert ddb.describe_table(TableName=range_table)["Table"]["ItemCount"] == 2


def test_item_operations_on_missing_table(ddb):
    with pytest.raises(ClientError) as err:
        ddb.get_item(TableName="missing-table", Key={"pk": {"S": "x"}})
    assert error(err) == ("ResourceNotFoundException", "Requested resource not found")


# --- key validation ------------------------------------------------------------

def test_key_type_mismatch(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"N": "1"}})
    assert error(err) == ("ValidationException",
                          "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N")


def test_missing_key_in_item(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"other": {"S": "1"}})
    assert error(err) == ("ValidationException",
                          "One or more parameter values were invalid: Missing the key pk in the item")


def test_empty_string_key_rejected(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": ""}})
    code, message = error(err)
    assert code == "ValidationException"
    assert "cannot contain an empty string value" in message


def test_get_with_wrong_key_schema(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.get_item(TableName=hash_table, Key={"pk": {"S": "a"}, "extra": {"S": "b"}})
    assert error(err) == ("ValidationException", "The provided key element does not match the schema")


def test_oversize_item_rejected_and_not_written(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": "big"}, "v": {"S": "x" * 409_600}})
    assert error(err) == ("ValidationException", "Item size has exceeded the maximum allowed size")
    assert get(ddb, hash_table, "big") is None


def test_item_just_under_limit_is_accepted(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "big"}, "v": {"S": "x" * 400_000}})
    assert len(get(ddb, hash_table, "big")["v"]["S"]) == 400_000


@pytest.mark.parametrize("value,fragment", [
    ({"SS": []}, "may not be empty"),
    ({"SS": ["a", "a"]}, "contains duplicates"),
    ({"N": "abc"}, ""),
    ({"N": "1" * 39}, "Attempting to store more than 38 significant digits in a Number"),
    ({"N": "1e126"}, "Number overflow"),
    ({"N": "1e-131"}, "Number underflow"),
])
def test_invalid_values(ddb, hash_table, value, fragment):
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": "bad"}, "v": value})
    code, message = error(err)
    assert code == "ValidationException"
    assert fragment in message
    assert get(ddb, hash_table, "bad") is None


# --- conditions ------------------------------------------------------------------

def test_conditional_put_attribute_not_exists(ddb, hash_table):
    kwargs = dict(TableName=hash_table, Item={"pk": {"S": "c"}, "v": {"N": "1"}},
                  ConditionExpression="attribute_not_exists(pk)")
    ddb.put_item(**kwargs)
    with pytest.raises(ClientError) as err:
        ddb.put_item(**kwargs)
    assert error(err) == ("ConditionalCheckFailedException", "The conditional request failed")


def test_condition_failure_returns_old_item_when_asked(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "c"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": "c"}, "v": {"N": "2"}},
                     ConditionExpression="v = :two", ExpressionAttributeValues={":two": {"N": "2"}},
                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert err.value.response["Item"] == {"pk": {"S": "c"}, "v": {"N": "1"}}
    assert get(ddb, hash_table, "c")["v"] == {"N": "1"}


@pytest.mark.parametrize("expression,expected", [
    ("a = :one", True), ("a <> :one", False), ("a < :two", True), ("a >= :two", False),
    ("a BETWEEN :one AND :two", True), ("a IN (:two, :one)", True),
    ("NOT a = :one", False), ("(a = :one OR a = :two) AND attribute_exists(m.x)", True),
    ("attribute_type(s, :str)", True), ("begins_with(s, :pre)", True), ("contains(l, :one)", True),
    ("contains(s, :pre)", True), ("size(s) = :five", True), ("size(l) > :one", True),
    ("m.x[1] = :two", True), ("attribute_not_exists(m.y)", True), ("#n = :one", True),
])
def test_condition_expression_operators(ddb, hash_table, expression, expected):
    ddb.put_item(TableName=hash_table, Item={
        "pk": {"S": "k"}, "a": {"N": "1"}, "s": {"S": "hello"}, "l": {"L": [{"N": "1"}, {"N": "2"}]},
        "m": {"M": {"x": {"L": [{"N": "1"}, {"N": "2"}]}}}})
    all_values = {":one": {"N": "1"}, ":two": {"N": "2"}, ":str": {"S": "S"}, ":pre": {"S": "he"},
                  ":five": {"N": "5"}}
    used = {k: v for k, v in all_values.items() if k in expression}
    kwargs = dict(TableName=hash_table, Key={"pk": {"S": "k"}}, ConditionExpression=expression,
                  UpdateExpression="SET touched = :t", ExpressionAttributeValues={**used, ":t": {"BOOL": True}})
    if "#n" in expression:
        kwargs["ExpressionAttributeNames"] = {"#n": "a"}
    if expected:
        ddb.update_item(**kwargs)
        assert get(ddb, hash_table, "k")["touched"] == {"BOOL": True}
    else:
        with pytest.raises(ClientError) as err:
            ddb.update_item(**kwargs)
        assert error(err)[0] == "ConditionalCheckFailedException"


@pytest.mark.parametrize("kwargs,code,fragment", [
    (dict(ConditionExpression="a = "), "ValidationException", "Invalid ConditionExpression: Syntax error"),
    (dict(ConditionExpression="name = :v", ExpressionAttributeValues={":v": {"S": "x"}}),
     "ValidationException", "Attribute name is a reserved keyword; reserved keyword: name"),
    (dict(ConditionExpression="a = :v"), "ValidationException",
     "An expression attribute value used in expression is not defined; attribute value: :v"),
    (dict(ConditionExpression="attribute_exists(a)", ExpressionAttributeValues={":v": {"S": "x"}}),
     "ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"),
    (dict(ConditionExpression="#a = :v", ExpressionAttributeValues={":v": {"S": "x"}}),
     "ValidationException", "An expression attribute name used in the document path is not defined; attribute name: #a"),
    (dict(ConditionExpression="attribute_exists(a)", Expected={"a": {"Exists": True, "Value": {"S": "x"}}}),
     "ValidationException", "Can not use both expression and non-expression parameters in the same request"),
])
def test_invalid_condition_expressions(ddb, hash_table, kwargs, code, fragment):
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": "x"}}, **kwargs)
    got_code, message = error(err)
    assert got_code == code
    assert fragment in message, message
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert get(ddb, hash_table, "x") is None


def test_reserved_word_aliased_is_fine(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "x"}, "name": {"S": "n"}})
    ddb.delete_item(TableName=hash_table, Key={"pk": {"S": "x"}}, ConditionExpression="#n = :v",
                    ExpressionAttributeNames={"#n": "name"}, ExpressionAttributeValues={":v": {"S": "n"}})
    assert get(ddb, hash_table, "x") is None


# --- updates ----------------------------------------------------------------------

def test_update_expression_clauses(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={
        "pk": {"S": "u"}, "count": {"N": "5"}, "tags": {"SS": ["a", "b"]}, "prev": {"SS": ["a", "b"]}, "gone": {"S": "x"},
        "lst": {"L": [{"S": "0"}, {"S": "1"}, {"S": "2"}]}, "m": {"M": {"deep": {"M": {}}}}})
    out = ddb.update_item(
        TableName=hash_table, Key={"pk": {"S": "u"}},
        UpdateExpression=("SET #c = #c + :inc, m.deep.v = :v, newlist = list_append(if_not_exists(newlist, :empty), :l), "
                          "lst[1] = :v REMOVE gone, lst[0] ADD tags :more, tally :inc DELETE prev :less"),
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":inc": {"N": "3"}, ":v": {"S": "val"}, ":empty": {"L": []},
                                   ":l": {"L": [{"N": "9"}]}, ":more": {"SS": ["c"]}, ":less": {"SS": ["a"]}},
        ReturnValues="ALL_NEW")
    item = out["Attributes"]
    assert item["count"] == {"N": "8"}
    assert item["m"] == {"M": {"deep": {"M": {"v": {"S": "val"}}}}}
    assert item["newlist"] == {"L": [{"N": "9"}]}
    assert item["lst"] == {"L": [{"S": "val"}, {"S": "2"}]}
    assert "gone" not in item
    assert sorted(item["tags"]["SS"]) == ["a", "b", "c"]
    assert item["prev"] == {"SS": ["b"]}
    assert item["tally"] == {"N": "3"}
    assert get(ddb, hash_table, "u") == item


def test_update_creates_item(ddb, hash_table):
    out = ddb.update_item(TableName=hash_table, Key={"pk": {"S": "new"}}, UpdateExpression="ADD hits :one",
                          ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_NEW")
    assert out["Attributes"] == {"hits": {"N": "1"}}
    assert get(ddb, hash_table, "new") == {"pk": {"S": "new"}, "hits": {"N": "1"}}


def test_update_return_values(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "rv"}, "a": {"N": "1"}, "b": {"N": "2"}})
    base = dict(TableName=hash_table, Key={"pk": {"S": "rv"}}, UpdateExpression="SET a = :v",
                ExpressionAttributeValues={":v": {"N": "10"}})
    assert ddb.update_item(**base, ReturnValues="UPDATED_OLD")["Attributes"] == {"a": {"N": "1"}}
    assert ddb.update_item(**base, ReturnValues="ALL_OLD")["Attributes"]["b"] == {"N": "2"}
    assert ddb.update_item(**base, ReturnValues="UPDATED_NEW")["Attributes"] == {"a": {"N": "10"}}
    assert "Attributes" not in ddb.update_item(**base, ReturnValues="NONE")


def test_cannot_update_key(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.update_item(TableName=hash_table, Key={"pk": {"S": "k"}}, UpdateExpression="SET pk = :v",
                        ExpressionAttributeValues={":v": {"S": "other"}})
    assert error(err) == ("ValidationException",
                          "One or more parameter values were invalid: Cannot update attribute pk. "
                          "This attribute is part of the key")


def test_overlapping_paths_rejected(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.update_item(TableName=hash_table, Key={"pk": {"S": "k"}}, UpdateExpression="SET a = :v, a.b = :v",
                        ExpressionAttributeValues={":v": {"S": "x"}})
    code, message = error(err)
    assert code == "ValidationException"
    assert "Two document paths overlap with each other" in message


def test_update_missing_attribute_operand(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "k"}})
    with pytest.raises(ClientError) as err:
        ddb.update_item(TableName=hash_table, Key={"pk": {"S": "k"}}, UpdateExpression="SET a = b + :v",
                        ExpressionAttributeValues={":v": {"N": "1"}})
    assert error(err) == ("ValidationException",
                          "The provided expression refers to an attribute that does not exist in the item")


def test_projection_expression(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={
        "pk": {"S": "p"}, "a": {"S": "1"}, "b": {"S": "2"},
        "m": {"M": {"x": {"S": "3"}, "y": {"S": "4"}}}, "l": {"L": [{"S": "5"}, {"S": "6"}]}})
    got = get(ddb, hash_table, "p", ProjectionExpression="a, m.x, l[1], #n", ExpressionAttributeNames={"#n": "b"})
    assert got == {"a": {"S": "1"}, "b": {"S": "2"}, "m": {"M": {"x": {"S": "3"}}}, "l": {"L": [{"S": "6"}]}}


def test_delete_return_old(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "d"}, "v": {"S": "x"}})
    out = ddb.delete_item(TableName=hash_table, Key={"pk": {"S": "d"}}, ReturnValues="ALL_OLD")
    assert out["Attributes"] == {"pk": {"S": "d"}, "v": {"S": "x"}}
    assert get(ddb, hash_table, "d") is None
    assert "Attributes" not in ddb.delete_item(TableName=hash_table, Key={"pk": {"S": "d"}}, ReturnValues="ALL_OLD")


def test_put_return_values_validation(ddb, hash_table):
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": "x"}}, ReturnValues="ALL_NEW")
    assert error(err) == ("ValidationException", "ReturnValues can only be ALL_OLD or NONE")


# --- capacity -------------------------------------------------------------------------

def test_consumed_capacity(ddb, hash_table):
    out = ddb.put_item(TableName=hash_table, Item={"pk": {"S": "cap"}, "v": {"S": "x" * 1500}},
                       ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {"TableName": hash_table, "CapacityUnits": 2.0}
    out = ddb.get_item(TableName=hash_table, Key={"pk": {"S": "cap"}}, ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"] == {"TableName": hash_table, "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.5}}
    out = ddb.get_item(TableName=hash_table, Key={"pk": {"S": "cap"}}, ConsistentRead=True,
                       ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0


# --- legacy parameters -------------------------------------------------------------------

def test_legacy_expected_and_attribute_updates(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "old"}, "v": {"N": "1"}},
                 Expected={"pk": {"Exists": False}})
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=hash_table, Item={"pk": {"S": "old"}}, Expected={"pk": {"Exists": False}})
    assert error(err)[0] == "ConditionalCheckFailedException"
    ddb.update_item(TableName=hash_table, Key={"pk": {"S": "old"}},
                    AttributeUpdates={"v": {"Action": "ADD", "Value": {"N": "2"}},
                                      "w": {"Action": "PUT", "Value": {"S": "w"}}},
                    Expected={"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}})
    got = ddb.get_item(TableName=hash_table, Key={"pk": {"S": "old"}}, AttributesToGet=["v", "w"])["Item"]
    assert got == {"v": {"N": "3"}, "w": {"S": "w"}}


def test_binary_keys(ddb, table_name):
    ddb.create_table(TableName=table_name, AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "B"}],
                     KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    try:
        ddb.put_item(TableName=table_name, Item={"k": {"B": b"\x00\xff"}, "v": {"S": "bin"}})
        got = ddb.get_item(TableName=table_name, Key={"k": {"B": b"\x00\xff"}})["Item"]
        assert got["v"] == {"S": "bin"}
        assert base64.b64encode(got["k"]["B"]) == base64.b64encode(b"\x00\xff")
    finally:
        ddb.delete_table(TableName=table_name)
