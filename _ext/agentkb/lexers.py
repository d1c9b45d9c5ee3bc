"""Highlighting for the code in agent files, which the site shows exactly as written.

Pygments lexers for languages the agent files use that Pygments lacks; and, because
agent files are written for editors and not for Sphinx, a transform that shows a block
in a language no lexer knows (``mermaid``, ``cedar``), or code its lexer rejects, as
plain text instead of failing a strict build. Whether a sample is valid is the
verification's business, not the highlighter's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from docutils import nodes
from pygments.lexer import RegexLexer, bygroups, include
from pygments.lexers import get_lexer_by_name
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
from pygments.util import ClassNotFound
from sphinx.application import Sphinx
from sphinx.highlighting import lexer_classes, lexers
from sphinx.transforms import SphinxTransform

from .ingest import catalog


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


#: Names Sphinx itself treats specially rather than asking Pygments for.
_SPHINX_LANGUAGES = {"default", "guess", "none", "py", "python", "py3", "python3", "pycon", "pycon3"}


def known_language(language: str) -> bool:
    if not language or language in _SPHINX_LANGUAGES or language in lexers or language in lexer_classes:
        return True
    try:
        get_lexer_by_name(language)
    except ClassNotFound:
        return False
    return True


class AgentCodeBlocks(SphinxTransform):
    """On agent pages: unknown fence languages become plain text; lexing never fails the build."""

    default_priority = 500

    def apply(self, **kwargs: object) -> None:
        if catalog(self.env).by_docname(self.env.docname) is None:
            return
        for block in self.document.findall(nodes.literal_block):
            if not known_language(block.get("language", "")):
                block["language"] = "text"
            block["force"] = True


def setup(app: Sphinx) -> None:
    app.add_transform(AgentCodeBlocks)
    app.add_lexer("prisma", PrismaLexer)
    app.add_lexer("json", JsonWithPlaceholdersLexer)
