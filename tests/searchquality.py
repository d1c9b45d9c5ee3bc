"""Run the site's real search in headless Chromium and score it on tests/data/search_questions.toml.

Two engines: Sphinx's own search (search.html?q=..., as a reader uses it) and Pagefind
(its JavaScript API, the same one its UI calls). A question is answered when its expected
page is among the first three results a reader sees: three result lines for Sphinx (one
line per page or section), three pages for Pagefind (which groups a page's sections).
"""

from __future__ import annotations

import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

QUESTIONS = Path(__file__).resolve().parent / "data" / "search_questions.toml"
TOP = 3


@dataclass
class Question:
    q: str
    page: str
    anchor: str | None = None
    also: list[str] = field(default_factory=list)
    set: str = "main"  # "holdout": written after the search was tuned, never used to tune it

    def pages(self) -> set[str]:
        return {self.page, *self.also}


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    return [Question(**entry) for entry in tomllib.loads(path.read_text(encoding="utf-8"))["question"]]


def _normalise(url: str, base: str) -> str:
    """A result's link as a page path relative to the site root, anchor kept ('guides/x.html#a')."""
    path = urllib.parse.urljoin(base, url)[len(base) :] if url.startswith(("/", "http")) else url
    path = path.lstrip("/")
    while path.startswith("../"):
        path = path[3:]
    page, _, anchor = path.partition("#")
    if page == "" or page.endswith("/"):
        page += "index.html"  # Pagefind drops index.html from its links
    return page + ("#" + anchor if anchor else "")


def sphinx_results(page, base: str, query: str) -> list[str]:  # page: playwright Page
    """Result links of Sphinx's search page, in the order shown."""
    page.goto(base + "search.html?q=" + urllib.parse.quote_plus(query))
    page.wait_for_function(
        "() => { const s = document.querySelector('#search-results .search-summary');"
        " return s && /finished|did not match/.test(s.textContent); }",
        timeout=20_000,
    )
    hrefs = page.eval_on_selector_all(
        "#search-results ul.search > li > a", "els => els.map(e => e.getAttribute('href'))"
    )
    return [_normalise(h, base) for h in hrefs]


def pagefind_ui_results(page, base: str, query: str) -> list[str]:
    """Result pages of the site's search page (agentkb-search.js over Pagefind), in the order shown.

    A page not yet on the search page opens search.html?q=..., as Furo's search box does; one
    already there searches again the way a reader does, typing into its search box and pressing
    Enter (the same search function; Pagefind and the index chunks it fetched stay loaded).
    """
    if page.url.startswith(base + "search.html"):
        page.evaluate(
            """(query) => {
              const form = document.getElementById('agentkb-search');
              form.querySelector('input[name=q]').value = query;
              form.requestSubmit();
            }""",
            query,
        )
    else:
        page.goto(base + "search.html?q=" + urllib.parse.quote_plus(query))
    page.wait_for_function(
        """(query) => {
          const form = document.getElementById('agentkb-search');
          return form && form.dataset.state === 'done' && form.dataset.query === query;
        }""",
        arg=query.strip(),
        timeout=20_000,
    )
    # A result's link, or its convention's when the page matched in one (same page, with anchor).
    hrefs = page.eval_on_selector_all(
        "#agentkb-search .kb-result",
        "els => els.map(e => (e.querySelector('.kb-result-convention-link') || e.querySelector('.kb-result-link'))"
        "  .getAttribute('href'))",
    )
    return [_normalise(h, base) for h in hrefs]


PAGEFIND_JS = """async ([query, filters]) => {
  window.__pf = window.__pf || await import(document.documentElement.dataset.content_root + "pagefind/pagefind.js");
  const search = await window.__pf.search(query, filters ? {filters} : {});
  const pages = await Promise.all(search.results.slice(0, 10).map(r => r.data()));
  return pages.map(p => [p.url, (p.sub_results[0] || {}).url || p.url, p.filters]);
}"""


def pagefind_results(page, base: str, query: str, filters: dict | None = None) -> list[str]:
    """Result pages of Pagefind's JavaScript API (best sub-result's anchor kept), in rank order."""
    if not page.url.startswith(base):
        page.goto(base + "index.html")
    rows = page.evaluate(PAGEFIND_JS, [query, filters])
    return [_normalise(sub, base) for _url, sub, _filters in rows]


def is_hit(question: Question, results: list[str], top: int = TOP) -> bool:
    return any(r.split("#", 1)[0] in question.pages() for r in results[:top])


def is_anchor_hit(question: Question, results: list[str], top: int = TOP) -> bool:
    """Stricter: the expected convention's own anchor is among the first results."""
    if question.anchor is None:
        return is_hit(question, results, top)
    return f"{question.page}#{question.anchor}" in results[:top]
