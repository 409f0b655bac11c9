"""IAM policy evaluation, pure Python (no Django, no I/O).

compile_policies() turns a user's policy documents into a PolicySet once;
PolicySet.evaluate(action, resource, context) then decides one request the way
IAM decides identity-based policies: an explicit Deny wins, else any Allow
allows, else the request is denied (implicitly).

The request context maps condition keys (matched case-insensitively, as IAM
does) to a string, a tuple of strings (multi-valued keys such as
dynamodb:LeadingKeys) or is missing the key. Build it with make_context().
"""
from __future__ import annotations

import base64
import enum
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from .policy_validation import OPERATORS, parse_date, parse_number, split_operator

ContextValue = str | tuple[str, ...]
Context = Mapping[str, ContextValue]


class Decision(enum.Enum):
    ALLOW = "allow"
    IMPLICIT_DENY = "implicit deny"
    EXPLICIT_DENY = "explicit deny"


def make_context(values: Mapping[str, Any]) -> dict[str, ContextValue]:
    """Normalise a request context: lower-case keys, strings ('true'/'false' for booleans),
    tuples of strings for multi-valued keys; None values are left out (key absent)."""
    context: dict[str, ContextValue] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            context[key.lower()] = tuple(_as_string(v) for v in value)
        else:
            context[key.lower()] = _as_string(value)
    return context


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- wildcards and policy variables -------------------------------------------
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"\s*([^,\s]+)\s*,\s*'([^']*)'\s*")
_MISSING = object()


def _variable_value(body: str, context: Context) -> str | object:
    """The text a ${...} stands for; _MISSING if its key has no single value."""
    if body in ("*", "?", "$"):
        return body  # ${*} is a literal asterisk, and so on
    default: str | object = _MISSING
    match = _DEFAULT.fullmatch(body)
    if match:
        body, default = match.group(1), match.group(2)
    value = context.get(body.strip().lower())
    if isinstance(value, str):
        return value
    return default


def _glob_regex(text: str, wildcards: bool) -> str:
    if not wildcards:
        return re.escape(text)
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


@lru_cache(maxsize=8192)
def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile(pattern, flags | re.DOTALL)


class Template:
    """A policy string (resource, condition value) that may hold wildcards and ${variables}."""

    __slots__ = ("text", "wildcards", "has_variables", "_static", "_pieces", "_bodies", "_cache")

    def __init__(self, text: str, wildcards: bool, variables: bool) -> None:
        self.text = text
        self.wildcards = wildcards
        self.has_variables = variables and "${" in text
        self._static = None if self.has_variables else _compile(_glob_regex(text, wildcards), 0)
        # Literal pieces (as regex) around the variables, parsed once; regexes per set of
        # variable values are cached, so a user's ${aws:username} costs a dict lookup.
        self._pieces: list[str] = []
        self._bodies: tuple[str, ...] = ()
        self._cache: dict[tuple, re.Pattern[str] | None] = {}
        if self.has_variables:
            pos, bodies = 0, []
            for match in _VARIABLE.finditer(text):
                self._pieces.append(_glob_regex(text[pos:match.start()], wildcards))
                bodies.append(match.group(1))
                pos = match.end()
            self._pieces.append(_glob_regex(text[pos:], wildcards))
            self._bodies = tuple(bodies)

    def regex(self, context: Context) -> re.Pattern[str] | None:
        """The pattern for this request; None if a variable it uses has no value."""
        if self._static is not None:
            return self._static
        values = tuple(_variable_value(body, context) for body in self._bodies)
        if _MISSING in values:
            return None
        hit = self._cache.get(values)
        if hit is None:
            parts = [self._pieces[0]]
            for value, piece in zip(values, self._pieces[1:]):
                parts.append(re.escape(value))  # substituted text never acts as a wildcard
                parts.append(piece)
            hit = _compile("".join(parts), 0)
            if len(self._cache) > 1024:
                self._cache.clear()
            self._cache[values] = hit
        return hit

    def literal(self, context: Context) -> str | None:
        """The text with variables substituted (for exact comparisons)."""
        if not self.has_variables:
            return self.text
        out: list[str] = []
        pos = 0
        for match in _VARIABLE.finditer(self.text):
            out.append(self.text[pos:match.start()])
            value = _variable_value(match.group(1), context)
            if value is _MISSING:
                return None
            out.append(value)  # type: ignore[arg-type]
            pos = match.end()
        out.append(self.text[pos:])
        return "".join(out)


# --- condition operators ------------------------------------------------------
# Each base matcher answers "does the request value match this one policy value".
Matcher = Callable[[str, Template, Context], bool]
_NEGATED = {
    "StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike", "NumericNotEquals": "NumericEquals", "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
}


def _string_equals(value: str, policy: Template, ctx: Context) -> bool:
    return policy.literal(ctx) == value


def _string_equals_ignore_case(value: str, policy: Template, ctx: Context) -> bool:
    text = policy.literal(ctx)
    return text is not None and text.casefold() == value.casefold()


def _string_like(value: str, policy: Template, ctx: Context) -> bool:
    regex = policy.regex(ctx)
    return regex is not None and regex.fullmatch(value) is not None


def _arn_like(value: str, policy: Template, ctx: Context) -> bool:
    # Each of the six colon-separated parts is matched on its own.
    text = policy.literal(ctx)
    if text is None:
        return False
    want, have = text.split(":", 5), value.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return False
    return all(_compile(_glob_regex(w, True), 0).fullmatch(h) is not None for w, h in zip(want, have))


def _numeric(compare: Callable[[float, float], bool]) -> Matcher:
    def match(value: str, policy: Template, ctx: Context) -> bool:
        have, want = parse_number(value), parse_number(policy.text)
        return have is not None and want is not None and compare(have, want)
    return match


def _date(compare: Callable[[float, float], bool]) -> Matcher:
    def match(value: str, policy: Template, ctx: Context) -> bool:
        have, want = parse_date(value), parse_date(policy.text)
        return have is not None and want is not None and compare(have, want)
    return match


def _bool(value: str, policy: Template, ctx: Context) -> bool:
    return value.lower() == policy.text.lower()


def _binary(value: str, policy: Template, ctx: Context) -> bool:
    try:
        return base64.b64decode(value) == base64.b64decode(policy.text)
    except ValueError:
        return False


@lru_cache(maxsize=1024)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text, strict=False)


def _ip_address(value: str, policy: Template, ctx: Context) -> bool:
    try:
        return ipaddress.ip_address(value) in _network(policy.text)
    except ValueError:
        return False


_MATCHERS: dict[str, Matcher] = {
    "StringEquals": _string_equals,
    "StringEqualsIgnoreCase": _string_equals_ignore_case,
    "StringLike": _string_like,
    "NumericEquals": _numeric(lambda a, b: a == b),
    "NumericLessThan": _numeric(lambda a, b: a < b),
    "NumericLessThanEquals": _numeric(lambda a, b: a <= b),
    "NumericGreaterThan": _numeric(lambda a, b: a > b),
    "NumericGreaterThanEquals": _numeric(lambda a, b: a >= b),
    "DateEquals": _date(lambda a, b: a == b),
    "DateLessThan": _date(lambda a, b: a < b),
    "DateLessThanEquals": _date(lambda a, b: a <= b),
    "DateGreaterThan": _date(lambda a, b: a > b),
    "DateGreaterThanEquals": _date(lambda a, b: a >= b),
    "Bool": _bool,
    "BinaryEquals": _binary,
    "IpAddress": _ip_address,
    "ArnEquals": _arn_like,  # IAM: ArnEquals and ArnLike both take wildcards per part
    "ArnLike": _arn_like,
}
_VARIABLE_OPERATORS = {"string"}  # policy variables work in String* and Arn* values


@dataclass(frozen=True)
class ConditionTest:
    """One (operator, key, values) of a Condition block."""

    key: str  # lower-case
    qualifier: str | None  # "ForAllValues", "ForAnyValue" or None
    operator: str  # base name without IfExists, e.g. "StringNotLike"
    if_exists: bool
    values: tuple[Template, ...]

    def holds(self, context: Context) -> bool:
        have = context.get(self.key)
        if self.operator == "Null":
            absent = have is None or have == ()
            return any((v.text.lower() == "true") == absent for v in self.values)
        negated = self.operator in _NEGATED
        if have is None:
            if self.if_exists or self.qualifier == "ForAllValues":
                return True
            if self.qualifier == "ForAnyValue":
                return False
            return negated  # a missing key matches only negated operators
        matcher = _MATCHERS[_NEGATED.get(self.operator, self.operator)]

        def one(value: str) -> bool:
            matched = any(matcher(value, policy, context) for policy in self.values)
            return not matched if negated else matched

        values = have if isinstance(have, tuple) else (have,)
        if self.qualifier == "ForAllValues":
            return all(one(v) for v in values)  # vacuously true for an empty set
        if self.qualifier == "ForAnyValue":
            return any(one(v) for v in values)
        return any(one(v) for v in values) if values else negated


def _compile_condition(condition: Mapping[str, Any], variables: bool) -> tuple[ConditionTest, ...]:
    tests = []
    for op_name, block in condition.items():
        qualifier, operator, if_exists = split_operator(op_name)
        kind = OPERATORS[operator]
        use_vars = variables and kind in _VARIABLE_OPERATORS
        wildcards = operator in ("StringLike", "StringNotLike")
        for key, raw in block.items():
            listed = raw if isinstance(raw, list) else [raw]
            tests.append(ConditionTest(key.lower(), qualifier, operator, if_exists,
                                       tuple(Template(_as_string(v), wildcards, use_vars) for v in listed)))
    return tuple(tests)


# --- statements and policy sets -----------------------------------------------
def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _action_regex(patterns: Iterable[str]) -> re.Pattern[str]:
    # Actions are case-insensitive in IAM ("dynamodb:getitem" == "DynamoDB:GetItem").
    return re.compile("|".join(f"(?:{_glob_regex(p, True)})" for p in patterns), re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Statement:
    deny: bool
    actions: re.Pattern[str]
    not_action: bool
    resources: tuple[Template, ...]
    not_resource: bool
    conditions: tuple[ConditionTest, ...]
    policy_name: str
    sid: str | None
    unconditional_allow_all: bool = False

    def applies(self, action: str, resource: str, context: Context) -> bool:
        if (self.actions.fullmatch(action) is not None) == self.not_action:
            return False
        matched = False
        for template in self.resources:
            regex = template.regex(context)
            if regex is not None and regex.fullmatch(resource) is not None:
                matched = True
                break
        if matched == self.not_resource:
            return False
        return all(test.holds(context) for test in self.conditions)


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    statement: Statement | None = None  # the deciding statement (the Deny, or the first Allow)

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


class PolicySet:
    """A user's effective policies, compiled. Deny statements are checked first."""

    def __init__(self, statements: Iterable[Statement]) -> None:
        ordered = sorted(statements, key=lambda s: not s.deny)
        self.statements: tuple[Statement, ...] = tuple(ordered)
        # Condition keys any statement tests (lower-case): callers compute costly
        # context values (dynamodb:LeadingKeys, dynamodb:Attributes) only if listed.
        self.condition_keys = frozenset(t.key for s in self.statements for t in s.conditions)
        # AdministratorAccess and the like: every request is allowed, nothing to compute.
        self.allows_everything = (not any(s.deny for s in self.statements)
                                  and any(s.unconditional_allow_all for s in self.statements))

    def evaluate(self, action: str, resource: str, context: Context) -> Outcome:
        for statement in self.statements:
            if statement.applies(action, resource, context):
                # Denies come first, so the first applicable statement decides.
                return Outcome(Decision.EXPLICIT_DENY if statement.deny else Decision.ALLOW, statement)
        return Outcome(Decision.IMPLICIT_DENY)


def compile_statement(raw: Mapping[str, Any], variables: bool, policy_name: str = "") -> Statement:
    not_action = "NotAction" in raw
    not_resource = "NotResource" in raw
    resources = _as_list(raw["NotResource" if not_resource else "Resource"])
    actions = _as_list(raw["NotAction" if not_action else "Action"])
    allow_all = (raw["Effect"] == "Allow" and not not_action and not not_resource and not raw.get("Condition")
                 and any(a.lower() in ("*", "dynamodb:*") for a in actions) and "*" in resources)
    return Statement(
        deny=raw["Effect"] == "Deny",
        actions=_action_regex(actions),
        not_action=not_action,
        resources=tuple(Template(r, True, variables) for r in resources),
        not_resource=not_resource,
        conditions=_compile_condition(raw.get("Condition") or {}, variables),
        policy_name=policy_name,
        sid=raw.get("Sid"),
        unconditional_allow_all=allow_all,
    )


def compile_policies(documents: Iterable[tuple[str, Mapping[str, Any]]]) -> PolicySet:
    """Compile (name, document) pairs. Documents are checked when saved; one that is
    broken anyway (written around the checks) denies everything: failing closed, since
    skipping it could drop a Deny."""
    from .policy_validation import validate_policy_document

    statements: list[Statement] = []
    for name, document in documents:
        if validate_policy_document(document, names=False):
            statements.append(compile_statement(
                {"Effect": "Deny", "Action": "*", "Resource": "*"}, False, name))
            continue
        # Policy variables exist only in the 2012-10-17 language; older documents match ${...} literally.
        variables = document.get("Version") == "2012-10-17"
        raw = document["Statement"]
        for item in [raw] if isinstance(raw, dict) else raw:
            statements.append(compile_statement(item, variables, name))
    return PolicySet(statements)
