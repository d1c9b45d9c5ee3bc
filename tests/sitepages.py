"""The built site's pages, parsed once per test process.

Several test files read the same pages (each agent page is checked for its card, its
stances, its coverage and its code samples), and html.parser takes tens of milliseconds
a page. A parsed page is shared by every test that asks for it: read it, never change it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from bs4 import BeautifulSoup


@functools.cache
def _parsed(path: Path, mtime_ns: int) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def parsed_page(path: Path) -> BeautifulSoup:
    """The HTML file at `path`, parsed; parsed again only if the file changed since."""
    return _parsed(path, path.stat().st_mtime_ns)
