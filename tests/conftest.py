from __future__ import annotations

from pathlib import Path

import pytest
from sitebuild import ROOT, Build, sphinx_build


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The whole site, built once per test session with the strict options."""
    return sphinx_build(ROOT, tmp_path_factory.mktemp("site") / "html", "-j", "auto")


@pytest.fixture(scope="session")
def html(site: Build) -> Path:
    assert site.returncode == 0, site.output
    return site.outdir
