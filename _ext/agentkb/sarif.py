"""The checker's findings as a SARIF 2.1.0 log, the format code-scanning services read.

Every rule of :data:`agentkb.validation.RULES` is listed in the log, with a link to
its page on the site, so that a service can explain a result it shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .rulebook import SITE_URL
from .validation import RULES, Finding

if TYPE_CHECKING:
    from .convention_findings import ConventionFinding

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"


def _level(stance: str) -> str:
    # A contradiction is worth a look; the other stances are what the file follows or names.
    return "warning" if stance == "contradicts" else "note"


def rule_url(rule_id: str, base_url: str = SITE_URL) -> str:
    """The page that explains a checker rule (``agents/checker/<id>`` on the site)."""
    return f"{base_url.rstrip('/')}/agents/checker/{rule_id}.html"


def _artifact_uri(path: Path) -> str:
    # Code scanning resolves relative URIs against the checkout, as the user gave them.
    return path.as_uri() if path.is_absolute() else path.as_posix()


def _location(path: Path, line: int) -> list[dict[str, Any]]:
    return [{"physicalLocation": {"artifactLocation": {"uri": _artifact_uri(path)}, "region": {"startLine": line}}}]


def sarif_log(
    findings: Iterable[Finding], base_url: str = SITE_URL, conventions: Sequence[ConventionFinding] = ()
) -> dict[str, Any]:
    """The log; ``conventions`` (from ``check --conventions``) add one rule per rulebook rule that matched."""
    rule_ids = list(RULES)
    rules = [
        {
            "id": rule.id,
            "shortDescription": {"text": rule.summary},
            "helpUri": rule_url(rule.id, base_url),
            "defaultConfiguration": {"level": rule.severity},
        }
        for rule in RULES.values()
    ]
    for finding in conventions:
        if finding.rule not in rule_ids:
            rule_ids.append(finding.rule)
            rules.append(
                {
                    "id": finding.rule,
                    "shortDescription": {"text": f"{finding.convention}: {finding.message}"},
                    "helpUri": finding.url,
                    "defaultConfiguration": {"level": _level(finding.stance)},
                }
            )
    results = [
        {
            "ruleId": finding.code,
            "ruleIndex": rule_ids.index(finding.code),
            "level": finding.severity,
            "message": {"text": finding.message},
            "locations": _location(finding.path, finding.line),
        }
        for finding in findings
    ]
    results += [
        {
            "ruleId": finding.rule,
            "ruleIndex": rule_ids.index(finding.rule),
            "level": _level(finding.stance),
            "message": {
                "text": f"{finding.convention} ({finding.level}) {finding.stance}: {finding.message} “{finding.quote}”"
            },
            "locations": _location(Path(finding.path), finding.line),
        }
        for finding in conventions
    ]
    driver = {
        "name": "agentkb",
        "version": __version__,
        "informationUri": rule_url("index", base_url),
        "rules": rules,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}
