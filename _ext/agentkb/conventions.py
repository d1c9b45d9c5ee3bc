"""The ``kb`` domain: conventions as objects, and links into agent sections.

- ``{kb:convention} ID`` states a convention with a level (MUST/SHOULD/MAY), the
  agent sections that state it or contradict it, and how it is checked. It is an
  object of the domain: in the search results, the general index, and linkable
  with ``{kb:conv}`ID```.
- ``{kb:agent}`slug#anchor``` links to one section of an agent page and records
  the link, so that the agent page can show, beside the section, which guides and
  conventions cover it (the back-links).
- ``{kb:convention-matrix}`` is the table of conventions by agents.

Everything is kept in the domain's data, which Sphinx merges after a parallel read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.directives import ObjectDescription
from sphinx.domains import Domain, ObjType
from sphinx.environment import BuildEnvironment
from sphinx.roles import XRefRole
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

from . import tables
from .cards import GuidesPlaceholder, TopicsPlaceholder
from .ingest import Agent, catalog

logger = logging.getLogger(__name__)

LEVELS = ("MUST", "SHOULD", "MAY")


class Convention(NamedTuple):
    id: str
    title: str
    level: str
    docname: str
    anchor: str
    states: tuple[str, ...]  # "slug#anchor" of agent sections that state it
    contradicts: tuple[str, ...]
    checked_by: str


class AgentLink(NamedTuple):
    """A place in the guides that points at an agent section."""

    docname: str
    anchor: str  # the id on the linking page: the convention, or the enclosing section
    label: str  # a convention ID, or "" for a plain guide link


def _level(value: str) -> str:
    level = (value or "").strip().upper()
    if level not in LEVELS:
        raise ValueError(f"{value!r} is not a level; use one of {', '.join(LEVELS)}")
    return level


def _targets(value: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in value.replace("\n", ",").split(",") if t.strip())


def check_target(env: BuildEnvironment, target: str, location: Any) -> Agent | None:
    """Warn, naming the page and line, when ``slug#anchor`` is not an agent section."""
    slug, _, anchor = target.partition("#")
    agent = catalog(env.app).by_slug(slug)
    if agent is None:
        logger.warning("unknown agent %r in %r", slug, target, location=location,
                       type="agentkb", subtype="agent-ref")
        return None
    if anchor and agent.section(anchor) is None:
        known = ", ".join(s.anchor for s in agent.sections)
        logger.warning("agent %r has no section %r; its sections are: %s", slug, anchor, known,
                       location=location, type="agentkb", subtype="agent-ref")
        return None
    return agent


class ConventionDirective(ObjectDescription[str]):
    """A convention the guides recommend."""

    required_arguments = 1
    option_spec = {
        **ObjectDescription.option_spec,
        "title": directives.unchanged_required,
        "level": lambda value: _level(value),
        "states": directives.unchanged,
        "contradicts": directives.unchanged,
        "checked-by": directives.unchanged_required,
    }

    def handle_signature(self, sig: str, signode: addnodes.desc_signature) -> str:
        level = self.options.get("level", "SHOULD")
        signode += addnodes.desc_name(sig, sig)
        signode += nodes.Text(" ")
        signode += nodes.inline("", level, classes=["kb-level", f"kb-level-{level.lower()}"])
        if "title" in self.options:
            signode += nodes.inline("", f" {self.options['title']}", classes=["kb-conv-title"])
        return sig

    def add_target_and_index(self, name: str, sig: str, signode: addnodes.desc_signature) -> None:
        anchor = f"conv-{name.lower()}"
        signode["ids"].append(anchor)
        self.indexnode["entries"].append(("single", f"{name} (convention)", anchor, "", None))
        title = self.options.get("title", "")
        if title:
            self.indexnode["entries"].append(("pair", f"conventions; {title}", anchor, "", None))
        domain: KnowledgeBaseDomain = self.env.domains["kb"]  # type: ignore[assignment]
        states = _targets(self.options.get("states", ""))
        contradicts = _targets(self.options.get("contradicts", ""))
        for target in (*states, *contradicts):
            check_target(self.env, target, self.get_location())
        domain.add_convention(
            Convention(name, title, self.options.get("level", "SHOULD"), self.env.docname, anchor,
                       states, contradicts, self.options.get("checked-by", "by review")),
            location=self.get_location(),
        )
        for target in (*states, *contradicts):
            domain.add_agent_link(target, AgentLink(self.env.docname, anchor, name))

    def transform_content(self, content_node: addnodes.desc_content) -> None:
        rows = [
            ("Stated by", _targets(self.options.get("states", ""))),
            ("Contradicted by", _targets(self.options.get("contradicts", ""))),
        ]
        fields = nodes.field_list(classes=["kb-conv-fields"])
        for label, targets in rows:
            if not targets:
                continue
            body = nodes.paragraph()
            for index, target in enumerate(targets):
                if index:
                    body += nodes.Text(", ")
                body += _agent_xref(target, self.env.docname)
            fields += nodes.field("", nodes.field_name("", label), nodes.field_body("", body))
        checked = nodes.paragraph("", self.options.get("checked-by", "by review"))
        fields += nodes.field("", nodes.field_name("", "Checked by"), nodes.field_body("", checked))
        content_node += fields


def _agent_xref(target: str, docname: str, title: str = "") -> pending_xref:
    ref = pending_xref("", refdomain="kb", reftype="agent", reftarget=target, refdoc=docname,
                       refexplicit=bool(title))
    ref += nodes.inline("", title or target, classes=["xref", "kb-agent-ref"])
    return ref


class AgentSectionRole(XRefRole):
    """``{kb:agent}`slug#anchor``` or ``{kb:agent}`text <slug#anchor>```."""

    def result_nodes(self, document: nodes.document, env: BuildEnvironment, node: nodes.Element,
                     is_ref: bool) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        target = node["reftarget"]
        if check_target(env, target, node):
            section = _enclosing_id(node, document)
            env.domains["kb"].add_agent_link(target, AgentLink(env.docname, section, ""))
        return [node], []


def _enclosing_id(node: nodes.Node, document: nodes.document) -> str:
    """The id on the linking page that a back-link should lead to."""
    parent = node.parent
    while parent is not None and not isinstance(parent, nodes.section):
        parent = parent.parent
    if parent is not None and parent["ids"]:
        return parent["ids"][0]
    # The role runs while its paragraph is parsed; the section being built is the
    # last one the document knows of.
    sections = list(document.findall(nodes.section))
    return sections[-1]["ids"][0] if sections else ""


class MatrixPlaceholder(nodes.General, nodes.Element):
    """Filled in once every page is read, when all conventions are known."""


class ConventionMatrixDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        self.env.domains["kb"].note_aggregate(self.env.docname)
        return [MatrixPlaceholder()]


class KnowledgeBaseDomain(Domain):
    name = "kb"
    label = "Knowledge base"
    object_types = {"convention": ObjType("convention", "conv")}
    directives = {"convention": ConventionDirective, "convention-matrix": ConventionMatrixDirective}
    roles = {"conv": XRefRole(), "agent": AgentSectionRole()}
    #: "aggregate_docs": pages that summarise every agent or guide, rewritten when any page changes.
    initial_data: dict[str, Any] = {"conventions": {}, "agent_links": {}, "aggregate_docs": {}}
    data_version = 2

    @property
    def conventions(self) -> dict[str, Convention]:
        return self.data["conventions"]

    @property
    def agent_links(self) -> dict[str, list[AgentLink]]:
        return self.data["agent_links"]

    def note_aggregate(self, docname: str) -> None:
        self.data["aggregate_docs"][docname] = True

    def add_convention(self, conv: Convention, location: Any) -> None:
        other = self.conventions.get(conv.id)
        if other and other.docname != conv.docname:
            logger.warning("convention %s is also defined in %s", conv.id, other.docname,
                           location=location, type="agentkb", subtype="convention")
        self.conventions[conv.id] = conv

    def add_agent_link(self, target: str, link: AgentLink) -> None:
        links = self.agent_links.setdefault(target, [])
        if link not in links:
            links.append(link)

    def links_to(self, slug: str, anchor: str) -> list[AgentLink]:
        return self.agent_links.get(f"{slug}#{anchor}", [])

    def clear_doc(self, docname: str) -> None:
        self.data["aggregate_docs"].pop(docname, None)
        for key, conv in list(self.conventions.items()):
            if conv.docname == docname:
                del self.conventions[key]
        for target, links in list(self.agent_links.items()):
            kept = [link for link in links if link.docname != docname]
            if kept:
                self.agent_links[target] = kept
            else:
                del self.agent_links[target]

    def merge_domaindata(self, docnames: Iterable[str], otherdata: dict[str, Any]) -> None:
        for docname in otherdata["aggregate_docs"]:
            if docname in docnames:
                self.note_aggregate(docname)
        for key, conv in otherdata["conventions"].items():
            if conv.docname in docnames:
                self.conventions[key] = conv
        for target, links in otherdata["agent_links"].items():
            for link in links:
                if link.docname in docnames:
                    self.add_agent_link(target, link)

    def resolve_xref(self, env: BuildEnvironment, fromdocname: str, builder: Builder, typ: str,
                     target: str, node: pending_xref, contnode: nodes.Element) -> nodes.reference | None:
        if typ == "agent":
            slug, _, anchor = target.partition("#")
            agent = catalog(env.app).by_slug(slug)
            if agent is None:
                return None
            section = agent.section(anchor) if anchor else None
            if not node.get("refexplicit"):
                label = f"{slug} § {section.title}" if section else agent.title
                contnode = nodes.inline("", label, classes=["xref", "kb-agent-ref"])
            return make_refnode(builder, fromdocname, agent.docname, anchor, contnode, target)
        if typ == "conv":
            conv = self.conventions.get(target)
            if conv is None:
                return None
            return make_refnode(builder, fromdocname, conv.docname, conv.anchor, contnode,
                                f"{conv.id}: {conv.title}")
        return None

    def resolve_any_xref(self, env: BuildEnvironment, fromdocname: str, builder: Builder,
                         target: str, node: pending_xref, contnode: nodes.Element
                         ) -> list[tuple[str, nodes.reference]]:
        found = self.resolve_xref(env, fromdocname, builder, "conv", target, node, contnode)
        return [("kb:conv", found)] if found else []

    def get_objects(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        for conv in self.conventions.values():
            # Search splits display names on ".", so a title would break the ID apart.
            yield conv.id, conv.id, "convention", conv.docname, conv.anchor, 1


def _link(builder: Builder, fromdocname: str, docname: str, anchor: str, text: str,
          classes: list[str] | None = None) -> nodes.reference:
    ref = make_refnode(builder, fromdocname, docname, anchor, nodes.Text(text))
    ref["classes"].extend(classes or [])
    return ref


def _matrix(app: Sphinx, domain: KnowledgeBaseDomain, fromdocname: str) -> nodes.table:
    agents = catalog(app).agents
    rows = []
    for conv in sorted(domain.conventions.values(), key=lambda c: c.id):
        stances = [_stance(conv, agent.slug) for agent in agents]
        rows.append(tables.row(
            [
                _link(app.builder, fromdocname, conv.docname, conv.anchor, conv.id),
                conv.level,
                *(tables.entry(STANCE_LABELS[s], [f"kb-{s}"]) for s in stances),
            ],
            classes=["kb-disputed"] if conv.contradicts else [],
        ))
    header = ["Convention", "Level", *(a.slug for a in agents)]
    return tables.table(header, rows, classes=["kb-matrix"])


STANCE_LABELS = {"states": "✓ states", "contradicts": "✗ contradicts", "silent": "–"}


def _stance(conv: Convention, slug: str) -> str:
    if any(t.partition("#")[0] == slug for t in conv.contradicts):
        return "contradicts"
    if any(t.partition("#")[0] == slug for t in conv.states):
        return "states"
    return "silent"


def _backlinks(app: Sphinx, doctree: nodes.document, docname: str, agent: Agent,
               domain: KnowledgeBaseDomain) -> None:
    env = app.env
    for section in doctree.findall(nodes.section):
        anchors = set(section["ids"]) | {section.get("slug", "")}
        links = [link for a in anchors if a for link in domain.links_to(agent.slug, a)]
        if not links:
            continue
        para = nodes.paragraph(classes=["kb-backlinks"])
        para += nodes.inline("", "Covered in: ", classes=["kb-backlinks-label"])
        for index, link in enumerate(sorted(set(links))):
            if index:
                para += nodes.Text(" · ")
            title = env.titles[link.docname].astext() if link.docname in env.titles else link.docname
            text = f"{link.label} ({title})" if link.label else title
            para += _link(app.builder, docname, link.docname, link.anchor, text)
        title_node = section.next_node(nodes.title)
        section.insert(section.index(title_node) + 1, para)


def _cited_sections(domain: KnowledgeBaseDomain) -> dict[str, dict[str, set[str]]]:
    """guide docname -> agent slug -> the anchors of that agent it links to."""
    cited: dict[str, dict[str, set[str]]] = {}
    for target, links in domain.agent_links.items():
        slug, _, anchor = target.partition("#")
        for link in links:
            cited.setdefault(link.docname, {}).setdefault(slug, set()).add(anchor)
    return cited


def _citing_pages(domain: KnowledgeBaseDomain, slug: str) -> nodes.paragraph:
    pages = [doc for doc, agents in _cited_sections(domain).items() if slug in agents]
    return nodes.paragraph("", f"{len(pages)} pages" if pages else "–")


def _topics(app: Sphinx, domain: KnowledgeBaseDomain, fromdocname: str) -> nodes.table:
    agents = catalog(app).agents
    cited = _cited_sections(domain)
    rows = []
    for docname in sorted(cited, key=lambda d: app.env.titles[d].astext()):
        counts = [len(cited[docname].get(agent.slug, ())) for agent in agents]
        rows.append(tables.row([
            _link(app.builder, fromdocname, docname, "", app.env.titles[docname].astext()),
            *(tables.entry(str(n) if n else "–", ["kb-states" if n else "kb-silent"]) for n in counts),
        ]))
    return tables.table(["Page", *(a.slug for a in agents)], rows, classes=["kb-topics"])


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    domain: KnowledgeBaseDomain = app.env.domains["kb"]  # type: ignore[assignment]
    for placeholder in list(doctree.findall(MatrixPlaceholder)):
        placeholder.replace_self(_matrix(app, domain, docname))
    for placeholder in list(doctree.findall(GuidesPlaceholder)):
        placeholder.replace_self(_citing_pages(domain, placeholder["slug"]))
    for placeholder in list(doctree.findall(TopicsPlaceholder)):
        placeholder.replace_self(_topics(app, domain, docname))
    agent = catalog(app).by_docname(docname)
    if agent is not None:
        _backlinks(app, doctree, docname, agent, domain)


def on_env_get_outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
                        removed: set[str]) -> list[str]:
    """Back-links, the matrix and the overview depend on every page: redo them when one changes.

    An agent file added, edited or removed shows up here too, as its page stub.
    """
    if not (added or changed or removed):
        return []
    pages = {a.docname for a in catalog(app).agents}
    pages |= set(env.domains["kb"].data["aggregate_docs"])
    return sorted(pages & env.found_docs)


def setup(app: Sphinx) -> None:
    app.add_domain(KnowledgeBaseDomain)
    app.add_node(MatrixPlaceholder)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.connect("env-get-outdated", on_env_get_outdated)
