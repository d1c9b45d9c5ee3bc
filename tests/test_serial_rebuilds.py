"""A rebuild that reads a few pages runs in one process; a clean build keeps -j's workers
(agentkb.serial_rebuilds)."""

from __future__ import annotations

import io
import os
from pathlib import Path

from sphinx.testing.util import SphinxTestApp
from tinybuild import copy_tiny

from agentkb.serial_rebuilds import FEW_DOCUMENTS


def _build_in_two_jobs(src: Path, log: Path, *, fresh: bool) -> tuple[int, list[tuple[str, int]]]:
    """Build with -j 2; return the number of jobs the application has afterwards, and the
    process that read each page and that wrote each page."""
    app = SphinxTestApp(
        "html",
        srcdir=src,
        builddir=src / "_build",
        status=io.StringIO(),
        warning=io.StringIO(),
        freshenv=fresh,
        parallel=2,
    )

    def note(phase: str) -> None:
        # Appended to a file: a forked worker's memory does not come back to this process.
        with log.open("a", encoding="utf-8") as f:
            f.write(f"{phase} {os.getpid()}\n")

    app.connect("source-read", lambda app, docname, source: note("read"))
    app.connect("html-page-context", lambda app, pagename, *_: note("write"))
    log.write_text("", "utf-8")
    try:
        app.build()
    finally:
        app.cleanup()
    return app.parallel, [(phase, int(pid)) for phase, pid in (line.split() for line in log.read_text().splitlines())]


def test_a_clean_build_reads_in_workers_and_a_one_page_rebuild_in_one_process(tmp_path: Path) -> None:
    src = copy_tiny(tmp_path / "site")
    log = tmp_path / "processes"

    jobs, clean = _build_in_two_jobs(src, log, fresh=True)
    read = [pid for phase, pid in clean if phase == "read"]
    assert len(read) > FEW_DOCUMENTS
    assert set(read) - {os.getpid()}, "a clean build reads in -j's worker processes"
    assert jobs == 2

    agent = src / "agents" / "definitions" / "dropped-in.md"
    agent.write_text(agent.read_text("utf-8") + "\nOne more line.\n", "utf-8")
    jobs, rebuild = _build_in_two_jobs(src, log, fresh=False)
    assert {phase for phase, _ in rebuild} == {"read", "write"}
    assert len([pid for phase, pid in rebuild if phase == "read"]) <= FEW_DOCUMENTS
    assert {pid for _, pid in rebuild} == {os.getpid()}, rebuild
    # The application's own number of jobs is back for its next build.
    assert jobs == 2
