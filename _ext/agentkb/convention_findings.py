"""``agentkb check --conventions``: what the rulebook's rules find in an author's own agent files.

Each finding names the file and line, the convention, the stance the match is evidence
of, the rule, the quoted words and the convention's permalink: the same detections an
agent dropped into the site shows on its page. OpenAPI rules run when Spectral can be
installed (Node.js and npm); without it they are skipped, and the report says so.

No Sphinx here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from .definitions import AgentDefinition
from .detect import Detection, detect
from .rulebook import SITE_URL, Rulebook, default_rulebook
from .spectral import SpectralError, detect_openapi


@dataclass(frozen=True)
class ConventionFinding:
    path: str
    line: int
    convention: str
    level: str
    stance: str  # what the match is evidence of: states, shows, mentions or contradicts
    rule: str
    message: str
    quote: str
    url: str

    def text(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.convention} ({self.level}) {self.stance}: {self.message} "
            f"[{self.rule}] “{self.quote}” {self.url}"
        )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _finding(definition: AgentDefinition, detection: Detection, rulebook: Rulebook, base_url: str) -> ConventionFinding:
    conv = rulebook.get(detection.rule.convention)
    assert conv is not None  # a rule belongs to a convention of its rulebook
    return ConventionFinding(
        path=str(definition.path),
        line=detection.line,
        convention=conv.id,
        level=conv.level,
        stance=detection.rule.stance,
        rule=detection.rule.full_id,
        message=detection.rule.message,
        quote=detection.quote,
        url=conv.permalink(base_url),
    )


def convention_findings(
    definitions: Iterable[AgentDefinition], rulebook: Rulebook | None = None, base_url: str = SITE_URL
) -> tuple[list[ConventionFinding], list[str]]:
    """The findings for every file, in file and line order, and notes on what could not run."""
    rulebook = rulebook or default_rulebook()
    definitions = list(definitions)
    notes: list[str] = []
    try:
        openapi = detect_openapi(definitions, rulebook)
    except SpectralError as exc:
        openapi = {}
        notes.append(f"OpenAPI rules not run: {exc}")
    findings = [
        _finding(definition, detection, rulebook, base_url)
        for definition in definitions
        for detection in (*detect(definition, rulebook.active_rules), *openapi.get(definition.path, ()))
    ]
    findings.sort(key=lambda f: (f.path, f.line, f.convention, f.rule))
    return findings, notes


def summary(findings: list[ConventionFinding], files: int) -> str:
    contradictions = sum(f.stance == "contradicts" for f in findings)
    return (
        f"{files} files checked against the conventions: {len(findings)} findings, "
        f"{contradictions} contradicting a convention"
    )
