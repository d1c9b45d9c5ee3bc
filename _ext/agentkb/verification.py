"""What became of every code block on the site, shown on the page: badges and the report.

The classification is :mod:`agentkb.samples`, which knows nothing about Sphinx: agents'
samples from their language and their sidecar, hand-written pages' Python blocks from
Sybil's own parsers. This module puts a status line before each block and builds the
verification report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docutils import nodes
from docutils.utils.smartquotes import educate_tokens
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from . import tables
from .ingest import Agent, catalog
from .samples import (
    STATUS_TITLES,
    STATUSES,
    SidecarError,
    Verdict,
    classify,
    page_blocks,
    sidecar_path,
)
from .state import build_state

if TYPE_CHECKING:
    from .conventions import KnowledgeBaseDomain

__all__ = ["STATUSES", "STATUS_TITLES", "SidecarError", "Verdict", "classify", "sidecar_path"]

logger = logging.getLogger(__name__)

# --- On the page ---------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """What the badge line before one code block says."""

    kind: str  # a status, or "skipped" on hand-written pages
    text: str
    detail: str = ""
    #: "docname" or "docname#anchor" of the corrected version.
    corrected: str = ""
    anchor: str = ""


_BADGE_COLOURS = {
    "runs": "success",
    "runs-with-setup": "success",
    "needs-python": "warning",
    "does-not-run": "danger",
    "not-executed": "secondary",
    "skipped": "secondary",
    "replayed": "success",
}
_PASSED = {
    "python": "runs",
    "json": "valid JSON",
    "toml": "valid TOML",
    "yaml": "valid YAML",
    "openapi": "valid OpenAPI",
    "tsc": "type-checks",
}
_FAILED = {"python": "does not run", "tsc": "does not type-check"}


def agent_status(verdict: Verdict) -> Status:
    if verdict.status == "not-executed":
        return Status("not-executed", "not executed", f"{verdict.language} ({verdict.reason})", anchor=verdict.anchor)
    if verdict.status == "does-not-run":
        failed = _FAILED.get(verdict.check, "invalid")
        return Status(
            "does-not-run", failed, verdict.reason, corrected=verdict.value("corrected") or "", anchor=verdict.anchor
        )
    if verdict.status == "needs-python":
        return Status("needs-python", f"needs Python {verdict.value('python')}", verdict.reason, anchor=verdict.anchor)
    text = _PASSED[verdict.check]
    if verdict.value("schema"):
        text += ", follows the agent's envelope"
    if verdict.status == "runs-with-setup":
        text += " with set-up"
    return Status(verdict.status, text, anchor=verdict.anchor)


def _status_node(status: Status) -> nodes.paragraph:
    line = nodes.paragraph(classes=["kb-status", f"kb-status-{status.kind}"])
    colour = _BADGE_COLOURS[status.kind]
    line += nodes.inline(status.text, status.text, classes=["sd-badge", f"sd-bg-{colour}", f"sd-bg-text-{colour}"])
    if status.detail:
        line += nodes.inline("", "", nodes.Text(" "), *_inline(status.detail), classes=["kb-status-detail"])
    if status.corrected:
        line += nodes.Text(" → ")
        line += _link("corrected version", status.corrected)
    if status.anchor:
        line["ids"].append(status.anchor)
    return line


def _inline(text: str) -> list[nodes.Node]:
    """Text with `backticks` as inline code, which also keeps smart quotes out of code."""
    return [
        nodes.literal(part, part) if index % 2 else nodes.Text(part)
        for index, part in enumerate(text.split("`"))
        if part
    ]


def _link(text: str, target: str) -> nodes.reference:
    """A link to ``docname[#anchor]``, given its URI once the writer's page is known."""
    docname, _, anchor = target.partition("#")
    reference = nodes.reference(text, text, internal=True, refuri="")
    reference["kb_target"] = docname.lstrip("/")
    reference["kb_anchor"] = anchor
    return reference


def _handwritten(doctree: nodes.document, text: str, path: str) -> list[tuple[nodes.Element, Status]]:
    """Statuses of a hand-written page's blocks: what Sybil does with each (see agentkb.samples)."""
    collected = [block for block in page_blocks(text, path) if not block.invisible]
    found: list[tuple[nodes.Element, Status]] = []
    for node in doctree.findall(nodes.Element):
        if not isinstance(node, (nodes.literal_block, nodes.doctest_block)):
            continue
        language = "python" if isinstance(node, nodes.doctest_block) else node.get("language", "")
        language = "text" if language in ("", "default", "text", "none") else language
        included = node.get("source") and Path(node["source"]).suffix != ".md"
        # A fenced block is one example, starting at its fence; a doctest block one per ``>>>`` in it.
        last = (node.line or 0) + node.astext().count("\n") + 1
        python = language in ("python", "py", "pycon")
        block = (
            None
            if included or not python or node.line is None
            else next((b for b in collected if node.line <= b.line <= last), None)
        )
        if node.get("kb_replayed"):  # an OpenAPI example of the reference service
            found.append((node, Status("replayed", "replayed against the service")))
        elif included:
            found.append(
                (
                    node,
                    Status("not-executed", "not executed", f"{language} (included from {Path(node['source']).name})"),
                )
            )
        elif block is None:
            detail = f"{language} (Sybil does not collect this block)" if python and not included else language
            found.append((node, Status("not-executed", "not executed", detail)))
        elif block.status == "skipped":
            found.append((node, Status("skipped", "skipped", block.reason)))
        elif block.status == "skipped-if":
            found.append((node, Status("skipped", "skipped if", f"`{block.reason}`")))
        elif block.status == "runs-with-setup":
            found.append((node, Status("runs-with-setup", "runs with set-up")))
        else:
            found.append((node, Status("runs", "runs")))
    return found


def _agent_blocks(doctree: nodes.document, verdicts: list[Verdict]) -> list[tuple[nodes.Element, Status]]:
    by_line = {v.line: v for v in verdicts}
    by_code = {v.sample.code.rstrip("\n"): v for v in verdicts}
    found: list[tuple[nodes.Element, Status]] = []
    used: dict[str, int] = {}
    for node in doctree.findall(nodes.literal_block):
        verdict = (by_line.get(node.line) if node.line else None) or by_code.get(node.astext().rstrip("\n"))
        if verdict is None:  # a block added by a directive, not one of the agent's samples
            found.append((node, Status("not-executed", "not executed", node.get("language") or "text")))
            continue
        status = agent_status(verdict)
        used[status.anchor] = used.get(status.anchor, 0) + 1
        if used[status.anchor] > 1:  # the same code twice on one page
            status = Status(
                status.kind, status.text, status.detail, status.corrected, f"{status.anchor}-{used[status.anchor]}"
            )
        found.append((node, status))
    return found


def verdicts_for(env: BuildEnvironment, slug: str) -> list[Verdict]:
    """An agent's verdicts, classified when first needed (once per build and process)."""
    state = build_state(env)
    if slug not in state.verdicts:
        agent = catalog(env).by_slug(slug)
        if agent is None:
            return []
        try:
            state.verdicts[slug] = classify(agent.definition, agent.facts)
        except SidecarError as exc:
            state.sidecar_errors[slug] = exc
            state.verdicts[slug] = []
    return state.verdicts[slug]


def samples_shown(env: BuildEnvironment, agent: Agent) -> tuple[object, ...]:
    """What the report shows of an agent's samples: its title and page, each verdict (line,
    status, reason, the sample and its sidecar entry) and any sidecar error."""
    verdicts = verdicts_for(env, agent.slug)
    return (agent.title, agent.docname, verdicts, build_state(env).sidecar_errors.get(agent.slug))


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    agent = catalog(app.env).by_docname(app.env.docname)
    if agent is not None:
        if (sidecar := sidecar_path(agent.definition.path)).exists():
            app.env.note_dependency(str(sidecar))
        verdicts = verdicts_for(app.env, agent.slug)
        # Reported with the page that shows the samples, so once per build whatever reads it.
        if exc := build_state(app.env).sidecar_errors.get(agent.slug):
            logger.warning("%s", exc.message, location=f"{exc.path}:{exc.line}", type="agentkb", subtype="sidecar")
        blocks = _agent_blocks(doctree, verdicts)
    else:
        path = app.env.doc2path(app.env.docname)
        blocks = _handwritten(doctree, Path(path).read_text("utf-8"), str(path))
    for node, status in blocks:
        node.parent.insert(node.parent.index(node), _status_node(status))


class FillReport(SphinxPostTransform):
    """Makes the report's parts when the page is written: before Furo wraps each table
    (at 500) so that it scrolls on a narrow screen."""

    default_priority = 400

    def run(self, **kwargs: Any) -> None:
        for placeholder in list(self.document.findall(ReportPlaceholder)):
            part = report_part(self.env, placeholder["part"])
            if self.config.smartquotes:
                for paragraph in part.findall(nodes.paragraph):
                    _educate(paragraph)
            placeholder.replace_self(part)


def _educate(paragraph: nodes.paragraph) -> None:
    """Curly quotes and dashes, as Sphinx's smart quotes give the text of pages it reads."""
    texts = list(paragraph.findall(nodes.Text))
    tokens = [("literal" if isinstance(t.parent, nodes.literal) else "plain", str(t)) for t in texts]
    for text, educated in zip(texts, educate_tokens(tokens, attr="qDe", language="en"), strict=True):
        if educated != str(text):
            text.parent.replace(text, nodes.Text(educated))


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for reference in doctree.findall(nodes.reference):
        target = reference.get("kb_target")
        if target is None:
            continue
        anchor = reference["kb_anchor"]
        if target not in app.env.all_docs:
            logger.warning(
                "link to a missing page %r", target, location=reference, type="agentkb", subtype="verification"
            )
            continue
        if anchor and not _has_anchor(app, target, anchor):
            logger.warning(
                "link to a missing anchor %r on %r",
                anchor,
                target,
                location=reference,
                type="agentkb",
                subtype="verification",
            )
        uri = app.builder.get_relative_uri(docname, target)
        reference["refuri"] = f"{uri}#{anchor}" if anchor else uri


def _has_anchor(app: Sphinx, docname: str, anchor: str) -> bool:
    domain: KnowledgeBaseDomain = app.env.domains["kb"]  # type: ignore[assignment]
    return anchor in domain.anchors.get(docname, ())


def note_anchors(app: Sphinx, doctree: nodes.document) -> None:
    """Keep the ids of every page as read, for checking links to them without loading it."""
    domain: KnowledgeBaseDomain = app.env.domains["kb"]  # type: ignore[assignment]
    domain.anchors[app.env.docname] = {i for node in doctree.findall(nodes.Element) for i in node["ids"]}


# --- The report ------------------------------------------------------------------


def _table(header: list[str], rows: list[list[Any]]) -> nodes.table:
    return tables.table(header, (tables.row(cells) for cells in rows), classes=["kb-verification-table"])


def _counts(verdicts: list[Verdict]) -> list[int]:
    counts = [sum(1 for v in verdicts if v.status == status) for status in STATUSES]
    return [*counts, len(verdicts)]


class ReportPlaceholder(nodes.General, nodes.Element):
    """A part of the verification report, made when the page is written (FillReport): an
    agent's edit then rewrites the report without re-reading it."""


_PARTS = ("agents", "languages", "does-not-run")


class AgentVerificationDirective(SphinxDirective):
    """Part of the verification report, from the sidecars and the classification.

    ``agents`` and ``languages`` count samples per status; ``does-not-run`` lists
    the samples that fail, with the reason and the corrected version.
    """

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        part = self.arguments[0]
        if part not in _PARTS:
            raise self.error(f"the argument must be {', '.join(_PARTS[:-1])} or {_PARTS[-1]}, not {part!r}")
        domain: KnowledgeBaseDomain = self.env.domains["kb"]  # type: ignore[assignment]
        domain.note_aggregate(self.env.docname, shows="samples")
        return [ReportPlaceholder(part=part)]


def report_part(env: BuildEnvironment, part: str) -> nodes.Element:
    agents = catalog(env).agents
    every = [v for agent in agents for v in verdicts_for(env, agent.slug)]
    header = [STATUS_TITLES[s] for s in STATUSES] + ["total"]
    if part == "agents":
        rows: list[list[Any]] = [
            [[_link(agent.title, agent.docname)], *_counts(verdicts_for(env, agent.slug))] for agent in agents
        ]
        return _table(["agent", *header], [*rows, ["all agents", *_counts(every)]])
    if part == "languages":
        languages = sorted({v.language for v in every})
        rows = [[lang, *_counts([v for v in every if v.language == lang])] for lang in languages]
        return _table(["language", *header], rows)
    failing = nodes.bullet_list()
    for agent in agents:
        for verdict in verdicts_for(env, agent.slug):
            if verdict.status == "does-not-run":
                failing += nodes.list_item("", _failing_item(agent.title, agent.docname, verdict))
    return failing if failing.children else nodes.paragraph(text="None.")


def _failing_item(title: str, docname: str, verdict: Verdict) -> nodes.paragraph:
    item = nodes.paragraph()
    item += _link(f"{title}, line {verdict.line}", f"{docname}#{verdict.anchor}")
    kind = verdict.expected_error[0]
    item += nodes.Text(f" ({verdict.language}, fails with ")
    item += nodes.literal(kind, kind)
    item += nodes.Text("): ")
    item.extend(_inline(verdict.reason))
    item += nodes.Text(" → ")
    item += _link("corrected version", verdict.value("corrected") or "")
    return item


def setup(app: Sphinx) -> None:
    app.connect("doctree-read", on_doctree_read)
    # After every handler that adds ids (the samples' statuses above among them).
    app.connect("doctree-read", note_anchors, priority=900)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.add_node(ReportPlaceholder)
    app.add_post_transform(FillReport)
    app.add_directive("agent-verification", AgentVerificationDirective)
    app.add_css_file("verification.css")
