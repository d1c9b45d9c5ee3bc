"""Where each page comes from: the date of its last commit, and its edit and view links.

"Last updated" is the date of the last commit that touched the page's source: for an
agent page, its raw file in the definitions folder, not the generated stub. The dates
come from one ``git log`` when the builder starts; outside a git checkout, or in a
shallow clone (where the oldest commit seems to touch every file), no date is shown.

Furo's "Edit this page" and "View this page" links point to the page's source path; an
agent page's source is a generated stub, so those links are pointed at the raw file.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.i18n import format_date

from .ingest import catalog
from .state import build_state

logger = logging.getLogger(__name__)

DATE_FORMAT = "%d %B %Y"


def _git(srcdir: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(srcdir), *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def last_commit_dates(srcdir: Path) -> dict[str, int]:
    """Path relative to ``srcdir`` -> Unix time of the last commit touching it.

    Empty outside a git checkout and in a shallow clone.
    """
    if (_git(srcdir, "rev-parse", "--is-shallow-repository") or "").strip() != "false":
        return {}
    log = _git(srcdir, "log", "--no-renames", "--relative", "--format=@%ct", "--name-only", "--", ".")
    dates: dict[str, int] = {}
    when = 0
    for line in (log or "").splitlines():
        if line.startswith("@"):
            when = int(line[1:])
        elif line:
            dates.setdefault(line, when)
    return dates


def source_path(app: Sphinx, docname: str) -> Path:
    """The file a reader would edit to change the page, relative to the source folder."""
    agent = catalog(app.env).by_docname(docname)
    path = agent.definition.path if agent is not None else Path(app.env.doc2path(docname))
    return path.resolve().relative_to(Path(app.srcdir).resolve())


def on_builder_inited(app: Sphinx) -> None:
    build_state(app.env).page_dates = last_commit_dates(Path(app.srcdir))


def _repository_link(app: Sphinx, kind: str, path: Path) -> str:
    options = app.config.html_theme_options
    repository = str(options.get("source_repository", app.config.agentkb_repository)).rstrip("/")
    branch = options.get("source_branch", "main")
    folder = str(options.get("source_directory", "")).strip("/")
    full = f"{folder}/{path.as_posix()}" if folder else path.as_posix()
    # Furo formats these with str.format(filename=...): keep literal braces literal.
    return f"{repository}/{kind}/{branch}/{full}".replace("{", "{{").replace("}", "}}")


def on_html_page_context(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if pagename not in app.env.all_docs:
        return
    path = source_path(app, pagename)
    timestamp = build_state(app.env).page_dates.get(path.as_posix())
    context["last_updated"] = (
        format_date(DATE_FORMAT, date=datetime.fromtimestamp(timestamp, UTC), language=app.config.language)
        if timestamp
        else None
    )
    if catalog(app.env).by_docname(pagename) is not None:
        context["theme_source_edit_link"] = _repository_link(app, "edit", path)
        context["theme_source_view_link"] = _repository_link(app, "blob", path) + "?plain=true"


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("agentkb_repository", "https://github.com/agentkb/agentkb", "html", types=frozenset({str}))
    app.connect("builder-inited", on_builder_inited)
    app.connect("html-page-context", on_html_page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
