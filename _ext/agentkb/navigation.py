"""Furo's sidebar navigation, drawn once per build instead of once per page.

Furo puts the whole table of contents in every page's sidebar: Sphinx resolves the global
toctree for the page (copying every entry) and Furo rewrites the HTML with BeautifulSoup.
At 200 agents that was a quarter of a second for each page written, more than half of an
incremental build. The tree differs from page to page only in its links (relative to the
page's folder) and in which entries are marked as current. So, for Furo's call only:

- before Furo's handler, the page's ``toctree()`` returns the tree for its folder with no
  entry current: Sphinx resolves it once, and each folder's copy has its links made
  relative to that folder; Furo's own cache then rewrites each folder's tree once;
- after Furo's handler, the page's own entry and its ancestors are marked the way Sphinx
  (``current`` on the link, its list items and lists; the link itself becomes ``#``) and
  Furo (``current-page`` on the page's item, its ancestors' toggles checked) mark them.

``tests/test_navigation.py`` holds the result equal, page by page, to what Furo draws
without this module. Any other theme or builder, or a call with other options, is left
to Sphinx, as is every call when ``agentkb_navigation_cache`` is off.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sphinx.application import Sphinx
from sphinx.environment.adapters.toctree import global_toctree_for_doc

from .state import build_state

#: The options of Furo's call (furo._compute_navigation_tree).
FURO_CALL: dict[str, Any] = {"collapse": False, "titles_only": True, "maxdepth": -1, "includehidden": True}
#: A document name in no toctree: the tree drawn "for" it marks no entry as current.
_NOBODY = "__agentkb_navigation__"
_TAG = re.compile(r"<(/?)(ul|li|a|input)\b([^>]*)>")
_CLASS = re.compile(r'class="([^"]*)"')
_HREF = re.compile(r'href="([^"]*)"')
_ATTRIBUTE = re.compile(r'\s([\w-]+)="')


@dataclass
class _Element:
    start: int  # offset of the opening tag in the HTML
    tag: str
    attrs: str
    toggle: int = -1  # a list item's checkbox, when Furo gave it one


@dataclass
class FolderTree:
    """Furo's navigation for the pages of one folder, with no entry current."""

    html: str
    #: href -> the links with that href, each with its enclosing lists and items, outermost first.
    links: dict[str, list[tuple[_Element, list[_Element]]]] = field(default_factory=dict)

    @classmethod
    def parse(cls, html: str) -> FolderTree:
        tree = cls(html)
        stack: list[_Element] = []
        for match in _TAG.finditer(html):
            closing, tag, attrs = match.groups()
            if closing:
                if tag in ("ul", "li"):
                    stack.pop()
                continue
            element = _Element(match.start(), tag, attrs)
            if tag in ("ul", "li"):
                stack.append(element)
            elif tag == "input" and stack and stack[-1].tag == "li" and "toctree-checkbox" in attrs:
                stack[-1].toggle = match.start()
            elif tag == "a" and (href := _HREF.search(attrs)):
                tree.links.setdefault(href.group(1), []).append((element, list(stack)))
        return tree

    def marked(self, href: str) -> str | None:
        """The tree with the entries for ``href`` current; None when it has no such entry."""
        found = self.links.get(href)
        if not found or any("reference internal" not in link.attrs for link, _ in found):
            return None
        edits: dict[int, Callable[[str], str]] = {}
        items: dict[int, _Element] = {}
        for link, ancestors in found:
            edits[link.start] = _current_link
            for element in ancestors:
                if element.tag == "ul":
                    edits[element.start] = _current_list
                else:
                    items[element.start] = element
        # Furo marks the last current item in the document's order: the page's own.
        last = max(items, default=-1)
        for start, item in items.items():
            edits[start] = _current_page_item if start == last else _current_item
            if item.toggle >= 0:
                edits[item.toggle] = _checked
        out, at = [], 0
        for offset in sorted(edits):
            end = self.html.index(">", offset) + 1
            out += [self.html[at:offset], edits[offset](self.html[offset:end])]
            at = end
        out.append(self.html[at:])
        return "".join(out)


def _classes(tag: str, change: Callable[[list[str]], list[str]]) -> str:
    found = _CLASS.search(tag)
    if found is None:
        return _with_attribute(tag, "class", " ".join(change([])))
    value = " ".join(change(found.group(1).split()))
    return f'{tag[: found.start()]}class="{value}"{tag[found.end() :]}'


def _with_attribute(tag: str, name: str, value: str) -> str:
    # BeautifulSoup writes attributes in alphabetical order.
    at = next((m.start() for m in _ATTRIBUTE.finditer(tag) if m.group(1) > name), len(tag) - 1)
    return f'{tag[:at]} {name}="{value}"{tag[at:]}'


def _current_link(tag: str) -> str:
    # Sphinx puts the entry's own classes before "reference internal" and links the page to itself.
    return _HREF.sub('href="#"', _classes(tag, lambda c: ["current", *c]), count=1)


def _current_list(tag: str) -> str:
    return _classes(tag, lambda c: [*c, "current"])


def _item(classes: list[str]) -> list[str]:
    # After Sphinx's depth class (toctree-l2), before the one Furo adds (has-children).
    at = classes.index("has-children") if "has-children" in classes else len(classes)
    return [*classes[:at], "current", *classes[at:]]


def _current_item(tag: str) -> str:
    return _classes(tag, _item)


def _current_page_item(tag: str) -> str:
    return _classes(tag, lambda c: [*_item(c), "current-page"])


def _checked(tag: str) -> str:
    return _with_attribute(tag, "checked", "")


def _folder(pagename: str) -> str:
    return posixpath.dirname(pagename)


def _unmarked(app: Sphinx, pagename: str) -> str:
    """Sphinx's toctree HTML for the page's folder, no entry current.

    Sphinx resolves it once, for the top folder (a fifth of a second at 200 agents); the
    other folders' trees differ only in their links, which are made relative to them.
    """
    cache = build_state(app.env).navigation
    if "" not in cache:
        builder: Any = app.builder
        tree = global_toctree_for_doc(app.env, _NOBODY, builder, tags=builder.tags, **FURO_CALL)
        cache[""] = builder.render_partial(tree)["fragment"]
    folder = _folder(pagename)
    if folder not in cache:
        cache[folder] = _HREF.sub(lambda m: f'href="{_relative(m.group(1), folder)}"', cache[""])
    return cache[folder]


def _relative(uri: str, folder: str) -> str:
    """A link of the top folder's tree, as it is written from ``folder``."""
    if "://" in uri or uri.startswith(("#", "/", "mailto:")):
        return uri
    path, hash_, anchor = uri.partition("#")
    return posixpath.relpath(path, folder) + hash_ + anchor


def _applies(app: Sphinx) -> bool:
    return app.config.agentkb_navigation_cache and app.builder.name == "html" and app.config.html_theme == "furo"


def before_furo(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: object) -> None:
    if not _applies(app) or "toctree" not in context:
        return
    drawn = context["toctree"]

    def toctree(**options: Any) -> str:
        if options != FURO_CALL:
            return drawn(**options)
        context["agentkb_navigation_folder"] = True
        return _unmarked(app, pagename)

    context["toctree"] = toctree


def after_furo(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: object) -> None:
    if not context.pop("agentkb_navigation_folder", False):
        return
    trees = build_state(app.env).navigation_trees
    html = context["furo_navigation_tree"]
    if html not in trees:
        trees[html] = FolderTree.parse(html)
    own = posixpath.basename(app.builder.get_target_uri(pagename))
    marked = trees[html].marked(own)
    if marked is not None:
        context["furo_navigation_tree"] = marked


def draw_before_forking(app: Sphinx, doctree: object, docname: str) -> None:
    """Draw the page's folder tree in the main process, where Sphinx resolves each page
    before handing it to a writer process: the writers, forked after, inherit it instead
    of each drawing it again."""
    if _applies(app):
        _unmarked(app, docname)


def setup(app: Sphinx) -> dict[str, object]:
    # Off, Furo draws every page's tree itself (the test compares the two).
    app.add_config_value("agentkb_navigation_cache", True, "html", types=frozenset({bool}))
    # Furo's handler has the default priority, 500. Before it, and early enough that an
    # extension replacing a page's toctree() (sphinx-notfound-page, at 400, on the 404
    # page) replaces this one too and draws that page's tree itself.
    app.connect("html-page-context", before_furo, priority=100)
    app.connect("html-page-context", after_furo, priority=600)
    app.connect("doctree-resolved", draw_before_forking)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
