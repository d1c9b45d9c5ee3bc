"""The guides' index: one line per guide, with how many conventions it sets.

Written after the page's (hidden) toctrees, the ``guide-index`` directive lists
their entries under their captions; each count comes from the rulebook, so a
convention added to a guide's YAML file shows up here with no edit to the page.
"""

from __future__ import annotations

from collections import Counter

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from .rulebook import LEVELS, default_rulebook


def count_text(levels: Counter[str]) -> str:
    """ "5 conventions (2 MUST, 3 SHOULD)"; empty for a page that sets none (the matrix)."""
    total = sum(levels.values())
    if not total:
        return ""
    parts = ", ".join(f"{levels[level]} {level}" for level in LEVELS if levels[level])
    return f"{total} convention{'s' if total != 1 else ''} ({parts})"


class GuideIndexDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        rulebook = default_rulebook()
        for path in rulebook.files:
            self.env.note_dependency(str(path))
        levels: dict[str, Counter[str]] = {}
        for convention in rulebook.conventions.values():
            levels.setdefault(convention.guide, Counter())[convention.level] += 1
        container = nodes.container(classes=["kb-guide-index"])
        for toctree in list(self.state.document.findall(addnodes.toctree)):
            if toctree.get("caption"):
                container += nodes.rubric(toctree["caption"], toctree["caption"])
            lines = []
            for _title, docname in toctree["entries"]:
                count = count_text(levels.get(docname, Counter()))
                lines.append(f"- {{doc}}`/{docname}`" + (f" · {count}" if count else ""))
            self.state.nested_parse(StringList(lines, source=self.env.docname), self.content_offset, container)
        return [container]


def setup(app: Sphinx) -> dict[str, bool]:
    app.add_directive("guide-index", GuideIndexDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
