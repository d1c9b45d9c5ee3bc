"""Agent pages are complete, derived from the raw files, and a new file is all it takes."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sitebuild import ROOT
from sitepages import parsed_page
from tinybuild import TinyBuild, build, copy_tiny, edit

from agentkb.definitions import definition_files, load_definition
from agentkb.facts import measure

DEFINITIONS = ROOT / "agents" / "definitions"
AGENT_FILES = definition_files(DEFINITIONS)
SEEDS = ROOT.parent / "shared" / "seeds"


def _page(html: Path, slug: str) -> BeautifulSoup:
    return parsed_page(html / "agents" / f"{slug}.html")


def _text(node) -> str:
    return re.sub(r"\s+", " ", node.get_text()).strip()


def _headings(soup: BeautifulSoup) -> list[str]:
    article = soup.find("article")
    return [_text(h).rstrip("#¶ ").strip() for h in article.find_all(re.compile("^h[1-6]$"))]


def test_every_definition_is_a_byte_identical_copy_of_its_recorded_source() -> None:
    provenance = tomllib.loads((DEFINITIONS / "provenance.toml").read_text("utf-8"))
    for slug, source in provenance.items():
        raw = (DEFINITIONS / f"{slug}.md").read_bytes()
        assert hashlib.sha256(raw).hexdigest() == source["sha256"], slug
        seed = ROOT.parent / source["seed"]
        if SEEDS.is_dir():
            assert raw == seed.read_bytes(), f"{slug} differs from {seed}"


@pytest.mark.parametrize("path", AGENT_FILES, ids=lambda p: p.stem)
def test_every_heading_of_the_raw_file_is_on_its_page(html: Path, path: Path) -> None:
    facts = measure(load_definition(path).body)
    on_page = _headings(_page(html, path.stem))
    for heading in facts.headings:
        expected = re.sub(r"[*_`]", "", heading.text)
        assert expected in on_page, f"{path.name}:{heading.line}: {heading.text!r} missing"


@pytest.mark.parametrize("path", AGENT_FILES, ids=lambda p: p.stem)
def test_every_code_block_of_the_raw_file_is_on_its_page(html: Path, path: Path) -> None:
    facts = measure(load_definition(path).body)
    blocks = [pre.get_text() for pre in _page(html, path.stem).find("article").select("div.highlight pre")]
    for sample in facts.samples:
        assert sample.code in blocks, f"{path.name}:{sample.line}: code block missing"


@pytest.mark.parametrize("path", AGENT_FILES, ids=lambda p: p.stem)
def test_every_front_matter_field_is_on_the_card(html: Path, path: Path) -> None:
    card = _page(html, path.stem).select_one(".kb-agent-card")
    labels = [_text(dt).rstrip(":") for dt in card.select("dl.field-list > dt")]
    for field in load_definition(path).meta:
        if field != "description":
            assert field.lower() in (label.lower() for label in labels), field


def test_escaped_example_dialogues_in_a_description_render_as_a_list(html: Path) -> None:
    card = _page(html, "opus-principles").select_one(".kb-agent-card")
    items = [_text(li) for li in card.find_all("li")]
    assert sum(item.startswith("User:") for item in items) == 4
    assert "\\n" not in card.get_text()


def test_a_full_model_id_is_shown_with_its_readable_name(html: Path) -> None:
    card = _text(_page(html, "claude-sonnet-4-fastapi-team").select_one(".kb-agent-card"))
    assert "Claude Sonnet 4" in card and "claude-sonnet-4-20250514" in card


def test_links_outside_the_site_are_marked_not_broken(html: Path) -> None:
    article = _page(html, "sonnet-node-playbook").find("article")
    markers = article.select(".kb-outside")
    assert len(markers) == 3
    assert not [a for a in article.find_all("a") if "skills/software-architect" in a.get("href", "")]


def test_a_home_folder_path_is_marked_as_outside_the_site(html: Path) -> None:
    article = _page(html, "claude-sonnet-4-fastapi-team").find("article")
    assert len(article.select(".kb-outside")) == 1


def test_the_raw_file_can_be_downloaded_unchanged(html: Path) -> None:
    for path in AGENT_FILES:
        link = _page(html, path.stem).select_one(".kb-agent-card a.download")
        assert link is not None, path.name
        downloaded = (html / "agents" / link["href"]).read_bytes()
        assert downloaded == path.read_bytes()


def test_the_overview_has_a_card_and_a_table_row_per_agent(html: Path) -> None:
    soup = parsed_page(html / "agents" / "index.html")
    cards = soup.select(".kb-overview-card")
    rows = soup.select("table.kb-comparison tbody tr")
    assert len(cards) == len(rows) == len(AGENT_FILES)
    for path in AGENT_FILES:
        assert soup.select_one(f'table.kb-comparison a[href="{path.stem}.html"]'), path.stem


def _tracked_files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "_build" not in p.parts
    }


# The extension's behaviour with a new or broken file, built in-process on the tiny site
# (tests/data/tinysite) with the overview's comparison table added: about a second each.


def _tiny_with_overview(dest: Path) -> Path:
    src = copy_tiny(dest)
    # The comparison table carries its class with a MyST attribute block, as on the site.
    edit(src / "conf.py", '"deflist"]', '"deflist", "attrs_block", "attrs_inline"]')
    edit(src / "agents/index.md", "```{agent-cards}\n```\n", "```{agent-cards}\n```\n\n```{agent-comparison}\n```\n")
    return src


@pytest.fixture(scope="module")
def dropped_in(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TinyBuild, dict, dict]:
    src = _tiny_with_overview(tmp_path_factory.mktemp("dropin") / "src")
    build(src)  # the site as it was, then the new file
    shutil.copy(ROOT / "tests" / "data" / "dropin" / "api-reviewer.md", src / "agents" / "definitions")
    before = _tracked_files(src)
    result = build(src, fresh=False)
    return src, result, before, _tracked_files(src)


def test_a_dropped_in_definition_builds_without_warnings(dropped_in) -> None:
    _, result, _, _ = dropped_in
    assert result.warnings == "", result.warnings


def test_a_dropped_in_definition_gets_its_page_with_every_field(dropped_in) -> None:
    _, result, _, _ = dropped_in
    card = _text(result.page("agents/api-reviewer").select_one(".kb-agent-card"))
    for text in (
        "api-reviewer",
        "haiku",
        "mcp__github__get_pull_request",
        "Agent(security-auditor)",
        "plan",
        "12",
        "project",
        "high",
        "#2b6cb0",
        "api-style",
        "Review the open pull request.",
    ):
        assert text in card, text
    assert result.page("agents/api-reviewer").select_one(".kb-swatch")


def test_a_dropped_in_definition_gets_an_overview_card_and_row(dropped_in) -> None:
    _, result, _, _ = dropped_in
    soup = result.page("agents/index")
    assert any("api-reviewer" in _text(c) for c in soup.select(".kb-overview-card"))
    assert soup.select_one('table.kb-comparison a[href="api-reviewer.html"]')


def test_a_dropped_in_definition_is_in_the_search_index(dropped_in) -> None:
    _, result, _, _ = dropped_in
    script = (result.out / "searchindex.js").read_text("utf-8")
    index = json.loads(script[script.index("(") + 1 : script.rindex(")")])
    assert "agents/api-reviewer" in index["docnames"]
    assert "api-reviewer" in index["titles"]


def test_dropping_in_a_definition_edits_no_other_file(dropped_in) -> None:
    src, _, before, after = dropped_in
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    # The one derived file: the page stub Sphinx reads, generated from the definition.
    assert changed == {"agents/api-reviewer.md"}
    assert "generated from definitions/api-reviewer.md" in (src / "agents" / "api-reviewer.md").read_text("utf-8")


def test_a_malformed_definition_fails_the_build_naming_file_and_line(tmp_path: Path) -> None:
    src = copy_tiny(tmp_path / "src")
    (src / "agents" / "definitions" / "broken.md").write_text(
        "---\nname: broken\ndescription: [unclosed\n---\n\nBody.\n", "utf-8"
    )
    result = build(src)
    assert "agents/definitions/broken.md:" in result.warnings, result.warnings
    assert "Traceback" not in result.warnings
    # Nothing else is lost: every valid agent still has its page.
    for slug in ("dropped-in", "reviewed-agent"):
        assert (result.out / "agents" / f"{slug}.html").is_file()


def test_a_definition_added_then_removed_updates_an_existing_parallel_build(tmp_path: Path) -> None:
    src = _tiny_with_overview(tmp_path / "src")
    assert build(src, parallel=2).warnings == ""
    new = src / "agents" / "definitions" / "api-reviewer.md"
    shutil.copy(ROOT / "tests" / "data" / "dropin" / "api-reviewer.md", new)

    added = build(src, fresh=False, parallel=2)
    assert added.warnings == "", added.warnings
    assert added.page("agents/index").select_one('table.kb-comparison a[href="api-reviewer.html"]')

    new.unlink()
    removed = build(src, fresh=False, parallel=2)
    assert removed.warnings == "", removed.warnings
    assert not removed.page("agents/index").select_one('table.kb-comparison a[href="api-reviewer.html"]')
