"""Build times of the site against the number of agents, and of a plain-stack floor.

For each size (1, 50, 100 and all 207 agents by default) a temporary copy of the site gets
that many definitions: the five seeds, then the real files of
``../shared/corpus/wshobson-agents`` (or ``--corpus``), renamed ``<plugin>--<file>.md``
so that the plugins' homonyms stay apart. The largest size takes every file (207). In
each copy it times, with ``-j auto`` as ``make docs`` does (or each of ``--jobs``):

- ``clean``: a build into an empty output folder;
- ``nochange``: a rebuild with nothing changed;
- ``agent``: a rebuild after one agent file is edited;
- ``guide``: a rebuild after one guide is edited;
- ``floor``: a clean build of the same pages by the same stack without agentkb: the site's
  conf.py without agentkb, its other pages as they are, each agent page as plain Markdown
  (title plus body) and listed in the navigation (see floor_site);
- ``floor_nochange`` and ``floor_agent``: that plain site rebuilt with nothing changed, and
  after the same agent's page is edited: what the stack itself costs for a rebuild.

The machine is shared and noisy: each figure is the median of ``--repeat`` runs, and
ratios (clean/floor) are the figures to compare across machines. Results go to
``bench/results/`` (git-ignored); ``--record`` also writes ``bench/build_times.json``,
the committed figures the site's performance page plots.

Usage: python bench/build_times.py [--sizes 1,50,100,207] [--repeat 3] [--jobs auto,1] [--record]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "wshobson-agents"
RESULTS = ROOT / "bench" / "results"
RECORD = ROOT / "bench" / "build_times.json"
_NOT_SITE = shutil.ignore_patterns(
    ".git", ".venv*", "_build", "__pycache__", ".pytest_cache", "node_modules", "*.db", "bench", "tests"
)
#: Files in the folders left out above that pages read: without them those pages warn,
#: and Sphinx re-reads a page with a missing dependency at every build.
READ_BY_PAGES = ("bench/build_times.json", "bench/service_load.json", "tests/service/test_conformance.py")
DEFINITIONS = Path("agents") / "definitions"
#: The page edited in the "guide" case, and the seed edited in the "agent" case.
GUIDE = Path("guides") / "pagination.md"
SEED = "sonnet-compact-checklist.md"


def corpus_files(corpus: Path) -> list[tuple[str, Path]]:
    """(file name in the site, source) for every agent file of the corpus, in a stable order."""
    found = sorted(corpus.glob("plugins/*/agents/*.md"))
    return [(f"{p.parent.parent.name}--{p.name}", p) for p in found]


def make_site(dest: Path, size: int, corpus: Path) -> int:
    """A copy of the site with ``size`` agents (all of them when ``size`` exceeds the corpus)."""
    shutil.copytree(ROOT, dest, ignore=_NOT_SITE)
    for name in READ_BY_PAGES:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, dest / name)
    folder = dest / DEFINITIONS
    seeds = sorted(p.name for p in folder.glob("*.md"))
    keep = [SEED] if size == 1 else seeds
    for name in seeds:
        if name not in keep:
            for sidecar in folder.glob(f"{Path(name).stem}.*"):
                sidecar.unlink()
    for name, source in corpus_files(corpus)[: max(0, size - len(keep))]:
        shutil.copyfile(source, folder / name)
    return len(list(folder.glob("*.md")))


def floor_site(site: Path, dest: Path) -> None:
    """Every page of ``site``, built by the same stack without agentkb.

    The site's own ``conf.py`` with ``agentkb`` left out of its extensions; the guides, the
    API examples and the other pages as they are (agentkb's directives on them do not
    render, and warn); each agent page as plain Markdown, its title and its body; and the
    agents in a hidden toctree on the overview, so that the navigation, which Furo draws on
    every page, lists every agent as the site's does.
    """
    sys.path.insert(0, str(ROOT / "_ext"))
    from agentkb.definitions import definition_files, load_definition

    shutil.copytree(site, dest, ignore=shutil.ignore_patterns("_build"))
    conf = dest / "conf.py"
    text = conf.read_text("utf-8")
    if '    "agentkb",\n' not in text:
        raise SystemExit(f"{conf} no longer lists agentkb as one extension per line: update floor_site")
    conf.write_text(text.replace('    "agentkb",\n', ""), "utf-8")
    names = []
    for path in definition_files(dest / DEFINITIONS):
        d = load_definition(path)
        body = re.sub(r"^(\s{0,3})#(?=\s)", r"\1##", d.body, flags=re.M)
        (dest / "agents" / f"{d.slug}.md").write_text(f"# {d.slug}\n\n{body}", "utf-8")
        names.append(d.slug)
    overview = dest / "agents" / "index.md"
    toctree = "\n".join(names)
    overview.write_text(overview.read_text("utf-8") + f"\n```{{toctree}}\n:hidden:\n\n{toctree}\n```\n", "utf-8")


def build(src: Path, out: Path, jobs: str) -> tuple[float, float, str, int]:
    """Wall seconds, CPU seconds (user + system, every process), output, and pages written.

    Not -W: the corpus has warnings of its own. On a shared machine the CPU seconds vary
    less than the wall-clock ones.
    """
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.html")} if out.is_dir() else {}
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "--keep-going", "-n", "-j", jobs, "-b", "html", str(src), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"build of {src} failed:\n{proc.stdout}\n{proc.stderr}")
    written = sum(1 for p in out.rglob("*.html") if before.get(p) != p.stat().st_mtime_ns)
    return elapsed, cpu, proc.stdout + proc.stderr, written


def _touch(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line)


def _counts(output: str, written: int) -> dict[str, int]:
    reading = re.search(r"(\d+) added, (\d+) changed, (\d+) removed", output)
    return {
        "read": sum(int(n) for n in reading.groups()[:2]) if reading else 0,
        "written": written,
        "warnings": output.count("WARNING"),
    }


def measure(size: int, corpus: Path, jobs: str, repeat: int) -> dict[str, object]:
    cases = ("clean", "nochange", "agent", "guide", "floor", "floor_nochange", "floor_agent")
    runs: dict[str, list[float]] = {k: [] for k in cases}
    cpu: dict[str, list[float]] = {k: [] for k in cases}
    counts: dict[str, dict[str, int]] = {}
    agents = 0
    for attempt in range(repeat):
        tmp = Path(tempfile.mkdtemp(prefix="agentkb-bench-"))
        try:
            src, out = tmp / "src", tmp / "out"
            agents = make_site(src, size, corpus)
            edited = {"clean": None, "nochange": None, "agent": DEFINITIONS / SEED, "guide": GUIDE}
            for case, path in edited.items():
                if path is not None:
                    _touch(src / path, f"\nEdited for the benchmark ({attempt}).\n")
                seconds, used, output, written = build(src, out, jobs)
                runs[case].append(round(seconds, 2))
                cpu[case].append(round(used, 2))
                counts[case] = _counts(output, written)
            floor_site(src, tmp / "floor")
            floor_agent = tmp / "floor" / "agents" / SEED
            for case in ("floor", "floor_nochange", "floor_agent"):
                if case == "floor_agent":
                    _touch(floor_agent, f"\nEdited for the benchmark ({attempt}).\n")
                seconds, used, output, written = build(tmp / "floor", tmp / "floor-out", jobs)
                runs[case].append(round(seconds, 2))
                cpu[case].append(round(used, 2))
                counts[case] = _counts(output, written)
        finally:
            shutil.rmtree(tmp)
    medians = {case: round(statistics.median(times), 2) for case, times in runs.items()}
    cpu_medians = {case: round(statistics.median(times), 2) for case, times in cpu.items()}
    return {
        "agents": agents,
        "jobs": jobs,
        "median_s": medians,
        "median_cpu_s": cpu_medians,
        "runs_s": runs,
        "cpu_s": cpu,
        "counts": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,50,100,207", help="agents per site; 207 is every file")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--jobs", default="auto", help="comma-separated -j values, e.g. auto,1")
    parser.add_argument("--record", action="store_true", help=f"write {RECORD.relative_to(ROOT)}")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"no corpus at {args.corpus}: pass --corpus")
    results = []
    for jobs in args.jobs.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            result = measure(size, args.corpus, jobs, args.repeat)
            results.append(result)
            m, c = result["median_s"], result["median_cpu_s"]
            print(
                f"-j {jobs:4} {result['agents']:4} agents: "
                + "  ".join(f"{k} {v:6.2f}s ({c[k]:.1f} cpu)" for k, v in m.items())
                + f"  clean/floor {m['clean'] / m['floor']:.2f}x",
                flush=True,
            )
    doc = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "repeat": args.repeat,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    (RESULTS / f"build_times-{stamp}.json").write_text(json.dumps(doc, indent=1) + "\n", "utf-8")
    if args.record:
        RECORD.write_text(json.dumps(doc, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
