"""The site's search: Pagefind, indexed after the HTML build, filterable by kind.

Measured on tests/data/search_questions.toml (60 questions, plus 15 held out; top-3 hit
rate, bench/search_hit_rate.py): Sphinx's search 62.7% stock, 78.7% with agentkb's scorer;
Pagefind 82.7% over the pages as they were, 88.0% over the content only with the filters and
weights below, 96.0% (held out: 14/15) with the synonyms; the expected convention itself is
linked in the top three for 90.7% (the search page finds the convention a match lies in). This
module

- marks each page's content (not Furo's navigation, which every page repeats) as the part
  Pagefind indexes, with filters: ``kind`` (guide, convention, agent, API operation),
  ``level`` (MUST/SHOULD/MAY, on pages that state conventions), ``topic`` (a guide's title)
  and ``model`` (an agent's model);
- weights convention headers and gives each convention a few hidden search words (its ID's
  parts, synonyms readers use), so "N+1" or "correlation id" lead to the convention;
- runs the Pagefind binary (the ``pagefind-bin`` wheel) over the output once every indexed
  page is written, while Sphinx finishes the rest.

``_templates/search.html`` and ``_static/agentkb-search.js`` make the search page: results in
rank order, tagged and filterable by kind; Furo's search box still submits to
``search.html?q=``. Opened from disk, the page falls back to Sphinx's search.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from .state import build_state

logger = logging.getLogger(__name__)

# Words readers type that the pages say differently; added, hidden, to the conventions whose
# text holds the left-hand phrase. Kept short: each line fixes a measured miss or a common term.
SYNONYMS = {
    "request id": "correlation id trace id",
    "traceback": "stack trace",
    "floor": "threshold minimum",
    "role": "rbac role-based access control permissions",
    "owns": "ownership idor object owner",
    "authz": "authorization authorisation",
    "limit between": "max page size maximum",
    "autoescape": "escape like wildcards percent underscore",
    "parameterised": "parameterized prepared statements bind",
    "plural noun": "urls collections resources",
}

_KIND = {"agents": "agent", "guides": "guide", "api-examples": "API operation"}
_MODEL = re.compile(r'>Model<span class="colon">:</span></dt>\s*<dd[^>]*>(.*?)</dd>', re.S)
_LEVEL = re.compile(r'kb-level kb-level-(must|should|may)"')
_CONVENTION_DT = re.compile(
    r'(<dl class="kb convention">\s*<dt class="[^"]*")( id="conv-[^"]+">)(.*?)</dt>\s*<dd>(.*?)</dd></dl>', re.S
)


def kind_of(docname: str) -> str | None:
    top = docname.split("/", 1)[0]
    if docname == "guides/conventions":
        return "convention"
    return _KIND.get(top)


def _convention(match: re.Match[str]) -> str:
    start, anchor, header, body = match.groups()
    ident = re.sub(r"<[^>]+>", " ", header).split()[0] if header else ""
    text = " ".join(re.sub(r"<[^>]+>", " ", body).lower().split())
    words = [ident.replace("-", " ").lower()]
    words += [more for phrase, more in SYNONYMS.items() if phrase in text or phrase in words[0]]
    keywords = f'<span data-pagefind-weight="2" hidden>{html.escape(" ".join(words))}</span>'
    return f'{start} data-pagefind-weight="6"{anchor}{header}{keywords}</dt>\n<dd>{body}</dd></dl>'


def _mark(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object) -> None:
    body = context.get("body")
    kind = kind_of(pagename)
    if not body or kind is None:
        return  # generated pages (index, routing table) and the search page are not indexed
    kinds = [kind]
    levels = sorted({m.upper() for m in _LEVEL.findall(body)})
    if levels and kind == "guide":
        kinds.append("convention")
    title = re.sub(r"<[^>]+>", "", context.get("title") or "")
    filters = [f"kind:{k}" for k in kinds] + [f"level:{lv}" for lv in levels]
    if kind in {"guide", "convention"} and pagename not in {"guides/index"}:
        filters.append(f"topic:{title}")
    body = _CONVENTION_DT.sub(_convention, body)
    body = body.replace('<a class="headerlink"', '<a data-pagefind-ignore class="headerlink"')
    if kind == "agent" and (model := _MODEL.search(body)):
        value = re.sub(r"<[^>]+>", "", model.group(1)).strip()
        filters.append(f"model:{value}")
        body = f'<span data-pagefind-weight="4" hidden>agent model {html.escape(value)}</span>' + body
    if kind == "API operation":
        body = '<span data-pagefind-weight="2" hidden>endpoint endpoints operation route</span>' + body
    tags = "".join(f'<span data-pagefind-filter="{html.escape(f, quote=True)}"></span>' for f in filters)
    meta = f'<span data-pagefind-meta="kind:{html.escape(kind)}"></span>'
    context["body"] = f"<div data-pagefind-body>{tags}{meta}{body}</div>"


#: Written last by Pagefind: its time says when the index was made.
_ENTRY = Path("pagefind", "pagefind-entry.json")


def _indexed_pages(app: Sphinx) -> list[str]:
    return sorted(app.builder.get_target_uri(d) for d in app.env.found_docs if kind_of(d))


def _index_is_current(app: Sphinx, indexed: list[str]) -> bool:
    """Whether no page Pagefind indexes was written (or removed) since the index was made.

    Pagefind cannot update an index, only make it again from every page (a second at 200
    agents); a rebuild that wrote none of the indexed pages keeps the index it has.
    """
    entry = Path(app.outdir) / _ENTRY
    listed = _indexed_list(app)
    if not entry.is_file() or not listed.is_file() or listed.read_text("utf-8").split("\n") != indexed:
        return False  # no index yet, or pages came or went
    made = entry.stat().st_mtime_ns
    return all((page := Path(app.outdir, uri)).is_file() and page.stat().st_mtime_ns < made for uri in indexed)


def _indexed_list(app: Sphinx) -> Path:
    """The pages the index was made from, kept with the build's other caches."""
    return Path(app.doctreedir, "pagefind-pages.txt")


def _start(app: Sphinx) -> list[tuple[str, dict[str, object], str]]:
    """Start Pagefind as soon as every page it indexes is written.

    Sphinx collects extensions' pages (``html-collect-pages``) after writing the documents
    and before its general index, search page, search index and static files: Pagefind
    runs meanwhile, on the other core, and the build's end waits for it (see _finish). The
    pages written meanwhile are not indexed (they have no ``data-pagefind-body``).
    """
    if app.builder.format != "html" or not app.config.agentkb_pagefind:
        return []
    try:
        import pagefind_bin  # noqa: F401 - only to say what is missing
    except ImportError:
        logger.warning("pagefind-bin is not installed: the site has no search index", type="agentkb", subtype="search")
        return []
    indexed = _indexed_pages(app)
    if _index_is_current(app, indexed):
        return []
    shutil.rmtree(Path(app.outdir) / "pagefind", ignore_errors=True)  # no stale index files
    process = subprocess.Popen(
        [sys.executable, "-m", "pagefind_bin", "--site", str(app.outdir), "--silent", "--include-characters", "+"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    build_state(app.env).pagefind = (process, indexed)
    return []


def _finish(app: Sphinx, exception: Exception | None) -> None:
    state = build_state(app.env)
    if state.pagefind is None:
        return
    (process, indexed), state.pagefind = state.pagefind, None
    stdout, stderr = process.communicate()
    if exception is not None:
        return
    if process.returncode != 0:
        logger.warning("Pagefind failed: %s", (stderr or stdout).strip(), type="agentkb", subtype="search")
        return
    _indexed_list(app).write_text("\n".join(indexed), "utf-8")


def setup(app: Sphinx) -> dict[str, object]:
    app.add_config_value("agentkb_pagefind", True, "html", types=frozenset({bool}))
    app.connect("html-page-context", _mark)
    app.connect("html-collect-pages", _start)
    # Last but one (agentkb.heap unfreezes after it): the other handlers of build-finished
    # (llms.txt, the published data, the stylesheet subset, the sitemap) run while Pagefind
    # is still indexing.
    app.connect("build-finished", _finish, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
