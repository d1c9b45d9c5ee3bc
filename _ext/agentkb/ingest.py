"""Turn every file in ``agents/definitions/`` into a page of the site.

Sphinx builds documents from files, so for each definition this module keeps a
tiny generated stub ``agents/<slug>.md`` (git-ignored, rewritten only when it
would change, so live-reload does not loop). When Sphinx reads a stub, the
``source-read`` handler swaps in the page text: a title and the metadata card in
place of the front matter, then the raw body. The front matter is replaced by the
same number of lines, so a line number in a message about the body is also its
line in the raw file.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from myst_parser.mdit_to_docutils.base import compute_unique_slug
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.errors import SphinxError
from sphinx.util import logging

from .cache import DerivedCache, code_digest
from .definitions import AgentDefinition, definition_files
from .detect import validate_rulebook
from .facts import AgentFacts, measure
from .rulebook import Rulebook, RulebookError, default_rulebook, load_rulebook
from .state import BuildState, build_state, set_build_state
from .validation import Finding, check_folder

logger = logging.getLogger(__name__)

STUB_MARKER = "<!-- agentkb: generated from definitions/"
AGENTS_DIR = "agents"
PROVENANCE = "provenance.toml"
#: The files beside a definition that pages about it depend on (agentkb.stances, agentkb.verification).
SIDECAR_SUFFIXES = (".stances.toml", ".samples.toml")


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    level: int
    #: 1-based line of the heading in the raw file.
    line: int


@dataclass(frozen=True)
class Agent:
    definition: AgentDefinition
    docname: str
    title: str
    findings: tuple[Finding, ...]

    @property
    def slug(self) -> str:
        return self.definition.slug

    @cached_property
    def sections(self) -> tuple[Section, ...]:
        """The body's headings with the HTML anchors MyST gives them on the page."""
        return tuple(_sections(page_source(self, conventions=False), self.definition.body_start_line))

    @cached_property
    def facts(self) -> AgentFacts:
        return measure(self.definition.body)

    @cached_property
    def fingerprint(self) -> str:
        """The SHA-256 of the file and of its sidecars: what every page showing the agent rests on."""
        digest = hashlib.sha256(self.definition.raw)
        for suffix in SIDECAR_SUFFIXES:
            sidecar = self.definition.path.with_name(self.definition.path.stem + suffix)
            digest.update(b"\0" + suffix.encode() + b"\0")
            if sidecar.is_file():
                digest.update(sidecar.read_bytes())
        return digest.hexdigest()

    def section(self, anchor: str) -> Section | None:
        return next((s for s in self.sections if s.anchor == anchor), None)


@dataclass(frozen=True)
class Catalog:
    """All agents of the site, loaded once per build, before any page is read."""

    folder: Path
    agents: tuple[Agent, ...]
    errors: tuple[Finding, ...]
    #: slug -> where the file was imported from, when ``provenance.toml`` records it.
    provenance: dict[str, dict[str, str]]

    @cached_property
    def _by_docname(self) -> dict[str, Agent]:
        return {a.docname: a for a in self.agents}

    @cached_property
    def _by_slug(self) -> dict[str, Agent]:
        return {a.slug: a for a in self.agents}

    @cached_property
    def docnames(self) -> frozenset[str]:
        return frozenset(self._by_docname)

    def by_docname(self, docname: str) -> Agent | None:
        return self._by_docname.get(docname)

    def by_slug(self, slug: str) -> Agent | None:
        return self._by_slug.get(slug)


def catalog(env: BuildEnvironment) -> Catalog:
    return build_state(env).catalog


def _titles(definitions: list[AgentDefinition]) -> dict[str, str]:
    names = [d.name for d in definitions]
    counts = Counter(names)
    return {d.slug: d.name if counts[d.name] == 1 else f"{d.name} · {d.slug}" for d in definitions}


def load_catalog(srcdir: Path, folder: str) -> Catalog:
    folder_path = srcdir / folder
    definitions, findings = check_folder(definition_files(folder_path))
    titles = _titles(definitions)
    by_path: dict[Path, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    agents = tuple(
        Agent(
            definition=d,
            docname=f"{AGENTS_DIR}/{d.slug}",
            title=titles[d.slug],
            findings=tuple(by_path.get(d.path, ())),
        )
        for d in definitions
    )
    loaded = {d.path for d in definitions}
    errors = tuple(f for f in findings if f.severity == "error" or f.path not in loaded)
    provenance_file = folder_path / PROVENANCE
    provenance = tomllib.loads(provenance_file.read_text("utf-8")) if provenance_file.exists() else {}
    return Catalog(folder=folder_path, agents=agents, errors=errors, provenance=provenance)


class RulebookUnusable(SphinxError):
    """Stops the build with the rulebook's file:line and message, without a traceback."""

    category = "agentkb rulebook error"


def _stub_text(agent: Agent) -> str:
    return f"{STUB_MARKER}{agent.definition.path.name}: edit that file, not this one -->\n"


def write_stubs(srcdir: Path, agents: tuple[Agent, ...]) -> None:
    out = srcdir / AGENTS_DIR
    wanted = {f"{a.slug}.md": _stub_text(a) for a in agents}
    for stale in out.glob("*.md"):
        if stale.name not in wanted and stale.read_text("utf-8").startswith(STUB_MARKER):
            stale.unlink()
    for name, text in wanted.items():
        path = out / name
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")


def on_builder_inited(app: Sphinx) -> None:
    srcdir = Path(app.srcdir)
    cat = load_catalog(srcdir, app.config.agentkb_definitions)
    for finding in cat.errors:
        # Errors fail a -W build; the warnings of the checker are shown on the page.
        logger.warning(
            "%s: %s",
            finding.code,
            finding.message,
            location=f"{finding.path}:{finding.line}",
            type="agentkb",
            subtype="definition",
        )
    folder = app.config.agentkb_rulebook
    try:
        rulebook = load_rulebook(srcdir / folder) if folder else default_rulebook()
        cache = DerivedCache(Path(app.doctreedir), code_digest(rulebook.files))
        # Checking every rule runs ast-grep on each: once per rulebook (the cache's key covers it).
        cache.get("rulebook checked", "", partial(_checked, rulebook))
    except RulebookError as exc:
        raise RulebookUnusable(str(exc)) from None
    for agent in cat.agents:
        # Agent is frozen: a cached_property's value lives in the instance's __dict__.
        agent.__dict__["facts"] = cache.get("facts", agent.definition.sha256, partial(measure, agent.definition.body))
    set_build_state(app.env, BuildState(catalog=cat, rulebook=rulebook, cache=cache))
    write_stubs(srcdir, cat.agents)


def _checked(rulebook: Rulebook) -> bool:
    validate_rulebook(rulebook)  # raises RulebookError
    return True


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is None:
        build_state(app.env).cache.save()


_md = MarkdownIt("commonmark")


def _promote_h1(body_lines: list[str], body: str) -> None:
    """The page title is the only H1: a body H1 becomes an H2, its text unchanged."""
    for token in _md.parse(body):
        if token.type != "heading_open" or token.tag != "h1" or token.map is None:
            continue
        start, end = token.map
        if token.markup == "#":
            body_lines[start] = re.sub(r"^(\s{0,3})#(?=\s|$)", r"\1##", body_lines[start])
        else:
            underline = end - 1
            body_lines[underline] = body_lines[underline].replace("=", "-")


#: After the agent's own text: its stances on the conventions (see agentkb.evidence).
CONVENTIONS_SECTION = "\n## Conventions\n\n```{{agent-conventions}} {slug}\n```\n"


def page_source(agent: Agent, *, conventions: bool = True) -> str:
    """The MyST text Sphinx parses for an agent page, lines aligned with the raw file."""
    header = [
        f"# {agent.title}\n",
        f"```{{agent-card}} {agent.slug}\n",
        "```\n",
    ]
    padding = max(0, agent.definition.body_start_line - 1 - len(header))
    body = agent.definition.body
    body_lines = body.splitlines(keepends=True)
    _promote_h1(body_lines, body)
    if body_lines and not body_lines[-1].endswith("\n"):
        body_lines[-1] += "\n"
    trailer = CONVENTIONS_SECTION.format(slug=agent.slug) if conventions else ""
    return "".join(header) + "\n" * padding + "".join(body_lines) + trailer


def _sections(source: str, body_start_line: int, depth: int = 4) -> list[Section]:
    slugs: set[str] = set()
    found = []
    for node in SyntaxTreeNode(_md.parse(source)).walk():
        if node.type != "heading" or int(node.tag[1]) > depth:
            continue
        slug = compute_unique_slug(node, slugs)
        slugs.add(slug)
        line = node.map[0] + 1 if node.map else 0
        if line >= body_start_line:
            title = "".join(c.content for c in node.children[0].children or [])
            found.append(Section(slug, title, int(node.tag[1]), line))
    return found


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    agent = catalog(app.env).by_docname(docname)
    if agent is None:
        return
    app.env.note_dependency(str(agent.definition.path))
    source[0] = page_source(agent)


def setup(app: Sphinx) -> None:
    app.add_config_value("agentkb_definitions", "agents/definitions", "env", types=[str])
    # A folder of rulebook YAML files, relative to the source folder; empty: the one agentkb ships.
    app.add_config_value("agentkb_rulebook", "", "env", types=[str])
    app.connect("builder-inited", on_builder_inited)
    app.connect("source-read", on_source_read)
    app.connect("build-finished", on_build_finished)
