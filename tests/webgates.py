"""The built site served on 127.0.0.1 and opened in headless Chromium through Playwright.

Shared by the gate tests (tests/test_gates.py, tests/test_search_quality.py) and the
benchmarks in bench/. Playwright drives Debian's Chromium headless shell (`executable_path`);
it never downloads a browser of its own, so `playwright install` is neither needed nor wanted.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from agentkb.rulebook import SITE_URL

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


#: The path the site is published under (the 404 page's links are absolute, from it).
SITE_PATH = urlsplit(os.environ.get("AGENTKB_BASE_URL") or SITE_URL).path.rstrip("/") + "/"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def translate_path(self, path: str) -> str:
        # Serve the site under its published path, as GitHub Pages does; anything else is a 404.
        if not path.startswith(SITE_PATH):
            return str(Path(self.directory) / "__outside_the_site__")
        return super().translate_path("/" + path[len(SITE_PATH) :])


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` on 127.0.0.1 (a free port) under the site's published path, in a thread;
    yields the site's base URL ("http://127.0.0.1:PORT/agentkb/")."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{SITE_PATH}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def chromium_path() -> str | None:
    """Debian's headless shell (package chromium-headless-shell) where it is installed, else Chromium.

    The shell is the same Blink without the browser's UI process, the build Playwright itself
    runs for headless tests: here it takes about 12% less CPU than `chromium --headless` for
    the same axe-core run, and starts in half the time.
    """
    return shutil.which("chromium-headless-shell") or shutil.which("chromium") or shutil.which("chromium-browser")


#: What to say when no Chromium is installed (.ci/system-deps installs the headless shell).
NO_CHROMIUM = "Chromium is not installed (apt-get install chromium-headless-shell)"


def missing(reason: str) -> NoReturn:
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
        raise FileNotFoundError(NO_CHROMIUM)
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


TOOLS = ROOT / "tools" / "webgates"


def npm_tool(relative: str) -> Path:
    """A file from tools/webgates/node_modules (axe-core, vnu-jar), installed with `npm ci` on first use."""
    path = TOOLS / "node_modules" / relative
    if not path.exists():
        if shutil.which("npm") is None:
            raise FileNotFoundError("npm is not installed (.ci/system-deps installs it)")
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=TOOLS,
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    return path


def axe_source() -> str:
    """axe-core's script, to inject into a page."""
    script = npm_tool("axe-core/axe.min.js")
    return script.read_text(encoding="utf-8")


@dataclass
class _Loading:
    """A page on its way: what went wrong so far, the responses' weights, and the listeners to remove."""

    page: Any  # playwright Page
    rel: str
    problems: list[str] = field(default_factory=list)
    weights: dict[str, int] = field(default_factory=dict)
    handlers: dict[str, Callable[..., object]] = field(default_factory=dict)
    offsite: re.Pattern[str] | None = None
    on_route: Callable[..., None] | None = None

    def stop_listening(self) -> None:
        for event, handler in self.handlers.items():
            self.page.remove_listener(event, handler)
        self.page.unroute(self.offsite, self.on_route)


def _start_visit(page, base: str, rel: str) -> _Loading:  # page: playwright Page
    """Listen to one page's requests and start loading it (back once the response is committed)."""
    loading = _Loading(page, rel)

    def on_route(route) -> None:
        loading.problems.append(f"off-site request: {route.request.url}")
        route.abort()

    def on_response(response) -> None:
        if response.status >= 400:
            loading.problems.append(f"HTTP {response.status}: {response.url}")
        # The server sends every file whole and uncompressed, with its size: reading the
        # length from the headers weighs the same bytes without copying each body out of
        # the browser (which cost a third of a page visit's CPU).
        size = response.headers.get("content-length")
        if size is not None:
            loading.weights[response.url] = int(size)

    # Only requests that leave the site are intercepted; the pattern is matched inside the
    # browser, so the site's own requests never wait for a round trip to Python.
    loading.offsite = re.compile(f"^(?!{re.escape(base)}|data:)")
    loading.on_route = on_route
    loading.handlers = {
        "console": lambda m: m.type == "error" and loading.problems.append(f"console error: {m.text}"),
        "pageerror": lambda e: loading.problems.append(f"page error: {e}"),
        "requestfailed": lambda r: loading.problems.append(f"request failed: {r.url} ({r.failure})"),
        "response": on_response,
    }
    page.route(loading.offsite, on_route)
    for event, handler in loading.handlers.items():
        page.on(event, handler)
    try:
        page.goto(base + rel, wait_until="commit")
    except BaseException:
        loading.stop_listening()
        raise
    return loading


def _finish_visit(loading: _Loading) -> dict:
    """Wait for the page's load event and then for its network to be idle (500 ms without a request)."""
    try:
        loading.page.wait_for_load_state("load")
        loading.page.wait_for_load_state("networkidle")
    finally:
        loading.stop_listening()
    return {"problems": loading.problems, "bytes": sum(loading.weights.values()), "resources": loading.weights}


def visit(page, base: str, rel: str) -> dict:  # page: playwright Page
    """Load one page; return what went wrong (console errors, failed or off-site requests) and its weight.

    Requests that leave the site's origin are aborted (route interception) and reported.
    The weight is every response's body, uncompressed (the server sends no compression).
    """
    return _finish_visit(_start_visit(page, base, rel))


def visit_all(context, base: str, rels: list[str], *, tabs: int = 4, then=None) -> dict[str, dict]:
    """:func:`visit` every page of `rels`, in `tabs` tabs of one browser context (playwright
    BrowserContext) at once: each page is loaded and waited for exactly as by itself, but one
    page's wait for network idle overlaps the others' loading. ``then(page, rel)``, if given, runs
    on each page once its network is idle; what it returns is kept under the key "then"."""
    pending = deque(rels)
    loading: deque[_Loading] = deque()
    found: dict[str, dict] = {}
    pages = [context.new_page() for _ in range(min(tabs, len(rels)))]
    try:
        for page in pages:
            loading.append(_start_visit(page, base, pending.popleft()))
        while loading:
            current = loading.popleft()
            found[current.rel] = _finish_visit(current)
            if then is not None:
                found[current.rel]["then"] = then(current.page, current.rel)
            if pending:
                loading.append(_start_visit(current.page, base, pending.popleft()))
    finally:
        for page in pages:
            page.close()
    return {rel: found[rel] for rel in rels}


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_run(page, source: str) -> list[dict]:
    """axe-core's violations on the current page (injected as a script), impact and nodes kept."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(content=source)
    return page.evaluate(
        """async (tags) => {
          const r = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
          return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))}));
        }""",
        AXE_TAGS,
    )


def vnu_errors(files: list[Path]) -> list[dict]:
    """The Nu HTML checker's errors (vnu.jar from the npm package vnu-jar; needs Java 11+)."""
    import json

    if shutil.which("java") is None:
        raise FileNotFoundError("Java is not installed (.ci/system-deps installs default-jre-headless)")
    jar = npm_tool("vnu-jar/build/dist/vnu.jar")
    # One short run: the JIT's first tier compiles enough, and skipping the optimising tier
    # halves the JVM's CPU (4.6 -> 2.2 s on the site's 69 pages, same verdicts). Code from
    # that tier takes more stack than the 512 KB the checker asks for, hence 4 MB.
    jvm = ["-XX:TieredStopAtLevel=1", "-Xss4m"]
    run = subprocess.run(
        ["java", *jvm, "-jar", str(jar), "--format", "json", "--errors-only", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"]
