"""The ``kb`` domain: conventions as objects, and links into agent sections.

- ``{kb:convention} ID`` places a convention of the rulebook (:mod:`agentkb.rulebook`)
  on its guide, with its prose as the content. Its title, level and rules come from the
  rulebook; the stances of every agent, with their evidence, are filled in when the
  page is written, so a changed agent rewrites the guide without re-reading it.
  It is an object of the domain: in the search results, the general index, and
  linkable with ``{kb:conv}`ID```.
- ``{kb:agent}`slug#anchor``` links to one section of an agent page and records the
  link, so that the agent page can show, beside the section, which guides cover it.

Everything is kept in the domain's data, which Sphinx merges after a parallel read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, Literal, NamedTuple

from docutils import nodes
from sphinx import addnodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.directives import ObjectDescription
from sphinx.domains import Domain, ObjType
from sphinx.environment import BuildEnvironment
from sphinx.roles import XRefRole
from sphinx.util import logging
from sphinx.util.nodes import make_refnode

from .conformance import ConformanceError, conformance_tests
from .evidence import STANCE_SYMBOLS, evidence_reference, stances_of
from .ingest import SIDECAR_SUFFIXES, Agent, catalog
from .published import conventions_document
from .rulebook import STANCES, Convention, Rule
from .stances import Evidence
from .state import build_state
from .verification import samples_shown

logger = logging.getLogger(__name__)

#: What a page that sums up every agent shows of each (see KnowledgeBaseDomain.note_aggregate).
Shows = Literal["everything", "stances", "samples"]


class Placement(NamedTuple):
    """Where a convention of the rulebook is set out."""

    id: str
    docname: str
    anchor: str


class AgentLink(NamedTuple):
    """A place in the guides that points at an agent section."""

    docname: str
    anchor: str  # the id on the linking page: the convention, or the enclosing section
    label: str  # a convention ID, or "" for a plain guide link


def agent_target_problem(env: BuildEnvironment, target: str) -> str | None:
    """Why ``slug#anchor`` is not an agent section (naming the sections it has), or None."""
    slug, _, anchor = target.partition("#")
    agent = catalog(env).by_slug(slug)
    if agent is None:
        return f"unknown agent {slug!r} in {target!r}"
    if anchor and agent.section(anchor) is None:
        known = ", ".join(s.anchor for s in agent.sections)
        return f"agent {slug!r} has no section {anchor!r}; its sections are: {known}"
    return None


def _warn_missing_agent_section(app: Sphinx, domain: Domain | None, node: pending_xref) -> bool | None:
    """Say why a ``{kb:agent}`` link is broken, in place of Sphinx's "target not found".

    Reported when the linking page is written, so once per build that writes it, and also
    when the heading went after the page was read (see on_env_get_updated).
    """
    if domain is None or domain.name != "kb" or node["reftype"] != "agent":
        return None
    problem = agent_target_problem(app.env, node["reftarget"])
    if problem is None:
        return None
    logger.warning("%s", problem, location=node, type="agentkb", subtype="agent-ref")
    return True


class StancesPlaceholder(nodes.General, nodes.Element):
    """The agents' stances on one convention: filled in when the page is written."""


class ConventionDirective(ObjectDescription[str]):
    """A convention of the rulebook, set out on its guide."""

    required_arguments = 1

    @property
    def convention(self) -> Convention | None:
        return build_state(self.env).rulebook.get(self.arguments[0])

    def handle_signature(self, sig: str, signode: addnodes.desc_signature) -> str:
        conv = self.convention
        signode += addnodes.desc_name(sig, sig)
        if conv is None:
            logger.warning(
                "convention %s is not in the rulebook; add it to _ext/agentkb/rulebook/%s.yaml",
                sig,
                self.env.docname.rpartition("/")[2],
                location=self.get_location(),
                type="agentkb",
                subtype="convention",
            )
            return sig
        signode += nodes.Text(" ")
        signode += nodes.inline("", conv.level, classes=["kb-level", f"kb-level-{conv.level.lower()}"])
        signode += nodes.inline("", f" {conv.title}", classes=["kb-conv-title"])
        return sig

    def add_target_and_index(self, name: str, sig: str, signode: addnodes.desc_signature) -> None:
        conv = self.convention
        if conv is None:
            return
        signode["ids"].append(conv.anchor)
        self.indexnode["entries"].append(("single", f"{name} (convention)", conv.anchor, "", None))
        self.indexnode["entries"].append(("pair", f"conventions; {conv.title}", conv.anchor, "", None))
        self.env.note_dependency(str(conv.path))
        if conv.guide != self.env.docname:
            logger.warning(
                "convention %s belongs to %s (rulebook %s), not to this page",
                name,
                conv.guide,
                conv.path.name,
                location=self.get_location(),
                type="agentkb",
                subtype="convention",
            )
        domain: KnowledgeBaseDomain = self.env.domains["kb"]  # type: ignore[assignment]
        domain.add_convention(Placement(name, self.env.docname, conv.anchor), location=self.get_location())

    def transform_content(self, content_node: addnodes.desc_content) -> None:
        conv = self.convention
        if conv is None:
            return
        fields = nodes.field_list(classes=["kb-conv-fields"])
        fields += _field("Agents", StancesPlaceholder(convention=conv.id))
        if conv.rules:
            fields += _field("Detected by", _rules_list(conv.rules))
        fields += _field("Checked by", nodes.paragraph("", conv.checked_by))
        service_test = build_state(self.env).service_tests.get(conv.id)
        if service_test:
            self.env.note_dependency(str(Path(self.env.srcdir) / self.config.agentkb_conformance_tests))
            fields += _field("Service", nodes.paragraph("", "tested by ", nodes.literal("", service_test)))
        content_node += fields


def _field(name: str, body: nodes.Node) -> nodes.field:
    return nodes.field("", nodes.field_name("", name), nodes.field_body("", body))


def _rules_list(rules: Iterable[Rule]) -> nodes.bullet_list:
    items = nodes.bullet_list(classes=["kb-rules"])
    for rule in rules:
        para = nodes.paragraph()
        para += nodes.literal("", rule.full_id)
        what = f" ({rule.kind}" + (f", {', '.join(rule.languages)}" if rule.languages else "") + ")"
        para += nodes.Text(f"{what}: a match is evidence that the agent {rule.stance} it. {rule.message}")
        if rule.disabled:
            para += nodes.inline("", f" Turned off: {rule.disabled}", classes=["kb-rule-off"])
        items += nodes.list_item("", para)
    return items


class AgentSectionRole(XRefRole):
    """``{kb:agent}`slug#anchor``` or ``{kb:agent}`text <slug#anchor>```."""

    def result_nodes(
        self, document: nodes.document, env: BuildEnvironment, node: nodes.Element, is_ref: bool
    ) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        target = node["reftarget"]
        # A broken target is reported when the page is written (_warn_missing_agent_section).
        if agent_target_problem(env, target) is None:
            section = _enclosing_id(node, document)
            domain: KnowledgeBaseDomain = env.domains["kb"]  # type: ignore[assignment]
            domain.add_agent_link(target, AgentLink(env.docname, section, ""))
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


class KnowledgeBaseDomain(Domain):
    name = "kb"
    label = "Knowledge base"
    object_types = {"convention": ObjType("convention", "conv")}
    directives = {"convention": ConventionDirective}
    roles = {"conv": XRefRole(), "agent": AgentSectionRole()}
    #: "aggregate_docs": pages that summarise every agent or guide, rewritten when any page
    #: changes -> whether they are also re-read when an agent changes (see note_aggregate);
    #: "aggregate_shows": the same pages -> what they show of each agent (see Shows).
    #: "agent_fingerprints": agent page -> the fingerprint of its files when it was read.
    #: "shown_stances": agent page -> convention ID -> digest of what the guides show of its
    #: stance, as last written (and its sections, see _shown); "shown_samples": agent page ->
    #: digest of what the verification report shows of its code samples; "shown_salt": the
    #: rulebook and code both were worked out with. "shown_pages": the same for other pages,
    #: per page (see _shown_of_page).
    initial_data = {
        "conventions": {},
        "agent_links": {},
        "aggregate_docs": {},
        "aggregate_shows": {},
        "shown_samples": {},
        "agent_fingerprints": {},
        "shown_stances": {},
        "shown_salt": "",
        "anchors": {},
        "shown_pages": {},
    }
    data_version = 11

    @property
    def conventions(self) -> dict[str, Placement]:
        return self.data["conventions"]

    @property
    def agent_links(self) -> dict[str, list[AgentLink]]:
        return self.data["agent_links"]

    @property
    def anchors(self) -> dict[str, set[str]]:
        """docname -> the ids on the page as read (see agentkb.verification.note_anchors)."""
        return self.data["anchors"]

    def note_aggregate(self, docname: str, *, reread: bool = False, shows: Shows = "everything") -> None:
        """A page that shows every agent: rewritten whenever another page changes what it
        shows, and when an agent changes what the page ``shows`` of it (see Shows:
        "stances" for its stances with their cited lines, "samples" for the verdicts on its
        code samples, "everything" when any change to the agent may show); with ``reread``,
        also re-read when an agent changes (its content is made when it is read, not filled
        in when it is written)."""
        self.data["aggregate_docs"][docname] = self.data["aggregate_docs"].get(docname, False) or reread
        self.data["aggregate_shows"].setdefault(docname, set()).add(shows)

    def add_convention(self, placement: Placement, location: Any) -> None:
        other = self.conventions.get(placement.id)
        if other and other.docname != placement.docname:
            logger.warning(
                "convention %s is also set out in %s",
                placement.id,
                other.docname,
                location=location,
                type="agentkb",
                subtype="convention",
            )
        self.conventions[placement.id] = placement

    def add_agent_link(self, target: str, link: AgentLink) -> None:
        links = self.agent_links.setdefault(target, [])
        if link not in links:
            links.append(link)

    def links_to(self, slug: str, anchor: str) -> list[AgentLink]:
        return self.agent_links.get(f"{slug}#{anchor}", [])

    def note_agent(self, docname: str, fingerprint: str) -> None:
        self.data["agent_fingerprints"][docname] = fingerprint

    def clear_doc(self, docname: str) -> None:
        self.data["aggregate_docs"].pop(docname, None)
        self.data["aggregate_shows"].pop(docname, None)
        self.anchors.pop(docname, None)
        self.data["agent_fingerprints"].pop(docname, None)
        for key, placement in list(self.conventions.items()):
            if placement.docname == docname:
                del self.conventions[key]
        for target, links in list(self.agent_links.items()):
            kept = [link for link in links if link.docname != docname]
            if len(kept) != len(links):
                # The agent page shows this link beside its section: rewrite it (on_env_get_updated).
                build_state(self.env).unlinked_agents.add(target.partition("#")[0])
            if kept:
                self.agent_links[target] = kept
            else:
                del self.agent_links[target]

    def merge_domaindata(self, docnames: Iterable[str], otherdata: dict[str, Any]) -> None:
        for docname, reread in otherdata["aggregate_docs"].items():
            if docname in docnames:
                for shows in otherdata["aggregate_shows"].get(docname, ()):
                    self.note_aggregate(docname, reread=reread, shows=shows)
        for docname, fingerprint in otherdata["agent_fingerprints"].items():
            if docname in docnames:
                self.note_agent(docname, fingerprint)
        for docname in docnames:
            if docname in otherdata["anchors"]:
                self.anchors[docname] = otherdata["anchors"][docname]
        for key, placement in otherdata["conventions"].items():
            if placement.docname in docnames:
                self.conventions[key] = placement
        for target, links in otherdata["agent_links"].items():
            for link in links:
                if link.docname in docnames:
                    self.add_agent_link(target, link)

    def resolve_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        typ: str,
        target: str,
        node: pending_xref,
        contnode: nodes.Element,
    ) -> nodes.reference | None:
        if typ == "agent":
            slug, _, anchor = target.partition("#")
            agent = catalog(env).by_slug(slug)
            if agent is None:
                return None
            section = agent.section(anchor) if anchor else None
            if anchor and section is None:
                # The heading went after the linking page was read: reported when this
                # page is rewritten (on_env_get_updated, _warn_missing_agent_section).
                return None
            if not node.get("refexplicit"):
                label = f"{agent.title} § {section.title}" if section else agent.title
                contnode = nodes.inline("", label, classes=["xref", "kb-agent-ref"])
            return make_refnode(builder, fromdocname, agent.docname, anchor, contnode, target)
        if typ == "conv":
            placement = self.conventions.get(target)
            conv = build_state(env).rulebook.get(target)
            if placement is None or conv is None:
                return None
            return make_refnode(
                builder, fromdocname, placement.docname, placement.anchor, contnode, f"{conv.id}: {conv.title}"
            )
        return None

    def resolve_any_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        target: str,
        node: pending_xref,
        contnode: nodes.Element,
    ) -> list[tuple[str, nodes.reference]]:
        found = self.resolve_xref(env, fromdocname, builder, "conv", target, node, contnode)
        return [("kb:conv", found)] if found else []

    def get_objects(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        for placement in self.conventions.values():
            # Search splits display names on ".", so a title would break the ID apart.
            yield placement.id, placement.id, "convention", placement.docname, placement.anchor, 1


def _stances_list(app: Sphinx, docname: str, conv_id: str) -> nodes.Node:
    """Who takes which stance on one convention, each linking to its evidence."""
    document = conventions_document(app.env)
    record = next((c for c in document["conventions"] if c["id"] == conv_id), None)
    titles = {a["slug"]: a["title"] for a in document["agents"]}
    if record is None or not record["stances"]:
        return nodes.paragraph("", "No agent takes a stance on it.")
    items = nodes.bullet_list(classes=["kb-conv-stances"])
    cat = catalog(app.env)
    for kind in STANCES:
        entries = [s for s in record["stances"] if s["stance"] == kind]
        if not entries:
            continue
        para = nodes.paragraph()
        para += nodes.inline("", f"{STANCE_SYMBOLS[kind]} {kind}: ", classes=["kb-stance", f"kb-{kind}"])
        for index, entry in enumerate(entries):
            if index:
                para += nodes.Text(" · ")
            agent = cat.by_slug(entry["agent"])
            if agent is None:
                continue
            para += _link(app.builder, docname, agent.docname, "", titles[entry["agent"]])
            para += nodes.Text(" (")
            for number, evidence in enumerate(entry["evidence"]):
                if number:
                    para += nodes.Text(", ")
                para += evidence_reference(app.builder, docname, agent, Evidence(evidence["line"], evidence["quote"]))
            para += nodes.Text(", detected)" if entry["source"] == "detected" else ")")
        items += nodes.list_item("", para)
    return items


def _link(builder: Builder, fromdocname: str, docname: str, anchor: str, text: str) -> nodes.reference:
    return make_refnode(builder, fromdocname, docname, anchor, nodes.Text(text))


def _section_of(agent: Agent, line: int) -> str:
    """The anchor of the agent section that holds a line of its file."""
    anchor = ""
    for section in agent.sections:
        if section.line > line:
            break
        anchor = section.anchor
    return anchor


def _backlinks(app: Sphinx, doctree: nodes.document, docname: str, agent: Agent) -> None:
    """Beside each agent section: the guide pages that link to it, and the conventions its lines evidence."""
    domain: KnowledgeBaseDomain = app.env.domains["kb"]  # type: ignore[assignment]
    by_section: dict[str, set[AgentLink]] = {}
    for stance in stances_of(app.env, agent).stances:
        placement = domain.conventions.get(stance.convention)
        if placement is None:
            continue
        for evidence in stance.evidence:
            link = AgentLink(placement.docname, placement.anchor, stance.convention)
            by_section.setdefault(_section_of(agent, evidence.line), set()).add(link)
    for section in doctree.findall(nodes.section):
        anchors = {a for a in (*section["ids"], section.get("slug", "")) if a}
        links = {link for a in anchors for link in (*domain.links_to(agent.slug, a), *by_section.get(a, ()))}
        if not links:
            continue
        para = nodes.paragraph(classes=["kb-backlinks"])
        para += nodes.inline("", "Covered in: ", classes=["kb-backlinks-label"])
        # One entry per page, its conventions in brackets: a section can bear on many.
        by_page: dict[str, list[AgentLink]] = {}
        for link in sorted(links):
            by_page.setdefault(link.docname, []).append(link)
        for index, (page, page_links) in enumerate(sorted(by_page.items())):
            if index:
                para += nodes.Text(" · ")
            title = app.env.titles[page].astext() if page in app.env.titles else page
            plain = next((link for link in page_links if not link.label), None)
            para += _link(app.builder, docname, page, plain.anchor if plain else "", title)
            labelled = [link for link in page_links if link.label]
            if labelled:
                para += nodes.Text(" (")
                for number, link in enumerate(labelled):
                    if number:
                        para += nodes.Text(", ")
                    para += _link(app.builder, docname, link.docname, link.anchor, link.label)
                para += nodes.Text(")")
        title_node = section.next_node(nodes.title)
        if title_node is not None:
            section.insert(section.index(title_node) + 1, para)


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for placeholder in list(doctree.findall(StancesPlaceholder)):
        placeholder.replace_self(_stances_list(app, docname, placeholder["convention"]))
    agent = catalog(app.env).by_docname(docname)
    if agent is not None:
        _backlinks(app, doctree, docname, agent)


def on_env_get_outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Re-read the pages that list every agent when an agent comes, goes or changes.

    What else depends on other pages (stances in the guides, back-links on the agent
    pages, the matrix) is filled in when a page is written: see on_env_get_updated.
    """
    cat = catalog(env)
    sidecars = new_sidecars(env) - added - changed
    # An agent page may be re-read for a reason of its own (a missing image it shows): it
    # only counts as changed for the other pages when its file or its sidecars did.
    known = env.domains["kb"].data["agent_fingerprints"]
    unchanged = {d for d in changed & cat.docnames if known.get(d) == cat.by_docname(d).fingerprint}  # type: ignore[union-attr]
    touched = (added | changed | removed | sidecars) - unchanged
    build_state(env).touched_docs = touched
    agent_docs = cat.docnames | removed
    if not touched & agent_docs:
        return []
    reread = {docname for docname, made_when_read in env.domains["kb"].data["aggregate_docs"].items() if made_when_read}
    return sorted(sidecars | (reread & env.found_docs))


def new_sidecars(env: BuildEnvironment) -> set[str]:
    """Agent pages whose stances or samples sidecar appeared since they were read.

    A page depends on a sidecar only when it exists (Sphinx re-reads a page with a
    missing dependency at every build), so a new one is noticed here.
    """
    found = set()
    for agent in catalog(env).agents:
        deps = env.dependencies.get(agent.docname)
        if deps is None:
            continue
        path = agent.definition.path
        for sidecar in (path.with_name(path.stem + suffix) for suffix in SIDECAR_SUFFIXES):
            if sidecar.is_file() and env.srcdir / sidecar not in deps:
                found.add(agent.docname)
    return found


def on_env_get_updated(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Rewrite, without re-reading, the pages that show what changed pages say.

    - the pages that summarise every agent, when an agent changed what they show of it
      (see KnowledgeBaseDomain.note_aggregate), or another page changed what they show of
      it (see _changed_pages);
    - when an agent changed: the guides of the conventions on which its stance changed
      (each convention lists its agents' stances), and, if its title or headings changed,
      the pages that link to its sections;
    - when another page changed its title, its links to agents or its conventions, the
      agent pages whose back-links it may change: the agents it links to (before or after
      the change), and those that take a stance on a convention it sets out.
    """
    state = build_state(env)
    touched = state.touched_docs
    if not touched:
        return []
    domain: KnowledgeBaseDomain = env.domains["kb"]  # type: ignore[assignment]
    cat = catalog(env)
    agent_docs = cat.docnames
    pages: set[str] = set()
    others, anchors_moved = _changed_pages(env, domain, touched - agent_docs)
    if others or anchors_moved:
        pages |= set(domain.data["aggregate_docs"])
    if touched & agent_docs or touched - env.found_docs:
        compared = _compared_agents(env, domain, touched)
        conventions, slugs = _changed_shown(env, domain, compared)
        samples_changed = _changed_samples(env, domain, compared)
        if touched & agent_docs:
            shown = {"everything"}
            if conventions or slugs:
                shown.add("stances")
            if samples_changed:
                shown.add("samples")
            pages |= {docname for docname, shows in domain.data["aggregate_shows"].items() if shows & shown}
        pages |= {placement.docname for conv, placement in domain.conventions.items() if conv in conventions}
        pages |= {
            link.docname
            for target, links in domain.agent_links.items()
            for link in links
            if target.partition("#")[0] in slugs
        }
    if others:
        slugs = set(state.unlinked_agents)
        for target, links in domain.agent_links.items():
            if any(link.docname in others for link in links):
                slugs.add(target.partition("#")[0])
        convs = {c.id for c in state.rulebook if c.guide in others}
        convs |= {p.id for p in domain.conventions.values() if p.docname in others}
        if convs:
            for record in conventions_document(env)["conventions"]:
                if record["id"] in convs:
                    slugs |= {s["agent"] for s in record["stances"]}
        pages |= {agent.docname for slug in slugs if (agent := cat.by_slug(slug))}
    return sorted(pages & env.found_docs)


def _digest(value: object) -> str:
    """A short digest of a value's repr: enough to tell one build's view of a page from the next."""
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


#: The key, among an agent's convention IDs, of what the guides that link to its sections show.
_SECTIONS = "#sections"


def _shown(env: BuildEnvironment, agent: Agent) -> dict[str, str]:
    """What other pages show of an agent, as digests: per convention ID, its stance as the
    convention's guide lists it (see _stances_list); under _SECTIONS, its title and sections,
    which links to them resolve against."""
    shown: dict[str, list[tuple[object, ...]]] = {_SECTIONS: [(s.anchor, s.title) for s in agent.sections]}
    for stance in stances_of(env, agent).stances:
        evidence = tuple((e.line, e.quote) for e in stance.evidence)
        shown.setdefault(stance.convention, []).append((stance.stance, stance.source, evidence))
    return {key: _digest((agent.title, agent.docname, sorted(entries))) for key, entries in shown.items()}


def _compared_agents(env: BuildEnvironment, domain: KnowledgeBaseDomain, touched: set[str]) -> set[str]:
    """The agent pages (current, or gone since) whose digests to compare: the touched ones,
    or all of them when the digests were worked out with another rulebook or code."""
    known = set(domain.data["shown_stances"]) | set(domain.data["shown_samples"])
    agents = known | catalog(env).docnames
    salt = build_state(env).cache.salt
    if domain.data["shown_salt"] != salt:
        domain.data["shown_salt"] = salt
        return agents
    return touched & agents


def _replace_digests(
    env: BuildEnvironment, known: dict[str, Any], docnames: set[str], digest: Callable[[Agent], Any]
) -> Iterator[tuple[str, Any, Any]]:
    """Each agent page with its digest as last written and as it is now (None for an agent
    gone), keeping the new one in ``known``."""
    cat = catalog(env)
    for docname in docnames:
        agent = cat.by_docname(docname)
        new = digest(agent) if agent is not None else None
        old = known.pop(docname, None)
        if new is not None:
            known[docname] = new
        yield docname, old, new


def _changed_shown(env: BuildEnvironment, domain: KnowledgeBaseDomain, docnames: set[str]) -> tuple[set[str], set[str]]:
    """The conventions on which one of these agents' stance changed, and the agents (slugs)
    whose title or sections changed.

    An edit that moves no cited line, changes no stance and no heading rewrites no guide.
    """
    conventions: set[str] = set()
    sections: set[str] = set()
    for docname, old, new in _replace_digests(env, domain.data["shown_stances"], docnames, partial(_shown, env)):
        old, new = old or {}, new or {}
        changed = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
        if _SECTIONS in changed:
            sections.add(docname.rpartition("/")[2])
        conventions |= changed - {_SECTIONS}
    return conventions, sections


def _changed_samples(env: BuildEnvironment, domain: KnowledgeBaseDomain, docnames: set[str]) -> bool:
    """Whether one of these agents changed what the verification report shows of its samples."""
    pairs = _replace_digests(env, domain.data["shown_samples"], docnames, lambda a: _digest(samples_shown(env, a)))
    return any([old != new for _, old, new in pairs])  # a list: every digest is replaced


def _shown_of_page(env: BuildEnvironment, domain: KnowledgeBaseDomain, docname: str) -> tuple[str, str]:
    """Digests of what other pages show of a page: its title, its links to agent sections
    and the conventions it sets out (agent pages' back-links, the summaries); and its ids
    (the verification report links to some)."""
    links = sorted(
        (target, link.anchor, link.label)
        for target, found in domain.agent_links.items()
        for link in found
        if link.docname == docname
    )
    placed = sorted((p.id, p.anchor) for p in domain.conventions.values() if p.docname == docname)
    title = env.titles[docname].astext() if docname in env.titles else ""
    return (
        _digest((title, links, placed)),
        _digest(sorted(domain.anchors.get(docname, ()))),
    )


def _changed_pages(env: BuildEnvironment, domain: KnowledgeBaseDomain, pages: set[str]) -> tuple[set[str], bool]:
    """Of the pages (not agents) that changed, came or went: those whose title, links to
    agents or conventions changed (an edit to a guide's prose changes none), and whether
    any page's ids changed."""
    known: dict[str, tuple[str, str]] = domain.data["shown_pages"]
    changed, anchors_moved = set(), False
    for docname in pages:
        old = known.pop(docname, None)
        new = _shown_of_page(env, domain, docname) if docname in env.found_docs else None
        if old is None or new is None or old[0] != new[0]:
            changed.add(docname)
        anchors_moved |= old is None or new is None or old[1] != new[1]
        if new is not None:
            known[docname] = new
    return changed, anchors_moved


def on_builder_inited(app: Sphinx) -> None:
    """Read which of the reference service's tests checks which convention."""
    if not app.config.agentkb_conformance_tests:
        return
    path = Path(app.srcdir) / app.config.agentkb_conformance_tests
    label = app.config.agentkb_conformance_tests
    state = build_state(app.env)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        # Parsing the test module costs a tenth of a second: once per version of it.
        state.service_tests = state.cache.get(
            "conformance", f"{label}\0{digest}", partial(conformance_tests, path, label), keep=lambda _: True
        )
    except OSError as exc:
        logger.warning(
            "cannot read the service's conformance tests (agentkb_conformance_tests): %s: %s",
            exc.strerror,
            path,
            type="agentkb",
            subtype="conformance",
        )
    except SyntaxError as exc:
        logger.warning("%s", exc.msg, location=f"{path}:{exc.lineno}", type="agentkb", subtype="conformance")
    except ConformanceError as exc:
        logger.warning("%s", exc.message, location=f"{exc.path}:{exc.line}", type="agentkb", subtype="conformance")


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    agent = catalog(app.env).by_docname(app.env.docname)
    if agent is not None:
        domain: KnowledgeBaseDomain = app.env.domains["kb"]  # type: ignore[assignment]
        domain.note_agent(agent.docname, agent.fingerprint)


def on_env_check_consistency(app: Sphinx, env: BuildEnvironment) -> None:
    """Every convention of the rulebook is set out on its guide."""
    placed = env.domains["kb"].data["conventions"]
    for conv in build_state(env).rulebook:
        if conv.id not in placed and conv.guide in env.found_docs:
            logger.warning(
                "convention %s is in the rulebook but not on %s: add a {kb:convention} %s block",
                conv.id,
                conv.guide,
                conv.id,
                location=f"{conv.path}:{conv.line}",
                type="agentkb",
                subtype="convention",
            )


def setup(app: Sphinx) -> None:
    app.add_config_value("agentkb_conformance_tests", "tests/service/test_conformance.py", "env", types=[str])
    app.add_domain(KnowledgeBaseDomain)
    app.connect("builder-inited", on_builder_inited)
    app.add_node(StancesPlaceholder)
    app.connect("env-check-consistency", on_env_check_consistency)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.connect("doctree-read", on_doctree_read)
    app.connect("env-get-outdated", on_env_get_outdated)
    app.connect("env-get-updated", on_env_get_updated)
    app.connect("warn-missing-reference", _warn_missing_agent_section)
