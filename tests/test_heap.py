"""The build freezes its long-lived heap while it runs and leaves nothing frozen (agentkb.heap)."""

from __future__ import annotations

import gc
import io
from pathlib import Path

from sphinx.testing.util import SphinxTestApp
from tinybuild import copy_tiny


def test_the_heap_is_frozen_while_pages_are_read_and_written_and_unfrozen_after(tmp_path: Path) -> None:
    src = copy_tiny(tmp_path / "site")
    app = SphinxTestApp("html", srcdir=src, builddir=src / "_build", status=io.StringIO(), warning=io.StringIO())
    frozen: dict[str, int] = {}

    def reading(app: object, docname: str, source: list[str]) -> None:
        frozen.setdefault("reading", gc.get_freeze_count())

    def writing(app: object, doctree: object, docname: str) -> None:
        frozen.setdefault("writing", gc.get_freeze_count())

    app.connect("source-read", reading)
    app.connect("doctree-resolved", writing)
    assert gc.get_freeze_count() == 0
    try:
        app.build()
    finally:
        app.cleanup()
    # Frozen objects are those the collector skips: the loaded environment while pages are
    # read, and everything read (more) while they are written.
    assert 0 < frozen["reading"] < frozen["writing"], frozen
    # Nothing stays frozen: a process that builds again collects what this build left.
    assert gc.get_freeze_count() == 0
