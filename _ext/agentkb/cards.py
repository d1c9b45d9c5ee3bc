"""The metadata card on each agent page and the overview of all agents.

Both directives write MyST text and let MyST parse it: the output then uses the
same card, badge and table markup a hand-written page would.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
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


def card_markdown(agent: Agent, provenance: dict[str, str] | None) -> str:
    meta = agent.definition.meta
    facts = agent.facts
    source = f"{{download}}`{agent.definition.path.name} <definitions/{agent.definition.path.name}>`"
    if provenance:
        source += f" (imported verbatim from {inline_code(provenance['seed'])})"
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
    ]
    parts = [description_markdown(str(meta.get("description", ""))), "", *fields, ""]
    if agent.findings:
        folder = f"{agent.definition.path.parent}/"
        parts += [
            ":::{admonition} What `agentkb check` reports for this file",
            ":class: warning kb-findings",
            "",
            *[f"- line {f.line}: {f.message.replace(folder, '')}" for f in agent.findings],
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


def cards_markdown(agents: tuple[Agent, ...]) -> str:
    cards = []
    for agent in agents:
        meta = agent.definition.meta
        facts = agent.facts
        summary = description_markdown(str(meta.get("description", ""))).strip()
        summary = summary.split("\n\n")[0].replace("\n", " ")
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
                    + (f" · {len(agent.findings)} check findings" if agent.findings else ""),
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
        domain.note_aggregate(self.env.docname)
        agents = catalog(self.env).agents
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
        return [wrapper, *self.render(cards_markdown(agents))]


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
    """Per guide and agent: on how many of the guide's conventions the agent takes a stance."""
    agents = catalog(app.env).agents
    document = conventions_document(app.env)
    guides: dict[str, list[dict[str, Any]]] = {}
    for conv in document["conventions"]:
        guides.setdefault(conv["page"].partition(".html")[0], []).append(conv)
    titles = app.env.titles
    rows = []
    for docname in sorted(guides, key=lambda d: titles[d].astext() if d in titles else d):
        convs = guides[docname]
        taking = Counter(slug for c in convs for slug in {s["agent"] for s in c["stances"]})
        counts = [taking[agent.slug] for agent in agents]
        title = titles[docname].astext() if docname in titles else docname
        link = make_refnode(app.builder, fromdocname, docname, "", nodes.Text(title))
        rows.append(
            tables.row(
                [
                    link,
                    len(convs),
                    *(tables.entry(str(n) if n else "–", ["kb-states" if n else "kb-silent"]) for n in counts),
                ]
            )
        )
    return tables.table(["Guide", "Conventions", *(a.title for a in agents)], rows, classes=["kb-topics"])


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    placeholders = list(doctree.findall(GuidesPlaceholder))
    cited = _cited_sections(app.env) if placeholders else {}
    for placeholder in placeholders:
        placeholder.replace_self(_citing_pages(cited, placeholder["slug"]))
    for topics in list(doctree.findall(TopicsPlaceholder)):
        topics.replace_self(_topics(app, docname))


def setup(app: Sphinx) -> None:
    app.connect("doctree-resolved", on_doctree_resolved)
    app.add_node(GuidesPlaceholder)
    app.add_node(TopicsPlaceholder)
    app.add_directive("agent-topics", AgentTopicsDirective)
    app.add_directive("agent-card", AgentCardDirective)
    app.add_directive("agent-cards", AgentCardsDirective)
    app.add_directive("agent-comparison", AgentComparisonDirective)
