"""Time a clean build of the site and a rebuild with nothing changed, in one run.

The machine is shared and noisy, so the ratio is the figure to compare across runs.
Usage: python bench/build_times.py [--repeat N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(outdir: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-n",
            "-j",
            "auto",
            "-q",
            "-b",
            "html",
            str(ROOT),
            str(outdir),
        ],
        check=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    clean, rebuild = [], []
    for _ in range(args.repeat):
        outdir = Path(tempfile.mkdtemp(prefix="agentkb-bench-"))
        try:
            clean.append(build(outdir))
            rebuild.append(build(outdir))
        finally:
            shutil.rmtree(outdir)
    c, r = statistics.median(clean), statistics.median(rebuild)
    print(f"clean build:       {c:6.2f} s (median of {args.repeat})")
    print(f"no-change rebuild: {r:6.2f} s (median of {args.repeat})")
    print(f"ratio clean/rebuild: {c / r:.1f}x")


if __name__ == "__main__":
    main()
