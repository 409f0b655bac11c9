"""ConditionExpression / FilterExpression: parse-time checks and resolution.

DynamoDB reports the first error by category, in this order: syntax, redundant
parentheses, unknown function, misused function, reserved word, then the first
comparison/function (left to right) with an undefined placeholder, a wrong
operand count, identical operands or a bad operand type. The first four depend
only on the text and are cached with the tree; the rest depend on the request's
placeholders and are recomputed every time.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from wireapi.errors import invalid_expression

from .ast import (
    LEAF_CONDITIONS, Between, Compare, Condition, Func, In, Literal, NameRef, Not, Operand, Path,
    ValueRef, path_str,
)
from .attributes import ExpressionAttributes, check_expression_size
from .parser import parse_condition_tree
from .reserved import is_reserved
from .tokens import ExpressionSyntaxError

FUNCTION_ARITY = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
}
ATTRIBUTE_TYPES = ("S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M")
MAX_IN_OPERANDS = 100
MAX_OPERATORS = 300


@dataclass(frozen=True, slots=True)
class ParsedCondition:
    """A condition with placeholders resolved, ready for evaluate_condition."""
    tree: Condition
    path_heads: frozenset[str]    # top-level attributes referenced
    nested_heads: frozenset[str]  # top-level attributes referenced through . or []


# --- text-only checks (cached) -----------------------------------------------

class _StaticErrors:
    def __init__(self) -> None:
        self.parens = False
        self.unknown_function: str | None = None
        self.misused_function: str | None = None
        self.reserved: str | None = None
        self.too_many: str | None = None
        self.operators = 0

    def first(self) -> str | None:
        if self.parens:
            return "The expression has redundant parentheses;"
        return self.unknown_function or self.misused_function or self.reserved or self.too_many

    def note_parens(self, node: object) -> None:
        if node.parens >= 2:  # type: ignore[attr-defined]
            self.parens = True

    def misused(self, operands: tuple) -> None:
        if self.misused_function is None:
            for op in operands:
                if isinstance(op, Func) and op.name != "size":
                    self.misused_function = _misused(op.name)
                    return

    def misused_size(self, cond: Condition) -> None:
        if self.misused_function is None and isinstance(cond, Func) and cond.name == "size":
            self.misused_function = _misused("size")

    def operand(self, op: Operand) -> None:
        self.note_parens(op)
        if isinstance(op, Path):
            for element in op.elements:
                if isinstance(element, str) and self.reserved is None and is_reserved(element):
                    self.reserved = f"Attribute name is a reserved keyword; reserved keyword: {element}"
        elif isinstance(op, Func):
            self.operators += 1
            for arg in op.args:
                self.operand(arg)
            self.misused(op.args)
            if op.name not in FUNCTION_ARITY and self.unknown_function is None:
                self.unknown_function = f"Invalid function name; function: {op.name}"

    def condition(self, cond: Condition) -> None:
        self.note_parens(cond)
        if isinstance(cond, Compare):
            self.operators += 1
            self.operand(cond.left)
            self.operand(cond.right)
            self.misused((cond.left, cond.right))
        elif isinstance(cond, Between):
            self.operators += 1
            for op in (cond.operand, cond.low, cond.high):
                self.operand(op)
            self.misused((cond.operand, cond.low, cond.high))
        elif isinstance(cond, In):
            self.operators += 1
            self.operand(cond.operand)
            for op in cond.choices:
                self.operand(op)
            self.misused((cond.operand,) + cond.choices)
            if len(cond.choices) > MAX_IN_OPERANDS and self.too_many is None:
                self.too_many = ("The IN operator is provided with too many operands; "
                                 f"number of operands: {len(cond.choices)}")
        elif isinstance(cond, Func):
            self.operand(cond)
        elif isinstance(cond, Not):
            self.operators += 1
            self.condition(cond.operand)
            self.misused_size(cond.operand)
        else:  # And / Or
            self.operators += len(cond.items) - 1
            for item in cond.items:
                self.condition(item)
            for item in cond.items:
                self.misused_size(item)


def _misused(name: str) -> str:
    return f"The function is not allowed to be used this way in an expression; function: {name}"


@lru_cache(maxsize=2048)
def _analyse(text: str) -> tuple[Condition | None, str | None]:
    try:
        tree = parse_condition_tree(text)
    except ExpressionSyntaxError as exc:
        return None, exc.detail
    errors = _StaticErrors()
    errors.condition(tree)
    errors.misused_size(tree)
    message = errors.first()
    if message is None and errors.operators > MAX_OPERATORS:
        message = f"The expression contains too many operators; operator count: {errors.operators}"
    return tree, message


# --- per-request resolution ----------------------------------------------------

class _Resolver:
    """Resolves one leaf condition, collecting DynamoDB's per-condition errors."""

    ORDER = ("name_value", "operand", "distinct", "function")

    def __init__(self, attrs: ExpressionAttributes) -> None:
        self.attrs = attrs
        self.errors: dict[str, str] = {}
        self.heads: set[str] = set()
        self.nested: set[str] = set()

    def error(self, category: str, message: str) -> None:
        self.errors.setdefault(category, message)

    def first_error(self) -> str | None:
        for category in self.ORDER:
            if category in self.errors:
                return self.errors[category]
        return None

    # Each operand resolves to (node, type): the type DynamoDB infers at parse
    # time -- a value's own type or a function's result type, None for paths.
    def operand(self, op: Operand) -> tuple[Operand, str | None]:
        if isinstance(op, Path):
            return self.path(op), None
        if isinstance(op, ValueRef):
            value = None if "name_value" in self.errors else self.attrs.value(op.name)
            if value is None:
                self.error("name_value",
                           f"An expression attribute value used in expression is not defined; attribute value: {op.name}")
                return Literal({"NULL": True}), None
            return Literal(value), next(iter(value))
        if isinstance(op, Func):
            args = tuple(self.operand(arg) for arg in op.args)
            node = Func(op.name, tuple(a for a, _ in args))
            return node, self.function(op.name, args)
        raise TypeError(op)

    def path(self, path: Path) -> Path:
        elements: list = []
        for element in path.elements:
            if isinstance(element, NameRef):
                name = None if "name_value" in self.errors else self.attrs.name(element.name)
                if name is None:
                    self.error("name_value",
                               "An expression attribute name used in the document path is not defined; "
                               f"attribute name: {element.name}")
                    name = element.name
                elements.append(name)
            else:
                elements.append(element)
        self.heads.add(elements[0])
        if len(elements) > 1:
            self.nested.add(elements[0])
        return Path(tuple(elements))

    def distinct(self, operator: str, args: tuple[Operand, ...]) -> None:
        if "distinct" in self.errors or len(args) != 2:
            return
        one, two = args
        if isinstance(one, Path) and isinstance(two, Path) and one.elements == two.elements \
                and all(type(a) is type(b) for a, b in zip(one.elements, two.elements)):
            self.error("distinct",
                       "The first operand must be distinct from the remaining operands for this operator or "
                       f"function; operator: {operator}, first operand: {path_str(one.elements)}")

    def function(self, name: str, args: tuple[tuple[Operand, str | None], ...]) -> str | None:
        if "operand" in self.errors:
            return None
        if FUNCTION_ARITY[name] != len(args):
            self.error("operand", "Incorrect number of operands for operator or function; "
                                  f"operator or function: {name}, number of operands: {len(args)}")
            return None
        self.distinct(name, tuple(a for a, _ in args))
        if "function" in self.errors:
            return None
        bad_type = f"Incorrect operand type for operator or function; operator or function: {name}, operand type: "
        if name in ("attribute_exists", "attribute_not_exists"):
            if not isinstance(args[0][0], Path):
                self.error("function", f"Operator or function requires a document path; operator or function: {name}")
            return None
        if name == "begins_with":
            for _, kind in args:
                if kind is not None and kind not in ("S", "B"):
                    self.error("function", bad_type + kind)
                    return None
            return "BOOL"
        if name == "attribute_type":
            kind = args[1][1]
            if kind != "S":
                self.error("function", bad_type + (kind or "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"))
                return None
            wanted = args[1][0].value["S"]  # type: ignore[union-attr]
            if wanted not in ATTRIBUTE_TYPES:
                self.error("function", f"Invalid attribute type name found; type: {wanted}, "
                                       "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}")
                return None
            return "BOOL"
        if name == "size":
            kind = args[0][1]
            if kind in ("N", "BOOL", "NULL"):
                self.error("function", bad_type + kind)
                return None
            return "N"
        return "BOOL"  # contains

    def ordered(self, operator: str, kinds: tuple[str | None, ...]) -> None:
        """<, <=, >, >= and BETWEEN order strings, numbers and binaries only: a
        constant (or size()) of another type is refused before any item is read."""
        if "function" in self.errors:
            return
        for kind in kinds:
            if kind is not None and kind not in ("S", "N", "B"):
                self.error("function", "Incorrect operand type for operator or function; "
                                       f"operator or function: {operator}, operand type: {kind}")
                return

    def between(self, low: tuple[Operand, str | None], high: tuple[Operand, str | None]) -> None:
        if "function" in self.errors:
            return
        if not (isinstance(low[0], Literal) and isinstance(high[0], Literal)):
            return
        lo, hi = low[0].value, high[0].value
        lo_type, hi_type = next(iter(lo)), next(iter(hi))
        bounds = (f"lower bound operand: AttributeValue: {{{lo_type}:{_show(lo[lo_type])}}}, "
                  f"upper bound operand: AttributeValue: {{{hi_type}:{_show(hi[hi_type])}}}")
        if lo_type != hi_type:
            self.error("function", "The BETWEEN operator requires same data type for lower and upper bounds; " + bounds)
            return
        from wireapi.values import compare_values

        order = compare_values(lo, hi)
        if order is not None and order > 0:
            self.error("function",
                       "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; " + bounds)

    def leaf(self, cond: Condition) -> Condition:
        if isinstance(cond, Compare):
            left, left_type = self.operand(cond.left)
            right, right_type = self.operand(cond.right)
            self.distinct(cond.op, (left, right))
            if cond.op not in ("=", "<>"):
                self.ordered(cond.op, (left_type, right_type))
            return Compare(cond.op, left, right)
        if isinstance(cond, Between):
            operand, operand_type = self.operand(cond.operand)
            low = self.operand(cond.low)
            high = self.operand(cond.high)
            self.ordered("BETWEEN", (operand_type, low[1], high[1]))
            self.between(low, high)
            return Between(operand, low[0], high[0])
        if isinstance(cond, In):
            operand, _ = self.operand(cond.operand)
            return In(operand, tuple(self.operand(op)[0] for op in cond.choices))
        node, _ = self.operand(cond)  # a function used as a condition
        return node  # type: ignore[return-value]


def _show(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, list):
        return "[" + ", ".join(map(str, raw)) + "]"
    return str(raw)


def resolve_condition(tree: Condition, attrs: ExpressionAttributes, kind: str) -> ParsedCondition:
    resolver = _Resolver(attrs)

    def walk(cond: Condition) -> Condition:
        if isinstance(cond, LEAF_CONDITIONS):
            resolved = resolver.leaf(cond)
            message = resolver.first_error()
            if message is not None:
                raise invalid_expression(kind, message)
            return resolved
        if isinstance(cond, Not):
            return Not(walk(cond.operand))
        return type(cond)(tuple(walk(item) for item in cond.items))  # type: ignore[union-attr]

    tree = walk(tree)
    return ParsedCondition(tree, frozenset(resolver.heads), frozenset(resolver.nested))


def parse_condition(text: str, attrs: ExpressionAttributes,
                    kind: str = "ConditionExpression", *, limit: bool = True) -> ParsedCondition:
    """`limit`: DynamoDB's 4 KB (off for PartiQL's translations: its statements have their own limit)."""
    if limit:
        check_expression_size(text, kind)
    tree, message = _analyse(text)
    if message is not None:
        raise invalid_expression(kind, message)
    return resolve_condition(tree, attrs, kind)  # type: ignore[arg-type]

