"""Per-build state of agentkb, kept on the build environment behind one typed accessor.

The catalogue of agents, the rulebook and what is derived from them are loaded once per
build, at ``builder-inited``, before any page is read, and so exist in every process of a
parallel build. They are not pickled with the environment: each build loads them afresh,
which costs less than finding out whether they are still current.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .cache import DerivedCache

if TYPE_CHECKING:
    import subprocess

    from sphinx.environment import BuildEnvironment

    from .ingest import Catalog
    from .navigation import FolderTree
    from .rulebook import Rulebook
    from .samples import SidecarError, Verdict
    from .stances import AgentStances


@dataclass
class BuildState:
    catalog: Catalog
    rulebook: Rulebook
    #: Facts and stances of unchanged agents, kept from the previous build.
    cache: DerivedCache = field(default_factory=lambda: DerivedCache(None, ""))
    #: agent slug -> the verdicts on its code samples (see :mod:`agentkb.verification`).
    verdicts: dict[str, list[Verdict]] = field(default_factory=dict)
    #: agent slug -> why its samples sidecar cannot be applied (its verdicts are then []).
    sidecar_errors: dict[str, SidecarError] = field(default_factory=dict)
    #: agent slug -> its stances, computed when a page first needs them.
    stances: dict[str, AgentStances] = field(default_factory=dict)
    #: The conventions with every agent's stances (see :mod:`agentkb.published`), once made.
    conventions_document: dict[str, Any] | None = None
    #: convention ID -> the reference service's test that checks it (see :mod:`agentkb.conformance`).
    service_tests: dict[str, str] = field(default_factory=dict)
    #: The documents found added, changed or removed when the build began.
    touched_docs: set[str] = field(default_factory=set)
    #: Agents that a page being re-read linked to before: their back-links may change.
    unlinked_agents: set[str] = field(default_factory=set)
    #: folder -> the sidebar's toctree HTML for its pages, no entry current (see :mod:`agentkb.navigation`).
    navigation: dict[str, str] = field(default_factory=dict)
    #: Furo's navigation HTML of a folder -> where its entries are.
    navigation_trees: dict[str, FolderTree] = field(default_factory=dict)
    #: source path -> Unix time of the last commit touching it (see :mod:`agentkb.page_source`).
    page_dates: dict[str, int] = field(default_factory=dict)
    #: Pagefind while it indexes the site, and the pages it indexes (see :mod:`agentkb.pagefind`).
    pagefind: tuple[subprocess.Popen[str], list[str]] | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled with the environment, it comes back empty: the next build reloads it.
        return (_unloaded, ())


def _unloaded() -> None:
    return None


_ATTRIBUTE = "agentkb_state"


def build_state(env: BuildEnvironment) -> BuildState:
    state = getattr(env, _ATTRIBUTE, None)
    if state is None:
        raise RuntimeError("agentkb's build state is loaded at builder-inited; nothing may use it earlier")
    return state


def set_build_state(env: BuildEnvironment, state: BuildState) -> None:
    setattr(env, _ATTRIBUTE, state)
