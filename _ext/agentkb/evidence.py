"""Evidence on agent pages: line anchors, and the agent's stances on the conventions.

- Every line that a stance cites gets an anchor ``L<n>`` on the agent's page (on the
  paragraph, list item or code block holding it; in a code block the line is also
  highlighted), so a matrix cell or a guide links to the line itself.
- ``{agent-conventions} slug`` is the "Conventions" section at the end of each agent
  page: the agent's stances, reviewed or detected, each with its quoted evidence.
- A reviewed stance whose quote is no longer at its line, or a rule finding the review
  does not account for, fails the build naming the sidecar's file and line.

The decisions are :mod:`agentkb.stances`'s; this module renders them.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.environment import BuildEnvironment
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .detect import detect
from .ingest import Agent, catalog
from .stances import AgentStances, Evidence, Stance, agent_stances, sidecar_path
from .state import build_state

logger = logging.getLogger(__name__)

#: Symbols shared by the agent pages, the convention blocks and the matrix.
STANCE_SYMBOLS = {"states": "✓", "shows": "●", "mentions": "○", "contradicts": "✗"}
STANCE_MEANINGS = {
    "states": "says the rule",
    "shows": "a sample follows it",
    "mentions": "names the topic without the rule",
    "contradicts": "says or shows the opposite",
}


def stances_of(env: BuildEnvironment, agent: Agent) -> AgentStances:
    """The agent's stances, worked out once per build and process."""
    state = build_state(env)
    if agent.slug not in state.stances:

        def compute() -> AgentStances:
            detections = detect(agent.definition, state.rulebook.active_rules)
            return agent_stances(agent.definition, state.rulebook, detections)

        # Problems are exceptions, which do not pickle: those stances are worked out each time.
        state.stances[agent.slug] = state.cache.get(
            "stances", agent.fingerprint, compute, keep=lambda s: not s.problems
        )
    return state.stances[agent.slug]


def line_anchor(line: int) -> str:
    return f"L{line}"


def evidence_reference(
    builder: Builder, fromdocname: str, agent: Agent, evidence: Evidence, text: str | None = None
) -> nodes.reference:
    """A link to the cited line on the agent's page."""
    uri = builder.get_relative_uri(fromdocname, agent.docname) + "#" + line_anchor(evidence.line)
    ref = nodes.reference("", "", internal=True, refuri=uri, classes=["kb-evidence-line"])
    ref["reftitle"] = evidence.quote
    ref += nodes.Text(text or f"L{evidence.line}")
    return ref


def stance_badge(stance: Stance) -> nodes.inline:
    return nodes.inline(
        "",
        f"{STANCE_SYMBOLS[stance.stance]} {stance.stance}",
        classes=["kb-stance", f"kb-{stance.stance}", f"kb-{stance.source}"],
    )


def source_text(stance: Stance) -> str:
    if stance.source == "detected":
        return f"detected by rule {stance.rule}"
    # Which rule agrees is in conventions.json; the page only says that one does.
    return "reviewed; a rule agrees" if stance.rule else "reviewed"


def _quote_node(evidence: Evidence) -> nodes.inline:
    # Smart quotes would change the exact words being quoted.
    return nodes.inline("", evidence.quote, classes=["kb-quote"], support_smartquotes=False)


# -- line anchors -------------------------------------------------------------------------

_BLOCKS = (nodes.paragraph, nodes.literal_block, nodes.title, nodes.list_item, nodes.term, nodes.row, nodes.line)


def _block_starts(doctree: nodes.document, first_line: int) -> list[tuple[int, nodes.Element]]:
    """The blocks of the agent's own text, by the raw-file line they start on.

    The card's lines count from its directive, and the Conventions section's blocks
    have none: both are left out.
    """
    starts = []
    for node in doctree.findall(lambda n: isinstance(n, _BLOCKS)):
        if (
            isinstance(node, nodes.Element)
            and isinstance(node.line, int)
            and node.line >= first_line
            and not _in_card(node)
        ):
            starts.append((node.line, node))
    starts.sort(key=lambda pair: pair[0])
    return starts


def _in_card(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.Element) and "kb-agent-card" in parent.get("classes", ()):
            return True
        parent = parent.parent
    return False


def _code_start(node: nodes.literal_block) -> int:
    """The raw-file line of a fenced block's first code line (MyST gives the fence's line)."""
    return (node.line or 0) + 1


def add_line_anchors(doctree: nodes.document, lines: set[int], first_line: int) -> None:
    """Give the block holding each cited line the id ``L<line>``."""
    starts = _block_starts(doctree, first_line)
    for line in sorted(lines):
        holder = None
        for start, node in starts:
            if start > line:
                break
            holder = node
        if holder is None:
            continue
        holder["ids"].append(line_anchor(line))
        if isinstance(holder, nodes.literal_block):
            offset = line - _code_start(holder) + 1
            if offset >= 1:
                args: dict[str, Any] = holder.setdefault("highlight_args", {})
                args["hl_lines"] = sorted({*args.get("hl_lines", []), offset})


class AgentTextAsWritten(SphinxTransform):
    """An agent page shows the file's words as written: no smart quotes, which would
    make the text differ from the quotes that cite it."""

    default_priority = 500  # before SmartQuotes (750)

    def apply(self, **kwargs: object) -> None:
        if catalog(self.env).by_docname(self.env.docname) is not None:
            self.document["support_smartquotes"] = False


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    agent = catalog(app.env).by_docname(app.env.docname)
    if agent is None:
        return
    stances = stances_of(app.env, agent)
    lines = {e.line for s in stances.stances for e in s.evidence}
    lines |= {d.line for d in stances.dismissed}
    add_line_anchors(doctree, lines, agent.definition.body_start_line)


# -- the agent's "Conventions" section ----------------------------------------------------


class AgentConventionsDirective(SphinxDirective):
    """The stances of one agent, grouped by convention, each with its evidence."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        agent = catalog(self.env).by_slug(self.arguments[0])
        if agent is None:
            raise self.error(f"no agent definition with the slug {self.arguments[0]!r}")
        rulebook = build_state(self.env).rulebook
        for path in rulebook.files:
            self.env.note_dependency(str(path))
        # Sphinx re-reads a page whose dependency is missing, at every build: only an
        # existing sidecar is one (a sidecar added later: see conventions.new_sidecars).
        if (sidecar := sidecar_path(agent.definition.path)).exists():
            self.env.note_dependency(str(sidecar))
        stances = stances_of(self.env, agent)
        for problem in stances.problems:
            logger.warning(
                "%s", problem.message, location=f"{problem.path}:{problem.line}", type="agentkb", subtype="evidence"
            )
        intro = nodes.paragraph()
        if stances.reviewed:
            intro += nodes.Text(
                "A person reviewed this agent against every convention of the guides; "
                "a convention not listed here is one it is silent on. Rules that agree "
                "with the review are named."
            )
        else:
            intro += nodes.Text(
                "Nobody has reviewed this agent: these stances were detected by the "
                "rulebook's rules, and a convention not listed is one no rule found. "
            )
        # One container, so that the generated section can be told from the agent's own.
        out = nodes.container(classes=["kb-agent-conventions"])
        out += intro
        if not stances.stances:
            out += nodes.paragraph("", "No stance on any convention.")
            return [out]
        items = nodes.bullet_list(classes=["kb-agent-stances"])
        for conv_id in stances.conventions():
            conv = rulebook.get(conv_id)
            item = nodes.paragraph()
            ref = nodes.strong("", conv_id)
            xref = _conv_xref(conv_id, self.env.docname, ref)
            item += xref
            if conv is not None:
                item += nodes.Text(f" ({conv.level}) {conv.title}")
            sub = nodes.bullet_list()
            for stance in stances.cell(conv_id):
                para = nodes.paragraph()
                para += stance_badge(stance)
                para += nodes.Text(" ")
                for index, evidence in enumerate(stance.evidence):
                    if index:
                        para += nodes.Text("; ")
                    para += nodes.reference(
                        "", f"line {evidence.line}", refid=line_anchor(evidence.line), classes=["kb-evidence-line"]
                    )
                    para += nodes.Text(" ")
                    para += _quote_node(evidence)
                para += nodes.inline("", f" — {source_text(stance)}", classes=["kb-stance-source"])
                if stance.note:
                    para += nodes.inline("", f". {stance.note}", classes=["kb-stance-note"])
                sub += nodes.list_item("", para)
            items += nodes.list_item("", item, sub)
        out += items
        if stances.dismissed:
            out += nodes.paragraph("", "Rule findings the reviewer set aside, and why:")
            dismissed = nodes.bullet_list(classes=["kb-dismissed"])
            for d in stances.dismissed:
                para = nodes.paragraph()
                para += nodes.literal("", d.rule)
                para += nodes.Text(" at ")
                para += nodes.reference("", f"line {d.line}", refid=line_anchor(d.line))
                para += nodes.Text(f": {d.why}")
                dismissed += nodes.list_item("", para)
            out += dismissed
        return [out]


def _conv_xref(conv_id: str, docname: str, content: nodes.Node) -> nodes.Node:
    ref = pending_xref(
        "", refdomain="kb", reftype="conv", reftarget=conv_id, refdoc=docname, refexplicit=True, refwarn=True
    )
    ref += content
    return ref


def setup(app: Sphinx) -> None:
    app.add_transform(AgentTextAsWritten)
    app.add_directive("agent-conventions", AgentConventionsDirective)
    app.connect("doctree-read", on_doctree_read)
