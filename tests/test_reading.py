"""What a reader meets first: short answers, the guides' index, agents named one way,
provenance in plain terms, honest badges on the API examples, and an overview that
filters and sorts."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sitebuild import ROOT, TOPIC_GUIDES
from sitepages import parsed_page

from agentkb.definitions import definition_files, load_definition
from agentkb.facts import measure
from agentkb.rulebook import default_rulebook

RULEBOOK = default_rulebook()
GUIDES = sorted({c.guide for c in RULEBOOK.conventions.values()})
DEFINITIONS = ROOT / "agents" / "definitions"


def _text(node) -> str:
    return re.sub(r"\s+", " ", node.get_text()).strip()


def _titles(html: Path) -> dict[str, str]:
    """slug -> the H1 of its agent page."""
    return {
        path.stem: _text(parsed_page(html / f"agents/{path.stem}.html").find("h1")).rstrip("#¶ ").strip()
        for path in definition_files(DEFINITIONS)
    }


def test_every_topic_guide_sets_conventions() -> None:
    assert GUIDES == sorted(f"guides/{stem}" for stem in TOPIC_GUIDES)


@pytest.mark.parametrize("guide", GUIDES)
def test_every_guide_opens_with_a_short_answer_linking_its_conventions(html: Path, guide: str) -> None:
    section = parsed_page(html / f"{guide}.html").find("article").find("section")
    h1 = section.find("h1")
    first = h1.find_next_sibling()
    assert first is not None and "kb-short-answer" in first["class"], f"{guide}: {first}"
    body = _text(first).removeprefix("Short answer").strip()
    assert 80 < len(body) < 330, body  # two or three lines
    linked = {a["href"].split("#")[1] for a in first.find_all("a", href=True)}
    own = {c.anchor for c in RULEBOOK.conventions.values() if c.guide == guide}
    assert linked == own


def test_the_guides_index_gives_one_line_per_guide_with_its_count(html: Path) -> None:
    soup = parsed_page(html / "guides/index.html")
    lines = {item.find("a")["href"].removesuffix(".html"): _text(item) for item in soup.select(".kb-guide-index li")}
    reference = {"conventions", "detection", "search"}  # reference pages: no conventions of their own
    assert set(lines) == {g.removeprefix("guides/") for g in GUIDES} | reference
    assert all("convention" not in lines[page].partition("·")[2] for page in reference)
    for guide in GUIDES:
        levels = Counter(c.level for c in RULEBOOK.conventions.values() if c.guide == guide)
        total = sum(levels.values())
        line = lines[guide.removeprefix("guides/")]
        assert f"· {total} conventions (" in line, line
        for level, count in levels.items():
            assert f"{count} {level}" in line, line
    assert [_text(r) for r in soup.select(".kb-guide-index .rubric")] == [
        "API",
        "Security",
        "Data and code",
        "Reference",
    ]


def test_agents_are_named_by_their_page_title_everywhere_and_listed_in_that_order(html: Path) -> None:
    titles = _titles(html)
    ordered = sorted(titles.values(), key=str.casefold)
    soup = parsed_page(html / "agents/index.html")
    cards = [_text(t) for t in soup.select(".kb-overview-card .sd-card-title")]
    rows = [_text(tr.find("td")) for tr in soup.select("table.kb-comparison > tbody > tr")]
    nav = [
        _text(a)
        for a in soup.select(".sidebar-tree a.reference")
        if a["href"].removesuffix(".html").split("/")[-1] in titles
    ]
    verification = parsed_page(html / "agents/verification.html")
    report = {_text(tr.find("td")) for tr in verification.select("table tbody tr")}
    topics = [_text(tr.find("td")) for tr in soup.select("table.kb-topics > tbody > tr")]
    assert cards == ordered
    assert rows == ordered
    assert topics == ordered
    assert nav == ordered
    assert set(titles.values()) <= report


def test_public_pages_show_provenance_in_a_readers_terms(html: Path) -> None:
    for page in [*html.rglob("*.html"), html / "llms-full.txt"]:
        text = page.read_text("utf-8")
        assert "shared/seeds" not in text and "verbatim" not in text, page
        assert str(ROOT) not in text, f"{page} shows a path of the build machine"
    provenance = tomllib.loads((DEFINITIONS / "provenance.toml").read_text("utf-8"))
    for path in definition_files(DEFINITIONS):
        card = _text(parsed_page(html / f"agents/{path.stem}.html").select_one(".kb-agent-card"))
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert f"SHA-256: {digest}" in card
        if path.stem in provenance:
            assert digest == provenance[path.stem]["sha256"]
            assert "imported unchanged from a user's .claude/agents folder on 23 November 2026" in card


def test_the_service_examples_are_badged_as_replayed_by_the_tests(html: Path) -> None:
    soup = parsed_page(html / "api-examples/index.html")
    blocks = soup.select("article div.highlight-http")
    badges = [_text(b.find_previous_sibling("p", class_="kb-status")) for b in blocks]
    assert badges and set(badges) == {"replayed against the service"}
    # What is badged is what tests/service/test_openapi_examples.py replays: the request
    # example of an operation, and its success response, compared with what the service says.
    spec = json.loads((ROOT / "api-examples/openapi.json").read_text("utf-8"))
    operations = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    for block in blocks:
        first = block.get_text().splitlines()[0]
        if first.startswith("HTTP/"):
            assert re.match(r"HTTP/1\.1 2\d\d ", first), first
        else:
            method, path, _ = first.split()
            assert (method, path) in operations, first
    # The agent's own document is not replayed: nothing there claims to be.
    assert "replayed" not in parsed_page(html / "api-examples/agent-spec.html").get_text()


def test_the_overview_carries_filter_data_for_every_agent(html: Path) -> None:
    soup = parsed_page(html / "agents/index.html")
    form = soup.select_one("form.kb-agent-filter")
    assert form is not None and form.has_attr("hidden")  # shown by the script only
    assert {s["name"] for s in form.find_all("select")} == {"model", "tools", "findings", "sort"}
    assert any("agent-overview.js" in s.get("src", "") for s in soup.find_all("script"))
    assert not any("agent-overview.js" in s.get("src", "") for s in parsed_page(html / "index.html").find_all("script"))
    total = len(definition_files(DEFINITIONS))
    for holder in (".kb-overview-card", "table.kb-comparison > tbody > tr"):
        spans = [el.select_one(".kb-agent-data") for el in soup.select(holder)]
        assert len(spans) == total and all(spans), holder
    for span in soup.select("table.kb-comparison .kb-agent-data"):
        path = DEFINITIONS / f"{span['data-slug']}.md"
        meta = load_definition(path).meta
        tools = span["data-tools"]
        assert (tools == "*") == ("tools" not in meta)
        assert span["data-model"] == {None: "inherit"}.get(meta.get("model"), span["data-model"])
    options = {o["value"]: _text(o) for o in form.select("select[name=model] option")}
    models = Counter(s["data-model"] for s in soup.select("table.kb-comparison .kb-agent-data"))
    for value, count in models.items():
        assert options[value].endswith(f"({count})")
    sort_labels = [_text(o) for o in form.select("select[name=sort] option")]
    assert sort_labels[0] == "name, A to Z"


def _visible_rows(dom: str) -> tuple[str, list[str]]:
    soup = BeautifulSoup(dom, "html.parser")
    rows = soup.select("table.kb-comparison > tbody > tr")
    shown = [_text(r.find("td")) for r in rows if "kb-agent-hidden" not in (r.get("class") or [])]
    return _text(soup.select_one(".kb-agent-count")), shown


def test_the_overview_filters_and_sorts_in_a_browser(html: Path) -> None:
    from browser import dump_dom

    page = (html / "agents" / "index.html").as_uri()
    titles = _titles(html)
    count, shown = _visible_rows(dump_dom(page))
    assert shown == sorted(titles.values(), key=str.casefold)
    assert count == f"All {len(titles)} agents, by name, A to Z"

    count, shown = _visible_rows(dump_dom(page + "?model=opus"))
    opus = [titles[p.stem] for p in definition_files(DEFINITIONS) if load_definition(p).meta.get("model") == "opus"]
    assert shown == sorted(opus, key=str.casefold) and count.startswith(f"{len(opus)} of {len(titles)} agents")

    count, shown = _visible_rows(dump_dom(page + "?findings=with&sort=words"))
    assert count.endswith("by size, largest first")
    words = {titles[p.stem]: measure(load_definition(p).body).words for p in definition_files(DEFINITIONS)}
    assert shown and [words[a] for a in shown] == sorted((words[a] for a in shown), reverse=True)
