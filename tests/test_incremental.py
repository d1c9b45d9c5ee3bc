"""Incremental builds: an edit re-reads and rewrites what shows it, and nothing else.

Built in-process on a copy of the tiny site (tests/data/tinysite) with one more agent and
one more guide that cites nobody; Sphinx's status output names what it reads and writes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from sphinx.deprecation import RemovedInSphinx10Warning, RemovedInSphinx11Warning
from tinybuild import TinyBuild, build, copy_tiny, edit

from agentkb.pagefind import kind_of

AGENT = """---
name: quiet-agent
description: Says nothing about time.
---

## Style

Keep functions short.
"""


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, TinyBuild]:
    src = copy_tiny(tmp_path / "src")
    (src / "agents/definitions/quiet-agent.md").write_text(AGENT, "utf-8")
    (src / "guides/other.md").write_text("# Other\n\nNothing about agents.\n", "utf-8")
    edit(src / "index.md", "guides/conventions\n", "guides/conventions\nguides/other\n")
    first = build(src)
    assert first.warnings == ""
    return src, first


def test_a_rebuild_with_nothing_changed_reads_and_writes_nothing(built: tuple[Path, TinyBuild]) -> None:
    src, _ = built
    again = build(src, fresh=False)
    assert again.read == set() and again.written == set(), again.status


def test_editing_one_agent_updates_the_pages_that_show_it_and_no_other(built: tuple[Path, TinyBuild]) -> None:
    src, first = built
    assert "dropped-in" in first.page("guides/time").select_one(".kb-conv-stances").get_text()
    # The dropped-in agent stops using utcnow: its detected stance goes away.
    edit(src / "agents/definitions/dropped-in.md", "datetime.utcnow()", "datetime.now(UTC)")
    second = build(src, fresh=False)
    assert second.warnings == ""
    # Re-read: the agent, and the overview, whose cards are made when it is read.
    assert second.read == {"agents/dropped-in", "agents/index"}, second.status
    # Rewritten without re-reading: the matrix, and the guide whose convention lists the agents' stances.
    assert {"agents/dropped-in", "agents/index", "guides/conventions", "guides/time"} <= second.written
    assert not {"agents/quiet-agent", "agents/reviewed-agent", "guides/other"} & second.written, second.status
    assert "dropped-in" not in second.page("guides/time").select_one(".kb-conv-stances").get_text()
    matrix = second.page("guides/conventions")
    assert not matrix.select("td[data-agent='dropped-in'].kb-contradicts")


def test_an_agent_edit_that_changes_no_stance_and_no_heading_rewrites_no_guide(
    built: tuple[Path, TinyBuild],
) -> None:
    src, first = built

    def cited(page: TinyBuild) -> list[int]:
        links = page.page("guides/time").select(".kb-conv-stances a.kb-evidence-line")
        return [int(a["href"].rpartition("#L")[2]) for a in links if "dropped-in.html" in a["href"]]

    before = cited(first)
    edit(src / "agents/definitions/dropped-in.md", "---\n\n", "---\n\nA new first line moves every cited line.\n\n")
    moved = build(src, fresh=False)
    # Its evidence moved down two lines: the guide that cites it is rewritten with the new lines.
    assert "guides/time" in moved.written, moved.status
    assert before and cited(moved) == [line + 2 for line in before]
    # A line added at the end cites nothing and heads nothing: no guide shows a difference.
    path = src / "agents/definitions/dropped-in.md"
    path.write_text(path.read_text("utf-8") + "\nOne more closing remark.\n", "utf-8")
    appended = build(src, fresh=False)
    assert "agents/dropped-in" in appended.read
    assert not {"guides/time", "guides/other"} & appended.written, appended.status
    # Nor does the matrix, which shows stances and their cited lines; the overview shows
    # the agent's size, and is rewritten.
    assert "agents/index" in appended.written and "guides/conventions" not in appended.written


def test_renaming_an_agent_heading_rewrites_the_guides_that_link_to_its_sections(
    built: tuple[Path, TinyBuild],
) -> None:
    src, _ = built
    edit(src / "guides/other.md", "Nothing about agents.", "See {kb:agent}`quiet-agent#style`.")
    build(src, fresh=False)
    edit(src / "agents/definitions/quiet-agent.md", "## Style", "## Style and layout")
    renamed = build(src, fresh=False)
    assert "guides/other" in renamed.written, renamed.status
    # The anchor it linked to is gone, and the rewritten guide says so, once, naming the
    # sections the agent has now.
    [warning] = [w for w in renamed.warnings.splitlines() if "guides/other.md" in w]
    assert "agent 'quiet-agent' has no section 'style'; its sections are: style-and-layout" in warning


def test_editing_a_guide_rewrites_only_the_agent_pages_it_concerns(built: tuple[Path, TinyBuild]) -> None:
    src, _ = built
    edit(src / "guides/other.md", "Nothing about agents.", "Still nothing about agents.")
    unrelated = build(src, fresh=False)
    assert unrelated.read == {"guides/other"}, unrelated.status
    assert not {"agents/dropped-in", "agents/quiet-agent", "agents/reviewed-agent"} & unrelated.written
    # The words of a convention: agent pages show where it is set out, not what it says.
    edit(src / "guides/time.md", "Store aware UTC datetimes.", "Store aware datetimes, in UTC.")
    reworded = build(src, fresh=False)
    assert reworded.read == {"guides/time"}, reworded.status
    assert not {"agents/dropped-in", "agents/quiet-agent", "agents/reviewed-agent"} & reworded.written
    # Its title: the agents with a stance on its convention show it beside their lines.
    edit(src / "guides/time.md", "# Time", "# Time and dates")
    related = build(src, fresh=False)
    assert related.read == {"guides/time"}, related.status
    assert {"agents/dropped-in", "agents/reviewed-agent"} <= related.written
    assert "agents/quiet-agent" not in related.written
    assert "Time and dates" in related.page("agents/dropped-in").select_one(".kb-backlinks").get_text()


def test_a_sidecar_added_later_is_noticed(built: tuple[Path, TinyBuild]) -> None:
    src, _ = built
    review = src / "agents/definitions/reviewed-agent.stances.toml"
    (src / "agents/definitions/quiet-agent.stances.toml").write_text(
        review.read_text("utf-8").split("[[", 1)[0], "utf-8"
    )
    again = build(src, fresh=False)
    assert "agents/quiet-agent" in again.read, again.status
    assert "A person reviewed this agent" in again.page("agents/quiet-agent").get_text()


def test_nothing_uses_an_api_that_sphinx_10_or_11_removes(tmp_path: Path) -> None:
    """Sphinx 9 deprecates what 10 and 11 remove: a clean and an incremental build with those warnings as errors."""
    src = copy_tiny(tmp_path / "src")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RemovedInSphinx10Warning)
        warnings.simplefilter("error", RemovedInSphinx11Warning)
        first = build(src)
        edit(src / "agents/definitions/dropped-in.md", "datetime.utcnow()", "datetime.now(UTC)")
        second = build(src, fresh=False)
    assert first.warnings == second.warnings == ""


def test_the_verification_report_follows_an_agent_edit_without_being_re_read(built: tuple[Path, TinyBuild]) -> None:
    src, _ = built
    (src / "report.md").write_text("# Report\n\n```{agent-verification} agents\n```\n", "utf-8")
    edit(src / "index.md", "guides/conventions\n", "guides/conventions\nreport\n")
    build(src, fresh=False)
    edit(
        src / "agents/definitions/quiet-agent.md",
        "Keep functions short.",
        "Keep functions short.\n\n```toml\n[tool]\n```",
    )
    again = build(src, fresh=False)
    assert "report" not in again.read and "report" in again.written, again.status
    rows = {
        row.find("td").get_text(strip=True): [td.get_text(strip=True) for td in row.find_all("td")][-1]
        for row in again.page("report").select("table.kb-verification-table tbody tr")
    }
    assert rows["quiet-agent"] == "1"  # its one sample, the TOML block just added
    # Prose that moves no sample changes nothing the report shows: it is not rewritten.
    edit(src / "agents/definitions/quiet-agent.md", "Keep functions short.", "Keep functions short and named.")
    prose = build(src, fresh=False)
    assert "agents/quiet-agent" in prose.read and "report" not in prose.written, prose.status
    # A line above the sample moves it: the report links to its line, and is rewritten.
    edit(src / "agents/definitions/quiet-agent.md", "## Style\n", "## Style\n\nOne more line.\n")
    moved = build(src, fresh=False)
    assert "report" in moved.written, moved.status


def test_the_search_index_is_made_again_only_when_an_indexed_page_was_written(
    built: tuple[Path, TinyBuild],
) -> None:
    src, first = built
    entry = first.out / "pagefind" / "pagefind-entry.json"
    made = entry.stat().st_mtime_ns
    build(src, fresh=False)
    assert entry.stat().st_mtime_ns == made  # nothing written: the index is kept
    edit(src / "guides/other.md", "Nothing about agents.", "Still nothing about agents.")
    again = build(src, fresh=False)
    assert again.warnings == ""
    assert entry.stat().st_mtime_ns > made
    # One fragment per page it indexes: the agents and the guides.
    pages = [p.relative_to(again.out).with_suffix("").as_posix() for p in again.out.glob("**/*.html")]
    assert len(list((again.out / "pagefind" / "fragment").iterdir())) == sum(1 for d in pages if kind_of(d)) == 7
