"""How well the rules detect stances: precision from a hand review, recall from the reviewed agents.

- *Precision*: people read detections on agent files nobody here wrote and judged each
  one (``guides/detection-review.toml``); per rule kind, the share judged correct.
- *Recall*: of the stances a person recorded on the reviewed agents, the share a rule
  also finds: same convention, same stance, on one of the stance's evidence lines.

No Sphinx here; the bench, the tests and the site's accuracy page share these.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .rulebook import RULE_KINDS, STANCES, Rulebook


@dataclass(frozen=True)
class Score:
    hits: int
    total: int

    @property
    def ratio(self) -> float | None:
        return self.hits / self.total if self.total else None

    def __str__(self) -> str:
        return f"{self.hits}/{self.total} = {self.ratio:.0%}" if self.total else "none measured"


def load_detection_review(path: Path) -> list[dict[str, Any]]:
    return list(tomllib.loads(path.read_text("utf-8")).get("review", []))


def precision(entries: Iterable[Mapping[str, Any]], rulebook: Rulebook) -> dict[str, Score]:
    """Per rule kind: the reviewed detections of active rules judged correct."""
    kinds = {rule.full_id: rule.kind for rule in rulebook.active_rules}
    counted: dict[str, list[bool]] = {kind: [] for kind in RULE_KINDS}
    for entry in entries:
        kind = kinds.get(entry["rule"])
        if kind is not None:
            counted[kind].append(bool(entry["correct"]))
    return {kind: Score(sum(verdicts), len(verdicts)) for kind, verdicts in counted.items()}


def stale_entries(entries: Iterable[Mapping[str, Any]], present: set[tuple[str, int, str]]) -> list[Mapping[str, Any]]:
    """Review entries whose detection (file, line, rule) no longer occurs."""
    return [e for e in entries if (e["file"], e["line"], e["rule"]) not in present]


def recall(stances: Iterable[Mapping[str, Any]]) -> dict[str, Score]:
    """Per stance, from conventions.json-shaped stances: reviewed ones a rule also found.

    A reviewed stance names a ``rule`` when a rule found the same stance on one of its
    evidence lines (see :func:`agentkb.stances.resolve`).
    """
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for stance in stances:
        if stance["source"] != "reviewed":
            continue
        totals[stance["stance"]] += 1
        hits[stance["stance"]] += bool(stance.get("rule"))
    scores = {kind: Score(hits[kind], totals[kind]) for kind in STANCES}
    scores["all"] = Score(sum(hits.values()), sum(totals.values()))
    return scores
