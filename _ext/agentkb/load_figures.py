"""``service-load-figures``: the reference service's load test results, as tables.

The figures live in ``bench/service_load.json`` (written by ``bench/service_load.py
--record``, one run per label such as ``before`` and ``after``); the page renders them
at build time, so the numbers on the site are the committed data, never retyped.

.. code-block:: rst

   .. service-load-figures:: ../bench/service_load.json
      :runs: before after
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from .tables import row, table

ENDPOINT_LABELS = {
    "baseline": "baseline (no database)",
    "list": "GET /api/users?limit=20",
    "get": "GET /api/users/{id}",
    "create": "POST /api/users",
    "login": "POST /api/auth/login",
}
DATABASE_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


class ServiceLoadFigures(SphinxDirective):
    required_arguments = 1
    option_spec = {"runs": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        relative, path = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(relative)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise self.error(f"cannot read load figures from {self.arguments[0]}: {exc}") from exc
        labels = (self.options.get("runs") or "before after").split()
        missing = [label for label in labels if label not in data]
        if missing:
            raise self.error(f"no run labelled {', '.join(missing)} in {self.arguments[0]}")
        runs = [data[label] for label in labels]
        result: list[nodes.Node] = [self._conditions(labels, runs)]
        databases = [db for db in DATABASE_LABELS if all(db in run["databases"] for run in runs)]
        for database in databases:
            result.append(nodes.rubric("", DATABASE_LABELS[database]))
            figures = [run["databases"][database] for run in runs]
            result.append(self._table(labels, figures))
            floor = figures[-1].get("in_process_us")
            if floor:
                result.append(self._floor(labels[-1], floor, figures[-1]))
        return result

    def _floor(self, label: str, floor: dict[str, float], figures: dict[str, Any]) -> nodes.Node:
        baseline_cpu = figures["endpoints"].get("baseline", {}).get("server_cpu_ms")
        rows = [row([step, _number(us, 0)]) for step, us in floor.items()]
        if baseline_cpu is not None:
            rows.append(
                row(
                    [
                        nodes.emphasis("", "for comparison: the baseline's whole request (server CPU)"),
                        _number(baseline_cpu * 1000, 0),
                    ]
                )
            )
        return table(
            [f"{label}: the list request's own work, in-process", "CPU µs per call"],
            rows,
            classes=["service-load-floor"],
        )

    def _conditions(self, labels: list[str], runs: list[dict[str, Any]]) -> nodes.Node:
        items = nodes.bullet_list()
        for label, run in zip(labels, runs, strict=True):
            method = run["method"]
            text = (
                f"{label}: {run['date']} (commit {run['commit']}), {run['cpus']} CPUs, "
                f"load average {run['load_average_start'][0]:.2f} at the start and "
                f"{run['load_average_end'][0]:.2f} at the end; wrk with {method['threads']} "
                f"threads and {method['connections']} connections, {method['duration_s']} s per "
                f"run, median of {method['repeat']} runs, {method['users']} seeded users"
            )
            items += nodes.list_item("", nodes.paragraph("", text))
        return items

    def _table(self, labels: list[str], figures: list[dict[str, Any]]) -> nodes.table:
        header = ["endpoint", "queries / request"]
        for label in labels:
            header += [
                f"{label}: req/s",
                f"{label}: p50 / p99 ms",
                f"{label}: × baseline",
                f"{label}: server CPU ms / req",
                f"{label}: failed",
            ]
        rows = []
        for endpoint, title in ENDPOINT_LABELS.items():
            found = [f["endpoints"].get(endpoint) for f in figures]
            if not all(found):
                continue
            cells: list[Any] = [nodes.literal("", title), str(found[-1]["queries_per_request"])]
            for entry in found:
                cells += [
                    _number(entry["rps"]),
                    f"{_number(entry['p50_ms'], 1)} / {_number(entry['p99_ms'], 1)}",
                    _number(entry["ratio_to_baseline"], 2),
                    _number(entry.get("server_cpu_ms"), 2),
                    # Non-2xx answers plus socket errors, summed over the runs.
                    str(entry["non_2xx"] + entry["socket_errors"]),
                ]
            rows.append(row(cells))
        return table(header, rows, classes=["service-load"])


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("service-load-figures", ServiceLoadFigures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
