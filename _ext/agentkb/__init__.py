"""agentkb: a Sphinx extension that builds a knowledge base from Claude Code agent files.

One module per concern, each with its own ``setup``; this one registers them all.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

from . import agent_spec, cards, conventions, ingest, lexers, links, llms, search, verification

__version__ = "0.1.0"


def setup(app: Sphinx) -> dict[str, Any]:
    for concern in (ingest, cards, links, lexers, conventions, agent_spec, verification, search, llms):
        concern.setup(app)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
