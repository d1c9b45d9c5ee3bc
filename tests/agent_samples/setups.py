"""Set-ups a sidecar names (``setup = "<function>"``): context managers that give a
sample the surroundings it was written in, as real objects, for the time it runs.

Each receives the sample's namespace. They supply the project (its modules, its
application object), never a name the sample itself forgot to import.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from fastapi import FastAPI

from . import fastapi_team

PROJECT = Path(__file__).parent / "project"


@contextmanager
def fastapi_app(namespace: dict[str, Any]) -> Iterator[None]:
    """``app``: a bare FastAPI application, for samples that add to the one of an earlier sample."""
    namespace["app"] = FastAPI()
    yield


@contextmanager
def fastapi_team_app(namespace: dict[str, Any]) -> Iterator[None]:
    """``app``: the users API of the fastapi-team agent's samples, made to run (on SQLite)."""
    namespace["app"] = fastapi_team.create_app()
    yield


def _forget_project() -> None:
    for name in [m for m in sys.modules if m == "src" or m.startswith("src.")]:
        del sys.modules[name]


@contextmanager
def fastapi_project(namespace: dict[str, Any]) -> Iterator[None]:
    """The ``src`` package of ``project/``, imported afresh, with a database of its own.

    Fresh imports give every sample its own ``Base`` (two samples both mapping a
    ``users`` table would clash on a shared one) and its own SQLite file.
    """
    with TemporaryDirectory() as folder:
        os.environ["AGENT_SAMPLES_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder}/app.db"
        sys.path.insert(0, str(PROJECT))
        _forget_project()
        try:
            yield
        finally:
            _forget_project()
            sys.path.remove(str(PROJECT))
            del os.environ["AGENT_SAMPLES_DATABASE_URL"]
