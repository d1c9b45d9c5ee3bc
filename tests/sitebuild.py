"""Build the site, or a copy of it, the way the README's docs command does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The topic guides: the pages of guides/ that set out conventions (one rulebook file each);
#: the others (index, conventions, detection) are reference pages about them.
TOPIC_GUIDES = sorted(p.stem for p in (ROOT / "_ext" / "agentkb" / "rulebook").glob("*.yaml"))
STRICT = ["-W", "--keep-going", "-n"]
# bench/ is copied: the detection page reads bench/detection_review.toml at build time.
_NOT_SITE = shutil.ignore_patterns(
    ".git", ".venv*", "_build", "__pycache__", ".pytest_cache", "node_modules", "*.db", "results"
)


@dataclass(frozen=True)
class Build:
    returncode: int
    output: str
    outdir: Path

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.output.splitlines() if "WARNING" in line or "ERROR" in line]


def sphinx_build(srcdir: Path, outdir: Path, *extra: str, builder: str = "html") -> Build:
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", *STRICT, "-q", "-b", builder, *extra, str(srcdir), str(outdir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Build(proc.returncode, proc.stdout + proc.stderr, outdir)


def copy_site(dest: Path) -> Path:
    """A copy of the site's sources, for tests that change them."""
    shutil.copytree(ROOT, dest, ignore=_NOT_SITE)
    return dest


def matrix_cells(table: Any, agent: str) -> list[Any]:
    """The cells of one agent's column in the conventions matrix, body rows then the totals row.

    Cells carry no attributes (the table is large at 200 agents); the header says which
    column is whose.
    """
    headers = table.select_one("thead tr").find_all(["th", "td"])
    index = next(i for i, th in enumerate(headers) if th.get("data-agent") == agent)
    return [row.find_all(["th", "td"])[index] for row in table.select("tbody tr, tfoot tr")]
