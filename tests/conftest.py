from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from sitebuild import ROOT, Build, sphinx_build
from webgates import NO_CHROMIUM, browser, chromium_path, missing, serve


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


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless Chromium (Playwright) for the tests that open the built site in it."""
    if chromium_path() is None:
        missing(NO_CHROMIUM)
    with browser() as b:
        yield b


@pytest.fixture(scope="session")
def base_url(html: Path) -> Iterator[str]:
    """The built site, served on 127.0.0.1 under its published path."""
    with serve(html) as base:
        yield base
