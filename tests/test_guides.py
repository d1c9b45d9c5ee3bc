"""Guides: their four parts, the conventions they set out, and their links to agent sections."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from sitebuild import ROOT, TOPIC_GUIDES
from sitepages import parsed_page
from tinybuild import build, copy_tiny

from agentkb.rulebook import default_rulebook

PARTS = ["What the agents say", "Where they disagree", "Recommendation", "Example"]
GUIDES = TOPIC_GUIDES


@pytest.mark.parametrize("guide", GUIDES)
def test_every_guide_has_the_four_parts_in_order(html: Path, guide: str) -> None:
    headings = [
        h.get_text(strip=True).rstrip("#¶") for h in parsed_page(html / f"guides/{guide}.html").select("article h2")
    ]
    assert [h for h in headings if h in PARTS] == PARTS


@pytest.mark.parametrize("guide", GUIDES)
def test_every_guide_links_agent_sections_and_states_conventions(html: Path, guide: str) -> None:
    soup = parsed_page(html / f"guides/{guide}.html")
    assert soup.select('a[href*="../agents/"][href*="#"]'), "no link to an agent section"
    assert soup.select("dl.kb.convention"), "no convention"


@pytest.mark.parametrize("guide", GUIDES)
def test_every_guide_has_an_executed_python_example(guide: str) -> None:
    text = (ROOT / "guides" / f"{guide}.md").read_text("utf-8")
    example = text.split("\n## Example", 1)[1]
    assert "```python\n" in example


def test_the_guides_set_out_exactly_the_rulebooks_conventions_each_once(html: Path) -> None:
    placed = [
        (f"guides/{guide}", dl.select_one(".sig-name").get_text(strip=True))
        for guide in GUIDES
        for dl in parsed_page(html / f"guides/{guide}.html").select("dl.kb.convention")
    ]
    assert sorted(placed) == sorted((conv.guide, conv.id) for conv in default_rulebook())


def test_conventions_are_in_the_general_index_and_the_search_index(html: Path) -> None:
    genindex = (html / "genindex.html").read_text("utf-8")
    script = (html / "searchindex.js").read_text("utf-8")
    index = json.loads(script[script.index("(") + 1 : script.rindex(")")])
    objects = {entry[4] for entries in index["objects"].values() for entry in entries}
    for conv in default_rulebook():
        assert f"{conv.id} (convention)" in genindex
        assert conv.id in objects


def test_a_link_to_a_missing_agent_section_fails_the_build_with_the_valid_ones(tmp_path: Path) -> None:
    src = copy_tiny(tmp_path / "src")
    page = src / "guides" / "time.md"
    page.write_text(page.read_text("utf-8") + "\nSee {kb:agent}`reviewed-agent#no-such-section`.\n", "utf-8")
    result = build(src)
    line = len(page.read_text("utf-8").splitlines())
    # Reported once, naming the sections the agent does have.
    [message] = [w for w in result.warnings.splitlines() if f"guides/time.md:{line}" in w]
    assert "agent 'reviewed-agent' has no section 'no-such-section'; its sections are: " in message


@functools.cache
def _ids(html: Path, page: str) -> frozenset[str]:
    """The ids on a page, parsed once: agent pages are large (furo's navigation lists every agent)."""
    return frozenset(str(node["id"]) for node in parsed_page(html / page).find_all(id=True))


def test_every_agent_section_anchor_a_guide_uses_exists_on_the_agent_page(html: Path) -> None:
    for guide in GUIDES:
        for link in parsed_page(html / f"guides/{guide}.html").select('a[href^="../agents/"][href*="#"]'):
            page, anchor = link["href"][len("../") :].split("#")
            assert anchor in _ids(html, page), link["href"]


def test_the_topics_table_counts_the_conventions_each_agent_takes_a_stance_on(html: Path) -> None:
    document = json.loads((html / "conventions.json").read_text("utf-8"))
    table = parsed_page(html / "agents/index.html").select_one("table.kb-topics")
    header = [th.get_text(strip=True) for th in table.select("thead th")]
    assert header[0] == "Agent"
    guides = {}
    for conv in document["conventions"]:
        guides.setdefault(conv["topic"], []).append(conv)
    assert sorted(header[1:]) == sorted(f"{topic} ({len(convs)})" for topic, convs in guides.items())
    rows = {tr.select_one("td").get_text(strip=True): tr for tr in table.select("tbody tr")}
    assert sorted(rows) == sorted(a["title"] for a in document["agents"])
    for agent in document["agents"]:
        tr = rows[agent["title"]]
        cells = [td.get_text(strip=True) for td in tr.select("td")[1:]]
        for column, cell in zip(header[1:], cells, strict=True):
            convs = guides[column.rsplit(" (", 1)[0]]
            taken = sum(any(s["agent"] == agent["slug"] for s in c["stances"]) for c in convs)
            assert cell == (str(taken) if taken else "–"), (agent["slug"], column)
