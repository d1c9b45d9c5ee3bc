"""``{kb:convention-matrix}``: conventions × agents, from :func:`agentkb.published.conventions_document`.

Each cell holds the agent's stances on the convention, each symbol linking to the
quoted line of the agent's page. Rows carry their topic, level and whether they are
disputed, header cells their agent, so ``_static/matrix.js`` can filter them; agents
that take no stance at all get no column but a line under the table, so that the table
reads, and stays light, at 200 agents.
The table is HTML written here rather than a docutils table because the filters need
those data attributes, which docutils tables cannot carry.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from .evidence import STANCE_MEANINGS, STANCE_SYMBOLS
from .published import LEVEL_MEANINGS, conventions_document
from .rulebook import LEVELS, STANCES


class MatrixPlaceholder(nodes.General, nodes.Element):
    """Filled in when the page is written, once every page has been read."""


class ConventionMatrixDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        domain: Any = self.env.domains["kb"]  # agentkb.conventions.KnowledgeBaseDomain
        domain.note_aggregate(self.env.docname, shows="stances")
        return [MatrixPlaceholder()]


def _attr(value: Any) -> str:
    return escape(str(value), quote=True)


def legend_html() -> str:
    stances = "".join(
        f"<dt><span class='kb-stance kb-{s}'>{STANCE_SYMBOLS[s]}</span> {s}</dt><dd>{STANCE_MEANINGS[s]}</dd>"
        for s in STANCES
    )
    levels = "".join(f"<dt>{level}</dt><dd>{LEVEL_MEANINGS[level]}</dd>" for level in LEVELS)
    return (
        "<div class='kb-matrix-legend'><p><strong>How to read the table.</strong> A cell holds an "
        "agent's stances on a convention; a cell may hold more than one (an agent can state a rule "
        "in prose and break it in a sample). An empty cell (–) is silent. Every symbol links to the "
        "line of the agent file it rests on; hover it for the quoted words.</p>"
        f"<dl class='kb-legend-stances'>{stances}<dt>–</dt><dd>silent: nothing about it</dd></dl>"
        "<dl class='kb-legend-sources'><dt><span class='kb-stance kb-reviewed'>✓</span> solid</dt>"
        "<dd>reviewed: a person read the file and recorded the stance with its evidence</dd>"
        "<dt><span class='kb-stance kb-detected'>✓</span> dashed outline</dt>"
        "<dd>detected: a rule of the rulebook found it, and nobody has reviewed that agent</dd></dl>"
        f"<dl class='kb-legend-levels'>{levels}</dl>"
        "<p>A row marked at its left edge is <em>disputed</em>: at least one agent contradicts the "
        "convention. <em>Checked by</em>, on each convention, says how a project that follows the "
        "convention can check it (a test, a linter rule, a review); it is not about the agents.</p></div>"
    )


def _select(name: str, label: str, options: list[tuple[str, str]]) -> str:
    opts = "".join(f"<option value='{_attr(v)}'>{escape(t)}</option>" for v, t in options)
    return (
        f"<label>{escape(label)} <select name='{name}' data-kb-filter='{name}'>"
        f"<option value=''>all</option>{opts}</select></label>"
    )


def _stance_link(stance: dict[str, Any], conv_id: str, agent_title: str, root: str) -> str:
    first = stance["evidence"][0]
    quote = "; ".join(f"line {e['line']}: “{e['quote']}”" for e in stance["evidence"])
    # The title is the link's description: who, which stance, how it is known, and the words.
    label = f"{agent_title} {stance['stance']} {conv_id} ({stance['source']}): {quote}"
    return (
        f"<a class='kb-stance kb-{stance['stance']} kb-{stance['source']}' href='{_attr(root + first['page'])}' "
        f"title='{_attr(label)}'>{STANCE_SYMBOLS[stance['stance']]}</a>"
    )


def matrix_html(document: dict[str, Any], root: str) -> str:
    """The filters and the table; ``root`` is the relative path from the page to the site's root.

    Only agents that take a stance get a column: at 200 agents most cells are silent, so
    those cells are empty (CSS draws the dash) and the filters find columns by position.
    """
    conventions = document["conventions"]
    per_agent: dict[str, Counter[str]] = {a["slug"]: Counter() for a in document["agents"]}
    for conv in conventions:
        for stance in conv["stances"]:
            per_agent[stance["agent"]][stance["stance"]] += 1
    agents = [a for a in document["agents"] if per_agent[a["slug"]]]
    silent = [a for a in document["agents"] if not per_agent[a["slug"]]]
    topics = sorted({c["topic"] for c in conventions})
    filters = (
        "<form class='kb-matrix-filters' aria-label='Filter the conventions matrix'>"
        + _select("topic", "Topic", [(t, t) for t in topics])
        + _select("level", "Level", [(level, level) for level in LEVELS])
        + _select("agent", "Agent", [(a["slug"], a["title"]) for a in agents])
        + "<label><input type='checkbox' name='disputed' data-kb-filter='disputed'> disputed only</label></form>"
    )
    head = "".join(
        f"<th scope='col' data-agent='{_attr(a['slug'])}'>"
        f"<a href='{_attr(root + a['page'])}'>{escape(a['title'])}</a></th>"
        for a in agents
    )
    rows = []
    for conv in conventions:
        by_agent: dict[str, list[dict[str, Any]]] = {}
        for stance in conv["stances"]:
            by_agent.setdefault(stance["agent"], []).append(stance)
        cells = []
        for agent in agents:
            stances = sorted(by_agent.get(agent["slug"], []), key=lambda s: STANCES.index(s["stance"]))
            if not stances:
                cells.append("<td></td>")
                continue
            classes = " ".join(f"kb-{s['stance']}" for s in stances)
            links = " ".join(_stance_link(s, conv["id"], agent["title"], root) for s in stances)
            cells.append(f"<td class='{classes}'>{links}</td>")
        counts = Counter(s["stance"] for s in conv["stances"])
        summary = " ".join(f"{STANCE_SYMBOLS[s]}{counts[s]}" for s in STANCES if counts[s]) or "–"
        disputed = any(s["stance"] == "contradicts" for s in conv["stances"])
        marked = " data-disputed class='kb-disputed'" if disputed else ""
        rows.append(
            f"<tr data-topic='{_attr(conv['topic'])}' data-level='{conv['level']}'{marked}>"
            f"<th scope='row'><a href='{_attr(root + conv['page'])}' title='{_attr(conv['title'])}'>"
            f"{conv['id']}</a></th>"
            f"<td>{conv['level']}</td>{''.join(cells)}<td class='kb-count'>{summary}</td></tr>"
        )
    totals = "".join(
        "<td class='kb-count'>"
        + " ".join(f"{STANCE_SYMBOLS[s]}{per_agent[a['slug']][s]}" for s in STANCES if per_agent[a["slug"]][s])
        + "</td>"
        for a in agents
    )
    table = (
        "<div class='kb-matrix-scroll' tabindex='0' role='region' aria-label='Conventions by agents'>"
        "<table class='kb-matrix'><caption>Conventions (rows) by agents (columns)</caption>"
        f"<thead><tr><th scope='col'>Convention</th><th scope='col'>Level</th>{head}"
        "<th scope='col'>Stances</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody>"
        f"<tfoot><tr><th scope='row'>Stances per agent</th><td></td>{totals}<td></td></tr></tfoot>"
        "</table></div>"
    )
    note = ""
    if silent:
        names = ", ".join(f"<a href='{_attr(root + a['page'])}'>{escape(a['title'])}</a>" for a in silent)
        note = (
            f"<p class='kb-matrix-silent'>{len(silent)} of {len(document['agents'])} agents take no stance on "
            f"any convention and have no column: {names}.</p>"
        )
    return legend_html() + filters + table + note


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    placeholders = list(doctree.findall(MatrixPlaceholder))
    if not placeholders:
        return
    root = app.builder.get_relative_uri(docname, app.config.root_doc).rpartition("/")[0]
    root = f"{root}/" if root else ""
    html = matrix_html(conventions_document(app.env), root)
    for placeholder in placeholders:
        placeholder.replace_self(nodes.raw("", html, format="html"))


def setup(app: Sphinx) -> None:
    app.add_node(MatrixPlaceholder)
    app.add_directive_to_domain("kb", "convention-matrix", ConventionMatrixDirective)
    app.connect("doctree-resolved", on_doctree_resolved)
    # Shipped in agentkb/static (added to html_static_path by agentkb.cards); agentkb.assets
    # keeps them off the pages without a matrix.
    app.add_js_file("matrix.js", defer="defer")
    app.add_css_file("matrix.css")
