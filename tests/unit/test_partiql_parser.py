"""PartiQL parsing, DynamoDB's syntax-error texts, translation to expressions, tables_of."""
from __future__ import annotations

import pytest

from wireapi import expressions
from wireapi.errors import ValidationException
from wireapi.partiql import ast, parse, statement_kind, tables_of
from wireapi.partiql.translate import Binder, split_key

NWF = "Statement wasn't well formed, can't be processed: "


def error_of(fn, *args) -> str:
    with pytest.raises(ValidationException) as info:
        fn(*args)
    return info.value.message


def test_select_tree():
    stmt, count = parse('select a, "b".c[2], d[\'k\'] FROM "T"."I" where pk = ? and NOT x IS NOT MISSING '
                        "ORDER BY sk DESC;")
    assert count == 1
    assert stmt.target == ast.Target("T", "I")
    assert stmt.projection == (ast.Path(("a",)), ast.Path(("b", "c", 2)), ast.Path(("d", "k")))
    assert stmt.order_by == (ast.Path(("sk",)), False)
    assert stmt.where == ast.Binary("AND", ast.Binary("=", ast.Path(("pk",)), ast.Param(0)),
                                    ast.Not(ast.Is(ast.Path(("x",)), "MISSING", True)))


def test_literals():
    stmt, count = parse("INSERT INTO t VALUE {'s': 'it''s', 'n': -1.5e3, 'b': true, 'z': null, "
                        "'l': [1, ?], 'ss': <<'a', 'b'>>, 'm': {'x': {}}}")
    assert count == 1
    binder = Binder([{"S": "p"}])
    assert binder.constant(stmt.item) == {"M": {
        "s": {"S": "it's"}, "n": {"N": "-1500"}, "b": {"BOOL": True}, "z": {"NULL": True},
        "l": {"L": [{"N": "1"}, {"S": "p"}]}, "ss": {"SS": ["a", "b"]}, "m": {"M": {"x": {"M": {}}}}}}


def test_update_and_delete_trees():
    stmt, _ = parse("UPDATE t SET a = a + 1 SET s = set_add(s, <<1>>) REMOVE b, c[0] WHERE pk = 'x' "
                    "RETURNING MODIFIED NEW *")
    assert stmt.returning == "MODIFIED NEW"
    assert [a.value is None for a in stmt.assignments] == [False, False, True, True]
    binder = Binder([])
    assert binder.update_expression(stmt.assignments) == "SET #n0 = #n0 + :v0 REMOVE #n2, #n3[0] ADD #n1 :v1"
    stmt, _ = parse("DELETE FROM t WHERE pk = 'x' AND sk = 2 AND v > 1 RETURNING ALL OLD *")
    binder = Binder([])
    key, rest = split_key(stmt.where, ("pk", "sk"), binder)
    assert key == {"pk": {"S": "x"}, "sk": {"N": "2"}}
    assert rest == ast.Binary(">", ast.Path(("v",)), ast.Lit({"N": "1"}))


@pytest.mark.parametrize("statement, detail", [
    ("SELECT * FROM", "Unexpected term"),
    ("SELECT * FROM t WHERE", "Unexpected term"),
    ("SELECT * FROM t WHERE NOT", "Unexpected term"),
    ("SELECT * FROM t WHERE (", "Unexpected term"),
    ("SELECT * FROM t WHERE pk = 1 foo", "Unexpected token after expression"),
    ("SELECT * FROM t WHERE pk = 1 e5", "Unexpected token after expression"),
    ("SELECT * FROM t WHERE pk = 1)", "Unexpected token after expression"),
    ("SELECT * FROM t ORDER BY pk WHERE pk = 1", "Unexpected token after expression"),
    ("DELETE FROM t WHERE pk = 1 ORDER BY pk", "Unexpected token after expression"),
    ("INSERT INTO t x VALUE {'pk': 1}", "Unexpected token after expression"),
    ("SELECT * FROM t WHERE pk = 'a' AND", "Missing right-hand side expression of infix operator"),
    ("SELECT * FROM t WHERE pk = 'a' OR", "Missing right-hand side expression of infix operator"),
    ("SELECT * FROM t WHERE ORDER BY pk", "Unexpected keyword"),
    ("SELECT * FROM t WHERE IS NULL", "Unexpected operator"),
    ("SELECT * FROM t WHERE pk = LIKE", "Unexpected operator"),
    ("SELECT * FROM t WHERE x IS FOO", "Expected type name"),
    ("DELETE FROM", "Expected identifier for simple path"),
    ("DELETE FROM;", "Expected identifier for simple path"),
    ("DELETE FROM WHERE pk = 'a'", "Expected identifier for simple path"),
    ("EXPLAIN SELECT * FROM t", "Expected data manipulation"),
    ("SELECT * FROM t WHERE pk = 1 # note", ""),
    ("SELECT * FROM t WHERE pk = 'open", ""),
])
def test_syntax_error_texts(statement, detail):
    assert error_of(parse, statement) == NWF + detail


@pytest.mark.parametrize("statement", ["SELECT * FROM t x", "SELECT * FROM t AS x WHERE pk = 1",
                                       "UPDATE t x SET a = 1 WHERE pk = 1", "DELETE FROM t x WHERE pk = 1"])
def test_aliases_are_refused(statement):
    assert error_of(parse, statement) == "Aliasing is not supported"


def test_where_translates_to_a_condition_expression():
    stmt, _ = parse("SELECT * FROM t WHERE (a = 1 OR b.c[0] <> 'x') AND d BETWEEN 1 AND ? AND e IN [1, 2] "
                    "AND begins_with(f, 'p') AND size(g) > 2 AND h IS NULL AND i = MISSING")
    binder = Binder([{"N": "9"}])
    text = binder.condition(stmt.where)
    condition = expressions.parse_condition(text, binder.attributes(), "FilterExpression")
    item = {"a": {"N": "1"}, "d": {"N": "3"}, "e": {"N": "2"}, "f": {"S": "pq"}, "g": {"S": "abc"}}
    assert expressions.evaluate_condition(condition, item)
    assert not expressions.evaluate_condition(condition, dict(item, i={"S": "there"}))
    assert not expressions.evaluate_condition(condition, dict(item, h={"S": "not null"}))
    assert expressions.evaluate_condition(condition, dict(item, h={"NULL": True}))


def test_writes_need_every_key_attribute():
    stmt, _ = parse("UPDATE t SET a = 1 WHERE pk = 'x' AND a = 2")
    assert error_of(split_key, stmt.where, ("pk", "sk"), Binder([])) == (
        "Where clause does not contain a mandatory equality on all key attributes")


def test_from_first_update():
    stmt, count = parse("from \"T\" where pk = ? and a = 1 set c = ? remove b RETURNING ALL NEW *")
    assert count == 2 and isinstance(stmt, ast.Update) and stmt.returning == "ALL NEW"
    assert [a.path.steps for a in stmt.assignments] == [("c",), ("b",)]
    assert error_of(parse, "FROM t SET c = 1 WHERE pk = 'x'") == NWF + "Unexpected token after expression"


def test_tables_of():
    assert tables_of('SELECT * FROM "Orders" WHERE pk = 1') == ["Orders"]
    assert tables_of('SELECT * FROM "Orders"."ByDate"') == ["Orders/index/ByDate"]
    assert tables_of("INSERT INTO Orders VALUE {'pk': 1}") == ["Orders"]
    assert tables_of('EXISTS(SELECT * FROM "T" WHERE pk = 1)') == ["T"]
    assert error_of(tables_of, "SELECT * FROM") == NWF + "Unexpected term"


def test_statement_kind():
    assert statement_kind("select * from t") == "SELECT"
    assert statement_kind("FROM t WHERE pk = 1 SET a = 1") == "UPDATE"
    assert statement_kind("EXISTS(SELECT * FROM t WHERE pk = 1 AND a = 1)") == "EXISTS"
    assert statement_kind("delete from t where pk = 1") == "DELETE"


def test_numbers_beyond_32_bit_exponents():
    from wireapi.partiql.translate import check_parameter_numbers

    for text in ("1e2147483648", "1.5e-2147483647", "1e99999999999"):
        stmt, _ = parse(f"SELECT * FROM t WHERE pk = {text}")
        assert error_of(Binder([]).condition, stmt.where) == NWF
    assert error_of(check_parameter_numbers, {"L": [{"N": "1"}, {"M": {"x": {"N": "-1e99999999999"}}}]}) == (
        "The parameter cannot be converted to a numeric value: -1e99999999999")
    assert error_of(check_parameter_numbers, {"NS": ["1", "1e-2147483649"]}).endswith(": 1e-2147483649")
    check_parameter_numbers({"N": "1e2147483647"})  # converts; the range check is values.py's
