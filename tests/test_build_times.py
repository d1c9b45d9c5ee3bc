"""The build-times page: committed figures drawn as an SVG chart and a table."""

from __future__ import annotations

import json
from pathlib import Path

from sitebuild import ROOT
from tinybuild import build, copy_tiny, edit

FIGURES = ROOT / "bench" / "build_times.json"


def test_the_committed_figures_cover_every_size_and_case() -> None:
    data = json.loads(FIGURES.read_text("utf-8"))
    auto = [r for r in data["results"] if r["jobs"] == "auto"]
    assert sorted(r["agents"] for r in auto) == [1, 50, 100, 207]
    for result in auto:
        assert set(result["median_s"]) == {
            "clean",
            "nochange",
            "agent",
            "guide",
            "floor",
            "floor_nochange",
            "floor_agent",
        }


def test_the_page_draws_the_figures_it_is_given(tmp_path: Path) -> None:
    src = copy_tiny(tmp_path / "src")
    figures = {
        "machine": "test",
        "date": "2026-01-01",
        "repeat": 1,
        "results": [
            {
                "agents": n,
                "jobs": "auto",
                "median_s": {
                    c: n / 10 + i
                    for i, c in enumerate(
                        ("clean", "nochange", "agent", "guide", "floor", "floor_nochange", "floor_agent")
                    )
                },
            }
            for n in (1, 50)
        ],
    }
    (src / "times.json").write_text(json.dumps(figures), "utf-8")
    (src / "times.md").write_text("# Times\n\n```{build-times} /times.json\n```\n", "utf-8")
    edit(src / "index.md", "guides/conventions\n", "guides/conventions\ntimes\n")
    result = build(src)
    assert result.warnings == ""
    page = result.page("times")
    svg = page.select_one("svg.kb-build-times")
    assert svg is not None and svg.select_one("title").get_text().startswith("Build time against")
    assert len(svg.select("polyline")) == 5
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in page.select("table tbody tr")]
    assert [r[0] for r in rows] == ["1", "50"]
    assert rows[1][1] == "5.0 s" and rows[1][-1] == f"{5.0 / 9.0:.2f}×"
    # The plain stack's own rebuilds are columns of the table, not lines of the chart.
    header = [th.get_text(strip=True) for th in page.select("table thead th")]
    assert header[-3:] == ["plain stack, nothing changed", "plain stack, one agent edited", "clean / floor"]
    assert rows[1][-3:-1] == ["10.0 s", "11.0 s"]
