"""Guides: their four parts, their conventions, and the matrix generated from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sitebuild import ROOT, copy_site, sphinx_build

from agentkb.definitions import definition_files

PARTS = ["What the agents say", "Where they disagree", "Recommendation", "Example"]
GUIDES = sorted(
    p.stem for p in (ROOT / "guides").glob("*.md") if p.stem not in ("index", "conventions")
)
SLUGS = [p.stem for p in definition_files(ROOT / "agents" / "definitions")]


def _soup(html: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((html / page).read_text("utf-8"), "html.parser")


def _conventions(html: Path) -> dict[str, dict[str, set[str]]]:
    """Each convention on the guide pages, with the agents it names as stating or contradicting it."""
    found: dict[str, dict[str, set[str]]] = {}
    for guide in GUIDES:
        for dl in _soup(html, f"guides/{guide}.html").select("dl.kb.convention"):
            conv_id = dl.select_one(".sig-name").get_text(strip=True)
            stances: dict[str, set[str]] = {"states": set(), "contradicts": set()}
            for field in dl.select("dl.kb-conv-fields > dt"):
                key = {"Stated by": "states", "Contradicted by": "contradicts"}.get(
                    field.get_text(strip=True).rstrip(":"))
                if key:
                    for link in field.find_next_sibling("dd").select("a"):
                        stances[key].add(link["href"].split("/")[-1].split(".html")[0])
            found[conv_id] = stances
    return found


@pytest.mark.parametrize("guide", GUIDES)
def test_every_guide_has_the_four_parts_in_order(html: Path, guide: str) -> None:
    headings = [h.get_text(strip=True).rstrip("#¶") for h in _soup(html, f"guides/{guide}.html").select("article h2")]
    assert [h for h in headings if h in PARTS] == PARTS


@pytest.mark.parametrize("guide", GUIDES)
def test_every_guide_links_agent_sections_and_states_conventions(html: Path, guide: str) -> None:
    soup = _soup(html, f"guides/{guide}.html")
    assert soup.select('a[href*="../agents/"][href*="#"]'), "no link to an agent section"
    assert soup.select("dl.kb.convention"), "no convention"


@pytest.mark.parametrize("guide", GUIDES)
def test_every_guide_has_an_executed_python_example(guide: str) -> None:
    text = (ROOT / "guides" / f"{guide}.md").read_text("utf-8")
    example = text.split("\n## Example", 1)[1]
    assert "```python\n" in example


def test_convention_ids_are_unique_across_guides(html: Path) -> None:
    ids = [
        dl.select_one(".sig-name").get_text(strip=True)
        for guide in GUIDES
        for dl in _soup(html, f"guides/{guide}.html").select("dl.kb.convention")
    ]
    assert len(ids) == len(set(ids))


def test_the_matrix_has_one_row_per_convention_and_a_column_per_agent(html: Path) -> None:
    table = _soup(html, "guides/conventions.html").select_one("table.kb-matrix")
    header = [th.get_text(strip=True) for th in table.select("thead th")]
    assert header == ["Convention", "Level", *SLUGS]
    rows = [tr.select_one("td").get_text(strip=True) for tr in table.select("tbody tr")]
    assert sorted(rows) == sorted(_conventions(html))


def test_the_matrix_agrees_with_what_each_convention_says(html: Path) -> None:
    conventions = _conventions(html)
    table = _soup(html, "guides/conventions.html").select_one("table.kb-matrix")
    for tr in table.select("tbody tr"):
        cells = tr.select("td")
        conv = conventions[cells[0].get_text(strip=True)]
        for slug, cell in zip(SLUGS, cells[2:], strict=True):
            stance = next(c for c in cell["class"] if c.startswith("kb-"))[3:]
            expected = ("contradicts" if slug in conv["contradicts"]
                        else "states" if slug in conv["states"] else "silent")
            assert stance == expected, (cells[0].get_text(strip=True), slug)
        assert ("kb-disputed" in (tr.get("class") or [])) == bool(conv["contradicts"])


def test_conventions_are_in_the_general_index_and_the_search_index(html: Path) -> None:
    genindex = (html / "genindex.html").read_text("utf-8")
    script = (html / "searchindex.js").read_text("utf-8")
    index = json.loads(script[script.index("(") + 1 : script.rindex(")")])
    objects = {entry[4] for entries in index["objects"].values() for entry in entries}
    for conv_id in _conventions(html):
        assert f"{conv_id} (convention)" in genindex
        assert conv_id in objects


def test_a_link_to_a_missing_agent_section_fails_the_build_with_the_valid_ones(tmp_path: Path) -> None:
    src = copy_site(tmp_path / "src")
    page = src / "guides" / "api-design.md"
    page.write_text(page.read_text("utf-8") + "\nSee {kb:agent}`opus-principles#no-such-section`.\n", "utf-8")
    build = sphinx_build(src, tmp_path / "out")
    assert build.returncode != 0
    line = len(page.read_text("utf-8").splitlines())
    messages = [w for w in build.warnings if f"guides/api-design.md:{line}" in w]
    assert messages and "no section 'no-such-section'" in messages[0] and "core-identity" in messages[0]


def test_every_agent_section_anchor_a_guide_uses_exists_on_the_agent_page(html: Path) -> None:
    for guide in GUIDES:
        for link in _soup(html, f"guides/{guide}.html").select('a[href^="../agents/"][href*="#"]'):
            page, anchor = link["href"][len("../"):].split("#")
            assert _soup(html, page).find(id=anchor), link["href"]


def test_the_topics_table_counts_the_agent_sections_each_guide_links(html: Path) -> None:
    table = _soup(html, "agents/index.html").select_one("table.kb-topics")
    header = [th.get_text(strip=True) for th in table.select("thead th")][1:]
    for tr in table.select("tbody tr"):
        page = "agents/" + tr.select_one("td a")["href"]
        linked: dict[str, set[str]] = {}
        for a in _soup(html, page).select('a[href*="agents/"][href*="#"]'):
            slug, anchor = a["href"].rsplit("/", 1)[1].split(".html#")
            linked.setdefault(slug, set()).add(anchor)
        counts = [td.get_text(strip=True) for td in tr.select("td")[1:]]
        expected = [str(len(linked[s])) if s in linked else "–" for s in header]
        assert counts == expected, page
