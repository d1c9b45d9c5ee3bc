"""``agentkb check`` on a real catalog: exactly the expected findings, no false errors.

The corpus (202 agent files of wshobson/agents) lives beside the repository in
shared/corpus and is not copied into it; these tests skip where it is absent.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from agentkb.validation import check_folder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = next(
    (path for path in (Path("/work/shared/corpus"), ROOT.parent / "shared" / "corpus") if path.is_dir()),
    None,
)
EXPECTED = tomllib.loads((ROOT / "tests" / "data" / "corpus_expected.toml").read_text(encoding="utf-8"))

pytestmark = pytest.mark.skipif(CORPUS is None, reason="shared/corpus is not beside the repository")


def corpus_findings(severity: str) -> Counter[tuple[str, int, str]]:
    catalog = CORPUS / "wshobson-agents"
    definitions, findings = check_folder(sorted(catalog.glob("plugins/*/agents")))
    assert len(definitions) == 202
    return Counter(
        (finding.path.relative_to(catalog).as_posix(), finding.line, finding.code)
        for finding in findings
        if finding.severity == severity
    )


def expected(kind: str) -> Counter[tuple[str, int, str]]:
    return Counter((entry["file"], entry["line"], entry["rule"]) for entry in EXPECTED[kind])


def test_the_corpus_has_exactly_the_expected_errors():
    assert corpus_findings("error") == expected("errors")


def test_the_corpus_has_exactly_the_expected_warnings():
    assert corpus_findings("warning") == expected("warnings")


def test_every_expected_finding_says_why():
    assert all(entry["why"].strip() for entry in EXPECTED["errors"] + EXPECTED["warnings"])
