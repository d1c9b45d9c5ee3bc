"""``{build-times} bench/build_times.json``: build time against the number of agents.

The figures are committed data, measured by ``bench/build_times.py --record``; the page
draws them at build time as an inline SVG line chart (nothing to download or install),
followed by the same figures as a table for readers who cannot see the chart.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from . import tables

#: Case in the data -> label, and the stroke pattern that tells the lines apart without colour.
SERIES = {
    "clean": ("clean build", ""),
    "floor": ("plain-stack floor (clean)", "6 3"),
    "agent": ("one agent edited", "2 2"),
    "guide": ("one guide edited", "8 2 2 2"),
    "nochange": ("nothing changed", "1 3"),
}
#: Cases in the table only: the plain stack's own rebuilds, to compare ours with.
FLOOR_REBUILDS = {"floor_nochange": "plain stack, nothing changed", "floor_agent": "plain stack, one agent edited"}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 640, 320, 48, 40, 16, 190


def _scale(value: float, low: float, high: float, start: float, end: float) -> float:
    return start + (value - low) / ((high - low) or 1) * (end - start)


def chart_svg(results: list[dict[str, Any]], title: str) -> str:
    """One line per case: seconds (median) against agents, for one ``-j`` setting."""
    points = sorted(results, key=lambda r: r["agents"])
    xs = [r["agents"] for r in points]
    top = max(max(r["median_s"].values()) for r in points)
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200) if top / s <= 8)
    ymax = step * (int(top // step) + 1)
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='kb-build-times' viewBox='0 0 {WIDTH} {HEIGHT}' "
        f"role='img' aria-label='{escape(title, quote=True)}'><title>{escape(title)}</title>",
        f"<line x1='{x0}' y1='{y0}' x2='{x1}' y2='{y0}' stroke='currentColor'/>",
        f"<line x1='{x0}' y1='{y0}' x2='{x0}' y2='{y1}' stroke='currentColor'/>",
    ]
    for tick in range(0, ymax + 1, step):
        y = _scale(tick, 0, ymax, y0, y1)
        parts.append(f"<line x1='{x0}' y1='{y:.1f}' x2='{x1}' y2='{y:.1f}' stroke='currentColor' opacity='0.15'/>")
        parts.append(f"<text x='{x0 - 6}' y='{y + 4:.1f}' text-anchor='end' font-size='11'>{tick}</text>")
    for x in xs:
        px = _scale(x, 0, max(xs), x0, x1)
        parts.append(f"<text x='{px:.1f}' y='{y0 + 16}' text-anchor='middle' font-size='11'>{x}</text>")
    parts.append(f"<text x='{(x0 + x1) / 2}' y='{HEIGHT - 6}' text-anchor='middle' font-size='12'>agents</text>")
    parts.append(
        f"<text x='12' y='{(y0 + y1) / 2}' text-anchor='middle' font-size='12' "
        f"transform='rotate(-90 12 {(y0 + y1) / 2})'>seconds</text>"
    )
    for index, (case, (label, dash)) in enumerate(SERIES.items()):
        coords = [
            (_scale(r["agents"], 0, max(xs), x0, x1), _scale(r["median_s"][case], 0, ymax, y0, y1))
            for r in points
            if case in r["median_s"]
        ]
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        style = f" stroke-dasharray='{dash}'" if dash else ""
        parts.append(
            f"<polyline class='kb-bt-{case}' points='{line}' fill='none' stroke='currentColor' "
            f"stroke-width='2'{style}/>"
        )
        parts += [f"<circle cx='{x:.1f}' cy='{y:.1f}' r='2.5' fill='currentColor'/>" for x, y in coords]
        ly = TOP + 14 + index * 18
        parts.append(
            f"<line x1='{x1 + 12}' y1='{ly - 4}' x2='{x1 + 40}' y2='{ly - 4}' stroke='currentColor' "
            f"stroke-width='2'{style}/><text x='{x1 + 46}' y='{ly}' font-size='11'>{escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(results: list[dict[str, Any]]) -> nodes.table:
    extra = [case for case in FLOOR_REBUILDS if all(case in r["median_s"] for r in results)]
    cases = [*SERIES, *extra]
    header = ["agents", *(SERIES[c][0] if c in SERIES else FLOOR_REBUILDS[c] for c in cases), "clean / floor"]
    rows = []
    for r in sorted(results, key=lambda r: r["agents"]):
        m, cpu = r["median_s"], r.get("median_cpu_s", {})
        cells: list[tables.Cell] = [str(r["agents"])]
        for case in cases:
            text = f"{m[case]:.1f} s" + (f" ({cpu[case]:.1f} s CPU)" if case in cpu else "")
            cells.append(text)
        cells.append(f"{m['clean'] / m['floor']:.2f}×")
        rows.append(tables.row(cells))
    return tables.table(header, rows, classes=["kb-build-times-table"])


class BuildTimesDirective(SphinxDirective):
    """The chart and the table of one ``-j`` setting (``:jobs:``, default ``auto``)."""

    required_arguments = 1
    option_spec = {"jobs": str}

    def run(self) -> list[nodes.Node]:
        relpath, abspath = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(relpath)
        try:
            data = json.loads(Path(abspath).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise self.error(f"cannot read the build times {relpath}: {exc}") from None
        jobs = self.options.get("jobs", "auto")
        results = [r for r in data["results"] if r["jobs"] == jobs]
        if not results:
            raise self.error(f"{relpath} has no figures for -j {jobs}")
        title = f"Build time against the number of agents (sphinx-build -j {jobs}), median seconds"
        figure = nodes.container(classes=["kb-build-times-figure"])
        figure += nodes.raw("", chart_svg(results, title), format="html")
        caption = nodes.paragraph(
            "",
            f"{title}; measured on {data['machine']}, {data['date']}, median of {data['repeat']} runs "
            "(CPU time of every process in brackets).",
        )
        return [figure, caption, _table(results)]


def setup(app: Sphinx) -> None:
    app.add_directive("build-times", BuildTimesDirective)
