"""Measurable facts about an agent's body: size, sections, code samples."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark").enable("table")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int  # 1-based, within the body


@dataclass(frozen=True)
class CodeSample:
    language: str  # "" when the fence names none
    info: str
    code: str
    line: int  # 1-based line of the opening fence, within the body


@dataclass(frozen=True)
class AgentFacts:
    words: int
    headings: tuple[Heading, ...]
    samples: tuple[CodeSample, ...]

    @property
    def sections(self) -> int:
        return len(self.headings)

    @property
    def languages(self) -> Counter[str]:
        return Counter(s.language or "text" for s in self.samples)


_WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*")


@lru_cache(maxsize=4096)
def measure(body: str) -> AgentFacts:
    """The facts of a body, parsed once per process (the page, its card and its samples need them)."""
    tokens = _md.parse(body)
    headings: list[Heading] = []
    samples: list[CodeSample] = []
    words = 0
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            text = tokens[index + 1].content
            headings.append(Heading(int(token.tag[1]), text, token.map[0] + 1))
        elif token.type == "fence" and token.map:
            info = token.info.strip()
            language = info.split()[0] if info else ""
            samples.append(CodeSample(language, info, token.content, token.map[0] + 1))
        elif token.type == "inline":
            words += len(_WORD.findall(token.content))
    return AgentFacts(words=words, headings=tuple(headings), samples=tuple(samples))
