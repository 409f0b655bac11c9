"""PartiQL through boto3: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction."""
from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "


def run(ddb, statement, *params, **kwargs):
    if params:
        kwargs["Parameters"] = list(params)
    return ddb.execute_statement(Statement=statement, **kwargs)


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    return err.value.response


def all_items(ddb, statement, *params, **kwargs):
    items, token = [], None
    while True:
        extra = dict(kwargs, NextToken=token) if token else kwargs
        page = run(ddb, statement, *params, **extra)
        items += page["Items"]
        token = page.get("NextToken")
        if not token:
            return items


@pytest.fixture
def filled(ddb, range_table):
    """pk 'a' with sk 1..5 and pk 'b' with sk 1..2; v = sk * 10."""
    for pk, count in (("a", 5), ("b", 2)):
        for sk in range(1, count + 1):
            ddb.put_item(TableName=range_table, Item={
                "pk": {"S": pk}, "sk": {"N": str(sk)}, "v": {"N": str(sk * 10)},
                "tag": {"S": f"t{sk % 2}"}, "m": {"M": {"x": {"L": [{"N": str(sk)}]}}}})
    return range_table


# --- INSERT -------------------------------------------------------------------------

def test_insert_literals_and_parameters(ddb, hash_table):
    out = run(ddb, f"""INSERT INTO "{hash_table}" VALUE {{'pk': 'a', 'n': 1.50, 'neg': -2, 'it''s': 'x''y',
              'b': TRUE, 'z': NULL, 'l': [1, 'two', [3]], 'm': {{'x': ?}}, 'ss': <<'p', 'q'>>, 'ns': <<1, 2>>}}""",
              {"S": "param"})
    assert out["Items"] == []
    item = ddb.get_item(TableName=hash_table, Key={"pk": {"S": "a"}})["Item"]
    assert item["n"] == {"N": "1.5"} and item["neg"] == {"N": "-2"}
    assert item["it's"] == {"S": "x'y"} and item["b"] == {"BOOL": True} and item["z"] == {"NULL": True}
    assert item["l"] == {"L": [{"N": "1"}, {"S": "two"}, {"L": [{"N": "3"}]}]}
    assert item["m"] == {"M": {"x": {"S": "param"}}}
    assert sorted(item["ss"]["SS"]) == ["p", "q"] and sorted(item["ns"]["NS"]) == ["1", "2"]


def test_insert_duplicate_key(ddb, hash_table):
    run(ddb, f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'dup', 'v': 1}}")
    response = error_of(run, ddb, f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'dup', 'v': 2}}")
    assert response["Error"] == {"Code": "DuplicateItemException", "Message": "Duplicate primary key exists in table"}
    assert ddb.get_item(TableName=hash_table, Key={"pk": {"S": "dup"}})["Item"]["v"] == {"N": "1"}


def test_insert_missing_key_and_unknown_table(ddb, hash_table):
    response = error_of(run, ddb, f"INSERT INTO \"{hash_table}\" VALUE {{'other': 'x'}}")
    assert response["Error"]["Code"] == "ValidationException"
    assert response["Error"]["Message"] == "One or more parameter values were invalid: Missing the key pk in the item"
    response = error_of(run, ddb, "INSERT INTO \"no-such-table\" VALUE {'pk': 'x'}")
    assert response["Error"] == {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"}


# --- SELECT ---------------------------------------------------------------------------

def test_select_by_partition_key_is_ordered_and_filtered(ddb, filled):
    items = run(ddb, f"SELECT * FROM \"{filled}\" WHERE pk = 'a' AND v > 20")["Items"]
    assert [i["sk"]["N"] for i in items] == ["3", "4", "5"]
    items = run(ddb, f"SELECT * FROM \"{filled}\" WHERE pk = ? AND sk BETWEEN 2 AND 4 ORDER BY sk DESC",
                {"S": "a"})["Items"]
    assert [i["sk"]["N"] for i in items] == ["4", "3", "2"]
    items = run(ddb, f"SELECT sk FROM \"{filled}\" WHERE pk IN ['a', 'b'] AND sk < 2")["Items"]
    assert sorted(i["sk"]["N"] for i in items) == ["1", "1"] and all(set(i) == {"sk"} for i in items)


def test_select_scan_with_operators_and_functions(ddb, filled):
    def sks(where, *params):
        items = run(ddb, f"SELECT pk, sk FROM \"{filled}\" WHERE {where}", *params)["Items"]
        return sorted((i["pk"]["S"], int(i["sk"]["N"])) for i in items)

    assert sks("v >= 40 OR sk = 1") == [("a", 1), ("a", 4), ("a", 5), ("b", 1)]
    assert sks("NOT (pk = 'a') AND tag <> 't0'") == [("b", 1)]
    assert sks("v IN [10, 50]") == [("a", 1), ("a", 5), ("b", 1)]
    assert sks("begins_with(tag, 't0') AND pk = 'b'") == [("b", 2)]
    assert sks("m.x[0] = 3") == [("a", 3)]
    assert sks("contains(tag, ?) AND sk > 3", {"S": "0"}) == [("a", 4)]
    assert sks("attribute_type(v, 'N') AND sk = 5") == [("a", 5)]
    assert sks("nothing IS MISSING AND size(tag) = 2 AND sk = 2") == [("a", 2), ("b", 2)]
    assert sks("v IS NOT MISSING AND v IS NOT NULL AND sk = 2") == [("a", 2), ("b", 2)]
    assert sks("nothing IS NULL AND sk = 2") == [("a", 2), ("b", 2)]


def test_where_types_booleans_and_comments(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "w"}, "flag": {"BOOL": True}, "s": {"S": "str"},
                                             "nul": {"NULL": True}, "l": {"L": []}})

    def hit(condition):
        statement = f"-- leading note\nSELECT pk FROM \"{hash_table}\" /* inline */ WHERE pk = 'w' AND {condition}"
        return len(run(ddb, statement)["Items"]) == 1

    assert hit("flag IS BOOL") and hit("s IS STRING") and hit("l IS LIST") and not hit("s IS BOOL")
    assert hit("s IS NOT DOUBLE PRECISION") and hit("nul IS NULL") and not hit("s IS NULL")
    assert hit("attribute_exists(s) = true") and hit("ATTRIBUTE_EXISTS(\"s\")")
    assert not hit("attribute_exists(s) = false")
    response = error_of(run, ddb, f"SELECT * FROM \"{hash_table}\" WHERE pk = 'w' AND s < ?", {"BOOL": True})
    assert response["Error"]["Message"] == (
        "Incorrect operand type for operator or function; operator or function: <, operand type: BOOL")
    statement = f"SELECT * FROM \"{hash_table}\" WHERE pk = 'w' AND set_add(s, <<'x'>>) = s"
    response = error_of(run, ddb, statement)
    assert response["Error"]["Message"] == f"Unrecognized function: set_add at 1:{statement.index('set_add') + 1}:7"


def test_number_literal_errors_name_their_place(ddb, hash_table):
    response = error_of(run, ddb, f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'n', 'm': {{'x': 1e126}}}}")
    assert response["Error"]["Message"] == (
        "Number overflow. Attempting to store a number with magnitude larger than supported range under root.x")
    response = error_of(run, ddb, f"SELECT * FROM \"{hash_table}\" WHERE pk = 'n' AND v = 1e-131")
    assert response["Error"]["Message"] == (
        "Number underflow. Attempting to store a number with magnitude smaller than supported range under root")


def test_select_nested_projection(ddb, filled):
    items = run(ddb, f"SELECT m.x[0], \"tag\" FROM \"{filled}\" WHERE pk = 'b' AND sk = 2")["Items"]
    assert items == [{"m": {"M": {"x": {"L": [{"N": "2"}]}}}, "tag": {"S": "t0"}}]


def test_select_paging_with_limit_and_next_token(ddb, filled):
    page = run(ddb, f"SELECT * FROM \"{filled}\" WHERE pk = 'a'", Limit=2)
    assert len(page["Items"]) == 2 and page["NextToken"]
    items = all_items(ddb, f"SELECT * FROM \"{filled}\" WHERE pk = 'a'", Limit=2)
    assert [i["sk"]["N"] for i in items] == ["1", "2", "3", "4", "5"]
    scanned = all_items(ddb, f"SELECT * FROM \"{filled}\"", Limit=3)
    assert len(scanned) == 7
    both = all_items(ddb, f"SELECT * FROM \"{filled}\" WHERE pk IN ['b', 'a']", Limit=3)
    assert len(both) == 7
    response = error_of(run, ddb, f"SELECT * FROM \"{filled}\" WHERE pk = 'b'", NextToken=page["NextToken"])
    assert response["Error"]["Code"] == "ValidationException"


def test_select_consumed_capacity_and_consistent_read(ddb, filled):
    out = run(ddb, f"SELECT * FROM \"{filled}\" WHERE pk = 'a'", ConsistentRead=True,
              ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {"TableName": filled, "CapacityUnits": 1.0}


def test_select_from_index(ddb, table_name):
    keys_only = {"ProjectionType": "KEYS_ONLY"}
    ddb.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g", "l")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "byg", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                               {"AttributeName": "pk", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "gkeys", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": keys_only}],
        LocalSecondaryIndexes=[{"IndexName": "byl", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                  {"AttributeName": "l", "KeyType": "RANGE"}],
                                "Projection": keys_only}],
        BillingMode="PAY_PER_REQUEST")
    try:
        for i in range(4):
            run(ddb, f"INSERT INTO \"{table_name}\" VALUE {{'pk': 'p{i}', 'sk': 's', 'l': 'l{3 - i}', "
                     f"'data': 'd{i}', 'g': '{'even' if i % 2 == 0 else 'odd'}'}}")
        items = run(ddb, f"SELECT pk FROM \"{table_name}\".\"byg\" WHERE g = 'odd' ORDER BY pk DESC")["Items"]
        assert items == [{"pk": {"S": "p3"}}, {"pk": {"S": "p1"}}]
        paged = all_items(ddb, f"SELECT * FROM \"{table_name}\".\"byg\"", Limit=1)
        assert len(paged) == 4
        # An LSI reaches the table's item for attributes it does not project.
        items = run(ddb, f"SELECT data FROM \"{table_name}\".\"byl\" WHERE pk = 'p2' AND l = 'l1'",
                    ConsistentRead=True)["Items"]
        assert items == [{"data": {"S": "d2"}}]
        assert len(all_items(ddb, f"SELECT * FROM \"{table_name}\".\"byl\" WHERE data <> 'x'", Limit=1)) == 4
        response = error_of(run, ddb, f"SELECT data, more FROM \"{table_name}\".\"gkeys\" WHERE g = 'odd'")
        assert response["Error"]["Message"] == (
            "One or more parameter values were invalid: Global secondary index gkeys does not project [data, more]")
        response = error_of(run, ddb, f"SELECT * FROM \"{table_name}\".\"nope\"")
        assert response["Error"]["Message"] == "The table does not have the specified index: nope"
    finally:
        ddb.delete_table(TableName=table_name)


def test_order_by_needs_partition_key(ddb, filled):
    response = error_of(run, ddb, f"SELECT * FROM \"{filled}\" WHERE v > 1 ORDER BY sk")
    assert response["Error"]["Message"] == (
        "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.")


# --- UPDATE / DELETE ------------------------------------------------------------------

def test_update_set_remove_and_returning(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={
        "pk": {"S": "u"}, "n": {"N": "1"}, "b": {"M": {"c": {"N": "5"}}}, "l": {"L": [{"N": "1"}]},
        "gone": {"S": "x"}, "s": {"SS": ["a", "b"]}})
    out = run(ddb, f"""UPDATE "{hash_table}" SET n = n + 1, b.c = b.c - 2, l = list_append(l, [2, 3])
              SET s = set_add(s, <<'c'>>) REMOVE gone WHERE pk = 'u' RETURNING ALL NEW *""")
    item = out["Items"][0]
    assert item["n"] == {"N": "2"} and item["b"] == {"M": {"c": {"N": "3"}}}
    assert item["l"] == {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]} and "gone" not in item
    assert sorted(item["s"]["SS"]) == ["a", "b", "c"]
    out = run(ddb, f"UPDATE \"{hash_table}\" SET s = set_delete(s, <<'a'>>) SET n = ? WHERE pk = 'u' "
                   "RETURNING MODIFIED OLD *", {"N": "9"})
    assert out["Items"] == [{"n": {"N": "2"}, "s": {"SS": item["s"]["SS"]}}]
    assert run(ddb, f"UPDATE \"{hash_table}\" SET x = 'y' WHERE pk = 'u'")["Items"] == []
    statement = f"UPDATE \"{hash_table}\" SET t = set_add(s, <<'x'>>) WHERE pk = 'u'"
    assert error_of(run, ddb, statement)["Error"]["Message"] == (
        f"The first argument to SET_ADD must equal the assignment value at 1:{statement.index('set_add') + 1}:7")
    statement = f"UPDATE \"{hash_table}\" SET s = set_add(s, 'x') WHERE pk = 'u'"
    assert error_of(run, ddb, statement)["Error"]["Message"] == (
        f"The second argument to SET_ADD must be a value with type SET at 1:{statement.index('(s') + 2}:1")
    response = error_of(run, ddb, f"UPDATE \"{hash_table}\" SET s = set_add(s, <<1>>) WHERE pk = 'u'")
    assert response["Error"]["Message"] == "An operand in the update expression has an incorrect data type"


def test_from_first_update(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "f"}, "a": {"N": "1"}, "b": {"S": "bee"}})
    out = run(ddb, f"FROM \"{hash_table}\" WHERE pk = ? AND a = 1 SET c = 2 REMOVE b RETURNING ALL NEW *",
              {"S": "f"})
    assert out["Items"] == [{"pk": {"S": "f"}, "a": {"N": "1"}, "c": {"N": "2"}}]
    response = error_of(run, ddb, f"FROM \"{hash_table}\" SET c = 1")
    assert response["Error"]["Message"] == "Where clause does not contain a mandatory equality on all key attributes"


def test_update_conditions(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "c"}, "v": {"N": "1"}})
    response = error_of(run, ddb, f"UPDATE \"{hash_table}\" SET v = 2 WHERE pk = 'c' AND v = 5",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert response["Item"] == {"pk": {"S": "c"}, "v": {"N": "1"}}
    response = error_of(run, ddb, f"UPDATE \"{hash_table}\" SET v = 2 WHERE pk = 'absent'")
    assert response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert "Item" not in ddb.get_item(TableName=hash_table, Key={"pk": {"S": "absent"}})
    run(ddb, f"UPDATE \"{hash_table}\" SET v = 2 WHERE pk = 'c' AND v = 1")
    assert ddb.get_item(TableName=hash_table, Key={"pk": {"S": "c"}})["Item"]["v"] == {"N": "2"}


def test_writes_need_the_full_key(ddb, range_table):
    for statement in (f"UPDATE \"{range_table}\" SET v = 1 WHERE pk = 'a'",
                      f"DELETE FROM \"{range_table}\" WHERE pk = 'a' AND v = 1",
                      f"DELETE FROM \"{range_table}\""):
        response = error_of(run, ddb, statement)
        assert response["Error"] == {
            "Code": "ValidationException",
            "Message": "Where clause does not contain a mandatory equality on all key attributes"}
    response = error_of(run, ddb, f"UPDATE \"{range_table}\" SET pk = 'z' WHERE pk = 'a' AND sk = 1")
    assert "This attribute is part of the key" in response["Error"]["Message"]


def test_delete_with_condition_and_returning(ddb, range_table):
    ddb.put_item(TableName=range_table, Item={"pk": {"S": "d"}, "sk": {"N": "1"}, "v": {"N": "7"}})
    response = error_of(run, ddb, f"DELETE FROM \"{range_table}\" WHERE pk = 'd' AND sk = 1 AND v = 8")
    assert response["Error"]["Code"] == "ConditionalCheckFailedException"
    out = run(ddb, f"DELETE FROM \"{range_table}\" WHERE sk = 1 AND pk = 'd' AND v = 7 RETURNING ALL OLD *")
    assert out["Items"] == [{"pk": {"S": "d"}, "sk": {"N": "1"}, "v": {"N": "7"}}]
    assert run(ddb, f"DELETE FROM \"{range_table}\" WHERE pk = 'd' AND sk = 1")["Items"] == []


# --- errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("statement, message", [
    ("SELECT * FROM", NOT_WELL_FORMED + "Unexpected term"),
    ('SELECT * FROM "T" WHERE', NOT_WELL_FORMED + "Unexpected term"),
    ("SELECT * FROM \"T\" WHERE pk = 'a' foo", NOT_WELL_FORMED + "Unexpected token after expression"),
    ("SELECT * FROM \"T\" WHERE pk = 'a' AND",
     NOT_WELL_FORMED + "Missing right-hand side expression of infix operator"),
    ('SELECT * FROM "T" WHERE ORDER BY pk', NOT_WELL_FORMED + "Unexpected keyword"),
    ("DELETE FROM", NOT_WELL_FORMED + "Expected identifier for simple path"),
    ("SELECT * FROM \"T\" t WHERE pk = 'x'", "Aliasing is not supported"),
    ("CREATE TABLE x", NOT_WELL_FORMED + "Expected data manipulation"),
    ("SELECT * FROM \"T\" WHERE pk = 'it", NOT_WELL_FORMED),
])
def test_syntax_errors(ddb, statement, message):
    response = error_of(run, ddb, statement)
    assert response["Error"] == {"Code": "ValidationException", "Message": message}


def test_parameter_count_mismatch(ddb, hash_table):
    response = error_of(run, ddb, f"SELECT * FROM \"{hash_table}\" WHERE pk = ?")
    assert response["Error"]["Message"] == "Number of parameters in request and statement don't match."
    response = error_of(run, ddb, f"SELECT * FROM \"{hash_table}\" WHERE pk = 'a'", {"S": "x"})
    assert response["Error"]["Message"] == "Number of parameters in request and statement don't match."


def test_unknown_table(ddb):
    response = error_of(run, ddb, f"SELECT * FROM \"missing-{uuid.uuid4().hex[:8]}\"")
    assert response["Error"] == {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"}


# --- BatchExecuteStatement ------------------------------------------------------------------

def test_batch_writes_report_each_statement(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "there"}, "v": {"N": "1"}})
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "taken"}})
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "other"}, "v": {"N": "1"}})
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'new'}}"},
        {"Statement": f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'taken'}}"},
        {"Statement": f"UPDATE \"{hash_table}\" SET v = 5 WHERE pk = ? AND v = 2", "Parameters": [{"S": "u"}]},
        {"Statement": f"UPDATE \"{hash_table}\" SET w = 1 WHERE pk = 'there' AND v = 9",
         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
        {"Statement": f"DELETE FROM \"{hash_table}\" WHERE"},
        {"Statement": f"UPDATE \"{hash_table}\" SET v = 3 WHERE pk = 'other' RETURNING MODIFIED NEW *"},
    ], ReturnConsumedCapacity="TOTAL")["Responses"]
    assert out[0] == {"TableName": hash_table}
    assert out[1]["Error"] == {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}
    assert out[2]["Error"]["Code"] == "ConditionalCheckFailed"
    assert out[3]["Error"]["Item"] == {"pk": {"S": "there"}, "v": {"N": "1"}}
    assert out[4]["Error"] == {"Code": "ValidationError", "Message": NOT_WELL_FORMED + "Unexpected term"}
    assert out[5] == {"TableName": hash_table, "Item": {"v": {"N": "3"}}}
    assert "Item" in ddb.get_item(TableName=hash_table, Key={"pk": {"S": "new"}})


def test_batch_reads(ddb, filled):
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": f"SELECT v FROM \"{filled}\" WHERE pk = 'a' AND sk = 2"},
        {"Statement": f"SELECT * FROM \"{filled}\" WHERE pk = ? AND sk = ?", "Parameters": [{"S": "z"}, {"N": "1"}]},
        {"Statement": f"SELECT * FROM \"{filled}\" WHERE pk = 'a'"},
    ])["Responses"]
    assert out[0] == {"TableName": filled, "Item": {"v": {"N": "20"}}}
    assert out[1] == {"TableName": filled}
    assert out[2]["Error"] == {"Code": "ValidationError", "Message": (
        "Select statements within BatchExecuteStatement must specify the primary key in the where clause.")}
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": f"SELECT * FROM \"{filled}\" WHERE pk = 'a' AND sk = 1 AND v = 10"}])["Responses"]
    assert out[0]["Error"]["Code"] == "ValidationError"


def test_batch_rules(ddb, hash_table):
    response = error_of(ddb.batch_execute_statement, Statements=[
        {"Statement": f"SELECT * FROM \"{hash_table}\" WHERE pk = 'a'"},
        {"Statement": f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'b'}}"}])
    assert response["Error"]["Message"] == "Read and write requests together in the same batch is not supported."
    response = error_of(ddb.batch_execute_statement, Statements=[
        {"Statement": f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'b'}}"},
        {"Statement": f"DELETE FROM \"{hash_table}\" WHERE pk = 'b'"}])
    assert response["Error"]["Message"] == "Provided list of item keys contains duplicates"
    statements = [{"Statement": f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'k{i}'}}"} for i in range(26)]
    response = error_of(ddb.batch_execute_statement, Statements=statements)
    assert response["Error"]["Code"] == "ValidationException"


# --- ExecuteTransaction ------------------------------------------------------------------------

def test_transaction_all_or_nothing(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "exists"}, "v": {"N": "1"}})
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "other"}, "v": {"N": "1"}})
    response = error_of(ddb.execute_transaction, TransactStatements=[
        {"Statement": f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 't1'}}"},
        {"Statement": f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'exists'}}"},
        {"Statement": f"UPDATE \"{hash_table}\" SET v = 3 WHERE pk = 'other' AND v = 2",
         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
    ])
    assert response["Error"]["Code"] == "TransactionCanceledException"
    reasons = response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "DuplicateItem", "ConditionalCheckFailed"]
    assert reasons[1]["Message"] == "Duplicate primary key exists in table"
    assert reasons[2]["Item"] == {"pk": {"S": "other"}, "v": {"N": "1"}}
    assert "Item" not in ddb.get_item(TableName=hash_table, Key={"pk": {"S": "t1"}})

    out = ddb.execute_transaction(TransactStatements=[
        {"Statement": f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 't1'}}"},
        {"Statement": f"UPDATE \"{hash_table}\" SET v = v + 1 WHERE pk = 'exists'"},
        {"Statement": f"DELETE FROM \"{hash_table}\" WHERE pk = 'other'"},
    ], ReturnConsumedCapacity="TOTAL")
    assert out["Responses"] == []
    assert out["ConsumedCapacity"] == [{"TableName": hash_table, "CapacityUnits": 6.0, "WriteCapacityUnits": 6.0}]
    assert "Item" in ddb.get_item(TableName=hash_table, Key={"pk": {"S": "t1"}})
    assert ddb.get_item(TableName=hash_table, Key={"pk": {"S": "exists"}})["Item"]["v"] == {"N": "2"}
    assert "Item" not in ddb.get_item(TableName=hash_table, Key={"pk": {"S": "other"}})


def test_transaction_exists_check(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "guard"}, "open": {"BOOL": False}})
    response = error_of(ddb.execute_transaction, TransactStatements=[
        {"Statement": f"EXISTS(SELECT * FROM \"{hash_table}\" WHERE pk = 'guard' AND \"open\" = true)"},
        {"Statement": f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'x'}}"}])
    assert [r["Code"] for r in response["CancellationReasons"]] == ["ConditionalCheckFailed", "None"]
    ddb.execute_transaction(TransactStatements=[
        {"Statement": f"EXISTS(SELECT * FROM \"{hash_table}\" WHERE pk = 'guard' AND \"open\" = false)"},
        {"Statement": f"INSERT INTO \"{hash_table}\" VALUE {{'pk': 'x'}}"}])
    assert "Item" in ddb.get_item(TableName=hash_table, Key={"pk": {"S": "x"}})
    response = error_of(ddb.execute_transaction, TransactStatements=[
        {"Statement": f"EXISTS(SELECT * FROM \"{hash_table}\" WHERE pk = 'guard')"},
        {"Statement": f"DELETE FROM \"{hash_table}\" WHERE pk = 'x'"}])
    assert response["Error"]["Message"] == ("Validation failed in TransactStatements[0]: "
                                            "EXISTS() must contain a single item read with additional condition")


def test_transaction_reads_and_rules(ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "r"}, "v": {"N": "1"}})
    out = ddb.execute_transaction(TransactStatements=[
        {"Statement": f"SELECT v FROM \"{hash_table}\" WHERE pk = 'r'"},
        {"Statement": f"SELECT * FROM \"{hash_table}\" WHERE pk = 'none'"}])
    assert out["Responses"] == [{"Item": {"v": {"N": "1"}}}, {}]
    response = error_of(ddb.execute_transaction, TransactStatements=[
        {"Statement": f"SELECT * FROM \"{hash_table}\" WHERE pk = 'r'"},
        {"Statement": f"DELETE FROM \"{hash_table}\" WHERE pk = 'x'"}])
    assert response["Error"]["Message"] == (
        "ExecuteTransaction API does not support both read and write operations in the same request.")
    response = error_of(ddb.execute_transaction, TransactStatements=[
        {"Statement": f"SELECT * FROM \"{hash_table}\" WHERE"}])
    assert response["Error"]["Message"] == (
        "Validation failed in TransactStatements[0]: " + NOT_WELL_FORMED + "Unexpected term")
    response = error_of(ddb.execute_transaction, TransactStatements=[
        {"Statement": f"DELETE FROM \"{hash_table}\" WHERE pk = 'x'"},
        {"Statement": f"UPDATE \"{hash_table}\" SET a = 1 WHERE pk = 'x'"}])
    assert response["Error"]["Message"] == "Transaction request cannot include multiple operations on one item"


def test_transaction_idempotency_token(ddb, hash_table):
    token = uuid.uuid4().hex
    statements = [{"Statement": f"UPDATE \"{hash_table}\" SET n = if_not_exists(n, 0) + 1 WHERE pk = 'i'"}]
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "i"}})
    ddb.execute_transaction(TransactStatements=statements, ClientRequestToken=token)
    ddb.execute_transaction(TransactStatements=statements, ClientRequestToken=token)
    assert ddb.get_item(TableName=hash_table, Key={"pk": {"S": "i"}})["Item"]["n"] == {"N": "1"}
    response = error_of(ddb.execute_transaction, ClientRequestToken=token, TransactStatements=[
        {"Statement": f"DELETE FROM \"{hash_table}\" WHERE pk = 'i'"}])
    assert response["Error"]["Code"] == "IdempotentParameterMismatchException"
