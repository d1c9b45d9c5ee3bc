"""``llms.txt`` (https://llmstxt.org): the site's pages as one Markdown index, and
``llms-full.txt``: the full text of every page, in the same order.

Agent definitions are read by language models as much as by people; this gives
such readers the map of the site, or all of it, in one request.

Each page's text is written as it is resolved for the HTML (in whichever process
writes it) to the doctree folder, so an incremental build re-renders only the
pages it rewrites; the build's end joins them in the order of the toctree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from docutils import nodes
from docutils.io import StringOutput
from sphinx.application import Sphinx
from sphinx.writers.text import TextTranslator, TextWriter

from .cards import description_markdown
from .ingest import catalog
from .published import CONVENTIONS_JSON, conventions_document

SUMMARY = (
    "Backend-engineering guidance from Claude Code sub-agent definitions: the definitions "
    "as written, topic guides that compare them with current standards, and a reference "
    "FastAPI service. Every Python sample on the site runs as a test."
)


def _in_order(app: Sphinx, docname: str) -> list[str]:
    found = []
    for child in app.env.toctree_includes.get(docname, []):
        found.append(child)
        found.extend(_in_order(app, child))
    return found


def llms_text(app: Sphinx) -> str:
    env = app.env
    descriptions = {
        agent.docname: description_markdown(str(agent.definition.meta.get("description", ""))).strip().split("\n")[0]
        for agent in catalog(app.env).agents
    }
    lines = [f"# {app.config.project}", "", f"> {SUMMARY}", ""]
    for section in env.toctree_includes.get(app.config.root_doc, []):
        lines += [f"## {env.titles[section].astext()}", ""]
        for docname in [section, *_in_order(app, section)]:
            uri = app.builder.get_target_uri(docname)
            note = f": {descriptions[docname]}" if docname in descriptions else ""
            lines.append(f"- [{env.titles[docname].astext()}]({uri}){note}")
        lines.append("")
    lines += [
        "## Conventions",
        "",
        f"Every convention, its rules and each agent's stance with evidence: [{CONVENTIONS_JSON}]({CONVENTIONS_JSON}).",
        "",
    ]
    for conv in conventions_document(env)["conventions"]:
        counts = Counter(s["stance"] for s in conv["stances"])
        stances = ", ".join(f"{n} {stance}" for stance, n in sorted(counts.items())) or "no agent takes a stance"
        lines.append(f"- [{conv['id']}]({conv['page']}) ({conv['level']}): {conv['title']}. Agents: {stances}.")
    lines.append("")
    return "\n".join(lines)


class _PlainTranslator(TextTranslator):
    """Sphinx's text output, keeping the text of nodes it has no rule for (cards, badges)
    and leaving out what the HTML hides (a card's stretched link repeats its title)."""

    def dispatch_visit(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Element) and "sd-hide-link-text" in node.get("classes", ()):
            raise nodes.SkipNode
        super().dispatch_visit(node)

    def end_state(self, wrap: bool = True, end: Sequence[str] | None = ("",), first: str | None = None) -> None:
        # A paragraph stays one line: a model reads it as well, and wrapping every
        # paragraph of every page at 70 columns was a third of an incremental build.
        super().end_state(wrap=False, end=end, first=first)

    def visit_table(self, node: nodes.Element) -> None:
        """A table as Markdown rows, one line each: easier for a model to read than a
        drawn grid, and drawing the matrix's grid took seconds."""
        lines = [f"{child.astext()}:" for child in node.children if isinstance(child, nodes.title)]
        for group in (child for child in node.children if isinstance(child, nodes.tgroup)):
            for part in (child for child in group.children if isinstance(child, (nodes.thead, nodes.tbody))):
                for row in part.children:
                    cells = [" ".join(entry.astext().split()).replace("|", "\\|") for entry in row.children]
                    lines.append(f"| {' | '.join(cells)} |")
                if isinstance(part, nodes.thead):
                    lines.append("|" + "---|" * int(group.get("cols", 1)))
        self.new_state(0)
        self.add_text("\n".join(lines))
        self.end_state()
        raise nodes.SkipNode

    def unknown_visit(self, node: nodes.Node) -> None:
        pass

    def unknown_departure(self, node: nodes.Node) -> None:
        pass


class _PlainWriter(TextWriter):
    def translate(self) -> None:
        assert self.document is not None  # set by Writer.write before translate
        visitor = _PlainTranslator(self.document, self.builder)
        self.document.walkabout(visitor)
        self.output = str(visitor.body)


def _text_path(app: Sphinx, docname: str) -> Path:
    return Path(app.doctreedir, "llms-full", f"{docname}.txt")


def page_text(app: Sphinx, doctree: nodes.document) -> str:
    writer = _PlainWriter(app.builder)  # type: ignore[arg-type]
    writer.write(doctree, StringOutput(encoding="unicode"))
    return str(writer.output).strip() + "\n"


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html":
        return
    path = _text_path(app, docname)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page_text(app, doctree), "utf-8")


def llms_full_text(app: Sphinx) -> str:
    env = app.env
    root = app.config.root_doc
    order = [root, *_in_order(app, root)]
    parts = [
        f"# {app.config.project}: the full text of every page",
        "",
        f"> {SUMMARY}",
        "",
        "The pages follow in the order of llms.txt, each under a line with its address.",
        "",
    ]
    for docname in dict.fromkeys(order):
        path = _text_path(app, docname)
        if docname not in env.all_docs or not path.exists():
            continue
        parts += ["---", "", f"URL: {app.builder.get_target_uri(docname)}", "", path.read_text("utf-8")]
    return "\n".join(parts)


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        Path(app.outdir, "llms.txt").write_text(llms_text(app), "utf-8")
        Path(app.outdir, "llms-full.txt").write_text(llms_full_text(app), "utf-8")


def setup(app: Sphinx) -> None:
    # After every other handler has filled in the page (placeholders, links).
    app.connect("doctree-resolved", on_doctree_resolved, priority=900)
    app.connect("build-finished", on_build_finished)
