"""Top-3 hit rate of the site's search on the question set (tests/data/search_questions.toml).

Serves a built site on 127.0.0.1, runs each question through the real search in headless
Chromium (Playwright driving Debian's Chromium) and prints the share of questions whose
expected page is among the first three results, then the misses. Writes every result list
to bench/results/search_hit_rate-<engine>.json.

Usage: python bench/search_hit_rate.py [--site _build/html] [--engine sphinx|pagefind|pagefind-api|both]
"sphinx" reads Sphinx's search page (on this site: the search page with Pagefind blocked, which
falls back to Sphinx's search); "pagefind" reads the site's search page (agentkb-search.js over
Pagefind); "pagefind-api" calls Pagefind's JavaScript API directly (for a build whose search
page is Sphinx's, e.g. an older commit indexed with `python -m pagefind_bin --site DIR`).
The site must have been built; for Pagefind, with its index (`python -m pagefind_bin --site DIR`
is run here when DIR/pagefind/ is missing).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from searchquality import (  # noqa: E402
    TOP,
    is_anchor_hit,
    is_hit,
    load_questions,
    pagefind_results,
    pagefind_ui_results,
    sphinx_results,
)
from webgates import browser, serve  # noqa: E402


def measure(site: Path, engine: str) -> dict:
    questions = load_questions()
    if engine.startswith("pagefind") and not (site / "pagefind" / "pagefind.js").exists():
        subprocess.run([sys.executable, "-m", "pagefind_bin", "--site", str(site)], check=True, capture_output=True)
    rows = []
    start = time.perf_counter()
    with serve(site) as base, browser() as b:
        page = b.new_page()
        if engine == "sphinx":
            # The search page falls back to Sphinx's search when Pagefind's UI cannot load.
            page.route("**/pagefind/**", lambda route: route.abort())
        for question in questions:
            run = {"sphinx": sphinx_results, "pagefind": pagefind_ui_results, "pagefind-api": pagefind_results}[engine]
            results = run(page, base, question.q)
            rows.append(
                {
                    "q": question.q,
                    "set": question.set,
                    "expected": sorted(question.pages()),
                    "anchor": question.anchor,
                    "hit": is_hit(question, results),
                    "anchor_hit": is_anchor_hit(question, results),
                    "results": results[:10],
                }
            )
    hits = sum(r["hit"] for r in rows)
    return {
        "engine": engine,
        "site": str(site),
        "questions": len(rows),
        "hits": hits,
        "hit_rate": hits / len(rows),
        "anchor_hit_rate": sum(r["anchor_hit"] for r in rows) / len(rows),
        "seconds": round(time.perf_counter() - start, 1),
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--engine", choices=["sphinx", "pagefind", "pagefind-api", "both"], default="both")
    parser.add_argument("--label", default="", help="added to the results file's name")
    args = parser.parse_args()
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    for engine in ["sphinx", "pagefind"] if args.engine == "both" else [args.engine]:
        report = measure(args.site, engine)
        name = f"search_hit_rate-{engine}{'-' + args.label if args.label else ''}.json"
        (out / name).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(
            f"{engine}: top-{TOP} hit rate {report['hit_rate']:.1%} ({report['hits']}/{report['questions']}),"
            f" convention anchor in top {TOP}: {report['anchor_hit_rate']:.1%}, {report['seconds']} s"
        )
        for subset in sorted({row["set"] for row in report["rows"]}):
            rows = [row for row in report["rows"] if row["set"] == subset]
            hits = sum(r["hit"] for r in rows)
            print(f"  {subset}: {hits}/{len(rows)} ({hits / len(rows):.1%})")
        for row in report["rows"]:
            if not row["hit"]:
                print(f"  miss: {row['q']!r} -> expected {row['expected']}, got {row['results'][:3]}")
        print(f"  results: {out / name}")


if __name__ == "__main__":
    main()
