"""Build a copy of the site with a real catalog of ~200 agents added, and measure it.

Copies every agent file of a corpus (by default ../shared/corpus/wshobson-agents, the
``agents/*.md`` files of its plugins) into a temporary copy of the site, builds it the
way `make docs` does, and prints the build time, warnings, and the overview's weight.
Nothing is kept: the corpus never enters the repository.

Usage: python bench/overview_at_scale.py [CORPUS] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from sitebuild import copy_site, sphinx_build  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "wshobson-agents"


def add_corpus(site: Path, corpus: Path) -> int:
    """Copy the corpus's agent files in; a file name used by two plugins gets the plugin's name."""
    files = sorted(corpus.glob("plugins/*/agents/*.md")) or sorted(corpus.glob("*.md"))
    stems = [f.stem for f in files]
    target = site / "agents" / "definitions"
    for f in files:
        name = f.name if stems.count(f.stem) == 1 else f"{f.stem}-{f.parent.parent.name}.md"
        shutil.copyfile(f, target / name)
    return len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--keep", type=Path, help="build here and keep the result")
    parser.add_argument("-j", default="1", help="sphinx-build -j (default 1: a shared machine)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="agentkb-scale-"))
    try:
        site = copy_site(work / "src")
        added = add_corpus(site, args.corpus)
        start = time.perf_counter()
        build = sphinx_build(site, work / "html", "-j", args.j)
        seconds = time.perf_counter() - start
        overview = work / "html" / "agents" / "index.html"
        print(f"agents added: {added}; build: {seconds:.0f} s, exit {build.returncode}, {len(build.warnings)} warnings")
        for warning in build.warnings[:20]:
            print("  ", warning)
        if overview.exists():
            print(f"agents/index.html: {overview.stat().st_size / 1024:.0f} KiB")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
