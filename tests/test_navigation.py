"""The sidebar's navigation, drawn once per build (agentkb.navigation), is the one Furo draws."""

from __future__ import annotations

import re
from pathlib import Path

from tinybuild import build, copy_tiny

_SIDEBAR = re.compile(r'<div class="sidebar-tree">(.*?)</div>', re.S)


def _sidebar(page: Path) -> str:
    found = _SIDEBAR.search(page.read_text("utf-8"))
    assert found is not None, f"{page} has no sidebar tree"
    return found.group(1)


def test_every_page_shows_the_tree_furo_draws_for_it(tmp_path: Path) -> None:
    cached = build(copy_tiny(tmp_path / "cached"), html_theme="furo")
    drawn = build(copy_tiny(tmp_path / "drawn"), html_theme="furo", agentkb_navigation_cache=False)
    pages = sorted(p.relative_to(drawn.out) for p in drawn.out.rglob("*.html"))
    folders = {page.parent for page in pages}
    assert len(pages) >= 8 and len(folders) >= 3, pages
    for page in pages:
        assert _sidebar(cached.out / page) == _sidebar(drawn.out / page), page
    # The comparison covers the marks: an agent's page is current under the expanded overview.
    agent = next(p for p in pages if p.parent.name == "agents" and p.name != "index.html")
    tree = _sidebar(cached.out / agent)
    assert 'class="current reference internal" href="#"' in tree
    assert re.search(r'<li class="toctree-l1 current has-children">.*?checked=""', tree, re.S)
    assert tree.count("current-page") == 1
    # Pages in no toctree (the index, the general index) mark nothing.
    assert "current" not in _sidebar(cached.out / "genindex.html")
