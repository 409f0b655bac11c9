"""Hypothesis strategies for hostile input: JSON of any shape, attribute values
both valid and broken, expressions assembled from the grammar's own tokens
(so the parsers get deep, not just rejected at the first character), and
SigV4 headers built from fragments of real ones."""
from __future__ import annotations

import string

from hypothesis import strategies as st

# --- JSON ----------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=20)

# --- attribute values ------------------------------------------------------------

numbers = st.one_of(
    st.integers().map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.from_regex(r"[+-]?\d{0,45}(\.\d{0,45})?([eE][+-]?\d{1,25})?", fullmatch=True),
    st.sampled_from(["", "-", ".", "1e", "NaN", "Infinity", "1E+126", "9.9999999999999999999999999999999999999E+125",
                     "1E-130", "1E-131", "0.0000", "-0", "1" * 39, "0x10", " 1", "1 "]),
)
b64 = st.one_of(st.binary(max_size=12).map(lambda b: __import__("base64").b64encode(b).decode()),
                st.text(alphabet=string.ascii_letters + "+/=", max_size=10))
scalar_avs = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=12)),
    st.builds(lambda n: {"N": n}, numbers),
    st.builds(lambda b: {"B": b}, b64),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda s: {"SS": s}, st.lists(st.text(max_size=4), max_size=3)),
    st.builds(lambda s: {"NS": s}, st.lists(numbers, max_size=3)),
    st.builds(lambda s: {"BS": s}, st.lists(b64, max_size=3)),
)
attribute_values = st.recursive(
    scalar_avs,
    lambda children: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(children, max_size=3)),
        st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=4), children, max_size=3)),
    ),
    max_leaves=10)
# Values as a hostile client may send them: valid, mistyped, empty, doubled.
hostile_values = st.one_of(
    attribute_values,
    json_values,
    st.dictionaries(st.sampled_from(["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M", "X", ""]),
                    json_values, max_size=3),
)
items = st.dictionaries(st.sampled_from(["a", "b", "c", "pk", "sk", "list", "map", "n"]), attribute_values,
                        max_size=6)

# --- expressions ------------------------------------------------------------------

_WORDS = ["a", "b", "c", "pk", "sk", "list", "map", "n", "#n", "#m", "#bad", ":v", ":w", ":x", ":missing",
          "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE", "size", "attribute_exists",
          "attribute_not_exists", "attribute_type", "begins_with", "contains", "if_not_exists",
          "list_append", "=", "<>", "<", "<=", ">", ">=", "(", ")", "[", "]", ",", ".", "+", "-",
          "0", "1", "99999999999999999999", "[0]", "[-1]", "name", "status", "token", "é", "\x00", "\"",
          "'", ";", "$", "%", "\\", "\n"]
expression_text = st.one_of(
    st.lists(st.sampled_from(_WORDS), max_size=14).map(" ".join),
    st.lists(st.sampled_from(_WORDS), max_size=14).map("".join),
    st.text(max_size=40),
)
# Names as they come out of the shape layer (wireapi.shapes): strings or null, any key.
names_param = st.one_of(st.none(), st.dictionaries(st.sampled_from(["#n", "#m", "#bad", "n", "#", "#é"]),
                                                   st.one_of(st.text(max_size=6), st.none()), max_size=3))
values_param = st.one_of(st.none(), st.dictionaries(st.sampled_from([":v", ":w", ":x", "v", ":"]),
                                                    hostile_values, max_size=3))

# --- SigV4 ------------------------------------------------------------------------

_AUTH_PARTS = ["AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", "AWS4-", "Credential=", "SignedHeaders=", "Signature=",
               "AKIAEXAMPLE/20250102/us-east-1/dynamodb/aws4_request", "AKIA//", "/", "host;x-amz-date",
               "host", ";", ",", " ", "=", "deadbeef" * 8, "\u00e9", "\x00", "aws4_request", "20250102"]
auth_headers = st.one_of(st.lists(st.sampled_from(_AUTH_PARTS), max_size=12).map("".join), st.text(max_size=60))
amz_dates = st.one_of(st.sampled_from(["20250102T030405Z", "20250102T030405", "2025-01-02T03:04:05Z",
                                       "99991231T235959Z", "00000000T000000Z", "20250230T250000Z", ""]),
                      st.text(max_size=20))
header_values = st.one_of(st.text(max_size=30), auth_headers, amz_dates)
header_lists = st.lists(
    st.tuples(st.sampled_from([b"authorization", b"x-amz-date", b"date", b"host", b"x-amz-content-sha256",
                               b"x-amz-security-token", b"content-type", b"x-amz-target"]),
              header_values.map(lambda v: v.encode("utf-8", "surrogatepass"))),
    max_size=6)
query_strings = st.one_of(
    st.binary(max_size=40),
    st.lists(st.tuples(st.sampled_from(["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                                        "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token", "x"]),
                       header_values), max_size=7)
    .map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")),
)
