"""Page weight of the built site: what a browser downloads for each page, heaviest first.

Serves the site on 127.0.0.1, opens every page in headless Chromium (Playwright, Debian's
Chromium) and adds up every response body: the page's HTML, its stylesheets, scripts and
images (uncompressed, as the budget in tests/test_gates.py counts them), and the same
files gzip-compressed (what a server with compression would send).

Usage: python bench/page_weight.py [--site _build/html] [--top 10]
Writes bench/results/page_weight.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from webgates import browser, html_pages, serve, visit  # noqa: E402


def measure(site: Path) -> list[dict]:
    rows = []
    with serve(site) as base, browser() as b:
        page = b.new_page()
        for rel in html_pages(site):
            result = visit(page, base, rel)
            gz = 0
            for url in result["resources"]:
                local = site / url[len(base) :].split("?", 1)[0].split("#", 1)[0]
                if local.is_file():
                    gz += len(gzip.compress(local.read_bytes(), 6))
            rows.append(
                {
                    "page": rel,
                    "bytes": result["bytes"],
                    "gzip_bytes": gz,
                    "html_bytes": (site / rel).stat().st_size,
                    "requests": len(result["resources"]),
                    "problems": result["problems"],
                }
            )
    return sorted(rows, key=lambda r: -r["bytes"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    rows = measure(args.site)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    name = f"page_weight{'-' + args.label if args.label else ''}.json"
    (out / name).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(f"{'page':45} {'total KB':>9} {'gzip KB':>8} {'HTML KB':>8} {'requests':>8}")
    for row in rows[: args.top]:
        print(
            f"{row['page']:45} {row['bytes'] / 1024:9.1f} {row['gzip_bytes'] / 1024:8.1f}"
            f" {row['html_bytes'] / 1024:8.1f} {row['requests']:8d}"
        )
    sizes = [r["bytes"] for r in rows]
    print(
        f"{len(rows)} pages: {min(sizes) / 1024:.0f}-{max(sizes) / 1024:.0f} KB,"
        f" median {sorted(sizes)[len(sizes) // 2] / 1024:.0f} KB; written to {out / name}"
    )


if __name__ == "__main__":
    main()
