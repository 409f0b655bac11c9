"""Fuzz targets: one per grammar or input the request path parses.

Each target takes the fuzzer's bytes, turns them into the input its parser
takes, and lets only wireapi.errors.DynamoDBError escape as a rejection; any
other exception is a crash (it would be a 500 on the wire). The same targets
run under atheris (fuzz/run.py) and under pytest (tests/reliability/test_fuzz.py).
"""
from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable
from datetime import datetime, timezone

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extenddb_site.settings")
django.setup()

import orjson  # noqa: E402

from wireapi import content_coding, shapes, sigv4, values  # noqa: E402
from wireapi.errors import DynamoDBError  # noqa: E402
from wireapi.expressions import (  # noqa: E402
    ExpressionAttributes, apply_update, compile_expressions, evaluate_condition, parse_condition,
    parse_key_condition, parse_projection, parse_update, project,
)

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
ITEM = {"a": {"S": "x"}, "n": {"N": "5"}, "l": {"L": [{"S": "y"}, {"N": "1"}]}, "m": {"M": {"b": {"BOOL": True}}},
        "ss": {"SS": ["p", "q"]}, "pk": {"S": "k"}}
NAMES = {"#a": "a", "#n": "n", "#m": "m", "#k": "pk"}
VALUES = {":s": {"S": "x"}, ":n": {"N": "1"}, ":l": {"L": [{"S": "z"}]}, ":ss": {"SS": ["r"]}}


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _attrs(text: str) -> ExpressionAttributes:
    """Only the placeholders the text uses, so the unused-placeholder check does not end every run."""
    return ExpressionAttributes({k: v for k, v in NAMES.items() if k in text} or None,
                                {k: v for k, v in VALUES.items() if k in text} or None)


def _guard(fn: Callable[[], object]) -> None:
    try:
        fn()
    except DynamoDBError:
        pass


def condition(data: bytes) -> None:
    text = _text(data)

    def run():
        parsed = parse_condition(text, _attrs(text))
        evaluate_condition(parsed, ITEM)
    _guard(run)


def update(data: bytes) -> None:
    text = _text(data)

    def run():
        apply_update(parse_update(text, _attrs(text)), dict(ITEM))
    _guard(run)


def projection(data: bytes) -> None:
    text = _text(data)

    def run():
        project(ITEM, parse_projection(text, ExpressionAttributes(
            {k: v for k, v in NAMES.items() if k in text} or None, None)))
    _guard(run)


def key_condition(data: bytes) -> None:
    text = _text(data)
    _guard(lambda: parse_key_condition(text, _attrs(text), ("pk", "S"), ("n", "N")))


def attribute_value(data: bytes) -> None:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return

    def run():
        checked = values.validate_item(value) if isinstance(value, dict) and "S" not in value else \
            {"v": values.validate_value(value)}
        values.check_item_size(checked)
        for av in checked.values():
            values.compare_values(av, av)
    _guard(run)


def envelope(data: bytes) -> None:
    """A JSON body for an operation named by its first byte: shapes, then expressions."""
    if not data:
        return
    operations = sorted(shapes.operation_names("dynamodb"))
    operation = operations[data[0] % len(operations)]
    try:
        body = orjson.loads(data[1:])
    except orjson.JSONDecodeError:
        return
    if not isinstance(body, dict):
        return

    def run():
        checked = shapes.validate_request("dynamodb", operation, body)
        compile_expressions(checked)
    _guard(run)


def sigv4_headers(data: bytes) -> None:
    """Header lines 'name: value' and a query string, as a client could send them."""
    head, _, query = data.partition(b"\n\n")
    headers = []
    for line in head.split(b"\n"):
        name, _, value = line.partition(b":")
        headers.append((name.strip().lower(), value.strip()))
    request = sigv4.SigV4Request("POST", b"/", query, headers, b"{}")

    def run():
        info = sigv4.parse_auth(request, NOW, 900)
        sigv4.verify(info, request, "secret", NOW, 900)
    _guard(run)


_CODINGS = [b"gzip", b"deflate", b"identity", b"gzip, gzip", b"x-gzip", b"br", b""]


def compressed_body(data: bytes) -> None:
    """A request body with a Content-Encoding named by its first byte: decoded (at most
    16 MB, however well it compresses), then parsed as a request. The fuzzer's bytes are
    also tried compressed, so mutation reaches past the decompressor."""
    if not data:
        return
    coding = _CODINGS[data[0] % len(_CODINGS)]
    for body in (data[1:], zlib.compress(data[1:]), gzip.compress(data[1:], mtime=0)):
        def run(body: bytes = body) -> None:
            decoded = content_coding.decode_body(body, coding)
            parsed = orjson.loads(decoded)
            if isinstance(parsed, dict):
                compile_expressions(shapes.validate_request("dynamodb", "PutItem", parsed))
        try:
            _guard(run)
        except orjson.JSONDecodeError:
            pass


TARGETS: dict[str, Callable[[bytes], None]] = {
    "condition": condition, "update": update, "projection": projection, "key_condition": key_condition,
    "attribute_value": attribute_value, "envelope": envelope, "sigv4": sigv4_headers,
    "compressed_body": compressed_body,
}

# Seeds: a few valid inputs per target, so mutation starts inside the grammar.
SEEDS: dict[str, list[bytes]] = {
    "condition": [b"#a = :s AND attribute_exists(#n)", b"size(#m) > :n OR NOT begins_with(#a, :s)",
                  b"#n BETWEEN :n AND :n", b"#a IN (:s, :s)", b"contains(l, :s) AND l[0] <> :s",
                  # At and past the limits: 4 KB, nesting, document path depth.
                  b" OR ".join([b"#a = :s"] * 400), b"(" * 150 + b"#a = :s" + b")" * 150, b"NOT " * 200 + b"#a = :s",
                  b"size(" * 130 + b"l" + b")" * 130 + b" = :n", b"l" + b"[0]" * 40 + b" = :s"],
    "update": [b"SET #a = :s, #n = #n + :n REMOVE m.b", b"ADD ss :ss DELETE ss :ss",
               b"SET l = list_append(l, :l), x = if_not_exists(x, :n)"],
    "projection": [b"#a, l[1], m.b", b"a.b.c[3][4], #n", b",".join(b"a%d" % i for i in range(900)),
                   b"m" + b".b" * 32, b"a, a.b, a[0], b"],
    "key_condition": [b"#k = :s AND #n BETWEEN :n AND :n", b"pk = :s AND begins_with(n, :s)"],
    "attribute_value": [b'{"S": "x"}', b'{"N": "1e10"}', b'{"L": [{"SS": ["a"]}, {"M": {"b": {"NULL": true}}}]}',
                        b'{"a": {"BS": ["AQ=="]}, "b": {"NS": ["1", "2"]}}',
                        b'{"L":[' * 33 + b'{"S":"x"}' + b"]}" * 33, b'{"M":{"m":' * 300 + b'{"N":"1"}' + b"}}" * 300],
    "envelope": [b'\x05{"TableName": "abc", "Key": {"a": {"S": "x"}}, "ProjectionExpression": "a"}',
                 b'\x10{"TableName": "abc", "KeyConditionExpression": "a = :v", '
                 b'"ExpressionAttributeValues": {":v": {"S": "x"}}}'],
    "compressed_body": [b"\x00" + b'{"TableName": "abc", "Item": {"a": {"S": "x"}}}',
                        b"\x01" + b'{"TableName": "abc", "Item": {"a": {"L": []}}, "ConditionExpression": "a = :v", '
                        b'"ExpressionAttributeValues": {":v": {"S": "x"}}}',
                        b"\x05" + gzip.compress(b'{"TableName": "abc"}', mtime=0)],
    "sigv4": [b"authorization: AWS4-HMAC-SHA256 Credential=AKIA/20250102/us-east-1/dynamodb/aws4_request, "
              b"SignedHeaders=host;x-amz-date, Signature=" + b"0" * 64 + b"\nx-amz-date: 20250102T030405Z\nhost: h",
              b"host: h\n\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20250102%2Fus-east-1%2F"
              b"dynamodb%2Faws4_request&X-Amz-Date=20250102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
              b"&X-Amz-Signature=00"],
}
