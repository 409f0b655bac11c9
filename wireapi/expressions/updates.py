"""UpdateExpression: parse-time checks and the resolved plan.

Error precedence (DynamoDB's): syntax, reserved word, unknown function, a
clause used twice, undefined #name, undefined :value, overlapping paths,
conflicting paths, bad ADD/DELETE operand, bad function operand. The first
three depend on the text only and are cached with the tree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from wireapi.errors import ValidationException, invalid_expression

from .ast import Arith, Func, Literal, NameRef, Operand, Path, UpdateAction, UpdateAst, ValueRef
from .attributes import ExpressionAttributes, check_expression_size
from .parser import parse_update_tree
from .paths import PathChecker
from .reserved import is_reserved
from .tokens import ExpressionSyntaxError

KIND = "UpdateExpression"
FUNCTION_ARITY = {"if_not_exists": 2, "list_append": 2, "+": 2, "-": 2}
_OPERAND_TYPE_NAMES = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "NULL": "NULL",
                       "BOOL": "BOOLEAN", "L": "LIST", "M": "MAP"}


@dataclass(frozen=True, slots=True)
class ResolvedAction:
    kind: str                     # SET, REMOVE, ADD or DELETE
    path: tuple                   # resolved: str names and int indexes
    value: Operand | None = None  # SET: operand tree; ADD/DELETE: Literal
    value_type: str | None = None  # type DynamoDB infers at parse time (index checks)


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    actions: tuple[ResolvedAction, ...]
    nested_heads: frozenset[str] = field(default=frozenset())
    legacy: bool = False  # from AttributeUpdates: other type-error text, ADD appends lists

    @property
    def paths(self) -> list[tuple]:
        return [action.path for action in self.actions]


# --- text-only checks ---------------------------------------------------------

def _operands(op: Operand):
    """Post-order walk of an operand tree."""
    if isinstance(op, Func):
        for arg in op.args:
            yield from _operands(arg)
    elif isinstance(op, Arith):
        yield from _operands(op.left)
        yield from _operands(op.right)
    yield op


def _static_error(ast: UpdateAst) -> str | None:
    reserved = unknown = section = None
    seen: set[str] = set()
    # Sections complete (and are checked) after their actions; reserved words and
    # functions are found in text order -- each category keeps its first error.
    for action in ast.actions:
        for op in (action.path, *(() if action.value is None else _operands(action.value))):
            if isinstance(op, Path) and reserved is None:
                for element in op.elements:
                    if isinstance(element, str) and is_reserved(element):
                        reserved = f"Attribute name is a reserved keyword; reserved keyword: {element}"
                        break
            elif isinstance(op, Func) and unknown is None and op.name not in FUNCTION_ARITY:
                unknown = f"Invalid function name; function: {op.name}"
    for name in ast.sections:
        if name in seen:
            section = f'The "{name}" section can only be used once in an update expression;'
            break
        seen.add(name)
    return reserved or unknown or section


@lru_cache(maxsize=2048)
def _analyse(text: str) -> tuple[UpdateAst | None, str | None]:
    try:
        ast = parse_update_tree(text)
    except ExpressionSyntaxError as exc:
        return None, exc.detail
    return ast, _static_error(ast)


# --- per-request resolution ----------------------------------------------------

class _Resolver:
    ORDER = ("name", "value", "overlap", "conflict", "operand", "function")

    def __init__(self, attrs: ExpressionAttributes) -> None:
        self.attrs = attrs
        self.errors: dict[str, str] = {}
        self.paths = PathChecker()

    def error(self, category: str, message: str) -> None:
        self.errors.setdefault(category, message)

    def path(self, path: Path) -> tuple:
        elements: list = []
        for element in path.elements:
            if isinstance(element, NameRef):
                name = None if "name" in self.errors else self.attrs.name(element.name)
                if name is None:
                    self.error("name", "An expression attribute name used in the document path is not defined; "
                                       f"attribute name: {element.name}")
                    name = element.name
                elements.append(name)
            else:
                elements.append(element)
        return tuple(elements)

    def value(self, ref: ValueRef) -> Literal | None:
        found = None if "value" in self.errors else self.attrs.value(ref.name)
        if found is None:
            self.error("value", "An expression attribute value used in expression is not defined; "
                                f"attribute value: {ref.name}")
            return None
        return Literal(found)

    def operand(self, op: Operand) -> tuple[Operand, str | None]:
        """(resolved operand, inferred type); the type is a value's own type or a
        function's result type."""
        if isinstance(op, Path):
            return Path(self.path(op)), None
        if isinstance(op, ValueRef):
            lit = self.value(op)
            return (lit, next(iter(lit.value))) if lit else (Literal({"NULL": True}), None)
        if isinstance(op, Func):
            args = tuple(self.operand(arg) for arg in op.args)
            return Func(op.name, tuple(a for a, _ in args)), self.function(op.name, args)
        if isinstance(op, Arith):
            left, right = self.operand(op.left), self.operand(op.right)
            return Arith(op.op, left[0], right[0]), self.function(op.op, (left, right))
        raise TypeError(op)

    def function(self, name: str, args: tuple[tuple[Operand, str | None], ...]) -> str | None:
        if "function" in self.errors:
            return None
        if FUNCTION_ARITY[name] != len(args):
            self.error("function", "Incorrect number of operands for operator or function; "
                                   f"operator or function: {name}, number of operands: {len(args)}")
            return None
        if name == "if_not_exists":
            if not isinstance(args[0][0], Path):
                self.error("function", f"Operator or function requires a document path; operator or function: {name}")
                return None
            return args[1][1]
        wanted = "L" if name == "list_append" else "N"
        for node, _ in args:
            # Only literal values are typed here; paths and nested results are checked at run time.
            if isinstance(node, Literal) and (kind := next(iter(node.value))) != wanted:
                self.error("function", "Incorrect operand type for operator or function; "
                                       f"operator or function: {name}, operand type: {kind}")
                return None
        return wanted

    def operator(self, kind: str, value: Literal | None) -> str | None:
        if value is None:
            return None
        value_type = next(iter(value.value))
        if "operand" not in self.errors and value_type in _OPERAND_TYPE_NAMES \
                and not (kind == "ADD" and value_type == "N"):
            self.error("operand", "Incorrect operand type for operator or function; "
                                  f"operator: {kind}, operand type: {_OPERAND_TYPE_NAMES[value_type]}")
        return value_type

    def action(self, action: UpdateAction) -> ResolvedAction:
        path = self.path(action.path)
        if action.kind == "SET":
            value, value_type = self.operand(action.value)  # type: ignore[arg-type]
            self.paths.add(path)
            return ResolvedAction("SET", path, value, value_type)
        if action.kind == "REMOVE":
            self.paths.add(path)
            return ResolvedAction("REMOVE", path)
        literal = self.value(action.value)  # type: ignore[arg-type]
        self.paths.add(path)
        return ResolvedAction(action.kind, path, literal, self.operator(action.kind, literal))

    def first_error(self) -> str | None:
        self.errors.update({k: v for k, v in (("overlap", self.paths.overlap),
                                              ("conflict", self.paths.conflict)) if v})
        for category in self.ORDER:
            if category in self.errors:
                return self.errors[category]
        return None


def parse_update(text: str, attrs: ExpressionAttributes, *, limit: bool = True) -> UpdatePlan:
    if limit:
        check_expression_size(text, KIND)
    ast, message = _analyse(text)
    if message is not None:
        raise invalid_expression(KIND, message)
    resolver = _Resolver(attrs)
    actions = tuple(resolver.action(action) for action in ast.actions)  # type: ignore[union-attr]
    message = resolver.first_error()
    if message is not None:
        raise invalid_expression(KIND, message)
    nested = frozenset(a.path[0] for a in actions if len(a.path) > 1)
    return UpdatePlan(actions, nested)


def check_key_not_updated(plan: UpdatePlan, key_names: tuple[str, ...]) -> None:
    for key in key_names:
        if any(action.path[0] == key for action in plan.actions):
            raise ValidationException(
                f"One or more parameter values were invalid: Cannot update attribute {key}. "
                "This attribute is part of the key")


def check_index_keys_not_nested(plan: UpdatePlan, index_key_names: tuple[str, ...]) -> None:
    """Index key attributes are scalars: no update may reach inside them."""
    for name in index_key_names:
        if name in plan.nested_heads:
            raise ValidationException(
                "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: "
                f"IndexKey: {name}")
