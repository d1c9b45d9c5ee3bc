from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from filelock import FileLock
from sitebuild import ROOT, Build, sphinx_build


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The whole site, built once per test run with the strict options.

    Under pytest-xdist every worker asks for it; the first builds it into the run's shared
    temporary folder, under a file lock, and the others wait and read the same build.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:  # not under xdist (or -n 0): the only process
        return sphinx_build(ROOT, tmp_path_factory.mktemp("site") / "html", "-j", "auto")
    shared = tmp_path_factory.getbasetemp().parent / "site"
    record = shared / "build.json"
    with FileLock(str(shared) + ".lock"):
        if not record.is_file():
            build = sphinx_build(ROOT, shared / "html", "-j", "auto")
            record.write_text(json.dumps({"returncode": build.returncode, "output": build.output}), "utf-8")
        built = json.loads(record.read_text("utf-8"))
    return Build(built["returncode"], built["output"], shared / "html")


@pytest.fixture(scope="session")
def html(site: Build) -> Path:
    assert site.returncode == 0, site.output
    return site.outdir
