"""Measurable facts about an agent's body: size, sections, code samples, topics."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark").enable("table")

#: Topic -> words that, in a heading, mark a section as being about it. The topics
#: mirror the guides, so the overview says which guides an agent has something for.
TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = {
    "API design": ("api", "restful", "endpoint", "openapi"),
    "Errors": ("error",),
    "Status codes": ("status code",),
    "Auth": ("auth", "jwt", "security"),
    "Database": ("database", "schema", "query", "sqlalchemy", "prisma", "migration"),
    "Architecture": ("architecture", "service layer", "repository", "structure", "solid"),
    "Testing": ("test",),
    "Logging": ("log",),
    "Performance": ("performance",),
    "Configuration": ("configuration", "environment"),
}


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

    @property
    def topics(self) -> list[str]:
        texts = [h.text.lower() for h in self.headings]
        return [
            topic
            for topic, words in TOPIC_KEYWORDS.items()
            if any(word in text for text in texts for word in words)
        ]


_WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*")


def measure(body: str) -> AgentFacts:
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
