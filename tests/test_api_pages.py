"""The API pages show the service's spec, every operation, grouped by tag, with examples."""

from __future__ import annotations

import json
from pathlib import Path

from bs4 import BeautifulSoup
from sitebuild import ROOT
from sitepages import parsed_page

SPEC = json.loads((ROOT / "api-examples" / "openapi.json").read_text("utf-8"))


def _operations_by_tag() -> dict[str, set[str]]:
    by_tag: dict[str, set[str]] = {}
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            for tag in op.get("tags", []):
                by_tag.setdefault(tag, set()).add(f"{method}-{path}")
    return by_tag


def _page(html: Path, name: str) -> BeautifulSoup:
    return parsed_page(html / "api-examples" / name)


def test_every_tag_of_the_spec_has_a_section_with_exactly_its_operations(html: Path) -> None:
    page = _page(html, "index.html")
    for tag, operations in _operations_by_tag().items():
        section = next(
            s
            for s in page.select("section")
            if s.find("h3", recursive=False) and s.find("h3", recursive=False).get_text(strip=True).rstrip("#¶") == tag
        )
        shown = {
            f"{dl['class'][1]}-{dl.select('dt .sig-name')[-1].get_text(strip=True)}" for dl in section.select("dl.http")
        }
        assert shown == operations, tag


def test_every_operation_shows_its_documented_response_example(html: Path) -> None:
    page = _page(html, "index.html")
    examples = [pre.get_text() for pre in page.select("dl.http div.highlight pre")]
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            documented = [
                # A text example (the Prometheus metrics) is shown as it is, JSON indented.
                media["example"].strip()
                if isinstance(media["example"], str)
                else json.dumps(media["example"], indent=2)
                for code, response in op["responses"].items()
                if code.startswith("2")
                for media in response.get("content", {}).values()
                if "example" in media
            ]
            for example in documented:
                assert any(example in shown for shown in examples), f"{method} {path}"


def test_the_agents_spec_page_reports_why_it_does_not_validate(html: Path) -> None:
    page = _page(html, "agent-spec.html")
    warning = page.select_one(".admonition.warning")
    assert "UserListResponse" in warning.get_text()
    assert page.select_one("dl.http.get"), "the agent's document is rendered anyway"
