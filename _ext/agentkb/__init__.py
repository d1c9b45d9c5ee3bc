"""agentkb: a Sphinx extension that builds a knowledge base from Claude Code agent files.

One module per concern, each with its own ``setup``; this one registers them all. They
are imported only when Sphinx loads the extension, so that ``agentkb check`` (which
needs none of them) starts without importing Sphinx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx

__version__ = "0.1.0"


def setup(app: Sphinx) -> dict[str, Any]:
    from . import (
        a11y,
        accuracy,
        agent_spec,
        assets,
        buildtimes,
        cards,
        checker_docs,
        conventions,
        evidence,
        guide_index,
        heap,
        ingest,
        lexers,
        links,
        llms,
        load_figures,
        matrix,
        navigation,
        page_source,
        pagefind,
        published,
        search,
        serial_rebuilds,
        verification,
    )

    concerns = (
        ingest,
        cards,
        links,
        lexers,
        conventions,
        evidence,
        matrix,
        published,
        agent_spec,
        verification,
        search,
        llms,
        checker_docs,
        accuracy,
        pagefind,
        a11y,
        assets,
        page_source,
        guide_index,
        buildtimes,
        load_figures,
        navigation,
        heap,
        serial_rebuilds,
    )
    for concern in concerns:
        concern.setup(app)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
