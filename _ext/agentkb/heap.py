"""Keeping the build's long-lived objects out of the garbage collector's way.

A build holds a large heap that lives until the process ends: the environment loaded
from the last build, the agents' facts and stances, and, once every page is read, what
was read. Python's cyclic garbage collector rescans all of it at every full collection,
and the pages' doctrees allocate enough to trigger several per build: at 207 agents a
full collection takes about 0.2 s and an incremental build ran four or five of them. The
interpreter's shutdown runs more (about 0.6 s of a 4 s build, for memory the operating
system reclaims anyway).

:func:`gc.freeze` moves every object tracked so far into a generation that collections
skip. The heap is frozen once the environment is loaded (before any page is read) and
again once every page is read (before writing); objects made after that are collected
as usual. ``build-finished`` unfreezes it, so a process that builds several times (the
tests build tiny sites in-process) loses nothing it would otherwise have collected; and
the process freezes it again as it exits. sphinx-autobuild runs each build in a process
of its own.
"""

from __future__ import annotations

import atexit
import gc
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx


def _freeze(*_: Any) -> None:
    gc.freeze()


def _unfreeze(app: Sphinx, exception: BaseException | None) -> None:
    gc.unfreeze()


def setup(app: Sphinx) -> None:
    # Last in line: the catalogue and the rulebook are loaded by then, and, at env-updated,
    # every handler that adds to the environment has run.
    app.connect("env-before-read-docs", _freeze, priority=900)
    app.connect("env-updated", _freeze, priority=900)
    app.connect("build-finished", _unfreeze, priority=900)
    # Once per process however many builds it runs. atexit runs handlers last-registered
    # first, before the interpreter clears its modules: the freeze comes before the
    # collections it is meant to skip.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
