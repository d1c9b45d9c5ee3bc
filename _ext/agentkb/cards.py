"""The metadata card on each agent page and the overview of all agents.

Both directives write MyST text and let MyST parse it: the output then uses the
same card, badge and table markup a hand-written page would.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

from . import tables
from .facts import AgentFacts
from .ingest import Agent, catalog
from .published import conventions_document
from .validation import normalise_model, parse_tools

SHOWN_FIRST = ("name", "description", "model", "tools", "color", "skills")
_CSS_COLOR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$")
_EXAMPLE = re.compile(r"<example>(.*?)</example>", re.S)
_COMMENTARY = re.compile(r"<commentary>(.*?)</commentary>", re.S)


def inline_code(value: str) -> str:
    ticks = "``" if "`" in value else "`"
    pad = " " if ticks == "``" else ""
    return f"{ticks}{pad}{value}{pad}{ticks}"


def table_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def description_markdown(description: str) -> str:
    """Descriptions often carry example dialogues; make them read as a list of examples."""
    text = description.replace("\\n", "\n") if "\\n" in description else description
    text = _COMMENTARY.sub(lambda m: f"*{m.group(1).strip()}*", text)
    return _EXAMPLE.sub(lambda m: f"\n\n:::{{admonition}} Example\n{m.group(1).strip()}\n:::\n\n", text)


def model_markdown(value: Any) -> str:
    if value is None:
        return "{bdg-secondary}`inherit` (not set: the main conversation's model)"
    info = normalise_model(str(value))
    if info is None:
        return f"{{bdg-warning}}`{value}` not a model alias or ID"
    if info.kind == "alias" and info.family:
        return f"{{bdg-info}}`{value}` alias for the newest Claude {info.label} model"
    if info.kind == "alias":
        return f"{{bdg-info}}`{value}` {info.label}"
    return f"{{bdg-info}}`{info.label}` model ID {inline_code(str(value))}"


def tools_markdown(agent: Agent) -> str:
    meta = agent.definition.meta
    if "tools" not in meta:
        return "{bdg-secondary}`all tools` (inherited: no `tools` field)"
    ignored = {f.message for f in agent.findings if f.field == "tools"}
    badges = []
    for tool in parse_tools(meta["tools"]):
        flagged = any(f"'{tool}'" in message for message in ignored)
        badges.append(f"{{bdg-{'warning' if flagged else 'primary'}}}`{tool}`")
    return " ".join(badges) or "{bdg-warning}`none`"


def color_markdown(value: Any) -> str:
    text = str(value)
    if not _CSS_COLOR.match(text):
        return inline_code(text)
    swatch = f'<span class="kb-swatch" style="background-color: {html.escape(text)}"></span>'
    return f"{swatch} {inline_code(text)}"


def skills_markdown(agent: Agent) -> str:
    value = agent.definition.meta.get("skills")
    skills = [value] if isinstance(value, str) else list(value or [])
    missing = {f.message for f in agent.findings if f.field == "skills"}
    out = []
    for skill in skills:
        note = " {bdg-warning}`not present`" if any(f"'{skill}'" in m for m in missing) else ""
        out.append(f"{inline_code(str(skill))}{note}")
    return ", ".join(out)


def other_field_markdown(value: Any) -> str:
    if isinstance(value, str):
        return value.replace("\n", " ")
    return inline_code(json.dumps(value, default=str))


def languages_text(facts: AgentFacts) -> str:
    if not facts.samples:
        return "none"
    return ", ".join(f"{lang} {count}" for lang, count in sorted(facts.languages.items()))


def provenance_text(provenance: dict[str, Any] | None) -> str:
    """Where the file came from, in a reader's terms (not the importer's folder names)."""
    if not provenance or "origin" not in provenance:
        return ""
    origin = str(provenance["origin"]).replace(".claude/agents", "`.claude/agents`")
    when = provenance.get("imported")
    on = f" on {when.day} {when:%B %Y}" if isinstance(when, date) else ""
    return f"imported unchanged from {origin}{on}"


def card_markdown(agent: Agent, provenance: dict[str, Any] | None) -> str:
    meta = agent.definition.meta
    facts = agent.facts
    source = f"{{download}}`{agent.definition.path.name} <definitions/{agent.definition.path.name}>`"
    if imported := provenance_text(provenance):
        source += f", {imported}"
    digest = hashlib.sha256(agent.definition.path.read_bytes()).hexdigest()
    fields = [
        f":Name: {inline_code(str(meta.get('name', '')))}",
        f":Model: {model_markdown(meta.get('model'))}",
        f":Tools: {tools_markdown(agent)}",
    ]
    if "color" in meta:
        fields.append(f":Color: {color_markdown(meta['color'])}")
    if "skills" in meta:
        fields.append(f":Skills: {skills_markdown(agent)}")
    fields += [f":{key}: {other_field_markdown(value)}" for key, value in meta.items() if key not in SHOWN_FIRST]
    fields += [
        f":Size: {facts.words:,} words of prose, {facts.sections} sections",
        f":Code samples: {len(facts.samples)} ({languages_text(facts)})",
        f":Raw file: {source}",
        f":SHA-256: `{digest}`{{.kb-digest}}",
    ]
    parts = [description_markdown(str(meta.get("description", ""))), "", *fields, ""]
    if agent.findings:
        folder = f"{agent.definition.path.parent}/"
        # Paths on a public page are the repository's, never the build machine's.
        site = f"{agent.definition.path.parent.parent.parent}/"
        parts += [
            ":::{admonition} What `agentkb check` reports for this file",
            ":class: warning kb-findings",
            "",
            *[f"- line {f.line}: {f.message.replace(folder, '').replace(site, '')}" for f in agent.findings],
            ":::",
        ]
    body = "\n".join(parts)
    return f"::::::{{container}} kb-agent-card\n{body}\n::::::\n"


class _MarkdownDirective(SphinxDirective):
    def render(self, text: str) -> list[nodes.Node]:
        container = nodes.container()
        self.state.nested_parse(StringList(text.splitlines(), source=self.env.docname), 0, container)
        return container.children


class AgentCardDirective(_MarkdownDirective):
    """The front matter of one agent, as a card at the top of its page."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        cat = catalog(self.env)
        agent = cat.by_slug(self.arguments[0])
        if agent is None:
            raise self.error(f"no agent definition with the slug {self.arguments[0]!r}")
        provenance = cat.provenance.get(agent.slug)
        return self.render(card_markdown(agent, provenance))


# --- The overview at scale: one order, and data for filtering and sorting -----------

#: Model families in the order "model, then name" sorts them; "other" is not a model name.
MODEL_FAMILIES = {
    "opus": "Opus",
    "sonnet": "Sonnet",
    "haiku": "Haiku",
    "inherit": "inherit (not set)",
    "other": "not a model name",
}
#: Sort keys and their labels; each label says exactly what order the list is in.
SORTS = {
    "name": "name, A to Z",
    "model": "model (Opus, Sonnet, Haiku, inherit), then name",
    "words": "size, largest first",
    "samples": "code samples, most first",
    "findings": "check findings, most first",
}


def overview_order(agents: tuple[Agent, ...]) -> tuple[Agent, ...]:
    """Agents in the order their labels read: by page title, as the overview first shows them."""
    return tuple(sorted(agents, key=lambda a: (a.title.casefold(), a.slug)))


def model_family(agent: Agent) -> str:
    model = agent.definition.meta.get("model")
    if model is None:
        return "inherit"
    info = normalise_model(str(model))
    if info is None:
        return "other"
    return info.family or "inherit"


def agent_tools(agent: Agent) -> list[str] | None:
    """The tools the file lists; ``None`` when it has no ``tools`` field (all inherited)."""
    meta = agent.definition.meta
    return parse_tools(meta["tools"]) if "tools" in meta else None


def agent_data(agent: Agent) -> dict[str, str]:
    """What the overview's script filters and sorts by, as data attributes."""
    tools = agent_tools(agent)
    return {
        "slug": agent.slug,
        "name": agent.title.casefold(),
        "model": model_family(agent),
        "tools": "*" if tools is None else json.dumps(tools),
        "findings": str(len(agent.findings)),
        "words": str(agent.facts.words),
        "samples": str(len(agent.facts.samples)),
    }


def data_span(agent: Agent) -> str:
    attributes = " ".join(f'data-{key}="{html.escape(value, quote=True)}"' for key, value in agent_data(agent).items())
    return f'<span class="kb-agent-data" hidden {attributes}></span>'


def _option(value: str, label: str, count: int | None = None) -> str:
    text = label if count is None else f"{label} ({count})"
    return f'<option value="{html.escape(value, quote=True)}">{html.escape(text)}</option>'


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def filter_form(agents: tuple[Agent, ...]) -> str:
    """The filter and sort controls; hidden until the script runs (the lists work without it)."""
    families = Counter(model_family(a) for a in agents)
    listed = Counter(tool for a in agents for tool in set(agent_tools(a) or []))
    inherit = sum(1 for a in agents if agent_tools(a) is None)
    with_findings = sum(1 for a in agents if a.findings)
    models = [_option("", "any", len(agents))] + [
        _option(key, label, families[key]) for key, label in MODEL_FAMILIES.items() if families[key]
    ]
    tools = [_option("", "any", len(agents))]
    if inherit:
        tools.append(_option("*", "all, inherited (no tools field)", inherit))
    tools += [_option(tool, f"lists {tool}", n) for tool, n in sorted(listed.items(), key=lambda t: (-t[1], t[0]))]
    findings = [
        _option("", "any", len(agents)),
        _option("with", "with findings", with_findings),
        _option("without", "without findings", len(agents) - with_findings),
    ]
    sorts = [_option(key, label) for key, label in SORTS.items()]

    def select(name: str, label: str, options: list[str]) -> str:
        return (
            f'<label class="kb-filter-field"><span>{label}</span> '
            f'<select name="{name}">{"".join(options)}</select></label>'
        )

    return (
        '<form class="kb-agent-filter" hidden aria-label="Filter and sort the agents">'
        + select("model", "Model", models)
        + select("tools", "Tools", tools)
        + select("findings", "Check findings", findings)
        + select("sort", "Sort by", sorts)
        + f'<output class="kb-agent-count" aria-live="polite">{len(agents)} agents</output>'
        + "</form>"
    )


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def card_summary(text: str, limit: int = 200) -> str:
    """The description's first sentence, cut at a word near ``limit``: cards stay scannable at
    hundreds of agents; the whole description is on the agent's page."""
    first = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    # Never leave an inline-code or emphasis span open.
    if cut.count("`") % 2 or cut.count("*") % 2:
        cut = cut[: max(cut.rfind("`"), cut.rfind("*"))].rstrip()
    return cut + " …"


def cards_markdown(agents: tuple[Agent, ...]) -> str:
    cards = []
    for agent in agents:
        meta = agent.definition.meta
        facts = agent.facts
        summary = description_markdown(str(meta.get("description", ""))).strip()
        summary = card_summary(summary.split("\n\n")[0].replace("\n", " "))
        cards.append(
            "\n".join(
                [
                    f":::{{grid-item-card}} {agent.title}",
                    f":link: {agent.slug}",
                    ":link-type: doc",
                    ":class-card: kb-overview-card",
                    "",
                    model_markdown(meta.get("model")),
                    "",
                    summary,
                    "",
                    f"{facts.words:,} words · {len(facts.samples)} code samples"
                    + (f" · {plural(len(agent.findings), 'check finding')}" if agent.findings else "")
                    + f" {data_span(agent)}",
                    ":::",
                ]
            )
        )
    return "::::{grid} 1 2 2 3\n:gutter: 2\n\n" + "\n\n".join(cards) + "\n::::\n"


def comparison_markdown(agents: tuple[Agent, ...]) -> str:
    rows = [
        "{.kb-comparison}",
        "| Agent | Model | Tools | Skills | Size | Code samples | Cited by |",
        "|---|---|---|---|---|---|---|",
    ]
    for agent in agents:
        meta = agent.definition.meta
        facts = agent.facts
        tools = parse_tools(meta["tools"]) if "tools" in meta else []
        skills = meta.get("skills")
        skills_text = ", ".join([skills] if isinstance(skills, str) else skills or []) or "–"
        model = meta.get("model")
        info = normalise_model(str(model)) if model is not None else None
        model_text = (info.label if info and info.kind == "id" else str(model)) if model else "inherit"
        rows.append(
            "| "
            + " | ".join(
                table_cell(c)
                for c in (
                    f"{{doc}}`{agent.title} <{agent.slug}>`",
                    model_text,
                    ", ".join(tools) if tools else "all (inherited)",
                    skills_text,
                    f"{facts.words:,} words, {facts.sections} sections",
                    languages_text(facts),
                    "–",  # replaced by a GuidesPlaceholder once every guide has been read
                )
            )
            + " |"
        )
    return "\n".join(rows) + "\n"


class _AllAgentsDirective(_MarkdownDirective):
    def agents(self) -> tuple[Agent, ...]:
        domain: Any = self.env.domains["kb"]  # agentkb.conventions.KnowledgeBaseDomain
        domain.note_aggregate(self.env.docname, reread=True)
        agents = overview_order(catalog(self.env).agents)
        for agent in agents:
            self.env.note_dependency(str(agent.definition.path))
        return agents


class GuidesPlaceholder(nodes.General, nodes.Element):
    """How many guides cite an agent: known only after every page is read."""


class TopicsPlaceholder(nodes.General, nodes.Element):
    """The guides x agents table of cited sections: filled in once every page is read."""


class AgentTopicsDirective(_AllAgentsDirective):
    """Which topics each agent speaks to: the sections each guide cites, per agent."""

    def run(self) -> list[nodes.Node]:
        self.agents()
        return [TopicsPlaceholder()]


class AgentComparisonDirective(_AllAgentsDirective):
    """One table row per agent, every cell derived from its file or the guides citing it."""

    def run(self) -> list[nodes.Node]:
        agents = self.agents()
        rendered = self.render(comparison_markdown(agents))
        rows = [row for body in rendered[0].findall(nodes.tbody) for row in body.children]
        for agent, row in zip(agents, rows, strict=True):
            cell = row.children[-1]
            assert isinstance(cell, nodes.Element)
            cell.clear()
            cell.append(GuidesPlaceholder(slug=agent.slug))
            first = row.children[0].children[0]
            assert isinstance(first, nodes.Element)
            first += nodes.raw("", data_span(agent), format="html")
        return rendered


class AgentCardsDirective(_AllAgentsDirective):
    """Every agent as a card linking to its page; also the agents' (hidden) toctree."""

    def run(self) -> list[nodes.Node]:
        agents = self.agents()
        toctree = addnodes.toctree()
        toctree.attributes.update(
            parent=self.env.docname,
            entries=[(None, a.docname) for a in agents],
            includefiles=[a.docname for a in agents],
            maxdepth=1,
            caption=None,
            glob=False,
            hidden=True,
            includehidden=False,
            numbered=0,
            titlesonly=False,
        )
        wrapper = nodes.compound(classes=["toctree-wrapper"])
        wrapper.append(toctree)
        form = nodes.raw("", filter_form(agents), format="html")
        return [wrapper, form, *self.render(cards_markdown(agents))]


STATIC = Path(__file__).parent / "static"
OVERVIEW_SCRIPT = "agent-overview.js"
OVERVIEW_STYLE = "agent-overview.css"


def on_config_inited(app: Sphinx, config: Any) -> None:
    config.html_static_path.append(str(STATIC))


def on_html_page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: nodes.document | None
) -> None:
    """The overview's script and style, on the pages that show the overview only."""
    if doctree is not None and any("kb-agent-filter" in n.astext() for n in doctree.findall(nodes.raw)):
        app.add_js_file(OVERVIEW_SCRIPT, loading_method="defer")
        app.add_css_file(OVERVIEW_STYLE)


def _cited_sections(env: BuildEnvironment) -> dict[str, dict[str, set[str]]]:
    """page docname -> agent slug -> the anchors of that agent it links to."""
    cited: dict[str, dict[str, set[str]]] = {}
    for target, links in env.domains["kb"].data["agent_links"].items():
        slug, _, anchor = target.partition("#")
        for link in links:
            cited.setdefault(link.docname, {}).setdefault(slug, set()).add(anchor)
    return cited


def _citing_pages(cited: dict[str, dict[str, set[str]]], slug: str) -> nodes.paragraph:
    pages = [doc for doc, agents in cited.items() if slug in agents]
    return nodes.paragraph("", f"{len(pages)} pages" if pages else "–")


def _topics(app: Sphinx, fromdocname: str) -> nodes.table:
    """Per agent (a row each, so the table reads at 200 agents) and guide: on how many of
    the guide's conventions the agent takes a stance."""
    document = conventions_document(app.env)
    guides: dict[str, list[dict[str, Any]]] = {}
    for conv in document["conventions"]:
        guides.setdefault(conv["page"].partition(".html")[0], []).append(conv)
    titles = app.env.titles
    order = sorted(guides, key=lambda d: titles[d].astext() if d in titles else d)
    taken: dict[str, dict[str, int]] = {}
    for docname in order:
        for conv in guides[docname]:
            for slug in {s["agent"] for s in conv["stances"]}:
                taken.setdefault(slug, {}).setdefault(docname, 0)
                taken[slug][docname] += 1
    rows = []
    for agent in overview_order(catalog(app.env).agents):
        counts = [taken.get(agent.slug, {}).get(docname, 0) for docname in order]
        link = make_refnode(app.builder, fromdocname, agent.docname, "", nodes.Text(agent.title))
        rows.append(
            tables.row(
                [
                    link,
                    *(tables.entry(str(n) if n else "–", ["kb-states" if n else "kb-silent"]) for n in counts),
                ]
            )
        )
    header = ["Agent", *(f"{titles[d].astext() if d in titles else d} ({len(guides[d])})" for d in order)]
    return tables.table(header, rows, classes=["kb-topics"])


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    placeholders = list(doctree.findall(GuidesPlaceholder))
    cited = _cited_sections(app.env) if placeholders else {}
    for placeholder in placeholders:
        placeholder.replace_self(_citing_pages(cited, placeholder["slug"]))
    for topics in list(doctree.findall(TopicsPlaceholder)):
        topics.replace_self(_topics(app, docname))


def setup(app: Sphinx) -> None:
    app.connect("config-inited", on_config_inited)
    app.connect("html-page-context", on_html_page_context)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.add_node(GuidesPlaceholder)
    app.add_node(TopicsPlaceholder)
    app.add_directive("agent-topics", AgentTopicsDirective)
    app.add_directive("agent-card", AgentCardDirective)
    app.add_directive("agent-cards", AgentCardsDirective)
    app.add_directive("agent-comparison", AgentComparisonDirective)
