"""Page weight: each page loads only the scripts and styles it uses (budget in tests/test_gates.py).

Measured before: every page loaded 196-329 KB (uncompressed), of which sphinx-design's
stylesheet was 55 KB (the site uses a few dozen of its classes) and the tab, copy-button and
Graphviz assets another 27 KB on pages that have no tabs, code or diagrams.

- Per page, scripts and styles of features the page does not use are left out.
- Pygments wraps every run of whitespace in code in ``<span class="w">``, which no style
  colours: the spans are unwrapped (20 KB, 13%, of the heaviest agent page).
- When the build ends, ``_static/sphinx-design.min.css`` in the output is cut down to the rules
  whose ``sd-`` classes appear in the built pages or in sphinx-design's script (the rules for
  other classes cannot match anything on the site).

``bench/page_weight.py`` prints the heaviest pages.
"""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx

# Asset file name -> what the page body must contain for the asset to be needed.
NEEDS = {
    "design-tabs.js": ("sd-tab",),
    "clipboard.min.js": ('class="highlight',),
    "copybutton.js": ('class="highlight',),
    "copybutton.css": ('class="highlight',),
    "graphviz.css": ('class="graphviz',),
    "matrix.js": ("kb-matrix-filters",),
    "matrix.css": ("kb-matrix",),
}
DESIGN_CSS = "sphinx-design.min.css"
_SD_CLASS = re.compile(r"sd-[A-Za-z0-9_-]+")
_WHITESPACE_SPAN = re.compile(r'<span class="w">([ \t\n]*)</span>')


def _name(asset: object) -> str:
    return str(getattr(asset, "filename", asset)).rsplit("/", 1)[-1].split("?", 1)[0]


def _page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object) -> None:
    body = context.get("body") or ""  # template-only pages (search, general index) have none
    if body:
        body = context["body"] = _WHITESPACE_SPAN.sub(r"\1", body)

    def needed(asset: object) -> bool:
        markers = NEEDS.get(_name(asset))
        return markers is None or any(marker in body for marker in markers)

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if needed(asset)]


def _split_top(css: str) -> list[tuple[str, str]]:
    """Top-level `prelude{block}` pairs of a stylesheet (comments already removed)."""
    rules, depth, start, prelude_end = [], 0, 0, 0
    for i, char in enumerate(css):
        if char == "{":
            if depth == 0:
                prelude_end = i
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                rules.append((css[start:prelude_end].strip(), css[prelude_end + 1 : i]))
                start = i + 1
    return rules


def _split_selectors(prelude: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(prelude):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(prelude[start:i])
            start = i + 1
    parts.append(prelude[start:])
    return [p.strip() for p in parts if p.strip()]


def subset_css(css: str, used: set[str]) -> str:
    """Keep the rules (and selectors) whose sd- classes are all used; at-rules are processed inside."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out = []
    for prelude, block in _split_top(css):
        if prelude.startswith(("@media", "@supports", "@container", "@layer")):
            inner = subset_css(block, used)
            if inner:
                out.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@"):
            out.append(f"{prelude}{{{block}}}")  # @font-face, @keyframes: kept whole
        else:
            selectors = [s for s in _split_selectors(prelude) if set(_SD_CLASS.findall(s)) <= used]
            if selectors:
                out.append(f"{','.join(selectors)}{{{block}}}")
    return "".join(out)


def _subset_design_css(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    stylesheet = static / DESIGN_CSS
    # Cut from sphinx-design's own file, not the output's: after an incremental build the
    # output holds the previous cut, which lacks the rules a changed page may now need.
    source = next(
        (Path(d) / DESIGN_CSS for d in app.config.html_static_path if (Path(app.confdir) / d / DESIGN_CSS).exists()),
        None,
    )
    if source is None or not stylesheet.exists():
        return
    source = Path(app.confdir) / source
    used: set[str] = set()
    for page in Path(app.outdir).rglob("*.html"):
        used.update(_SD_CLASS.findall(page.read_text(encoding="utf-8", errors="replace")))
    for script in static.glob("design-*.js"):
        used.update(_SD_CLASS.findall(script.read_text(encoding="utf-8", errors="replace")))
    stylesheet.write_text(subset_css(source.read_text(encoding="utf-8"), used), encoding="utf-8")


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("html-page-context", _page)
    app.connect("build-finished", _subset_design_css)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
