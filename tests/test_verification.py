"""The site's claim that code is executed, checked against what the tests collect.

Sybil never warns about a block it does not recognise (a fence with extra info,
a colon-fenced code-block): such a block would be shown as "runs" and never run.
These tests count the blocks three ways (built HTML, Markdown sources, Sybil) and
require the counts to agree.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin
from sitebuild import ROOT
from sitepages import parsed_page
from sybil import Sybil

from agentkb.definitions import load_definition
from agentkb.ingest import STUB_MARKER
from agentkb.samples import SidecarError, classify, sidecar_path

DEFINITIONS = ROOT / "agents" / "definitions"
#: Folders that are not pages of the site (conf.py's exclude_patterns, and tooling).
NOT_PAGES = {"_build", "tests", "bench", "requirements", "node_modules", "definitions"}
_md = MarkdownIt("commonmark").use(colon_fence_plugin)
_PYTHON_INFO = re.compile(r"^(?:\{(?:code-block|code|sourcecode|code-cell)\}\s+)?(?:python3?|py|pycon)\b")


@pytest.fixture(scope="module")
def sybils(request: pytest.FixtureRequest) -> ModuleType:
    """The root conftest, whose ``pages`` and ``agents`` Sybils pytest collects with."""
    plugin = request.config.pluginmanager.get_plugin(str(ROOT / "conftest.py"))
    assert plugin is not None, "the root conftest.py is not loaded"
    return plugin


def _site_pages() -> list[Path]:
    pages = []
    for path in sorted(ROOT.rglob("*.md")):
        relative = path.relative_to(ROOT)
        if relative.parts[0].startswith(".") or NOT_PAGES & set(relative.parts[:-1]):
            continue
        if relative == Path("README.md") or path.read_text("utf-8").startswith(STUB_MARKER):
            continue
        pages.append(path)
    return pages


def _python_fences(path: Path) -> int:
    """Python code blocks in a Markdown file, by markdown-it, whatever their fence."""
    return sum(
        1
        for token in _md.parse(path.read_text("utf-8"))
        if token.type in ("fence", "colon_fence") and _PYTHON_INFO.match(token.info.strip())
    )


def _collected_python_blocks(pages: Sybil, path: Path) -> int:
    """Visible Python blocks the pages Sybil collects (a doctest block is one block)."""
    if not pages.should_parse(path):
        return 0
    document = pages.parse(path)
    blocks = pages.parsers[0].codeblock_parser(document)
    # Invisible code blocks live in % comments and are not shown on the page.
    return sum(1 for region in blocks if not document.text[region.start :].startswith(("%", "<!--")))


def test_every_python_block_of_a_page_is_collected(sybils: ModuleType) -> None:
    expected = {str(p.relative_to(ROOT)): _python_fences(p) for p in _site_pages()}
    collected = {name: _collected_python_blocks(sybils.pages, ROOT / name) for name in expected}
    assert collected == expected


def test_every_python_sample_of_an_agent_is_collected(sybils: ModuleType) -> None:
    for path in sorted(DEFINITIONS.glob("*.md")):
        collected = [e for e in sybils.agents.parse(path) if e.parsed.sample.language == "python"]
        not_executed = [
            v for v in classify(load_definition(path)) if v.sample.language == "python" and v.status == "not-executed"
        ]
        assert len(collected) + len(not_executed) == _python_fences(path), path.name


def _page_source(html_page: Path, html: Path) -> Path:
    relative = html_page.relative_to(html).with_suffix(".md")
    definition = DEFINITIONS / relative.name
    return definition if relative.parent == Path("agents") and definition.exists() else ROOT / relative


def test_every_code_block_is_executed_or_explained(html: Path, sybils: ModuleType) -> None:
    """Blocks in the HTML = blocks Sybil collects + blocks marked "not executed"."""
    shown: dict[str, int] = {}
    accounted: dict[str, int] = {}
    for page in sorted(html.rglob("*.html")):
        soup = parsed_page(page)
        blocks = soup.select("div.highlight") + [
            pre for pre in soup.find_all("pre") if pre.find_parent("div", class_="highlight") is None
        ]
        if not blocks:
            continue
        name = str(page.relative_to(html))
        for block in blocks:
            outer = block.find_parent("div", class_=re.compile(r"^highlight-")) or block
            badge = outer.find_previous_sibling()
            assert badge is not None and "kb-status" in badge.get("class", []), f"{name}: a block without status"
        source = _page_source(page, html)
        if source.parent == DEFINITIONS:
            collected = len(list(sybils.agents.parse(source)))
        else:
            collected = _collected_python_blocks(sybils.pages, source) if source.exists() else 0
        shown[name] = len(blocks)
        # Replayed: the OpenAPI examples that tests/service/test_openapi_examples.py sends.
        accounted[name] = collected + len(soup.select("p.kb-status-not-executed, p.kb-status-replayed"))
    assert accounted == shown


def test_agent_pages_show_the_tested_classification(html: Path) -> None:
    for path in sorted(DEFINITIONS.glob("*.md")):
        soup = parsed_page(html / "agents" / f"{path.stem}.html")
        for verdict in classify(load_definition(path)):
            badge = soup.find(id=verdict.anchor)
            assert badge is not None, f"{path.name}:{verdict.line}: no status line"
            assert f"kb-status-{verdict.status}" in badge["class"], f"{path.name}:{verdict.line}"


@pytest.fixture
def agent_copy(tmp_path: Path) -> Path:
    """A copy of one agent file and its sidecar, to break."""
    source = DEFINITIONS / "claude-sonnet-4-fastapi-team.md"
    shutil.copy(source, tmp_path / source.name)
    shutil.copy(sidecar_path(source), sidecar_path(tmp_path / source.name))
    return tmp_path / source.name


def test_an_error_that_no_longer_matches_fails(agent_copy: Path, sybils: ModuleType) -> None:
    sidecar = sidecar_path(agent_copy)
    text = sidecar.read_text("utf-8")
    stale = text.replace("NameError: name 'datetime' is not defined", "NameError: name 'Session' is not defined")
    assert stale != text
    sidecar.write_text(stale, "utf-8")
    line = next(n for n, text_line in enumerate(stale.splitlines(), 1) if "name 'Session'" in text_line)
    example = next(e for e in sybils.agents.parse(agent_copy) if e.parsed.key == "fbb64a6faad3")
    with pytest.raises(AssertionError, match=rf"samples\.toml:{line}: the sample should fail with NameError"):
        example.evaluate()


def test_unknown_key_is_an_error_with_file_and_line(agent_copy: Path, sybils: ModuleType) -> None:
    sidecar = sidecar_path(agent_copy)
    lines = sidecar.read_text("utf-8").splitlines(keepends=True)
    at = next(n for n, text_line in enumerate(lines) if text_line.startswith('exercise = "custom_exception_handlers"'))
    lines.insert(at + 1, 'colour = "red"\n')
    sidecar.write_text("".join(lines), "utf-8")
    with pytest.raises(SidecarError, match=rf"{re.escape(str(sidecar))}:{at + 2}: unknown key 'colour'"):
        sybils.agents.parse(agent_copy)


def test_an_entry_without_its_sample_is_an_error(agent_copy: Path) -> None:
    sidecar = sidecar_path(agent_copy)
    text = sidecar.read_text("utf-8")
    sidecar.write_text(text + '\n["0123456789ab"]\nstatus = "runs"\n', "utf-8")
    line = len(text.splitlines()) + 2
    with pytest.raises(SidecarError, match=rf"samples\.toml:{line}: entry '0123456789ab' matches no code sample"):
        classify(load_definition(agent_copy))
