"""``{detection-accuracy}``: how well the rulebook's rules detect stances, measured.

Precision comes from the hand review of detections on real agent files nobody here
wrote (``agentkb_detection_review``); recall from the reviewed agents of this build,
as :func:`agentkb.published.conventions_document` has them. Both are worked out when
the page is written, so the figures are never older than the rules and reviews.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from . import tables
from .published import conventions_document
from .rulebook import RULE_KINDS, STANCES
from .scoring import load_detection_review, precision, recall
from .state import build_state


class AccuracyPlaceholder(nodes.General, nodes.Element):
    """Filled in when the page is written, once every agent's stances are known."""


class DetectionAccuracyDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        review = Path(self.env.srcdir) / self.config.agentkb_detection_review
        if not review.is_file():
            raise self.error(
                f"no detection review at {self.config.agentkb_detection_review} (the agentkb_detection_review setting)"
            )
        domain: Any = self.env.domains["kb"]  # agentkb.conventions.KnowledgeBaseDomain
        domain.note_aggregate(self.env.docname, shows="stances")
        self.env.note_dependency(str(review))
        return [AccuracyPlaceholder()]


def _percent(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "–"


def accuracy_nodes(app: Sphinx) -> list[nodes.Node]:
    rulebook = build_state(app.env).rulebook
    entries = load_detection_review(Path(app.srcdir) / app.config.agentkb_detection_review)
    by_kind = precision(entries, rulebook)
    rules = Counter(rule.kind for rule in rulebook.active_rules)
    files = {e["file"] for e in entries}
    precision_table = tables.table(
        ["Rule kind", "Active rules", "Detections reviewed", "Judged correct", "Precision"],
        [
            tables.row([kind, rules[kind], by_kind[kind].total, by_kind[kind].hits, _percent(by_kind[kind].ratio)])
            for kind in RULE_KINDS
        ],
        classes=["kb-accuracy"],
    )
    document = conventions_document(app.env)
    reviewed_agents = [a["title"] for a in document["agents"] if a["reviewed"]]
    scores = recall(s for conv in document["conventions"] for s in conv["stances"])
    recall_table = tables.table(
        ["Reviewed stance", "Reviewed", "Also found by a rule", "Recall"],
        [
            tables.row([kind, scores[kind].total, scores[kind].hits, _percent(scores[kind].ratio)])
            for kind in (*STANCES, "all")
        ],
        classes=["kb-accuracy"],
    )
    return [
        nodes.paragraph(
            "",
            f"Precision: {len(entries)} detections reviewed by hand in {len(files)} agent files of a public catalogue.",
        ),
        precision_table,
        nodes.paragraph(
            "", f"Recall: the stances reviewed by hand on {len(reviewed_agents)} agents ({', '.join(reviewed_agents)})."
        ),
        recall_table,
    ]


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for placeholder in list(doctree.findall(AccuracyPlaceholder)):
        placeholder.replace_self(accuracy_nodes(app))


def setup(app: Sphinx) -> None:
    app.add_config_value("agentkb_detection_review", "guides/detection-review.toml", "env", types=[str])
    app.add_node(AccuracyPlaceholder)
    app.add_directive("detection-accuracy", DetectionAccuracyDirective)
    app.connect("doctree-resolved", on_doctree_resolved)
