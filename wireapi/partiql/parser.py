"""Recursive-descent parser for DynamoDB's PartiQL statements.

Syntax errors carry DynamoDB's short detail texts (see errors.py): a missing
operand is an "Unexpected term", a keyword or operator where an operand should
start says so, and anything left after a complete statement is an
"Unexpected token after expression".
"""
from __future__ import annotations

from functools import lru_cache

from wireapi.errors import (
    PARTIQL_ALIASING, PARTIQL_EXPECTED_DML, PARTIQL_EXPECTED_PATH, PARTIQL_EXPECTED_TYPE, PARTIQL_INSERT_VALUES,
    PARTIQL_LEFTOVER, PARTIQL_MISSING_RHS, PARTIQL_UNEXPECTED_KEYWORD, PARTIQL_UNEXPECTED_OPERATOR,
    PARTIQL_UNEXPECTED_TERM, ValidationException, partiql_not_well_formed,
)

from . import ast
from .tokens import EOF, IDENT, NUMBER, OP, QIDENT, STRING, Token, location, tokenize

# Words that cannot be bare attribute names (quote them: "value").
KEYWORDS = frozenset("""
    ALL AND AS ASC BETWEEN BY DELETE DESC DISTINCT EXISTS FALSE FROM GROUP HAVING IN INSERT INTO IS
    LIKE LIMIT MISSING NOT NULL OFFSET ON OR ORDER REMOVE RETURNING SELECT SET TRUE UNION UPDATE VALUE
    VALUES WHERE
""".split())
_OPERATOR_WORDS = frozenset({"AND", "OR", "IS", "IN", "LIKE", "BETWEEN"})
_COMPARISONS = ("=", "<>", "!=", "<", "<=", ">", ">=")
_RETURNING = ("ALL OLD", "MODIFIED OLD", "ALL NEW", "MODIFIED NEW")
# PartiQL type names after IS, and the DynamoDB types each stands for ("" : none).
_NUMERIC = ("SMALLINT INT2 INTEGER2 INT INTEGER INT4 INTEGER4 INT8 INTEGER8 BIGINT REAL FLOAT DECIMAL DEC NUMERIC "
            "DOUBLE_PRECISION").split()
TYPE_NAMES = {**dict.fromkeys(_NUMERIC, "N"), "BOOL": "BOOL", "BOOLEAN": "BOOL",
              **dict.fromkeys("CHAR CHARACTER VARCHAR CHARACTER_VARYING STRING SYMBOL".split(), "S"),
              "BLOB": "B", "CLOB": "B", "STRUCT": "M", "TUPLE": "M", "LIST": "L", "SEXP": "L",
              "BAG": "SS NS BS", "TIMESTAMP": "", "DATE": "", "TIME": ""}
_TWO_WORD_TYPES = {("DOUBLE", "PRECISION"), ("CHARACTER", "VARYING")}


class _Parser:
    def __init__(self, statement: str) -> None:
        self.text = statement
        self.tokens = tokenize(statement)
        self.pos = 0
        self.params = 0

    # --- token helpers ---
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != EOF:
            self.pos += 1
        return token

    def accept_keyword(self, *words: str) -> Token | None:
        return self.advance() if self.tok.is_keyword(*words) else None

    def accept_op(self, *ops: str) -> Token | None:
        return self.advance() if self.tok.is_op(*ops) else None

    def expect_keyword(self, word: str) -> None:
        if not self.accept_keyword(word):
            raise self.unexpected()

    def expect_op(self, op: str) -> None:
        if not self.accept_op(op):
            raise self.unexpected()

    def unexpected(self):  # noqa: ANN201 - returns the exception to raise
        token = self.tok
        if token.kind == EOF or token.is_op(";"):
            return partiql_not_well_formed(PARTIQL_UNEXPECTED_TERM)
        if token.kind == IDENT and token.text.upper() in _OPERATOR_WORDS:
            return partiql_not_well_formed(PARTIQL_UNEXPECTED_OPERATOR)
        if token.kind == IDENT and token.text.upper() in KEYWORDS:
            return partiql_not_well_formed(PARTIQL_UNEXPECTED_KEYWORD)
        if token.kind == OP and token.text not in ("(", "[", "{", "<<", "?"):
            return partiql_not_well_formed(PARTIQL_UNEXPECTED_OPERATOR)
        return partiql_not_well_formed(PARTIQL_LEFTOVER)

    def finish(self) -> None:
        self.accept_op(";")
        if self.tok.kind != EOF:
            raise partiql_not_well_formed(PARTIQL_LEFTOVER)

    # --- statements ---
    def statement(self) -> ast.Statement:
        token = self.tok
        if token.is_keyword("SELECT"):
            result: ast.Statement = self.select()
        elif token.is_keyword("INSERT"):
            result = self.insert()
        elif token.is_keyword("UPDATE"):
            result = self.update()
        elif token.is_keyword("DELETE"):
            result = self.delete()
        elif token.is_keyword("FROM"):
            result = self.from_first_update()
        elif token.is_keyword("EXISTS"):
            self.advance()
            self.expect_op("(")
            if not self.tok.is_keyword("SELECT"):
                raise self.unexpected()
            inner = self.select()
            self.expect_op(")")
            result = ast.Exists(inner)
        else:
            raise partiql_not_well_formed(PARTIQL_EXPECTED_DML)
        self.finish()
        return result

    def target(self, clause_words: tuple[str, ...], aliases: bool = True) -> ast.Target:
        """A table name, or "table"."index"; an alias after it is refused with
        its own message (`aliases`), or is simply a token out of place."""
        token = self.tok
        if token.kind not in (IDENT, QIDENT) or (token.kind == IDENT and token.text.upper() in KEYWORDS):
            raise partiql_not_well_formed(PARTIQL_EXPECTED_PATH)
        self.advance()
        index = None
        if self.accept_op("."):
            if self.tok.kind not in (IDENT, QIDENT):
                raise self.unexpected()
            index = self.advance().text
        after = self.tok
        is_word = after.kind == QIDENT or (after.kind == IDENT and after.text.upper() not in KEYWORDS)
        if aliases and (after.is_keyword("AS") or (is_word and not after.is_keyword(*clause_words))):
            raise ValidationException(PARTIQL_ALIASING)
        return ast.Target(token.text, index)

    def select(self) -> ast.Select:
        self.expect_keyword("SELECT")
        projection: tuple[ast.Path, ...] | None = None
        if not self.accept_op("*"):
            paths = [self.path()]
            while self.accept_op(","):
                paths.append(self.path())
            projection = tuple(paths)
        self.expect_keyword("FROM")
        if self.tok.kind == EOF:
            raise partiql_not_well_formed(PARTIQL_UNEXPECTED_TERM)
        target = self.target(("WHERE", "ORDER"))
        where = self.expression() if self.accept_keyword("WHERE") else None
        order_by = None
        if self.accept_keyword("ORDER"):
            self.expect_keyword("BY")
            path = self.path()
            descending = bool(self.accept_keyword("DESC"))
            if not descending:
                self.accept_keyword("ASC")
            order_by = (path, not descending)
        return ast.Select(target, projection, where, order_by)

    def insert(self) -> ast.Insert:
        self.expect_keyword("INSERT")
        self.expect_keyword("INTO")
        target = self.target(("VALUE", "VALUES"), aliases=False)
        if self.tok.is_keyword("VALUES"):
            raise ValidationException(PARTIQL_INSERT_VALUES)
        if not self.accept_keyword("VALUE"):
            raise partiql_not_well_formed(PARTIQL_LEFTOVER)
        if not self.tok.is_op("{"):
            raise self.unexpected()
        item = self.primary()
        assert isinstance(item, ast.MapExpr)
        return ast.Insert(target, item)

    def update(self) -> ast.Update:
        self.expect_keyword("UPDATE")
        target = self.target(("SET", "REMOVE"))
        assignments = self.assignments()
        where = self.expression() if self.accept_keyword("WHERE") else None
        return ast.Update(target, assignments, where, self.returning())

    def from_first_update(self) -> ast.Update:
        """PartiQL's other UPDATE form: FROM "T" WHERE <key> SET ... / REMOVE ..."""
        self.expect_keyword("FROM")
        target = self.target(("WHERE", "SET", "REMOVE"))
        where = self.expression() if self.accept_keyword("WHERE") else None
        return ast.Update(target, self.assignments(), where, self.returning())

    def assignments(self) -> tuple[ast.Assignment, ...]:
        """One or more SET and REMOVE clauses, in any order."""
        assignments: list[ast.Assignment] = []
        while True:
            if self.accept_keyword("SET"):
                assignments.append(self.assignment())
                while self.accept_op(","):
                    assignments.append(self.assignment())
            elif self.accept_keyword("REMOVE"):
                assignments.append(ast.Assignment(self.path(), None))
                while self.accept_op(","):
                    assignments.append(ast.Assignment(self.path(), None))
            else:
                break
        if not assignments:
            raise self.unexpected()
        return tuple(assignments)

    def assignment(self) -> ast.Assignment:
        path = self.path()
        self.expect_op("=")
        return ast.Assignment(path, self.additive())

    def delete(self) -> ast.Delete:
        self.expect_keyword("DELETE")
        self.expect_keyword("FROM")
        target = self.target(("WHERE", "RETURNING"))
        where = self.expression() if self.accept_keyword("WHERE") else None
        return ast.Delete(target, where, self.returning())

    def returning(self) -> str | None:
        if not self.accept_keyword("RETURNING"):
            return None
        words = []
        for _ in range(2):
            if self.tok.kind != IDENT:
                raise self.unexpected()
            words.append(self.advance().text.upper())
        self.expect_op("*")
        variant = " ".join(words)
        if variant not in _RETURNING:
            raise partiql_not_well_formed(PARTIQL_UNEXPECTED_TERM)
        return variant

    # --- paths ---
    def path(self) -> ast.Path:
        token = self.tok
        if token.kind == QIDENT or (token.kind == IDENT and token.text.upper() not in KEYWORDS):
            self.advance()
        else:
            raise self.unexpected()
        steps: list[ast.PathStep] = [token.text]
        at = location(self.text, token)
        while True:
            if self.accept_op("."):
                if self.tok.kind not in (IDENT, QIDENT):
                    raise self.unexpected()
                steps.append(self.advance().text)
            elif self.accept_op("["):
                token = self.tok
                if token.kind == NUMBER and token.text.isdigit():
                    steps.append(int(token.text))
                elif token.kind == STRING:
                    steps.append(token.text)
                else:
                    raise self.unexpected()
                self.advance()
                self.expect_op("]")
            else:
                return ast.Path(tuple(steps), at)

    # --- expressions, lowest precedence first ---
    def expression(self) -> ast.Expr:
        return self.disjunction()

    def operand_after(self, parse) -> ast.Expr:  # noqa: ANN001
        """The right-hand side of an infix operator."""
        if self.tok.kind == EOF or self.tok.is_op(";", ")"):
            raise partiql_not_well_formed(PARTIQL_MISSING_RHS)
        return parse()

    def disjunction(self) -> ast.Expr:
        left = self.conjunction()
        while self.accept_keyword("OR"):
            left = ast.Binary("OR", left, self.operand_after(self.conjunction))
        return left

    def conjunction(self) -> ast.Expr:
        left = self.negation()
        while self.accept_keyword("AND"):
            left = ast.Binary("AND", left, self.operand_after(self.negation))
        return left

    def negation(self) -> ast.Expr:
        if self.accept_keyword("NOT"):
            return ast.Not(self.negation())
        return self.predicate()

    def predicate(self) -> ast.Expr:
        left = self.additive()
        token = self.tok
        if token.is_op(*_COMPARISONS):
            self.advance()
            op = "<>" if token.text == "!=" else token.text
            return ast.Binary(op, left, self.operand_after(self.additive))
        if token.is_keyword("IS"):
            self.advance()
            negated = bool(self.accept_keyword("NOT"))
            return ast.Is(left, self.type_name(), negated)
        negated = False
        if token.is_keyword("NOT") and self.peek().is_keyword("IN", "BETWEEN"):
            self.advance()
            negated = True
        if self.accept_keyword("BETWEEN"):
            low = self.operand_after(self.additive)
            self.expect_keyword("AND")
            return ast.Between(left, low, self.operand_after(self.additive), negated)
        if self.accept_keyword("IN"):
            if self.tok.is_op("[", "("):
                closing = "]" if self.advance().text == "[" else ")"
                choices = [self.additive()]
                while self.accept_op(","):
                    choices.append(self.additive())
                self.expect_op(closing)
            else:
                choices = [self.operand_after(self.additive)]
            return ast.In(left, tuple(choices), negated)
        return left

    def type_name(self) -> str:
        """MISSING, NULL, or the DynamoDB types of a PartiQL type name."""
        word = self.tok.text.upper() if self.tok.kind == IDENT else ""
        if word in ("MISSING", "NULL"):
            self.advance()
            return word
        if (word, self.peek().text.upper()) in _TWO_WORD_TYPES:
            self.advance()
            word += "_" + self.advance().text.upper()
        elif word in TYPE_NAMES:
            self.advance()
        else:
            raise partiql_not_well_formed(PARTIQL_EXPECTED_TYPE)
        return TYPE_NAMES[word]

    def additive(self) -> ast.Expr:
        left = self.primary()
        while self.tok.is_op("+", "-"):
            op = self.advance().text
            left = ast.Binary(op, left, self.operand_after(self.primary))
        return left

    def primary(self) -> ast.Expr:  # noqa: C901 - one branch per literal form
        token = self.tok
        if token.kind == STRING:
            self.advance()
            return ast.Lit({"S": token.text})
        if token.kind == NUMBER:
            self.advance()
            return ast.Lit({"N": token.text})
        if token.is_op("-") and self.peek().kind == NUMBER:
            self.advance()
            return ast.Lit({"N": "-" + self.advance().text})
        if token.is_op("?"):
            self.advance()
            self.params += 1
            return ast.Param(self.params - 1)
        if token.is_keyword("TRUE", "FALSE"):
            self.advance()
            return ast.Lit({"BOOL": token.text.upper() == "TRUE"})
        if token.is_keyword("NULL"):
            self.advance()
            return ast.Lit({"NULL": True})
        if token.is_keyword("MISSING"):
            self.advance()
            return ast.Missing()
        if token.is_op("("):
            self.advance()
            inner = self.expression()
            self.expect_op(")")
            return inner
        if token.is_op("["):
            self.advance()
            return ast.ListExpr(tuple(self.items("]")))
        if token.is_op("<<"):
            self.advance()
            return ast.SetExpr(tuple(self.items(">>")))
        if token.is_op("{"):
            self.advance()
            pairs: list[tuple[str, ast.Expr]] = []
            if not self.accept_op("}"):
                while True:
                    if self.tok.kind != STRING:
                        raise self.unexpected()
                    name = self.advance().text
                    self.expect_op(":")
                    pairs.append((name, self.expression()))
                    if self.accept_op("}"):
                        break
                    self.expect_op(",")
            return ast.MapExpr(tuple(pairs))
        if token.kind == IDENT and (token.text.upper() not in KEYWORDS or token.is_keyword("EXISTS")) \
                and self.peek().is_op("("):
            self.advance()
            self.advance()
            args: list[ast.Expr] = []
            if not self.accept_op(")"):
                args = self.items(")")
            return ast.Call(token.text.lower(), tuple(args), location(self.text, token))
        if token.kind in (IDENT, QIDENT):
            return self.path()
        raise self.unexpected()

    def items(self, closing: str) -> list[ast.Expr]:
        """Comma-separated expressions up to `closing` (already past the opener)."""
        out: list[ast.Expr] = []
        if self.accept_op(closing):
            return out
        while True:
            out.append(self.expression())
            if self.accept_op(closing):
                return out
            self.expect_op(",")


@lru_cache(maxsize=1024)
def _parse(statement: str) -> tuple[ast.Statement, int]:
    parser = _Parser(statement)
    return parser.statement(), parser.params


def parse(statement: str) -> tuple[ast.Statement, int]:
    """The statement's tree and its number of `?` parameters; ValidationException
    (DynamoDB's "Statement wasn't well formed" texts) on a syntax error."""
    try:
        return _parse(statement)
    except RecursionError:  # thousands of nested parentheses or brackets
        raise partiql_not_well_formed("") from None
