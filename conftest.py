"""Sybil: every Python sample on the site's pages runs as a pytest test.

MyST comment directives control a sample from the page without showing on it:
``% skip: next "reason"``, ``% invisible-code-block: python``, ``% clear-namespace``.
"""

from doctest import ELLIPSIS, NORMALIZE_WHITESPACE

from sybil import Sybil
from sybil.parsers.myst import ClearNamespaceParser, PythonCodeBlockParser, SkipParser

#: The hand-written pages of the site. Agent pages are generated from
#: agents/definitions/, whose samples tests/test_agent_samples.py runs.
PAGES = ["index.md", "guides/*.md", "api-examples/*.md", "agents/index.md"]

pages = Sybil(
    parsers=[
        PythonCodeBlockParser(doctest_optionflags=ELLIPSIS | NORMALIZE_WHITESPACE),
        SkipParser(),
        ClearNamespaceParser(),
    ],
    patterns=PAGES,
    name="pages",
)

pytest_collect_file = pages.pytest()
