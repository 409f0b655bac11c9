"""Tokenizer for DynamoDB's PartiQL dialect.

Keywords are recognised case-insensitively by the parser; the tokenizer only
separates words, quoted names, string and number literals and punctuation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from wireapi.errors import partiql_not_well_formed

# Token kinds.
IDENT = "ident"    # a bare word (keywords too)
QIDENT = "qident"  # "quoted identifier", text unescaped
STRING = "string"  # 'string literal', text unescaped
NUMBER = "number"
OP = "op"          # punctuation and operators
EOF = "eof"

_TOKEN_RE = re.compile(  # whitespace includes -- line and /* block */ comments
    r"(?P<ws>\s+|--[^\n]*|/\*.*?\*/)"
    r"|(?P<qident>\"(?:[^\"]|\"\")*\")"
    r"|(?P<string>'(?:[^']|'')*')"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)"
    r"|(?P<op><<|>>|<=|>=|<>|!=|\|\||[=<>()\[\]{},.:?*+\-/;%])",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int
    end: int = 0  # offset after the token as written (quotes included)

    def is_keyword(self, *words: str) -> bool:
        return self.kind == IDENT and self.text.upper() in words

    def is_op(self, *ops: str) -> bool:
        return self.kind == OP and self.text in ops


def tokenize(statement: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(statement):
        match = _TOKEN_RE.match(statement, pos)
        if match is None or (match.lastgroup == "op" and statement.startswith("/*", pos)):
            # '#' comments, unterminated quotes or comments, stray characters: DynamoDB
            # reports these with nothing after the colon.
            raise partiql_not_well_formed("")
        kind = match.lastgroup
        text = match.group()
        if kind == "qident":
            out.append(Token(QIDENT, text[1:-1].replace('""', '"'), pos, match.end()))
        elif kind == "string":
            out.append(Token(STRING, text[1:-1].replace("''", "'"), pos, match.end()))
        elif kind != "ws":
            out.append(Token(kind, text, pos, match.end()))  # type: ignore[arg-type]
        pos = match.end()
    out.append(Token(EOF, "", pos, pos))
    return out


def location(statement: str, token: Token) -> str:
    """DynamoDB's `line:column:length` of a token (1-based, in characters)."""
    line = statement.count("\n", 0, token.pos) + 1
    column = token.pos - (statement.rfind("\n", 0, token.pos) + 1) + 1
    return f"{line}:{column}:{token.end - token.pos}"
