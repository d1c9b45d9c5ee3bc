"""Sybil: every Python sample on the site's pages runs as a pytest test, and every
sample of the agent definitions is checked the way the site says it is.

MyST comment directives control a sample from the page without showing on it:
``% skip: next "reason"``, ``% invisible-code-block: python``, ``% clear-namespace``.
The agent files are never edited: what is known about their samples lives in the
sidecars ``agents/definitions/<agent>.samples.toml`` (see agents/verification.md).
Sybil's pytest integration uses private pytest APIs; both are pinned in requirements/lock.txt.
"""

import shutil

import pytest
from sybil import Sybil

from agentkb.samples import page_parsers
from tests.agent_samples.checks import parse_agent_file

#: The hand-written pages of the site. Agent pages are generated from
#: agents/definitions/, which the second instance reads directly.
PAGES = ["index.md", "guides/*.md", "api-examples/*.md", "agents/index.md", "agents/verification.md"]
#: Sybil matches patterns from the right: keep the tests' tiny site out of both instances.
TINY_SITE = ["tinysite/*", "tinysite/*/*", "tinysite/*/*/*"]

# The same parsers give each block its status on the page (agentkb.samples.page_blocks).
pages = Sybil(
    parsers=page_parsers(),
    patterns=PAGES,
    excludes=TINY_SITE,
    name="pages",
)

agents = Sybil(parsers=[parse_agent_file], patterns=["agents/definitions/*.md"], excludes=TINY_SITE, name="agents")

pytest_collect_file = (pages + agents).pytest()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: list) -> None:
    """Under pytest-xdist, install the Node.js tools the tests install on first use (``npm ci``
    from their lock files) once, before the workers start, so that no two workers run
    ``npm ci`` in the same folder at once. Already installed: nothing to do."""
    if shutil.which("npm") is None:
        return  # the tests that need them skip, or fail under CI, as without xdist
    from agentkb.spectral import spectral_command
    from tests.agent_samples.checks import tsc
    from tests.webgates import npm_tool

    spectral_command()
    tsc()
    npm_tool("axe-core/axe.min.js")
