"""agentkb: a Sphinx extension that builds a knowledge base from Claude Code agent files.

One module per concern; :func:`setup` registers them all.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

from . import agent_spec, cards, conventions, ingest, lexers, links, verification


def setup(app: Sphinx) -> dict[str, Any]:
    ingest.setup(app)
    lexers.setup(app)
    conventions.setup(app)
    verification.setup(app)
    app.add_transform(links.OutsideLinks)
    app.add_directive("agent-card", cards.AgentCardDirective)
    app.add_directive("agent-cards", cards.AgentCardsDirective)
    app.add_directive("agent-comparison", cards.AgentComparisonDirective)
    app.add_directive("agent-openapi", agent_spec.AgentOpenApiDirective)
    app.add_directive("agent-openapi-report", agent_spec.AgentOpenApiReportDirective)
    app.add_directive("service-openapi", agent_spec.ServiceOpenApiDirective)
    return {"version": "0.1.0", "parallel_read_safe": True, "parallel_write_safe": True}
