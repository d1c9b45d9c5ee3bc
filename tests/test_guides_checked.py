"""Every guide says when it was last checked and against what, and the library
versions it names are the ones requirements/lock.txt pins. When the lock moves, these
tests fail until someone re-checks the page and updates its block.

The block is a MyST admonition with the class ``kb-checked``, the last thing in the
guide's "Recommendation" part:

    :::{admonition} Checked on 2026-11-24
    :class: kb-checked

    **Standards:** RFC 9110, OWASP ASVS 5.0.0.

    **Libraries** (as pinned in `requirements/lock.txt`): FastAPI 0.165.0, Pydantic 2.14.3.
    :::
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sitebuild import ROOT, TOPIC_GUIDES

GUIDES = TOPIC_GUIDES

BLOCK = re.compile(
    r"^:::\{admonition\} Checked on (?P<date>\d{4}-\d{2}-\d{2})\n"
    r":class: kb-checked\n\n"
    r"\*\*Standards:\*\* (?P<standards>.+?)\n\n"
    r"\*\*Libraries(?:\*\* \(as pinned in `requirements/lock\.txt`\): (?P<libraries>.+?)"
    r"|:\*\* (?P<stdlib>the Python standard library only\.))\n"
    r":::\n",
    re.MULTILINE | re.DOTALL,
)
LIBRARY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*) (?P<version>\d[^\s,]*)$")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)", re.MULTILINE)


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned() -> dict[str, set[str]]:
    """Every name in the lock with its versions (several where environment markers differ)."""
    versions: dict[str, set[str]] = {}
    for match in PIN.finditer((ROOT / "requirements" / "lock.txt").read_text("utf-8")):
        versions.setdefault(normalise(match["name"]), set()).add(match["version"])
    return versions


def checked_block(guide: str) -> re.Match[str]:
    text = (ROOT / "guides" / f"{guide}.md").read_text("utf-8")
    blocks = list(BLOCK.finditer(text))
    assert len(blocks) == 1, f"{guide}: expected one kb-checked block, found {len(blocks)}"
    return blocks[0]


def libraries(block: re.Match[str]) -> list[tuple[str, str]]:
    if block["stdlib"]:
        return []
    items = block["libraries"].rstrip(".").split(", ")
    parsed = [LIBRARY.match(item) for item in items]
    assert all(parsed), f"not 'Name version': {[i for i, m in zip(items, parsed, strict=True) if not m]}"
    return [(m["name"], m["version"]) for m in parsed if m]


@pytest.mark.parametrize("guide", GUIDES)
def test_every_guide_ends_its_recommendation_with_a_checked_block(guide: str) -> None:
    text = (ROOT / "guides" / f"{guide}.md").read_text("utf-8")
    block = checked_block(guide)
    recommendation = text.index("\n## Recommendation\n")
    example = text.index("\n## Example\n")
    assert recommendation < block.start() < example
    assert not text[block.end() : example].strip(), "the block is the last thing before Example"
    checked = date.fromisoformat(block["date"])
    assert checked <= datetime.now(UTC).date(), "checked in the future?"
    assert block["standards"].strip()


@pytest.mark.parametrize("guide", GUIDES)
def test_the_library_versions_a_guide_names_are_the_pinned_ones(guide: str) -> None:
    pins = pinned()
    for name, version in libraries(checked_block(guide)):
        assert normalise(name) in pins, f"{guide}: {name} is not in requirements/lock.txt"
        assert version in pins[normalise(name)], (
            f"{guide} was checked against {name} {version}, but the lock pins "
            f"{', '.join(sorted(pins[normalise(name)]))}: re-check the page and update its block"
        )


def test_a_moved_pin_is_caught() -> None:
    """The version comparison itself, on a block whose library the lock no longer pins at that version."""
    block = BLOCK.search(
        ":::{admonition} Checked on 2026-11-24\n:class: kb-checked\n\n"
        "**Standards:** RFC 9110.\n\n"
        "**Libraries** (as pinned in `requirements/lock.txt`): FastAPI 0.1.0, Pydantic_Settings 2.16.3.\n"
        ":::\n"
    )
    assert block is not None
    pins = pinned()
    named = dict(libraries(block))
    assert named["FastAPI"] not in pins["fastapi"]
    assert normalise("Pydantic_Settings") == "pydantic-settings"
