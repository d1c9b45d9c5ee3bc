"""Every agent section that carries guidance is covered by a guide, and shows it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from sitebuild import ROOT
from sitepages import parsed_page

from agentkb.definitions import definition_files

EXCLUSIONS_FILE = ROOT / "guides" / "uncovered.toml"
EXCLUSIONS: dict[str, dict[str, str]] = tomllib.loads(EXCLUSIONS_FILE.read_text("utf-8"))
SLUGS = [p.stem for p in definition_files(ROOT / "agents" / "definitions")]


def _guidance_sections(page: BeautifulSoup) -> dict[str, Tag]:
    """Sections with content of their own, not only a heading over subsections."""
    found = {}
    for section in page.find("article").find_all("section"):
        own = [
            child
            for child in section.find_all(recursive=False)
            if child.name not in ("section", "h1", "h2", "h3", "h4", "h5", "h6", "span")
            and "kb-backlinks" not in (child.get("class") or [])
            and "kb-agent-card" not in (child.get("class") or [])
            and "kb-agent-conventions" not in (child.get("class") or [])
        ]
        heading = section.find(["h1", "h2", "h3", "h4"], recursive=False)
        if own and heading and heading.name != "h1":
            found[section["id"]] = section
    return found


def _covered(section: Tag) -> bool:
    return section.find("p", class_="kb-backlinks", recursive=False) is not None


@pytest.mark.parametrize("slug", SLUGS)
def test_every_section_with_guidance_is_covered_by_a_guide(html: Path, slug: str) -> None:
    page = parsed_page(html / "agents" / f"{slug}.html")
    excluded = EXCLUSIONS.get(slug, {})
    uncovered = [
        anchor
        for anchor, section in _guidance_sections(page).items()
        if not _covered(section) and anchor not in excluded
    ]
    assert uncovered == [], f"no guide links to these sections of {slug}: {uncovered}"


@pytest.mark.parametrize("slug", SLUGS)
def test_an_excluded_section_is_not_covered_and_has_a_reason(html: Path, slug: str) -> None:
    page = parsed_page(html / "agents" / f"{slug}.html")
    sections = _guidance_sections(page)
    for anchor, reason in EXCLUSIONS.get(slug, {}).items():
        assert anchor in sections, f"{EXCLUSIONS_FILE.name}: {slug}#{anchor} is not a section"
        assert not _covered(sections[anchor]), f"{slug}#{anchor} is covered now: drop the exclusion"
        assert reason.strip(), f"{slug}#{anchor} needs a reason"
