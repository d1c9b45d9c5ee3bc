"""Headless Chromium (Debian's package), driven from the command line: no driver needed."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from webgates import CHROMIUM_ARGS, NO_CHROMIUM, chromium_path, missing

# The same browser flags as the Playwright gates (no network, no first-run work), headless.
FLAGS = ["--headless", *CHROMIUM_ARGS]


def chromium() -> str:
    found = chromium_path()
    if found is None:
        missing(NO_CHROMIUM)
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


def dump_dom(url: str) -> str:
    """The page's DOM after its scripts ran (the search page fills in its results)."""
    return _run("--virtual-time-budget=10000", "--dump-dom", url).stdout


def screenshot(url: str, out: Path, *, dark: bool = False, size: str = "1280,1600") -> Path:
    scheme = (
        ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]
        if dark
        else ["--blink-settings=preferredColorScheme=1"]
    )
    _run(*scheme, f"--window-size={size}", f"--screenshot={out}", "--virtual-time-budget=3000", url)
    return out
