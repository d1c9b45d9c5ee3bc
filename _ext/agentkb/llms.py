"""``llms.txt`` (https://llmstxt.org): the site's pages as one Markdown index.

Agent definitions are read by language models as much as by people; this gives
such readers the map of the site in one request, in the site's own order.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sphinx.application import Sphinx

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


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        Path(app.outdir, "llms.txt").write_text(llms_text(app), "utf-8")


def setup(app: Sphinx) -> None:
    app.connect("build-finished", on_build_finished)
