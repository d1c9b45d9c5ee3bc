"""What each agent says about each convention, and the evidence for it.

A *stance* is one of ``states`` (says the rule), ``shows`` (a sample follows it),
``mentions`` (names the topic without the rule) or ``contradicts`` (says or shows the
opposite); no stance is *silent*. Every stance cites lines of the raw agent file and
the exact words there.

Stances come from two sources:

- **reviewed**: a person read the agent file and wrote ``<slug>.stances.toml`` beside
  it. A sidecar is a whole review: a convention it does not list is silent.
- **detected**: a rule of the rulebook matched (see :mod:`agentkb.detect`).

A reviewed stance overrides a detected one. When a rule finds something in a reviewed
agent that the review does not record, that is a conflict, and it is an error unless
the review dismisses it with a reason (``[[dismissed]]``), which the site then shows.

Pure logic: no Sphinx here; the extension only renders what this module decides.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .definitions import AgentDefinition, LocatedError
from .rulebook import STANCES, Rulebook

SIDECAR_SUFFIX = ".stances.toml"
SOURCES = ("reviewed", "detected")


class ReviewError(LocatedError):
    """A reviewed stance that cannot be trusted: bad sidecar, or a quote not at its line."""


@dataclass(frozen=True)
class Evidence:
    line: int  # 1-based, in the raw agent file
    quote: str  # exact text on that line (or on consecutive lines, joined by "\n")


@dataclass(frozen=True)
class Stance:
    convention: str
    stance: str
    source: str  # reviewed | detected
    evidence: tuple[Evidence, ...]
    note: str = ""
    #: The rule that detected it (full ID), or that confirms a reviewed stance.
    rule: str = ""


@dataclass(frozen=True)
class Dismissal:
    """A rule's finding that the reviewer judged wrong, and why."""

    convention: str
    rule: str
    line: int  # the agent-file line the rule matched
    quote: str
    why: str


@dataclass(frozen=True)
class Review:
    path: Path
    date: str
    stances: tuple[Stance, ...]
    dismissed: tuple[Dismissal, ...]
    #: The sidecar line of each stance (same order as ``stances``), for messages.
    lines: tuple[int, ...]
    dismissed_lines: tuple[int, ...]


@dataclass(frozen=True)
class AgentStances:
    """Everything the site shows about one agent's stances, and what is wrong with them."""

    stances: tuple[Stance, ...]
    reviewed: bool
    dismissed: tuple[Dismissal, ...] = ()
    problems: tuple[LocatedError, ...] = ()

    def cell(self, convention: str) -> tuple[Stance, ...]:
        return tuple(s for s in self.stances if s.convention == convention)

    def conventions(self) -> list[str]:
        return sorted({s.convention for s in self.stances})


def sidecar_path(agent_file: Path) -> Path:
    return agent_file.with_name(agent_file.stem + SIDECAR_SUFFIX)


def _entry_lines(text: str, key: str) -> list[int]:
    """The sidecar lines of each ``[[key]]`` header, in order."""
    header = re.compile(rf"^\s*\[\[\s*{re.escape(key)}\s*\]\]\s*(#.*)?$")
    return [number for number, line in enumerate(text.splitlines(), 1) if header.match(line)]


def _evidence(raw: Any, fail: Any) -> tuple[Evidence, ...]:
    if not isinstance(raw, list) or not raw:
        raise fail("evidence must be a non-empty list of {line, quote}")
    items = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("line"), int) or not item.get("quote"):
            raise fail("each evidence item needs a line number and a non-empty quote")
        items.append(Evidence(item["line"], str(item["quote"])))
    return tuple(items)


def load_review(path: Path, rulebook: Rulebook) -> Review:
    text = path.read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 1
        raise ReviewError(path, line, f"malformed TOML: {exc}") from None
    stances: list[Stance] = []
    lines: list[int] = []
    dismissed: list[Dismissal] = []
    dismissed_lines: list[int] = []
    for key, value in data.items():
        if key == "reviewed":
            continue
        entries = value if isinstance(value, list) else [value]
        entry_lines = _entry_lines(text, key) or [1] * len(entries)
        for index, entry in enumerate(entries):
            line = entry_lines[min(index, len(entry_lines) - 1)]

            def fail(message: str, key: str = key, line: int = line) -> ReviewError:
                return ReviewError(path, line, f"{key}: {message}")

            if not isinstance(entry, dict):
                raise fail("each entry is a table ([[ID]])")
            if key == "dismissed":
                if not (entry.get("rule") and entry.get("why") and isinstance(entry.get("line"), int)):
                    raise fail("a dismissal names the rule, the line it matched and why it is wrong")
                convention = str(entry["rule"]).partition("/")[0]
                dismissed.append(
                    Dismissal(
                        convention, str(entry["rule"]), entry["line"], str(entry.get("quote", "")), str(entry["why"])
                    )
                )
                dismissed_lines.append(line)
                continue
            if rulebook.get(key) is None:
                raise fail("no such convention in the rulebook")
            if entry.get("stance") not in STANCES:
                raise fail(f"stance must be one of {', '.join(STANCES)}, not {entry.get('stance')!r}")
            stances.append(
                Stance(
                    key, entry["stance"], "reviewed", _evidence(entry.get("evidence"), fail), str(entry.get("note", ""))
                )
            )
            lines.append(line)
    return Review(
        path, str(data.get("reviewed", "")), tuple(stances), tuple(dismissed), tuple(lines), tuple(dismissed_lines)
    )


def quote_at(raw_lines: Sequence[str], evidence: Evidence) -> bool:
    """Whether the quote is on the cited line(s) of the raw file."""
    count = evidence.quote.count("\n") + 1
    if evidence.line < 1 or evidence.line + count - 1 > len(raw_lines):
        return False
    return evidence.quote in "\n".join(raw_lines[evidence.line - 1 : evidence.line - 1 + count])


def _raw_lines(definition: AgentDefinition) -> list[str]:
    return definition.raw.decode("utf-8").splitlines()


def check_review(review: Review, definition: AgentDefinition) -> list[ReviewError]:
    """Every quote must be at its line: a stale review fails, naming the sidecar line."""
    raw = _raw_lines(definition)
    problems = []
    for stance, line in zip(review.stances, review.lines, strict=True):
        for evidence in stance.evidence:
            if not quote_at(raw, evidence):
                actual = raw[evidence.line - 1].strip() if 0 < evidence.line <= len(raw) else "(no such line)"
                problems.append(
                    ReviewError(
                        review.path,
                        line,
                        f"{stance.convention} ({stance.stance}): {definition.path.name}:{evidence.line} does not say "
                        f"{evidence.quote!r}; the line reads {actual!r}",
                    )
                )
    return problems


def resolve(definition: AgentDefinition, review: Review | None, detections: Iterable[Any]) -> AgentStances:
    """The stances the site shows for one agent.

    ``detections`` are :class:`agentkb.detect.Detection` objects (a rule, a line, a quote).
    Without a review they are the agent's stances. With one, the review decides; each
    detection must agree with it (the reviewed cell holds the same stance, or any stance
    for a detected mention) or be dismissed.
    """
    detected = [
        Stance(
            d.rule.convention, d.rule.stance, "detected", (Evidence(d.line, d.quote),), d.rule.message, d.rule.full_id
        )
        for d in detections
    ]
    if review is None:
        return AgentStances(_merge(detected), reviewed=False)
    problems: list[LocatedError] = list(check_review(review, definition))
    reviewed = list(review.stances)
    for found in detected:
        line = found.evidence[0].line
        # Any stance on a convention names its topic: a reviewed states, shows or contradicts
        # also accounts for a rule that finds only a mention.
        cell = [
            s
            for s in reviewed
            if s.convention == found.convention and (s.stance == found.stance or found.stance == "mentions")
        ]
        if cell:
            # The rule confirms a reviewed stance when it finds that very stance on one of its lines.
            for index, stance in enumerate(reviewed):
                if (
                    stance.convention == found.convention
                    and stance.stance == found.stance
                    and not stance.rule
                    and line in {e.line for e in stance.evidence}
                ):
                    reviewed[index] = Stance(**{**stance.__dict__, "rule": found.rule})
                    break
            continue
        if any(d.rule == found.rule and d.line == line for d in review.dismissed):
            continue
        problems.append(
            ReviewError(
                review.path,
                1,
                f"rule {found.rule} finds that {definition.path.name}:{line} {found.stance} {found.convention} "
                f"({found.evidence[0].quote!r}), which the review does not record: add the stance, or a "
                f"[[dismissed]] entry with rule, line and why",
            )
        )
    used = {(d.rule, d.evidence[0].line) for d in detected}
    for dismissal, line in zip(review.dismissed, review.dismissed_lines, strict=True):
        if (dismissal.rule, dismissal.line) not in used:
            problems.append(
                ReviewError(
                    review.path,
                    line,
                    f"dismissed: rule {dismissal.rule} no longer matches {definition.path.name}:{dismissal.line}; "
                    f"remove the dismissal",
                )
            )
    return AgentStances(tuple(reviewed), reviewed=True, dismissed=review.dismissed, problems=tuple(problems))


def _merge(stances: list[Stance]) -> tuple[Stance, ...]:
    """One detected stance per (convention, stance, rule), with all its evidence."""
    merged: dict[tuple[str, str, str], Stance] = {}
    for stance in stances:
        key = (stance.convention, stance.stance, stance.rule)
        if key in merged:
            old = merged[key]
            merged[key] = Stance(
                old.convention, old.stance, old.source, old.evidence + stance.evidence, old.note, old.rule
            )
        else:
            merged[key] = stance
    return tuple(merged.values())


def agent_stances(definition: AgentDefinition, rulebook: Rulebook, detections: Iterable[Any]) -> AgentStances:
    """Load the agent's review, if it has one, and resolve it against the detections."""
    path = sidecar_path(definition.path)
    if not path.exists():
        return resolve(definition, None, detections)
    try:
        review = load_review(path, rulebook)
    except ReviewError as exc:
        return AgentStances((), reviewed=True, problems=(exc,))
    return resolve(definition, review, detections)
