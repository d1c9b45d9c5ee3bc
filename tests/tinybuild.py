"""In-process builds of a small site with ``sphinx.testing``: what tests of the extension use.

A subprocess build of the whole site costs tens of seconds; a tiny site built in-process
costs about one, so the extension's behaviour is tested here and the whole site only
where it is the subject (see tests/conftest.py's ``site``).
"""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup
from sphinx.testing.util import SphinxTestApp

TINY = Path(__file__).parent / "data" / "tinysite"
_PROGRESS = re.compile(r"(reading sources|writing output)\.\.\. \[\s*\d+%\] (\S+)")


@dataclass
class TinyBuild:
    src: Path
    out: Path
    warnings: str
    status: str

    def page(self, docname: str) -> BeautifulSoup:
        return BeautifulSoup((self.out / f"{docname}.html").read_text("utf-8"), "html.parser")

    def _progress(self, phase: str) -> set[str]:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", self.status)
        return {m.group(2) for m in _PROGRESS.finditer(plain) if m.group(1) == phase}

    @property
    def read(self) -> set[str]:
        """The documents Sphinx read (its status output names each)."""
        return self._progress("reading sources")

    @property
    def written(self) -> set[str]:
        return self._progress("writing output")


def copy_tiny(dest: Path) -> Path:
    shutil.copytree(TINY, dest)
    return dest


def build(src: Path, *, fresh: bool = True, parallel: int = 0, **confoverrides: object) -> TinyBuild:
    status, warning = io.StringIO(), io.StringIO()
    app = SphinxTestApp(
        "html",
        srcdir=src,
        builddir=src / "_build",
        status=status,
        warning=warning,
        freshenv=fresh,
        parallel=parallel,
        confoverrides=confoverrides or None,
    )
    try:
        app.build()
    finally:
        app.cleanup()
    return TinyBuild(src, Path(app.outdir), warning.getvalue(), status.getvalue())


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")
