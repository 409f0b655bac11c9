"""Expressions: parsing, DynamoDB's exact error texts, evaluation, updates."""
from __future__ import annotations

import pytest

from wireapi.errors import ValidationException
from wireapi.expressions import (
    ExpressionAttributes, apply_update, check_key_not_updated, compile_expressions, evaluate_condition,
    parse_condition, parse_key_condition, parse_projection, parse_update, project, project_paths,
    validate_expression_params,
)


def attrs(values: dict | None = None, names: dict | None = None) -> ExpressionAttributes:
    return ExpressionAttributes(names or None, values or None)


def error_of(fn, *args) -> str:
    with pytest.raises(ValidationException) as info:
        fn(*args)
    return info.value.message


S = lambda s: {"S": s}  # noqa: E731
N = lambda n: {"N": str(n)}  # noqa: E731

ITEM = {
    "id": S("k"),
    "n": N(5),
    "s": S("hello"),
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "l": {"L": [S("x"), N(1), {"M": {"deep": S("d")}}]},
    "m": {"M": {"a": {"M": {"b": N(7)}}, "lst": {"L": [N(1), N(2), N(3)]}}},
    "b": {"B": "AQID"},
    "t": {"BOOL": True},
}


# --- syntax errors -------------------------------------------------------------

@pytest.mark.parametrize("text,token,near", [
    ("SET a = 3", "3", "= 3"),
    ("SET MyStr[ 3", "<EOF>", "3"),
    ("SET MyStr[3 )", ")", "3 )"),
    ("SET 2", "2", "SET 2"),
    ("SET )", ")", "SET )"),
    ("SET ) 3", ")", "SET ) 3"),
    ("SET MyStr[ 3 ", "<EOF>", "3 "),
    ("SET MyStr = (:_val", "<EOF>", ":_val"),
    ("SET MyStr = [:_val ", "[", "= [:_val"),
    ("SET MyStr = (:_val + (:val2", "<EOF>", ":val2"),
    ("SET MyStr = ):_val + :val2", ")", "= ):_val"),
    ("RESET NonExistent value", "RESET", "RESET NonExistent"),
    ("  RESET NonExistent value", "RESET", "  RESET NonExistent"),
    ("SET a [  [2] ]. b = 5", "[", "[  [2"),
    ("SET a [2 1]. b = 5", "1", "2 1]"),
    ("SET #a a = 5", "a", "#a a ="),
    ("SET MyStr = NoExist + + :_val ", "+", "+ + :_val"),
    ("REMOVE NoExist + ", "+", "NoExist + "),
    ("ADD attr val foobar", "val", "attr val foobar"),
    ("DELETE attr :val foobar", "foobar", ":val foobar"),
    ("SET path = VALUE 1", "1", "VALUE 1"),
    ("REMOVE if_not_exists(a,b)", "(", "if_not_exists(a"),
    ("SET a|", "|", "a|"),
    ("SET a = b + c + d", "+", "c + d"),
])
def test_update_syntax_errors(text: str, token: str, near: str) -> None:
    assert error_of(parse_update, text, attrs()) == \
        f'Invalid UpdateExpression: Syntax error; token: "{token}", near: "{near}"'


@pytest.mark.parametrize("text,token,near", [
    ("a = b)", ")", "b)"),
    ("(a = b", "<EOF>", "b"),
    ("a", "<EOF>", "a"),
    ("a = 5", "5", "= 5"),
    ("a BETWEEN :a", "<EOF>", ":a"),
    ("a = :b and", "<EOF>", "and"),
    ("a IN :b", ":b", "IN :b"),
    ("and = :b", "and", "and ="),
])
def test_condition_syntax_errors(text: str, token: str, near: str) -> None:
    assert error_of(parse_condition, text, attrs()) == \
        f'Invalid ConditionExpression: Syntax error; token: "{token}", near: "{near}"'


def test_empty_expression() -> None:
    assert error_of(parse_condition, "", attrs(), "FilterExpression") == \
        "Invalid FilterExpression: The expression can not be empty;"
    assert error_of(parse_update, "", attrs()) == "Invalid UpdateExpression: The expression can not be empty;"
    assert error_of(parse_projection, "", attrs()) == \
        "Invalid ProjectionExpression: The expression can not be empty;"


# --- condition parse-time errors -------------------------------------------------

V = {":v": S("x"), ":n": N(1), ":n2": N(2), ":t": S("S")}


@pytest.mark.parametrize("text,message", [
    ("name = :v", "Attribute name is a reserved keyword; reserved keyword: name"),
    ("#n = :v", "An expression attribute name used in the document path is not defined; attribute name: #n"),
    ("a = :x", "An expression attribute value used in expression is not defined; attribute value: :x"),
    ("((a = :v))", "The expression has redundant parentheses;"),
    ("((a)) = :v", "The expression has redundant parentheses;"),
    ("foo(a)", "Invalid function name; function: foo"),
    ("attribute_exists(a) = :v",
     "The function is not allowed to be used this way in an expression; function: attribute_exists"),
    ("size(a)", "The function is not allowed to be used this way in an expression; function: size"),
    ("a = a", "The first operand must be distinct from the remaining operands for this operator or function; "
              "operator: =, first operand: [a]"),
    ("begins_with(a, :n)",
     "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
    ("attribute_type(a, :v)",
     "Invalid attribute type name found; type: x, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"),
    ("attribute_type(a, b)", "Incorrect operand type for operator or function; operator or function: "
                             "attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}"),
    ("a BETWEEN :n2 AND :n", "The BETWEEN operator requires upper bound to be greater than or equal to lower "
                             "bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: "
                             "AttributeValue: {N:1}"),
    ("a BETWEEN :v AND :n", "The BETWEEN operator requires same data type for lower and upper bounds; "
                            "lower bound operand: AttributeValue: {S:x}, upper bound operand: AttributeValue: {N:1}"),
    ("size(a, b) = :n",
     "Incorrect number of operands for operator or function; operator or function: size, number of operands: 2"),
    ("attribute_exists(:v)", "Operator or function requires a document path; operator or function: attribute_exists"),
    ("size(:n) > :n", "Incorrect operand type for operator or function; operator or function: size, operand type: N"),
    # precedence: redundant parens before unknown function before reserved word ...
    ("name = :v AND foo(a)", "Invalid function name; function: foo"),
    ("name = :v AND ((a = :v))", "The expression has redundant parentheses;"),
    ("#undefined = :v AND name = :v", "Attribute name is a reserved keyword; reserved keyword: name"),
    # ... and per-condition errors go left to right
    ("size(a, b) = :n AND c = :nope",
     "Incorrect number of operands for operator or function; operator or function: size, number of operands: 2"),
    ("c = :nope AND size(a, b) = :n",
     "An expression attribute value used in expression is not defined; attribute value: :nope"),
])
def test_condition_errors(text: str, message: str) -> None:
    assert error_of(parse_condition, text, attrs(V)) == f"Invalid ConditionExpression: {message}"


def test_in_operand_limit() -> None:
    values = {f":v{i}": N(i) for i in range(101)}
    text = "a IN (" + ", ".join(values) + ")"
    assert error_of(parse_condition, text, attrs(values), "FilterExpression") == (
        "Invalid FilterExpression: The IN operator is provided with too many operands; number of operands: 101")


def test_errors_repeat_with_cached_parse() -> None:
    for _ in range(2):
        assert "attribute value: :v" in error_of(parse_condition, "a = :v", attrs({":w": N(1)}))
    assert evaluate_condition(parse_condition("a = :v", attrs({":v": N(1)})), {"a": N(1)})


# --- condition evaluation -------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("n = :five", True), ("n <> :five", False), ("absent <> :five", True), ("absent = :five", False),
    ("n > :four", True), ("n >= :five", True), ("n < :five", False), ("s > :five", False),
    ("n BETWEEN :four AND :five", True), ("s BETWEEN :four AND :five", False),
    ("n IN (:four, :five)", True), ("n IN (:four)", False),
    ("attribute_exists(m.a.b)", True), ("attribute_exists(m.a.c)", False), ("attribute_not_exists(nope)", True),
    ("attribute_exists(l[2].deep)", True), ("attribute_exists(l[3])", False),
    ("attribute_type(ss, :SS)", True), ("attribute_type(n, :SS)", False),
    ("begins_with(s, :he)", True), ("begins_with(n, :he)", False),
    ("contains(s, :ell)", True), ("contains(ss, :a)", True), ("contains(ss, :ell)", False),
    ("contains(ns, :one)", True), ("contains(l, :x)", True),
    ("size(s) = :five", True), ("size(ss) = :two", True), ("size(m) = :two", True), ("size(b) = :three", True),
    ("size(n) = :one", False),
    ("m.a.b = :seven", True), ("m.lst[1] = :two", True), ("l[0] = :x", True),
    ("NOT n = :five", False), ("n = :four OR n = :five", True), ("n = :five AND NOT s = :x", True),
    ("n = :four OR n = :five AND s = :x", False),  # AND binds tighter than OR
    ("(n = :four OR n = :five) AND s = :he", False),
    ("n = n", None),  # rejected: identical operands
])
def test_condition_evaluation(text: str, expected: bool | None) -> None:
    values = {":five": N(5), ":four": N(4), ":one": N(1), ":two": N(2), ":three": N(3), ":seven": N(7),
              ":SS": S("SS"), ":he": S("he"), ":ell": S("ell"), ":a": S("a"), ":x": S("x")}
    if expected is None:
        error_of(parse_condition, text, attrs(values))
        return
    used = {k: v for k, v in values.items() if k in text}
    assert evaluate_condition(parse_condition(text, attrs(used)), ITEM) is expected


def test_condition_without_item() -> None:
    cond = parse_condition("attribute_not_exists(id)", attrs())
    assert evaluate_condition(cond, None)
    assert not evaluate_condition(parse_condition("id = :v", attrs({":v": S("k")})), None)


def test_placeholders_in_paths() -> None:
    cond = parse_condition("#m.#a.b = :v", attrs({":v": N(7)}, {"#m": "m", "#a": "a"}))
    assert evaluate_condition(cond, ITEM)
    assert cond.path_heads == {"m"} and cond.nested_heads == {"m"}


# --- attributes and request-level checks --------------------------------------------

def test_attribute_maps() -> None:
    assert error_of(ExpressionAttributes, {}, None) == "ExpressionAttributeNames must not be empty"
    assert error_of(ExpressionAttributes, None, {}) == "ExpressionAttributeValues must not be empty"
    assert error_of(ExpressionAttributes, {"a": "b"}, None) == \
        'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'
    assert error_of(ExpressionAttributes, None, {"v": N(1)}) == \
        'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'
    assert error_of(ExpressionAttributes, None, {":v": {"N": "x"}}) == (
        "ExpressionAttributeValues contains invalid value: "
        "The parameter cannot be converted to a numeric value: x for key :v")
    assert error_of(ExpressionAttributes, None, {":v": {}}) == (
        "ExpressionAttributeValues contains invalid value: Supplied AttributeValue is empty, "
        "must contain exactly one of the supported datatypes for key :v")


def test_unused_placeholders() -> None:
    a = attrs({":v": N(1), ":w": N(2)}, {"#a": "a", "#b": "b"})
    parse_condition("#a = :v", a)
    assert error_of(a.check_unused) == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
    a = attrs({":v": N(1), ":w": N(2), ":x": N(3)})
    parse_condition("a = :v", a)
    assert error_of(a.check_unused) == \
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w, :x}"


def test_expression_params() -> None:
    fields = (("UpdateExpression", "ConditionExpression"), ("AttributeUpdates", "Expected"))
    assert error_of(validate_expression_params, {"ConditionExpression": "a = :v", "Expected": {}}, *fields) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}")
    assert error_of(validate_expression_params, {"ExpressionAttributeNames": {"#a": "a"}}, *fields) == \
        "ExpressionAttributeNames can only be specified when using expressions"
    assert error_of(validate_expression_params, {"ExpressionAttributeValues": {":a": N(1)}}, *fields) == (
        "ExpressionAttributeValues can only be specified when using expressions: "
        "UpdateExpression and ConditionExpression are null")
    assert error_of(validate_expression_params, {"ExpressionAttributeValues": {":a": N(1)}},
                    ("ConditionExpression",), ("Expected",)) == \
        "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"
    validate_expression_params({"ProjectionExpression": "a", "KeyConditions": {}},
                               ("ProjectionExpression", "FilterExpression", "KeyConditionExpression"),
                               ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"))


def test_compile_expressions_order() -> None:
    req = {"UpdateExpression": "SET a = :nope", "ConditionExpression": "name = :v",
           "ExpressionAttributeValues": {":v": N(1)}}
    assert error_of(compile_expressions, req) == \
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; " \
        "attribute value: :nope"
    req = {"UpdateExpression": "SET a = :v", "ProjectionExpression": "#p",
           "ExpressionAttributeValues": {":v": N(1), ":w": N(1)}, "ExpressionAttributeNames": {"#p": "p", "#q": "q"}}
    assert error_of(compile_expressions, req) == \
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#q}"


# --- update expressions -------------------------------------------------------------

@pytest.mark.parametrize("text,message", [
    ("SET a = :v, a.b = :v", "Two document paths overlap with each other; must remove or rewrite one of these "
                             "paths; path one: [a], path two: [a, b]"),
    ("SET a[0] = :v, a.b = :v", "Two document paths conflict with each other; must remove or rewrite one of "
                                "these paths; path one: [a, [0]], path two: [a, b]"),
    ("SET a = :v REMOVE a", "Two document paths overlap with each other; must remove or rewrite one of these "
                            "paths; path one: [a], path two: [a]"),
    ("SET a = :v SET b = :v", 'The "SET" section can only be used once in an update expression;'),
    ("ADD a :v", "Incorrect operand type for operator or function; operator: ADD, operand type: STRING"),
    ("DELETE a :n", "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"),
    ("SET a = list_append(:v, a)",
     "Incorrect operand type for operator or function; operator or function: list_append, operand type: S"),
    ("SET a = :v + a", "Incorrect operand type for operator or function; operator or function: +, operand type: S"),
    ("SET a = foo(a)", "Invalid function name; function: foo"),
    ("SET a = if_not_exists(:v, a)",
     "Operator or function requires a document path; operator or function: if_not_exists"),
    ("SET a = if_not_exists(a)",
     "Incorrect number of operands for operator or function; operator or function: if_not_exists, "
     "number of operands: 1"),
    ("SET name = :v", "Attribute name is a reserved keyword; reserved keyword: name"),
    ("SET #x = :v", "An expression attribute name used in the document path is not defined; attribute name: #x"),
    ("SET a = :nope", "An expression attribute value used in expression is not defined; attribute value: :nope"),
    # precedence: reserved word beats duplicate section; undefined name beats undefined value
    ("SET a = :v SET name = :v", "Attribute name is a reserved keyword; reserved keyword: name"),
    ("SET a = :nope, #x = :v", "An expression attribute name used in the document path is not defined; "
                               "attribute name: #x"),
])
def test_update_errors(text: str, message: str) -> None:
    assert error_of(parse_update, text, attrs({":v": S("x"), ":n": N(1)})) == f"Invalid UpdateExpression: {message}"


def run_update(text: str, values: dict | None = None, item: dict | None = ITEM, names: dict | None = None):
    return apply_update(parse_update(text, attrs(values, names)), item)


def test_set_and_arithmetic() -> None:
    result = run_update("SET n = n + :one, s2 = :v, m.a.c = if_not_exists(m.a.c, :zero) - :one",
                        {":one": N(1), ":v": S("new"), ":zero": N(0)})
    assert result.item["n"] == N(6)
    assert result.item["s2"] == S("new")
    assert result.item["m"]["M"]["a"]["M"]["c"] == N(-1)
    assert ITEM["n"] == N(5) and "c" not in ITEM["m"]["M"]["a"]["M"]  # input untouched
    assert result.updated_paths == [("n",), ("s2",), ("m", "a", "c")]


def test_values_come_from_the_old_item() -> None:
    result = run_update("SET a = b, b = a", item={"a": N(1), "b": N(2)})
    assert result.item == {"a": N(2), "b": N(1)}


def test_list_updates() -> None:
    result = run_update("SET l[0] = :v, l[10] = :w, l[7] = :v REMOVE l[1], l[5]", {":v": S("v"), ":w": S("w")})
    assert result.item["l"]["L"] == [S("v"), {"M": {"deep": S("d")}}, S("v"), S("w")]
    result = run_update("SET m.lst = list_append(m.lst, :more)", {":more": {"L": [N(4)]}})
    assert result.item["m"]["M"]["lst"]["L"] == [N(1), N(2), N(3), N(4)]
    result = run_update("REMOVE m.lst[0], m.lst[2]")
    assert result.item["m"]["M"]["lst"]["L"] == [N(2)]


def test_add_and_delete() -> None:
    result = run_update("ADD ss :more, ns :one, cnt :one", {":more": {"SS": ["c", "a"]}, ":one": N(1)},
                        item={"ss": {"SS": ["a", "b"]}, "ns": N(1)})
    assert result.item == {"ss": {"SS": ["a", "b", "c"]}, "ns": N(2), "cnt": N(1)}
    result = run_update("DELETE ss :gone", {":gone": {"SS": ["a", "b"]}}, item={"ss": {"SS": ["a", "b"]}})
    assert result.item == {}
    result = run_update("DELETE ss :gone", {":gone": {"SS": ["a"]}}, item={"ss": {"SS": ["a", "b"]}})
    assert result.item == {"ss": {"SS": ["b"]}}
    result = run_update("DELETE nothing :gone", {":gone": {"SS": ["a"]}}, item=None)
    assert result.item == {}


@pytest.mark.parametrize("text,message", [
    ("SET x = nope", "The provided expression refers to an attribute that does not exist in the item"),
    ("SET x = s + :one", "An operand in the update expression has an incorrect data type"),
    ("SET x = list_append(s, :l)", "An operand in the update expression has an incorrect data type"),
    ("ADD s :one", "An operand in the update expression has an incorrect data type"),
    ("ADD ss :ns", "An operand in the update expression has an incorrect data type"),
    ("DELETE ss :ns", "An operand in the update expression has an incorrect data type"),
    ("SET nope.x = :one", "The document path provided in the update expression is invalid for update"),
    ("SET s.x = :one", "The document path provided in the update expression is invalid for update"),
    ("SET m[0] = :one", "The document path provided in the update expression is invalid for update"),
    ("SET n = n + :big", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
])
def test_apply_errors(text: str, message: str) -> None:
    values = {":one": N(1), ":l": {"L": []}, ":ns": {"NS": ["1"]}, ":big": N("9.9E+125")}
    used = {k: v for k, v in values.items() if k in text}
    item = dict(ITEM, n=N("9.9E+125"))
    assert error_of(run_update, text, used, item) == message


def test_key_attributes_cannot_be_updated() -> None:
    plan = parse_update("SET extra = :v, id = :v", attrs({":v": S("x")}))
    assert error_of(check_key_not_updated, plan, ("id", "sk")) == \
        "One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key"
    check_key_not_updated(parse_update("SET extra = :v", attrs({":v": S("x")})), ("id",))


# --- projection -------------------------------------------------------------------

def test_projection() -> None:
    proj = parse_projection("m.lst[2], m.lst[0], n, nope.z, l[2].deep", attrs())
    assert project(ITEM, proj) == {
        "m": {"M": {"lst": {"L": [N(1), N(3)]}}},
        "n": N(5),
        "l": {"L": [{"M": {"deep": S("d")}}]},
    }
    assert project_paths(ITEM, [("s",), ("m", "a", "b")]) == {"s": S("hello"), "m": {"M": {"a": {"M": {"b": N(7)}}}}}


@pytest.mark.parametrize("text,message", [
    ("a, a.b", "Two document paths overlap with each other; must remove or rewrite one of these paths; "
               "path one: [a], path two: [a, b]"),
    ("a[0], a.b", "Two document paths conflict with each other; must remove or rewrite one of these paths; "
                  "path one: [a, [0]], path two: [a, b]"),
    ("a, a", "Two document paths overlap with each other; must remove or rewrite one of these paths; "
             "path one: [a], path two: [a]"),
    ("#a", "An expression attribute name used in the document path is not defined; attribute name: #a"),
    ("a, name", "Attribute name is a reserved keyword; reserved keyword: name"),
])
def test_projection_errors(text: str, message: str) -> None:
    assert error_of(parse_projection, text, attrs()) == f"Invalid ProjectionExpression: {message}"


# --- key conditions ---------------------------------------------------------------

KV = {":h": S("k"), ":r": S("x"), ":r2": S("y"), ":n": N(1)}


def key(text: str, *schema):
    return parse_key_condition(text, attrs({k: v for k, v in KV.items() if k in text}), *schema)


def test_key_condition_query() -> None:
    q = key("id = :h AND begins_with(sk, :r)", ("id", "S"), ("sk", "S"))
    assert (q.hash_value, q.range_operator, q.range_values) == (S("k"), "BEGINS_WITH", (S("x"),))
    q = key(":r < sk AND :h = id", ("id", "S"), ("sk", "S"))
    assert (q.range_operator, q.range_values) == ("GT", (S("x"),))
    assert q.matches_range(S("y")) and not q.matches_range(S("x"))
    q = key("id = :h AND sk BETWEEN :r AND :r2", ("id", "S"), ("sk", "S"))
    assert q.matches_range(S("xa")) and not q.matches_range(S("z"))
    assert key("id = :h", "id").range_operator is None


@pytest.mark.parametrize("text,schema,message", [
    ("id = :h OR sk = :r", (), "Invalid operator used in KeyConditionExpression: OR"),
    ("id <> :h", (), "Invalid operator used in KeyConditionExpression: <>"),
    ("id IN (:h)", (), "Invalid operator used in KeyConditionExpression: IN"),
    ("attribute_exists(id)", (), "Invalid operator used in KeyConditionExpression: attribute_exists"),
    ("size(id) = :n", (), "KeyConditionExpressions cannot contain nested operations"),
    ("id.x = :h", (), "KeyConditionExpressions cannot have conditions on nested attributes"),
    ("id = sk", (), "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
    (":h = :r", (), "Invalid condition in KeyConditionExpression: No key attribute specified"),
    ("id = :h AND id = :r", (), "KeyConditionExpressions must only contain one condition per key"),
    # Up to 8 conditions parse (multi-attribute GSI keys); a two-attribute schema takes 2.
    ("a = :h AND b = :r AND c = :r2", (("a", "S"), ("b", "S")), "Conditions can be of length 1 or 2 only"),
    (" AND ".join(f"{n} = :h" for n in "abcdefghi"), (), "Conditions can be of length 1 or 2 only"),
    ("sk = :r", (("id", "S"), ("sk", "S")), "Query condition missed key schema element: id"),
    ("id = :h AND extra = :r", (("id", "S"), ("sk", "S")), "Query condition missed key schema element: sk"),
    ("id = :h AND sk = :r", (("id", "S"),), "Query key condition not supported"),
    ("id > :h", (("id", "S"),), "Query key condition not supported"),
    ("id = :n", (("id", "S"),),
     "One or more parameter values were invalid: Condition parameter type does not match schema type"),
])
def test_key_condition_errors(text: str, schema: tuple, message: str) -> None:
    assert error_of(key, text, *schema) == message
