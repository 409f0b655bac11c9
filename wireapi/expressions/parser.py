"""Recursive-descent parsers for the three expression grammars.

Alternatives are tried in order with backtracking; the furthest token any
alternative failed on is the one DynamoDB's parser reports, so that is what a
syntax error names. Results (tree or syntax error text) are cached per text:
applications send the same expression over and over.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Callable, TypeVar

from .ast import (
    And, Arith, Between, Compare, Condition, Func, In, Not, NameRef, Operand, Or,
    Path, UpdateAction, UpdateAst, ValueRef,
)
from wireapi.errors import EXPRESSION_TOO_DEEP

from .tokens import EOF, IDENT, NAME, NUMBER, OP, VALUE, WS, ExpressionSyntaxError, Token, syntax_error, tokenize

T = TypeVar("T")

COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
MAX_PATH_LEVELS = 32  # elements of one document path (errors.MAX_NESTING_LEVELS)
# Nested parentheses, NOTs and function calls: each level is a few Python frames,
# so this keeps parsing far from the interpreter's recursion limit and the
# backtracking over nested parentheses (quadratic in the depth) cheap.
MAX_DEPTH = 120
CONDITION_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})
UPDATE_KEYWORDS = frozenset({"SET", "REMOVE", "ADD", "DELETE"})
_EOF = Token(EOF, "")


class _Fail(Exception):
    """Internal: the current alternative does not match."""


def _paren(node: T) -> T:
    return replace(node, parens=node.parens + 1)  # type: ignore[type-var]


class _Parser:
    keywords: frozenset[str] = frozenset()

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.sig = [i for i, tok in enumerate(self.tokens) if tok.kind != WS]
        self.pos = 0
        self.furthest = 0
        self.depth = 0

    # --- token access ---------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        i = self.pos + ahead
        return self.tokens[self.sig[i]] if i < len(self.sig) else _EOF

    def fail(self) -> _Fail:
        self.furthest = max(self.furthest, self.pos)
        return _Fail()

    def is_op(self, text: str) -> bool:
        tok = self.peek()
        if tok.kind == OP and tok.text == text:
            return True
        self.furthest = max(self.furthest, self.pos)
        return False

    def take_op(self, text: str) -> bool:
        if self.is_op(text):
            self.pos += 1
            return True
        return False

    def expect_op(self, text: str) -> None:
        if not self.take_op(text):
            raise self.fail()

    def is_keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok.kind == IDENT and tok.text.upper() == word:
            return True
        self.furthest = max(self.furthest, self.pos)
        return False

    def take_keyword(self, word: str) -> bool:
        if self.is_keyword(word):
            self.pos += 1
            return True
        return False

    def attempt(self, rule: Callable[[], T]) -> T | None:
        start, depth = self.pos, self.depth
        try:
            return rule()
        except _Fail:
            self.pos, self.depth = start, depth
            return None

    def expect_end(self) -> None:
        if self.pos < len(self.sig):
            raise self.fail()

    def error(self) -> ExpressionSyntaxError:
        index = self.sig[self.furthest] if self.furthest < len(self.sig) else len(self.tokens)
        return syntax_error(self.tokens, index)

    def run(self, rule: Callable[[], T]) -> T:
        try:
            result = rule()
            self.expect_end()
            return result
        except _Fail:
            raise self.error() from None

    def deeper(self) -> None:
        """Entering one more level of nesting (the caller leaves it with `self.depth -= 1`)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionSyntaxError(EXPRESSION_TOO_DEEP)

    # --- shared rules -----------------------------------------------------------
    def identifier(self) -> str:
        tok = self.peek()
        if tok.kind == IDENT and tok.text.upper() not in self.keywords:
            self.pos += 1
            return tok.text
        raise self.fail()

    def path_element(self) -> str | NameRef:
        tok = self.peek()
        if tok.kind == NAME:
            self.pos += 1
            return NameRef(tok.text)
        return self.identifier()

    def path(self) -> Path:
        elements: list = [self.path_element()]
        while True:
            if self.take_op("."):
                elements.append(self.path_element())
            elif self.take_op("["):
                tok = self.peek()
                if tok.kind != NUMBER:
                    raise self.fail()
                self.pos += 1
                self.expect_op("]")
                elements.append(int(tok.text))
            else:
                if len(elements) > MAX_PATH_LEVELS:
                    raise ExpressionSyntaxError(
                        f"The document path has too many nesting levels; nesting levels: {len(elements)}")
                return Path(tuple(elements))

    def value_ref(self) -> ValueRef:
        tok = self.peek()
        if tok.kind == VALUE:
            self.pos += 1
            return ValueRef(tok.text)
        raise self.fail()

    def function(self) -> Func:
        tok = self.peek()
        if tok.kind != IDENT or tok.text.upper() in self.keywords:
            raise self.fail()
        self.pos += 1
        self.expect_op("(")
        self.deeper()
        args = [self.function_arg()]
        while self.take_op(","):
            args.append(self.function_arg())
        self.expect_op(")")
        self.depth -= 1
        return Func(tok.text, tuple(args))

    def function_arg(self) -> Operand:
        raise NotImplementedError

    def operand(self) -> Operand:
        """Function, :value or document path (a function needs its '(')."""
        tok = self.peek()
        if tok.kind == IDENT and self.peek(1).kind == OP and self.peek(1).text == "(":
            return self.function()
        if tok.kind == VALUE:
            return self.value_ref()
        return self.path()


class ConditionParser(_Parser):
    keywords = CONDITION_KEYWORDS

    def function_arg(self) -> Operand:
        return self.operand_parens()

    def operand_parens(self) -> Operand:
        if self.take_op("("):
            self.deeper()
            inner = self.operand_parens()
            self.expect_op(")")
            self.depth -= 1
            return _paren(inner)
        return self.operand()

    def condition(self) -> Condition:
        items = [self.conjunction()]
        while self.take_keyword("OR"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunction(self) -> Condition:
        items = [self.negation()]
        while self.take_keyword("AND"):
            items.append(self.negation())
        return items[0] if len(items) == 1 else And(tuple(items))

    def negation(self) -> Condition:
        if self.take_keyword("NOT"):
            self.deeper()
            inner = self.negation()
            self.depth -= 1
            return Not(inner)
        return self.primary()

    def primary(self) -> Condition:
        found = self.attempt(self.comparison)
        if found is not None:
            return found
        if self.take_op("("):
            self.deeper()
            inner = self.condition()
            self.expect_op(")")
            self.depth -= 1
            return _paren(inner)
        return self.function()

    def comparison(self) -> Condition:
        left = self.operand_parens()
        tok = self.peek()
        if tok.kind == OP and tok.text in COMPARATORS:
            self.pos += 1
            return Compare(tok.text, left, self.operand_parens())
        if self.take_keyword("BETWEEN"):
            low = self.operand_parens()
            if not self.take_keyword("AND"):
                raise self.fail()
            return Between(left, low, self.operand_parens())
        if self.take_keyword("IN"):
            self.expect_op("(")
            choices = [self.operand_parens()]
            while self.take_op(","):
                choices.append(self.operand_parens())
            self.expect_op(")")
            return In(left, tuple(choices))
        raise self.fail()


class UpdateParser(_Parser):
    keywords = UPDATE_KEYWORDS

    def function_arg(self) -> Operand:
        return self.operand_parens()

    def operand_parens(self) -> Operand:
        # Only one level of parentheses around an operand, as DynamoDB.
        if self.take_op("("):
            inner = self.operand()
            self.expect_op(")")
            return inner
        return self.operand()

    def arithmetic(self) -> Operand:
        left = self.operand_parens()
        for op in ("+", "-"):
            if self.take_op(op):
                return Arith(op, left, self.operand_parens())
        return left

    def set_value(self) -> Operand:
        found = self.attempt(self.arithmetic)
        if found is not None:
            return found
        # "(a + b)": one pair of parentheses around the whole value.
        self.expect_op("(")
        inner = self.arithmetic()
        self.expect_op(")")
        return inner

    def update(self) -> UpdateAst:
        actions: list[UpdateAction] = []
        sections: list[str] = []
        while True:
            for kind in ("SET", "REMOVE", "ADD", "DELETE"):
                if self.take_keyword(kind):
                    break
            else:
                raise self.fail()
            sections.append(kind)
            actions.append(self.action(kind))
            while self.take_op(","):
                actions.append(self.action(kind))
            if self.pos >= len(self.sig):
                return UpdateAst(tuple(actions), tuple(sections))

    def action(self, kind: str) -> UpdateAction:
        path = self.path()
        if kind == "SET":
            self.expect_op("=")
            return UpdateAction(kind, path, self.set_value())
        if kind == "REMOVE":
            return UpdateAction(kind, path)
        return UpdateAction(kind, path, self.value_ref())


class ProjectionParser(_Parser):
    def paths(self) -> tuple[Path, ...]:
        found = [self.path()]
        while self.take_op(","):
            found.append(self.path())
        return tuple(found)


def _empty_check(text: str) -> None:
    if text == "":
        raise ExpressionSyntaxError("The expression can not be empty;")


@lru_cache(maxsize=2048)
def _cached(grammar: str, text: str) -> tuple[object, str | None]:
    try:
        _empty_check(text)
        if grammar == "condition":
            parser: _Parser = ConditionParser(text)
            return parser.run(parser.condition), None  # type: ignore[attr-defined]
        if grammar == "update":
            parser = UpdateParser(text)
            return parser.run(parser.update), None  # type: ignore[attr-defined]
        parser = ProjectionParser(text)
        return parser.run(parser.paths), None  # type: ignore[attr-defined]
    except ExpressionSyntaxError as exc:
        return None, exc.detail
    except RecursionError:  # not reached (MAX_DEPTH); kept so it could never be a 500
        return None, EXPRESSION_TOO_DEEP


def _parse(grammar: str, text: str) -> object:
    tree, error = _cached(grammar, text)
    if error is not None:
        raise ExpressionSyntaxError(error)
    return tree


def parse_condition_tree(text: str) -> Condition:
    return _parse("condition", text)  # type: ignore[return-value]


def parse_update_tree(text: str) -> UpdateAst:
    return _parse("update", text)  # type: ignore[return-value]


def parse_projection_tree(text: str) -> tuple[Path, ...]:
    return _parse("projection", text)  # type: ignore[return-value]
