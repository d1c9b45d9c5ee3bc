"""Gates on the built site, served on 127.0.0.1 and opened in headless Chromium (Playwright).

- every page loads with no console error, no failed request and no request leaving the site;
- every page fits the page-weight budget (bench/page_weight.py prints the heaviest);
- axe-core finds no serious or critical violation, in the light and the dark colour scheme
  (coverage: see AXE_PAGES below);
- the Nu HTML checker finds no error in any page;
- screenshots of the index, an agent page, a guide and the API page, light and dark, desktop
  and mobile, are written to _build/screenshots/ for a reader to look at.

Needs Chromium (Debian's), Node/npm (axe-core and vnu-jar, installed from
tools/webgates/package-lock.json on first use) and Java (the Nu checker): .ci/system-deps
installs them; without them the tests skip, or fail under CI.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageStat
from webgates import (
    ROOT,
    axe_run,
    axe_source,
    html_pages,
    missing,
    page_kind,
    serve,
    visit,
    visit_all,
    vnu_errors,
)

# Page weight: everything a page downloads when it opens, uncompressed (HTML, CSS, JS, images).
# Measured before the gates (bench/page_weight.py): 192-321 KB per page, median 224 KB, of which
# 150-180 KB was the same theme, styles and scripts on every page. After agentkb.assets
# (per-page assets, sphinx-design's stylesheet cut to the classes used, Pygments' whitespace
# spans unwrapped): 125-256 KB, median 177 KB; assets 110-128 KB. The budget leaves about 10%
# for growth. A search with results loads Pagefind's index on demand and is not counted.
BUDGET_BYTES = 280 * 1024
# What a page downloads besides its own HTML (theme, styles, scripts, images).
BUDGET_ASSET_BYTES = 135 * 1024
# An agent page shows a file nobody here controls, highlighted, and the evidence of every
# stance on it (sonnet-typescript-fastapi: 20 KB of Markdown, 84 stances, 215 KB of HTML).
# Its HTML may exceed the general budget by up to eight times its raw file's size; the
# chrome and the assets stay under the general budget like every other page's.
AGENT_CONTENT_FACTOR = 8


def budget(rel: str) -> int:
    raw = ROOT / "agents" / "definitions" / Path(rel).with_suffix(".md").name
    if rel.startswith("agents/") and raw.is_file():
        return BUDGET_BYTES + AGENT_CONTENT_FACTOR * raw.stat().st_size
    return BUDGET_BYTES


SCREENSHOT_PAGES = {
    "index": "index.html",
    "agent": "agents/sonnet-typescript-fastapi.html",
    "guide": "guides/errors.html",
    "api": "api-examples/index.html",
}
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 390, "height": 844}}

# axe runs on every page in the light scheme (about 1 s a page here) and, in the dark scheme,
# on one page of each kind plus every page with its own components (cards, the conventions
# matrix, the verification report, the API reference); both schemes use the same CSS rules
# except colours, which is what the dark run checks. The search page is checked with results.
AXE_DARK_PAGES = [
    "index.html",
    "agents/index.html",
    "agents/sonnet-typescript-fastapi.html",
    "agents/verification.html",
    "guides/index.html",
    "guides/conventions.html",
    "guides/errors.html",
    "api-examples/index.html",
    "api-examples/agent-spec.html",
    "genindex.html",
    "search.html?q=N%2B1",
]
SEARCH_WITH_RESULTS = "search.html?q=N%2B1"


@pytest.fixture(scope="module")
def visits(html: Path, chromium, base_url: str) -> dict[str, dict]:
    """Every page, loaded once in the light scheme, a few tabs at a time: its problems, its
    weight and, once its network is idle, axe-core's violations on it ("then")."""
    source = axe_source()

    def axe(page, rel: str) -> list[dict]:
        if rel.startswith("search.html?"):
            page.wait_for_selector("#agentkb-search[data-state=done] .kb-result-link", timeout=20_000)
        return axe_run(page, source)

    context = chromium.new_context(color_scheme="light")
    try:
        return visit_all(context, base_url, [*html_pages(html), SEARCH_WITH_RESULTS], then=axe)
    finally:
        context.close()


def test_every_page_kind_is_covered(html: Path) -> None:
    kinds = {page_kind(rel) for rel in html_pages(html)}
    assert kinds == {"index", "agent", "guide", "api", "search", "generated"}
    assert {page_kind(rel.split("?")[0]) for rel in AXE_DARK_PAGES} == kinds


def test_a_visit_reports_each_kind_of_problem_and_weighs_every_response(tmp_path: Path, chromium) -> None:
    """The gates below pass only if nothing is reported: check here that the visit does report."""
    style = "body { color: #222; }\n" * 40
    (tmp_path / "style.css").write_text(style, "utf-8")
    page_html = (
        "<!doctype html><html lang=en><head><title>t</title><link rel=stylesheet href=style.css></head><body>"
        '<img alt="" src="https://example.org/pixel.png"><script src="missing.js"></script>'
        "<script>console.error('boom')</script></body></html>"
    )
    (tmp_path / "index.html").write_text(page_html, "utf-8")
    context = chromium.new_context()
    try:
        with serve(tmp_path) as base:
            page = context.new_page()
            found = visit(page, base, "index.html")
    finally:
        context.close()
    problems = found["problems"]
    assert "off-site request: https://example.org/pixel.png" in problems
    assert f"HTTP 404: {base}missing.js" in problems
    assert "console error: boom" in problems
    assert found["resources"][base + "style.css"] == len(style.encode())
    assert found["resources"][base + "index.html"] == len(page_html.encode())


def test_every_page_loads_without_errors_or_failed_requests(visits: dict[str, dict]) -> None:
    problems = {rel: [p for p in v["problems"] if not p.startswith("off-site")] for rel, v in visits.items()}
    assert not {rel: p for rel, p in problems.items() if p}


def test_no_request_leaves_the_site(visits: dict[str, dict]) -> None:
    offsite = {rel: [p for p in v["problems"] if p.startswith("off-site")] for rel, v in visits.items()}
    assert not {rel: p for rel, p in offsite.items() if p}


def test_every_page_fits_the_weight_budget(html: Path, visits: dict[str, dict]) -> None:
    over = {}
    for rel, v in visits.items():
        if "?" in rel:
            continue  # the search page with results: Pagefind's index, loaded on demand
        own = (html / rel).stat().st_size
        if v["bytes"] > budget(rel) or v["bytes"] - own > BUDGET_ASSET_BYTES:
            over[rel] = f"{v['bytes'] / 1024:.0f} KB in all, {(v['bytes'] - own) / 1024:.0f} KB besides its HTML"
    assert not over, f"budget {BUDGET_BYTES // 1024} KB per page, {BUDGET_ASSET_BYTES // 1024} KB of assets: {over}"


def _serious(violations: list[dict]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -- {', '.join(n['target'] for n in v['nodes'][:5])}"
        for v in violations
        if v["impact"] in {"serious", "critical"}
    ]


def _axe(chromium, base_url: str, scheme: str, pages: list[str]) -> dict[str, list[str]]:
    source = axe_source()
    context = chromium.new_context(color_scheme=scheme)
    page = context.new_page()
    found = {}
    try:
        for rel in pages:
            page.goto(base_url + rel, wait_until="load")
            if rel.startswith("search.html?"):
                page.wait_for_selector("#agentkb-search[data-state=done] .kb-result-link", timeout=20_000)
            if serious := _serious(axe_run(page, source)):
                found[rel] = serious
    finally:
        context.close()
    return found


def test_axe_finds_no_serious_violation_in_the_light_scheme(visits: dict[str, dict]) -> None:
    # axe ran on every page as it was visited, in the light scheme (see `visits`).
    assert not {rel: serious for rel, v in visits.items() if (serious := _serious(v["then"]))}


def test_axe_finds_no_serious_violation_in_the_dark_scheme(chromium, base_url: str) -> None:
    assert not _axe(chromium, base_url, "dark", AXE_DARK_PAGES)


PHONE_PAGES = ["guides/errors.html", "api-examples/index.html", "agents/sonnet-typescript-fastapi.html"]


@pytest.mark.parametrize("rel", PHONE_PAGES)
def test_axe_finds_no_serious_violation_on_a_phone(chromium, base_url: str, rel: str) -> None:
    """Code blocks and tables that fit a desktop scroll on a phone must be reachable there too."""
    source = axe_source()
    context = chromium.new_context(color_scheme="light", viewport=VIEWPORTS["mobile"])
    page = context.new_page()
    try:
        page.goto(base_url + rel, wait_until="load")
        assert not _serious(axe_run(page, source))
        scrollers = page.eval_on_selector_all(
            ".highlight pre, .table-wrapper",
            "els => els.filter(e => e.scrollWidth > e.clientWidth + 1)"
            "  .map(e => [e.getAttribute('tabindex'), e.getAttribute('aria-label')])",
        )
        assert scrollers, "expected some code block or table to scroll sideways on a phone"
        assert all(tabindex == "0" and label for tabindex, label in scrollers), scrollers
    finally:
        context.close()


def _needs_the_nu_checker() -> None:
    if shutil.which("java") is None:
        missing("Java is not installed (apt-get install default-jre-headless)")
    if shutil.which("npm") is None:
        missing("npm is not installed (apt-get install npm)")


def test_the_html_is_valid(html: Path) -> None:
    _needs_the_nu_checker()
    errors = vnu_errors([html / rel for rel in html_pages(html)])
    assert not [f"{e['url'].rsplit('/html/', 1)[-1]}:{e.get('lastLine')}: {e['message']}" for e in errors]


def test_the_nu_checker_reports_the_line_of_an_invalid_tag(tmp_path: Path) -> None:
    # The same JVM options as the gate above: what it checks, it would report.
    _needs_the_nu_checker()
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html>\n<html lang=en><head><title>x</title></head>\n<body><p>text</span></p></body></html>\n",
        "utf-8",
    )
    errors = vnu_errors([page])
    assert [(e["lastLine"], e["message"]) for e in errors] == [(3, "Stray end tag \u201cspan\u201d.")]


SHOTS = Path(os.environ.get("AGENTKB_SCREENSHOTS", ROOT / "_build" / "screenshots"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_screenshots(chromium, base_url: str, scheme: str, viewport: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(color_scheme=scheme, viewport=VIEWPORTS[viewport])
    page = context.new_page()
    try:
        for name, rel in SCREENSHOT_PAGES.items():
            out = SHOTS / f"{name}-{scheme}-{viewport}.png"
            page.goto(base_url + rel, wait_until="load")
            page.screenshot(path=str(out))
            image = Image.open(out).convert("L")
            corner = ImageStat.Stat(image.crop((image.width - 40, image.height - 40, image.width, image.height)))
            assert (corner.mean[0] < 80) if scheme == "dark" else (corner.mean[0] > 180), out
            assert image.getextrema()[1] - image.getextrema()[0] > 150, f"{out} looks blank"
    finally:
        context.close()
