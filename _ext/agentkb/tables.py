"""Docutils tables for the pages agentkb generates (matrix, topics, verification)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from docutils import nodes

Cell = str | int | nodes.Node | list[nodes.Node]


def entry(cell: Cell, classes: Sequence[str] = ()) -> nodes.entry:
    if isinstance(cell, nodes.Node):
        content = [cell]
    elif isinstance(cell, list):
        content = cell
    else:
        content = [nodes.Text(str(cell))]
    return nodes.entry("", nodes.paragraph("", "", *content), classes=list(classes))


def row(cells: Iterable[nodes.entry | Cell], classes: Sequence[str] = ()) -> nodes.row:
    entries = [c if isinstance(c, nodes.entry) else entry(c) for c in cells]
    return nodes.row("", *entries, classes=list(classes))


def table(header: Sequence[str], rows: Iterable[nodes.row], classes: Sequence[str] = ()) -> nodes.table:
    group = nodes.tgroup(cols=len(header))
    group += [nodes.colspec(colwidth=1) for _ in header]
    group += nodes.thead("", row(header))
    group += nodes.tbody("", *rows)
    return nodes.table("", group, classes=list(classes))
