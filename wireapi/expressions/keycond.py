"""KeyConditionExpression (and legacy KeyConditions) for Query. Depends on
legacy.py for the comparisons both share; legacy.py does not import this.

Three stages, as DynamoDB: the text is parsed and checked like any condition;
its shape is reduced to at most one ComparisonOperator per attribute (request
validation); finally the attributes are matched against the key schema once the
table or index is known (`KeyCondition.for_schema`).
"""
from __future__ import annotations

from dataclasses import dataclass

from wireapi.errors import MAX_KEY_PART_ATTRIBUTES, ValidationException
from wireapi.keys import KeySchema

from .ast import And, Between, Compare, Condition, Func, In, Literal, Not, Or, Path
from .attributes import ExpressionAttributes
from .conditions import parse_condition
from .legacy import check_condition_args, compare_legacy, validate_conditions

_OPERATORS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NOT_INDEXABLE = ("NULL", "NOT_NULL", "NE", "CONTAINS", "NOT_CONTAINS", "IN")
_INVALID = "One or more parameter values were invalid: "
MAX_KEY_CONDITIONS = 2 * MAX_KEY_PART_ATTRIBUTES


@dataclass(frozen=True, slots=True)
class KeyQuery:
    """What Query needs: the partition value and an optional sort-key test.

    On a multi-attribute key, `hash_value` is the first HASH attribute's value
    and `more_hash` the others'; `range_prefix` holds the equalities on the
    leading RANGE attributes and `range_name` is the last RANGE attribute the
    condition names, with its test."""
    hash_name: str
    hash_value: dict
    range_name: str | None = None
    range_operator: str | None = None  # EQ LT LE GT GE BETWEEN BEGINS_WITH
    range_values: tuple[dict, ...] = ()
    more_hash: tuple[tuple[str, dict], ...] = ()
    range_prefix: tuple[tuple[str, dict], ...] = ()

    @property
    def hash_values(self) -> tuple[dict, ...]:
        return (self.hash_value,) + tuple(value for _, value in self.more_hash)

    def matches_range(self, value: dict | None) -> bool:
        if self.range_operator is None:
            return True
        if value is None:
            return False
        return compare_legacy(self.range_operator, value, list(self.range_values))

    def matches_start(self, start: dict) -> bool:
        """Whether a start key (already checked to carry the key) meets the sort-key conditions."""
        from wireapi.values import values_equal

        if any(not values_equal(start[name], value) for name, value in self.range_prefix):
            return False
        return self.matches_range(start.get(self.range_name or ""))

    def same_partition(self, start: dict) -> bool:
        from wireapi.values import values_equal

        return all(values_equal(start[name], value)
                   for name, value in ((self.hash_name, self.hash_value),) + self.more_hash)


@dataclass(frozen=True, slots=True)
class KeyCondition:
    """attribute name -> (ComparisonOperator, values), in the order written."""
    conditions: dict[str, tuple[str, tuple[dict, ...]]]

    def for_schema(self, hash_key: str | tuple[str, str],
                   range_key: str | tuple[str, str] | None = None) -> KeyQuery:
        """Match against a key schema; keys are names or (name, type) pairs."""
        schema = [k if isinstance(k, tuple) else (k, None) for k in (hash_key, range_key) if k]
        count = len(self.conditions)
        if count > 2:
            raise ValidationException("Conditions can be of length 1 or 2 only")
        for position, (name, key_type) in enumerate(schema):
            is_hash = position == 0
            if is_hash and len(schema) == 1 and count > 1:
                raise ValidationException("Query key condition not supported")
            found = self.conditions.get(name)
            if found is None:
                if is_hash or count > 1:
                    raise ValidationException(f"Query condition missed key schema element: {name}")
                continue
            _check_indexable(found, key_type)
            if is_hash and found[0] != "EQ":
                raise ValidationException("Query key condition not supported")
        hash_name = schema[0][0]
        range_name = schema[1][0] if len(schema) > 1 else None
        ranged = self.conditions.get(range_name) if range_name else None
        return KeyQuery(hash_name, self.conditions[hash_name][1][0], range_name,
                        ranged[0] if ranged else None, ranged[1] if ranged else ())

    def for_key_schema(self, schema: KeySchema) -> KeyQuery:
        """Match against a table's or an index's key schema (multi-attribute GSI keys included)."""
        if not schema.composite:
            return self.for_schema((schema.hash_name, schema.hash_type),
                                   (schema.range_name, schema.range_type) if schema.range_name else None)
        # Multi-attribute key: every HASH attribute with `=`; RANGE attributes
        # from the first, without a gap, a range test only on the last named.
        for name, key_type in schema.hash_parts:
            found = self.conditions.get(name)
            if found is None:
                raise ValidationException(f"Query condition missed key schema element: {name}")
            _check_indexable(found, key_type)
            if found[0] != "EQ":
                raise ValidationException("Query key condition not supported")
        if any(name not in schema.names for name in self.conditions):
            raise ValidationException("Query key condition not supported")
        ranges = schema.range_parts
        for later, (later_name, _) in enumerate(ranges):
            if later_name not in self.conditions:
                continue
            for earlier_name, _ in ranges[:later]:
                earlier = self.conditions.get(earlier_name)
                if earlier is None or earlier[0] != "EQ":
                    raise ValidationException(
                        f"RANGE key attributes {earlier_name} must have equality conditions specified in the "
                        f"query because a condition is present on key attribute {later_name}")
        used = [(name, key_type) for name, key_type in ranges if name in self.conditions]
        for name, key_type in used:
            _check_indexable(self.conditions[name], key_type)
        hash_name = schema.hash_name
        more_hash = tuple((name, self.conditions[name][1][0]) for name, _ in schema.more_hash)
        if not used:
            return KeyQuery(hash_name, self.conditions[hash_name][1][0], more_hash=more_hash)
        prefix = tuple((name, self.conditions[name][1][0]) for name, _ in used[:-1])
        last = used[-1][0]
        operator, values = self.conditions[last]
        return KeyQuery(hash_name, self.conditions[hash_name][1][0], last, operator, values, more_hash, prefix)


def _check_indexable(found: tuple[str, tuple[dict, ...]], key_type: str | None) -> None:
    operator, values = found
    if operator in _NOT_INDEXABLE:
        raise ValidationException("Attempted conditional constraint is not an indexable operation")
    if key_type and any(key_type not in v for v in values):
        raise ValidationException(_INVALID + "Condition parameter type does not match schema type")


def _reduce(expr: Condition, found: dict[str, tuple[str, tuple[dict, ...]]]) -> None:
    """DynamoDB's checks on the shape of a key condition, in its order."""
    if isinstance(expr, (Or, Not, In)) or (isinstance(expr, Compare) and expr.op == "<>"):
        word = {Or: "OR", Not: "NOT", In: "IN"}.get(type(expr), "<>")
        raise ValidationException(f"Invalid operator used in KeyConditionExpression: {word}")
    if isinstance(expr, Func) and expr.name in ("attribute_exists", "attribute_not_exists",
                                                  "attribute_type", "contains"):
        raise ValidationException(f"Invalid operator used in KeyConditionExpression: {expr.name}")
    if isinstance(expr, Func) and expr.name == "size":
        raise ValidationException("KeyConditionExpressions cannot contain nested operations")
    if isinstance(expr, Between) and not isinstance(expr.operand, Path):
        raise ValidationException("Invalid condition in KeyConditionExpression: "
                                  "BETWEEN operator must have the key attribute as its first operand")
    if isinstance(expr, Func) and not isinstance(expr.args[0], Path):
        raise ValidationException("Invalid condition in KeyConditionExpression: "
                                  f"{expr.name} operator must have the key attribute as its first operand")
    if isinstance(expr, And):
        for item in expr.items:
            _reduce(item, found)
        return
    if isinstance(expr, Compare):
        args = [expr.left, expr.right]
    elif isinstance(expr, Between):
        args = [expr.operand, expr.low, expr.high]
    else:
        args = list(expr.args)  # type: ignore[union-attr]
    name, position = None, 0
    for i, arg in enumerate(args):
        if isinstance(arg, Path):
            if name is not None:
                raise ValidationException(
                    "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition")
            if len(arg.elements) > 1:
                raise ValidationException("KeyConditionExpressions cannot have conditions on nested attributes")
            name, position = arg.elements[0], i
        elif isinstance(arg, Func):
            _reduce(arg, found)
    if name is None:
        raise ValidationException("Invalid condition in KeyConditionExpression: No key attribute specified")
    if name in found:
        raise ValidationException("KeyConditionExpressions must only contain one condition per key")
    if isinstance(expr, Compare):
        op = expr.op if position == 0 else _FLIPPED[expr.op]
        other = args[1 - position]
        found[name] = (_OPERATORS[op], (other.value,) if isinstance(other, Literal) else ())
    elif isinstance(expr, Between):
        found[name] = ("BETWEEN", tuple(a.value for a in args[1:] if isinstance(a, Literal)))
    else:
        found[name] = ("BEGINS_WITH", tuple(a.value for a in args[1:] if isinstance(a, Literal)))


def validate_key_conditions(conditions: dict[str, tuple[str, tuple[dict, ...]]]) -> None:
    """The checks DynamoDB shares with legacy KeyConditions."""
    for operator, values in conditions.values():
        check_condition_args(operator, list(values))
    check_condition_count(len(conditions))


def check_condition_count(count: int) -> None:
    """Before the key schema is known: at most a multi-attribute GSI key's eight
    attributes (a table's, an LSI's and a single-attribute GSI's two are checked
    by KeyCondition.for_schema)."""
    if not 1 <= count <= MAX_KEY_CONDITIONS:
        raise ValidationException("Conditions can be of length 1 or 2 only")


def parse_key_condition(text: str, attrs: ExpressionAttributes,
                        hash_key: str | tuple[str, str] | None = None,
                        range_key: str | tuple[str, str] | None = None) -> KeyCondition | KeyQuery:
    """Without a key schema returns the KeyCondition (request validation only);
    with one, the KeyQuery for that schema."""
    parsed = parse_condition(text, attrs, "KeyConditionExpression")
    found: dict[str, tuple[str, tuple[dict, ...]]] = {}
    _reduce(parsed.tree, found)
    validate_key_conditions(found)
    condition = KeyCondition(found)
    if hash_key is None:
        return condition
    return condition.for_schema(hash_key, range_key)


def key_condition_from_key_conditions(conditions: dict) -> KeyCondition:
    """Legacy KeyConditions -> KeyCondition (then .for_key_schema with the table's or index's keys)."""
    checked = validate_conditions(conditions)
    check_condition_count(len(checked))
    return KeyCondition(checked)
