"""Accessibility fixes to the rendered pages, found by axe-core (tests/test_gates.py).

- Graphviz diagrams are ``<object>`` elements (``graphviz_output_format = "svg"``) with no
  accessible name; each gets ``role="img"`` and an ``aria-label``: the directive's ``:alt:``
  when there is one, else a summary of the graph's nodes taken from its DOT source.
- MyST task lists render disabled checkboxes without a label; each gets the item's text.
- Sphinx's toctree captions say ``role="heading"`` without the required ``aria-level``.
- sphinxcontrib-openapi puts response examples (``<div class="highlight">``) inside a list
  item's ``<p>``, which HTML forbids (the browser closes the paragraph early; Nu checker: "No p
  element in scope"); such a paragraph becomes a ``<div>``.
- Code blocks and tables that scroll sideways become keyboard-reachable through
  ``_static/agentkb-a11y.js`` (only those that overflow, re-checked on resize).
"""

from __future__ import annotations

import html
import re

from sphinx.application import Sphinx

_OBJECT = re.compile(
    r'<object (data="[^"]*" type="image/svg\+xml" class="graphviz")>\s*<p class="warning">(.*?)</p>', re.S
)
_DOT_LABEL = re.compile(r'label\s*=\s*"((?:[^"\\]|\\.)*)"')
_DOT_GRAPH = re.compile(r"^\s*(?:strict\s+)?(?:di)?graph\b", re.I)
_TASK = re.compile(r'<input class="task-list-item-checkbox"((?: [a-z-]+="[^"]*")*)>(.*?)(?=</p>|<ul|<ol)', re.S)
_ITEM = re.compile(r"<li><p>((?:(?!<li>|</p></li>).)*?)</p></li>", re.S)
_CAPTION = '<p class="caption" role="heading">'
_TAGS = re.compile(r"<[^>]+>")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", fragment)).split())


def diagram_label(fallback: str) -> str:
    """The accessible name of a Graphviz diagram from its fallback text (alt text or DOT source)."""
    text = html.unescape(fallback).strip()
    if not _DOT_GRAPH.match(text):
        return " ".join(text.split())
    labels = [" ".join(label.replace("\\n", " ").replace('\\"', '"').split()) for label in _DOT_LABEL.findall(text)]
    if not labels:
        return "Diagram"
    return "Diagram: " + "; ".join(dict.fromkeys(labels))


def _name_object(match: re.Match[str]) -> str:
    attrs, fallback = match.groups()
    label = html.escape(diagram_label(fallback), quote=True)
    return f'<object {attrs} role="img" aria-label="{label}">\n<p class="warning">{fallback}</p>'


def _label_task(match: re.Match[str]) -> str:
    attrs, rest = match.groups()
    done = "checked" in attrs
    label = html.escape(f"{'Done' if done else 'To do'}: {_text(rest)}", quote=True)
    return f'<input class="task-list-item-checkbox"{attrs} aria-label="{label}">{rest}'


def _block_item(match: re.Match[str]) -> str:
    inner = match.group(1)
    return f'<li><div class="kb-item">{inner}</div></li>' if "<div" in inner else match.group(0)


def fix_body(body: str) -> str:
    body = _OBJECT.sub(_name_object, body)
    body = _ITEM.sub(_block_item, body)
    body = _TASK.sub(_label_task, body)
    return body.replace(_CAPTION, '<p class="caption" role="heading" aria-level="2">')


def _page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object) -> None:
    if context.get("body"):
        context["body"] = fix_body(context["body"])


def setup(app: Sphinx) -> dict[str, object]:
    app.add_js_file("agentkb-a11y.js", loading_method="defer")
    app.connect("html-page-context", _page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
