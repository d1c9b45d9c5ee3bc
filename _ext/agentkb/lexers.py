"""Pygments lexers for languages the agent files use that Pygments lacks.

Without them a strict build fails on "Could not lex literal_block" warnings for
code the site has to show exactly as the agents wrote it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pygments.lexer import RegexLexer, bygroups, include
from pygments.lexers.data import JsonLexer
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)
from sphinx.application import Sphinx


class PrismaLexer(RegexLexer):
    """Prisma schema files: blocks of fields with types and ``@`` attributes."""

    name = "Prisma"
    aliases = ["prisma"]
    filenames = ["*.prisma"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"//.*$", Comment.Single),
            (
                r"\b(model|enum|generator|datasource|type|view)(\s+)(\w+)",
                bygroups(Keyword.Declaration, Whitespace, Name.Class),
            ),
            include("values"),
            (r"[{}]", Punctuation),
            (r"\w+", Name),
        ],
        "values": [
            (r"@@?\w+(\.\w+)?", Name.Decorator),
            (r'"(\\\\|\\"|[^"])*"', String.Double),
            (r"\b(true|false|null)\b", Keyword.Constant),
            (r"\b(String|Int|BigInt|Float|Decimal|Boolean|DateTime|Json|Bytes)\b", Keyword.Type),
            (r"\d+(\.\d+)?", Number),
            (r"[=?\[\](),:.]", Operator),
        ],
    }


class JsonWithPlaceholdersLexer(JsonLexer):
    """JSON in which ``...`` stands for elided content, as response-format sketches write it.

    Highlighting only: whether a block is valid JSON is the verification's business.
    """

    name = "JSON (with ... placeholders)"
    aliases = ["json"]

    def get_tokens_unprocessed(self, text: str) -> Iterator[tuple[int, Any, str]]:
        for index, token, value in super().get_tokens_unprocessed(text):
            if token is Error and value == ".":
                token = Comment.Special
            yield index, token, value


def setup(app: Sphinx) -> None:
    app.add_lexer("prisma", PrismaLexer)
    app.add_lexer("json", JsonWithPlaceholdersLexer)
