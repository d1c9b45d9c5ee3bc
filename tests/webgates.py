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


def visit(page, base: str, rel: str) -> dict:  # page: playwright Page
    """Load one page; return what went wrong (console errors, failed or off-site requests) and its weight.

    Requests that leave the site's origin are aborted (route interception) and reported.
    The weight is every response's body, uncompressed (the server sends no compression).
    """
    problems: list[str] = []
    weights: dict[str, int] = {}

    def on_route(route) -> None:
        if route.request.url.startswith(base) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            problems.append(f"off-site request: {route.request.url}")
            route.abort()

    def on_response(response) -> None:
        if response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.url}")
        try:
            weights[response.url] = len(response.body())
        except Exception:  # a redirect or an aborted request has no body
            pass

    handlers = {
        "console": lambda m: m.type == "error" and problems.append(f"console error: {m.text}"),
        "pageerror": lambda e: problems.append(f"page error: {e}"),
        "requestfailed": lambda r: problems.append(f"request failed: {r.url} ({r.failure})"),
        "response": on_response,
    }
    page.route("**/*", on_route)
    for event, handler in handlers.items():
        page.on(event, handler)
    try:
        page.goto(base + rel, wait_until="load")
        page.wait_for_load_state("networkidle")
    finally:
        for event, handler in handlers.items():
            page.remove_listener(event, handler)
        page.unroute("**/*", on_route)
    return {"problems": problems, "bytes": sum(weights.values()), "resources": weights}


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
    run = subprocess.run(
        ["java", "-Xss1024k", "-jar", str(jar), "--format", "json", "--errors-only", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"]
