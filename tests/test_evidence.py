"""Stances with evidence, built in-process on a tiny site (tests/data/tinysite).

The tiny site has one convention (TIME-AWARE-UTC) with one code rule, a reviewed agent
whose sidecar cites two lines, and a dropped-in agent nobody reviewed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sitebuild import matrix_cells
from tinybuild import build, copy_tiny, edit


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return copy_tiny(tmp_path / "src")


def test_the_tiny_site_builds_without_warnings(tiny: Path) -> None:
    assert build(tiny).warnings == ""


def test_a_reviewed_stance_links_to_its_line_and_quotes_it(tiny: Path) -> None:
    site = build(tiny)
    page = site.page("agents/reviewed-agent")
    code = page.find(id="L13")
    assert code is not None and "datetime.utcnow()" in code.get_text()
    assert code.select_one(".hll").get_text().strip() == "created = datetime.utcnow()"
    assert "store timestamps in UTC" in page.find(id="L8").get_text()
    section = page.find("section", id="conventions")
    text = section.get_text(" ", strip=True)
    assert "✓ states line 8 store timestamps in UTC — reviewed" in text
    assert "✗ contradicts line 13 datetime.utcnow() — reviewed; a rule agrees" in text


def test_a_dropped_in_agent_gets_detected_stances_with_no_other_edit(tiny: Path) -> None:
    site = build(tiny)
    section = site.page("agents/dropped-in").find("section", id="conventions")
    text = section.get_text(" ", strip=True)
    assert "Nobody has reviewed this agent" in text
    assert "✗ contradicts line 13 datetime.utcnow() — detected by rule TIME-AWARE-UTC/python-utcnow" in text
    matrix = site.page("guides/conventions").select_one("table.kb-matrix")
    cell = next(a for td in matrix_cells(matrix, "dropped-in") for a in td.select("a.kb-stance"))
    assert "kb-detected" in cell["class"] and cell["href"] == "../agents/dropped-in.html#L13"
    document = json.loads((site.out / "conventions.json").read_text("utf-8"))
    (conv,) = document["conventions"]
    by_agent = {(s["agent"], s["stance"]): s for s in conv["stances"]}
    assert by_agent[("dropped-in", "contradicts")]["source"] == "detected"
    assert by_agent[("reviewed-agent", "contradicts")]["source"] == "reviewed"
    assert by_agent[("dropped-in", "contradicts")]["evidence"] == [
        {"line": 13, "quote": "datetime.utcnow()", "page": "agents/dropped-in.html#L13"}
    ]


def test_a_quote_that_is_no_longer_at_its_line_fails_naming_the_sidecar_line(tiny: Path) -> None:
    edit(tiny / "agents/definitions/reviewed-agent.md", "Always store timestamps in UTC.", "Store times.")
    warnings = build(tiny).warnings
    assert (
        "reviewed-agent.stances.toml:3: WARNING: TIME-AWARE-UTC (states): reviewed-agent.md:8 does not say "
        "'store timestamps in UTC'; the line reads 'Store times.'" in warnings
    )


def test_a_rule_finding_the_review_does_not_record_fails_until_dismissed(tiny: Path) -> None:
    sidecar = tiny / "agents/definitions/reviewed-agent.stances.toml"
    edit(sidecar, 'stance = "contradicts"', 'stance = "mentions"')
    warnings = build(tiny).warnings
    assert "rule TIME-AWARE-UTC/python-utcnow finds that reviewed-agent.md:13 contradicts TIME-AWARE-UTC" in warnings

    sidecar.write_text(
        sidecar.read_text("utf-8")
        + (
            '\n[[dismissed]]\nrule = "TIME-AWARE-UTC/python-utcnow"\nline = 13\n'
            'why = "The sample shows what not to do; the text around it says so."\n'
        ),
        "utf-8",
    )
    site = build(tiny)
    assert site.warnings == ""
    text = site.page("agents/reviewed-agent").find("section", id="conventions").get_text(" ", strip=True)
    assert "TIME-AWARE-UTC/python-utcnow at line 13 : The sample shows what not to do" in text


def test_a_dismissal_of_a_finding_that_is_gone_fails(tiny: Path) -> None:
    sidecar = tiny / "agents/definitions/reviewed-agent.stances.toml"
    sidecar.write_text(
        sidecar.read_text("utf-8")
        + ('\n[[dismissed]]\nrule = "TIME-AWARE-UTC/python-utcnow"\nline = 10\nwhy = "stale"\n'),
        "utf-8",
    )
    assert (
        "reviewed-agent.stances.toml:12: WARNING: dismissed: rule TIME-AWARE-UTC/python-utcnow no longer "
        "matches reviewed-agent.md:10" in build(tiny).warnings
    )


def test_a_stance_on_an_unknown_convention_names_the_sidecar_line(tiny: Path) -> None:
    edit(
        tiny / "agents/definitions/reviewed-agent.stances.toml",
        '[[TIME-AWARE-UTC]]\nstance = "states"',
        '[[TIME-NAIVE]]\nstance = "states"',
    )
    assert (
        "reviewed-agent.stances.toml:3: WARNING: TIME-NAIVE: no such convention in the rulebook" in build(tiny).warnings
    )


def test_a_convention_missing_from_the_rulebook_or_from_its_guide_is_reported(tiny: Path) -> None:
    edit(tiny / "guides/time.md", "{kb:convention} TIME-AWARE-UTC", "{kb:convention} TIME-UNKNOWN")
    warnings = build(tiny).warnings
    assert "guides/time.md:3: WARNING: convention TIME-UNKNOWN is not in the rulebook" in warnings
    assert (
        "rulebook/time.yaml:1: WARNING: convention TIME-AWARE-UTC is in the rulebook but not on guides/time" in warnings
    )


def test_a_broken_rulebook_stops_the_build_with_its_file_and_line(tiny: Path) -> None:
    edit(tiny / "rulebook/time.yaml", "stance: contradicts", "stance: disagrees")
    with pytest.raises(Exception, match=r"rulebook/time\.yaml:6: TIME-AWARE-UTC: rule python-utcnow: stance must"):
        build(tiny)


def test_the_matrix_shows_only_agents_with_a_stance_and_counts_them(tiny: Path) -> None:
    (tiny / "agents/definitions/quiet.md").write_text(
        "---\nname: quiet\ndescription: Says nothing about time.\n---\n\nHello.\n", "utf-8"
    )
    site = build(tiny)
    page = site.page("guides/conventions")
    table = page.select_one("table.kb-matrix")
    assert [th["data-agent"] for th in table.select("thead th[data-agent]")] == ["dropped-in", "reviewed-agent"]
    assert (
        "1 of 3 agents take no stance on any convention and have no column: quiet."
        in page.select_one("p.kb-matrix-silent").get_text()
    )
    row = table.select_one("tbody tr")
    assert row["data-level"] == "MUST" and "data-disputed" in row.attrs
    assert row.select_one("td.kb-count").get_text() == "✓1 ✗2"
    totals = [matrix_cells(table, agent)[-1].get_text() for agent in ("dropped-in", "reviewed-agent")]
    assert totals == ["✗1", "✓1 ✗1"]


CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "wshobson-agents" / "plugins"
#: Real agent files that once broke a strict build: MyST substitutions ({{RoleTitle}}), fence
#: languages Pygments lacks (mermaid, cedar), an image that is not there, JSON with placeholders,
#: and C code that does not lex.
ODD_AGENTS = [
    "hr-legal-compliance/agents/hr-pro.md",
    "c4-architecture/agents/c4-code.md",
    "meigen-ai-design/agents/gallery-researcher.md",
    "protect-mcp/agents/receipt-verifier.md",
    "protect-mcp/agents/policy-enforcer.md",
    "reverse-engineering/agents/firmware-analyst.md",
]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the public catalogue is not beside the repository")
def test_real_agent_files_that_write_for_editors_not_sphinx_build_strictly(tiny: Path) -> None:
    for name in ODD_AGENTS:
        shutil.copy(CORPUS / name, tiny / "agents" / "definitions")
    site = build(tiny)
    assert site.warnings == ""
    gallery = site.page("agents/gallery-researcher")
    assert "not part of this knowledge base" in gallery.select_one(".kb-outside").get_text()
    assert "{{RoleTitle}}" in site.page("agents/hr-pro").get_text()
