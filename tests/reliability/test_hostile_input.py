"""Property-based hostile input, in-process: every parser and validator the
request path runs either accepts its input or raises a DynamoDBError (which
the server answers with DynamoDB's 400). Anything else would be a 500."""
from __future__ import annotations

import gzip
import os
import zlib
from datetime import datetime, timezone

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wireapi import content_coding, shapes, sigv4, values
from wireapi.errors import DynamoDBError
from wireapi.expressions import (
    ExpressionAttributes, apply_update, compile_expressions, evaluate_condition, parse_condition,
    parse_key_condition, parse_projection, parse_update, project,
)

from . import strategies as S

# CI runs a bounded number of examples; EXTENDDB_HYPOTHESIS_EXAMPLES raises it for a long local hunt.
EXAMPLES = int(os.environ.get("EXTENDDB_HYPOTHESIS_EXAMPLES", "150"))
bounded = settings(max_examples=EXAMPLES, deadline=None, derandomize=False, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
DDB_OPERATIONS = sorted(shapes.operation_names("dynamodb"))
STREAM_OPERATIONS = sorted(shapes.operation_names("dynamodbstreams"))


def only_ddb_errors(fn, *args, **kwargs):
    """Run fn; a DynamoDBError is a fine answer, any other exception fails the test."""
    try:
        return fn(*args, **kwargs)
    except DynamoDBError as exc:
        assert exc.status in (400, 413), exc
        return None


# --- the JSON envelope and request shapes ------------------------------------------

@bounded
@given(st.binary(max_size=200))
def test_any_body_bytes_parse_or_serialization_error(body):
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        pass  # app.py answers SerializationException


@bounded
@given(st.sampled_from(DDB_OPERATIONS), st.dictionaries(
    st.sampled_from(["TableName", "Key", "Item", "Limit", "ExclusiveStartKey", "RequestItems", "TransactItems",
                     "KeySchema", "AttributeDefinitions", "ExpressionAttributeValues", "ReturnValues",
                     "ProvisionedThroughput", "GlobalSecondaryIndexes", "Statement", "Segment", "TotalSegments",
                     "Select", "ScanIndexForward", "Tags", "StreamSpecification", "x"]),
    S.json_values, max_size=6))
def test_request_shapes_reject_only_with_dynamodb_errors(operation, body):
    checked = only_ddb_errors(shapes.validate_request, "dynamodb", operation, body)
    if checked is not None:  # then the expressions, as the handlers compile them
        only_ddb_errors(compile_expressions, checked)


@bounded
@given(st.sampled_from(STREAM_OPERATIONS or ["DescribeStream"]), st.dictionaries(
    st.sampled_from(["StreamArn", "ShardId", "ShardIteratorType", "SequenceNumber", "ShardIterator", "Limit"]),
    S.json_values, max_size=4))
def test_stream_request_shapes(operation, body):
    only_ddb_errors(shapes.validate_request, "dynamodbstreams", operation, body)


@bounded
@given(st.sampled_from([b"gzip", b"deflate", b"identity", b"gzip,deflate", b"zstd", b""]),
       st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(gzip.compress),
                 st.binary(max_size=300).map(zlib.compress)))
def test_content_codings_decode_or_refuse_as_dynamodb_does(coding, body):
    """Refusals are DynamoDB's deliberate 500 (undecodable) or 413 (over 16 MB inflated)."""
    try:
        content_coding.decode_body(body, coding)
    except DynamoDBError as exc:
        assert exc.status in (500, 413)


def test_values_nested_past_any_recursion_limit_are_validation_errors():
    """Found while bounding nesting: 400 levels of L reached a RecursionError (a 500)."""
    deep = '{"L":[' * 500 + '{"S":"x"}' + "]}" * 500
    body = orjson.loads('{"TableName": "abc", "Item": {"pk": {"S": "k"}, "d": %s}}' % deep)
    with pytest.raises(DynamoDBError) as info:
        values.validate_item(shapes.validate_request("dynamodb", "PutItem", body)["Item"])
    assert info.value.status == 400


# --- attribute values ---------------------------------------------------------------

@bounded
@given(S.hostile_values)
def test_attribute_values(av):
    checked = only_ddb_errors(values.validate_value, av)
    if checked is not None:
        size = values.value_size(checked)
        assert size >= 0
        assert values.values_equal(checked, checked)
        values.compare_values(checked, checked)


@bounded
@given(st.one_of(S.items, st.dictionaries(st.text(max_size=4), S.hostile_values, max_size=4), S.json_values))
def test_items(item):
    checked = only_ddb_errors(values.validate_item, item)
    if checked is not None:
        only_ddb_errors(values.check_item_size, checked)


@bounded
@given(S.numbers, S.numbers)
def test_number_arithmetic(a, b):
    """ADD / SET a + b on numbers that passed validation (the only ones that reach arithmetic)."""
    a = only_ddb_errors(values.validate_value, {"N": a})
    b = only_ddb_errors(values.validate_value, {"N": b})
    if a is not None and b is not None:
        only_ddb_errors(values.add_numbers, a["N"], b["N"])
        only_ddb_errors(values.subtract_numbers, a["N"], b["N"])


# --- expressions: every grammar, then evaluation over items -----------------------------

def _parsed(parse, text, names, vals, *args):
    """parse(text, attrs, *args) with the request's attribute maps as ExpressionAttributes;
    None where either refuses them (with a DynamoDB error, the only kind allowed)."""
    attrs = only_ddb_errors(ExpressionAttributes, names, vals)
    return None if attrs is None else only_ddb_errors(parse, text, attrs, *args)


@bounded
@given(S.expression_text, S.names_param, S.values_param, S.items)
def test_condition_expressions(text, names, vals, item):
    parsed = _parsed(parse_condition, text, names, vals)
    if parsed is not None:
        only_ddb_errors(evaluate_condition, parsed, item)


@bounded
@given(S.expression_text, S.names_param, S.values_param, S.items)
def test_update_expressions(text, names, vals, item):
    plan = _parsed(parse_update, text, names, vals)
    if plan is not None:
        only_ddb_errors(apply_update, plan, item or None)


@bounded
@given(S.expression_text, S.names_param, S.items)
def test_projection_expressions(text, names, item):
    projection = _parsed(parse_projection, text, names, None)
    if projection is not None:
        project(item, projection)


@bounded
@given(S.expression_text, S.names_param, S.values_param,
       st.sampled_from([None, ("pk", "S"), ("n", "N")]), st.sampled_from([None, ("sk", "S"), ("n", "N")]))
def test_key_condition_expressions(text, names, vals, hash_key, range_key):
    _parsed(parse_key_condition, text, names, vals, *(() if hash_key is None else (hash_key, range_key)))


@bounded
@given(st.fixed_dictionaries({}, optional={
    "UpdateExpression": S.expression_text, "ConditionExpression": S.expression_text,
    "KeyConditionExpression": S.expression_text, "FilterExpression": S.expression_text,
    "ProjectionExpression": S.expression_text, "ExpressionAttributeNames": S.names_param,
    "ExpressionAttributeValues": S.values_param}))
def test_all_expressions_of_a_request(request_body):
    only_ddb_errors(compile_expressions, request_body)


# --- SigV4 headers ----------------------------------------------------------------

@bounded
@given(S.header_lists, S.query_strings, st.sampled_from(["POST", "GET"]), st.binary(max_size=30),
       st.sampled_from([b"/", b"/%zz", b"/a/../b", b"//", b"/%E9"]))
def test_sigv4_headers(headers, query, method, body, path):
    req = sigv4.SigV4Request(method, path, query, headers, body)
    info = only_ddb_errors(sigv4.parse_auth, req, NOW, 900)
    if info is not None:
        only_ddb_errors(sigv4.verify, info, req, "secret", NOW, 900)


@pytest.mark.parametrize("av", [{"SS": [None]}, {"SS": ["a", None]}, {"BS": [None]}, {"NS": [None]}])
def test_null_inside_a_set_is_a_validation_error(av):
    """Found by hypothesis: a JSON null inside a set passed validation and broke item_size (a 500)."""
    with pytest.raises(DynamoDBError) as info:
        values.validate_value(av)
    assert info.value.status == 400


@pytest.mark.parametrize("number, message", [
    ("8888E88888888888888888888888888888888888888888888", values.NUMBER_OVERFLOW),
    ("1e-99999999999999999999", values.NUMBER_UNDERFLOW),
    ("-3.5E+1234567890123456789012", values.NUMBER_OVERFLOW),
])
def test_number_with_an_exponent_past_decimal_range_is_a_validation_error(number, message):
    """Found by atheris (fuzz/ attribute_value): Decimal() raised InvalidOperation, a 500."""
    with pytest.raises(DynamoDBError) as info:
        values.validate_value({"NS": ["1", number]})
    assert info.value.message == message
    assert values.validate_value({"N": "0E99999999999999999999"}) == {"N": "0"}


def test_expression_regressions_found_by_fuzzing():
    """Expression texts that once raised something other than a DynamoDBError."""
    for text in REGRESSIONS:
        attrs = ExpressionAttributes(None, None)
        for parse in (parse_condition, parse_update, parse_projection, parse_key_condition):
            only_ddb_errors(parse, text, attrs)


REGRESSIONS: list[str] = []
