"""Per-agent results that outlive a build, in the doctree folder.

The build state is reloaded at every build (see :mod:`agentkb.state`), and with it
each agent's facts and stances would be worked out again, for all agents, whenever a
page that summarises them is written: at 200 agents that parse costs seconds. This
cache keeps them between builds, keyed by the SHA-256 of what they are computed from:
the agent's file and sidecars (:attr:`agentkb.ingest.Agent.fingerprint`), the rulebook,
and agentkb's own code, so an edit to any of them is a miss, never a stale result.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

CACHE_FILE = "agentkb-derived.pickle"
_CODE = Path(__file__).parent


def code_digest(extra: Iterable[Path] = ()) -> str:
    """The SHA-256 of agentkb's modules and of ``extra`` files (the rulebook)."""
    digest = hashlib.sha256()
    for path in (*sorted(_CODE.glob("*.py")), *sorted(extra)):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class DerivedCache:
    def __init__(self, folder: Path | None, salt: str) -> None:
        self.path = folder / CACHE_FILE if folder else None
        self.salt = salt
        self.entries: dict[str, Any] = {}
        self.used: set[str] = set()
        self.dirty = False
        if self.path and self.path.is_file():
            try:
                with self.path.open("rb") as fh:
                    self.entries = pickle.load(fh)
            except Exception:  # an unreadable cache is an empty one
                self.entries = {}

    def _key(self, kind: str, fingerprint: str) -> str:
        return hashlib.sha256(f"{kind}\0{fingerprint}\0{self.salt}".encode()).hexdigest()

    def get(self, kind: str, fingerprint: str, compute: Callable[[], T], keep: Callable[[T], bool] = bool) -> T:
        """The cached value, or ``compute()``, stored when ``keep`` accepts it."""
        key = self._key(kind, fingerprint)
        self.used.add(key)
        if key in self.entries:
            return self.entries[key]  # type: ignore[no-any-return,unused-ignore]
        value = compute()
        if keep(value):
            self.entries[key] = value
            self.dirty = True
        return value

    def save(self) -> None:
        """Write the entries this build used (so removed agents drop out), if any is new."""
        if not self.path or not self.dirty:
            return
        kept = {k: v for k, v in self.entries.items() if k in self.used}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(kept, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(self.path)
        self.dirty = False
