"""Links and images in agent bodies that lead outside the knowledge base.

An agent file is written to sit in someone's ``.claude/agents/`` folder, so its
relative links point at files of that project (``../skills/...``) or of its
author's home folder (``~/.claude/...``). Here those files do not exist. They are
shown, marked as such, instead of being broken links or build warnings.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform

from .ingest import catalog

MARKER = "not part of this knowledge base"
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
_HOME_PATH = re.compile(r"^(~|\$HOME|/home/[^/]+|/Users/[^/]+)/")


def _marker(target: str) -> nodes.inline:
    badge = nodes.inline("", MARKER, classes=["sd-badge", "sd-bg-secondary", "sd-bg-text-secondary", "kb-outside"])
    badge["title"] = f"{target} is a file of the agent's own project, not of this site"
    return badge


class OutsideLinks(SphinxTransform):
    # After MyST has turned links into pending_xref nodes, before they are resolved.
    default_priority = 800

    def _inside_site(self, target: str) -> bool:
        path = target.split("#", 1)[0]
        if not path:
            return True
        here = posixpath.dirname(self.env.docname)
        joined = posixpath.normpath(posixpath.join(here, path))
        if joined.startswith(".."):
            return False
        candidate = Path(self.env.srcdir) / joined
        return candidate.exists() or joined.removesuffix(".md") in self.env.found_docs

    def apply(self, **kwargs: object) -> None:
        if catalog(self.env).by_docname(self.env.docname) is None:
            return
        for ref in list(self.document.findall(addnodes.pending_xref)):
            target = ref.get("reftarget", "")
            if ref.get("reftype") != "myst" or _SCHEME.match(target):
                continue
            if not self._inside_site(target):
                text = nodes.inline("", ref.astext(), classes=["kb-outside-link"])
                ref.replace_self([text, nodes.Text(" "), _marker(target)])
        for image in list(self.document.findall(nodes.image)):
            uri = image.get("uri", "")
            if uri and not _SCHEME.match(uri) and not self._inside_site(uri):
                alt = image.get("alt") or uri
                image.replace_self(
                    [nodes.inline("", f"[image: {alt}]", classes=["kb-outside-link"]), nodes.Text(" "), _marker(uri)]
                )
        for literal in list(self.document.findall(nodes.literal)):
            if _HOME_PATH.match(literal.astext()):
                parent = literal.parent
                parent.insert(parent.index(literal) + 1, [nodes.Text(" "), _marker(literal.astext())])


def setup(app: Sphinx) -> None:
    app.add_transform(OutsideLinks)
