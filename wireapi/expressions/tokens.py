"""Tokenizer shared by every expression grammar.

Whitespace is kept as tokens because DynamoDB's syntax-error message quotes the
source around the offending token ("near"), whitespace included.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Token kinds.
WS = "ws"
IDENT = "ident"    # [A-Za-z_][A-Za-z0-9_]*  (keywords too: the parser decides)
NUMBER = "number"  # [0-9]+, only meaningful inside [ ]
NAME = "name"      # #placeholder
VALUE = "value"    # :placeholder
OP = "op"          # punctuation and comparators
BAD = "bad"        # any other character: always a syntax error
EOF = "eof"

_TOKEN_RE = re.compile(
    r"(?P<ws>[ \t\r\n]+)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<number>[0-9]+)"
    r"|(?P<name>\#[A-Za-z0-9_]+)"
    r"|(?P<value>:[A-Za-z0-9_]+)"
    r"|(?P<op><>|<=|>=|[=<>()\[\],.+\-])"
    r"|(?P<bad>.)",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str


def tokenize(text: str) -> list[Token]:
    return [Token(m.lastgroup or BAD, m.group()) for m in _TOKEN_RE.finditer(text)]


class ExpressionSyntaxError(Exception):
    """Raised by the parsers; `detail` is the text after "Invalid <kind>: "."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def syntax_error(tokens: list[Token], index: int) -> ExpressionSyntaxError:
    """DynamoDB quotes the bad token plus its neighbours; a whitespace neighbour
    pulls in the token beyond it so the context is readable."""
    def text(i: int) -> str:
        return tokens[i].text if 0 <= i < len(tokens) else ""

    def is_ws(i: int) -> bool:
        return 0 <= i < len(tokens) and tokens[i].kind == WS

    if index >= len(tokens):
        token, bad_text, after = "<EOF>", "", ""
        index = len(tokens)
    else:
        token = bad_text = tokens[index].text
        after = text(index + 1) + (text(index + 2) if is_ws(index + 1) else "")
    before = (text(index - 2) if is_ws(index - 1) else "") + text(index - 1)
    near = before + bad_text + after
    return ExpressionSyntaxError(f'Syntax error; token: "{token}", near: "{near}"')
