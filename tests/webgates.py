"""The built site served on 127.0.0.1 and opened in headless Chromium through Playwright.

Shared by the gate tests (tests/test_gates.py, tests/test_search_quality.py) and the
benchmarks in bench/. Playwright drives Debian's Chromium (`executable_path`); it never
downloads a browser of its own, so `playwright install` is neither needed nor wanted.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` on 127.0.0.1 (a free port) in a thread; yields the base URL ("http://.../")."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing(reason: str) -> None:
    """Skip a test whose tool is missing, or fail under CI, where .ci/system-deps installs it."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A headless Chromium (Debian's), driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise FileNotFoundError("Chromium is not installed (.ci/system-deps installs it: apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def html_pages(site: Path) -> list[str]:
    """Every HTML page of the built site, as paths relative to its root (POSIX), sorted."""
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if "_static" not in p.parts)


def page_kind(rel: str) -> str:
    """The kind of a page: index, agent, guide, api, search, generated (genindex, routing table)."""
    if rel == "index.html":
        return "index"
    if rel == "search.html":
        return "search"
    top = rel.split("/", 1)[0]
    return {"agents": "agent", "guides": "guide", "api-examples": "api"}.get(top, "generated")


AXE_DIR = ROOT / "tools" / "axe"


def axe_source() -> str:
    """axe-core's script, installed from the lock file with `npm ci` on first use."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        if shutil.which("npm") is None:
            raise FileNotFoundError("npm is not installed (.ci/system-deps installs it)")
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=AXE_DIR, check=True, capture_output=True, text=True, timeout=300,
        )
    return script.read_text(encoding="utf-8")
