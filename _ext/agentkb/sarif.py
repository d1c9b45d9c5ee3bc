"""The checker's findings as a SARIF 2.1.0 log, the format code-scanning services read.

Every rule of :data:`agentkb.validation.RULES` is listed in the log, with a link to
its page on the site, so that a service can explain a result it shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import __version__
from .rulebook import SITE_URL
from .validation import RULES, Finding

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"


def rule_url(rule_id: str, base_url: str = SITE_URL) -> str:
    """The page that explains a checker rule (``agents/checker/<id>`` on the site)."""
    return f"{base_url.rstrip('/')}/agents/checker/{rule_id}.html"


def _artifact_uri(path: Path) -> str:
    # Code scanning resolves relative URIs against the checkout, as the user gave them.
    return path.as_uri() if path.is_absolute() else path.as_posix()


def sarif_log(findings: Iterable[Finding], base_url: str = SITE_URL) -> dict[str, Any]:
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
    results = [
        {
            "ruleId": finding.code,
            "ruleIndex": rule_ids.index(finding.code),
            "level": finding.severity,
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _artifact_uri(finding.path)},
                        "region": {"startLine": finding.line},
                    }
                }
            ],
        }
        for finding in findings
    ]
    driver = {
        "name": "agentkb",
        "version": __version__,
        "informationUri": rule_url("index", base_url),
        "rules": rules,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}
