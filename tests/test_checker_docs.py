"""The checker's rule pages: one per rule, generated facts, and SARIF links that resolve."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sitebuild import sphinx_build

from agentkb.checker_docs import rule_facts
from agentkb.sarif import rule_url
from agentkb.validation import RULES, SPEC

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "agents" / "checker"


def test_every_rule_has_a_page_headed_by_its_own_rule():
    pages = {page.stem for page in PAGES.glob("*.md")} - {"index", "agnix"}
    assert pages == set(RULES)
    for rule in RULES:
        text = (PAGES / f"{rule}.md").read_text(encoding="utf-8")
        assert text.startswith(f"# `{rule}`\n\n```{{checker-rule}} {rule}\n```\n")


def test_sarif_help_links_point_at_the_rule_pages():
    assert (
        rule_url("unknown-tool", "https://example.org/kb/") == "https://example.org/kb/agents/checker/unknown-tool.html"
    )


def test_accepted_values_on_the_pages_come_from_the_data_file():
    assert ("permissionMode takes", SPEC["fields"]["choices"]["permissionMode"]) in rule_facts("invalid-value")
    assert ("Claude Code's tools", SPEC["tools"]["builtin"]) in rule_facts("unknown-tool")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checker pages alone, built strictly with only the extensions they need."""
    src = tmp_path_factory.mktemp("checker-site")
    shutil.copytree(PAGES, src / "agents" / "checker")
    (src / "conf.py").write_text(
        'extensions = ["myst_parser", "agentkb.checker_docs"]\nproject = "checker"\n', encoding="utf-8"
    )
    (src / "index.md").write_text("# Site\n\n```{toctree}\nagents/checker/index\n```\n", encoding="utf-8")
    build = sphinx_build(src, src / "_build")
    assert (build.returncode, build.warnings) == (0, [])
    return src / "_build"


def test_the_rule_table_links_every_rule_page(built: Path):
    index = (built / "agents" / "checker" / "index.html").read_text(encoding="utf-8")
    for rule in RULES:
        assert f'href="{rule}.html"' in index


def test_a_rule_page_shows_its_level_its_facts_and_its_source(built: Path):
    page = (built / "agents" / "checker" / "unknown-model.html").read_text(encoding="utf-8")
    assert "<strong>Warning</strong>: A model that is neither an alias nor a model ID." in page
    assert "<code" in page and "fable" in page
    assert SPEC["source"]["url"] in page
    assert "Claude Code itself: " in page
