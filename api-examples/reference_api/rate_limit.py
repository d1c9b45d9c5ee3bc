"""An in-process fixed-window rate limiter, for the general per-address budget.

Each worker process counts on its own, so N workers grant up to N times the budget:
acceptable for shedding load from one client, which is all it is for. Failed
sign-ins, where the count must be exact across processes, are throttled in the
database instead (``LoginFailureRepository``).
"""

import math
from dataclasses import dataclass

from reference_api.clock import Clock


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_seconds: int


@dataclass
class _Window:
    started_at: float
    count: int


class FixedWindowRateLimiter:
    def __init__(self, *, limit: int, window_seconds: int, clock: Clock) -> None:
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._next_sweep = 0.0

    def hit(self, key: str) -> Decision:
        now = self._clock().timestamp()
        self._sweep(now)
        window = self._windows.get(key)
        if window is None or now >= window.started_at + self._window:
            window = self._windows[key] = _Window(started_at=now, count=0)
        if window.count >= self._limit:
            remaining = window.started_at + self._window - now
            return Decision(allowed=False, retry_after_seconds=max(1, math.ceil(remaining)))
        window.count += 1
        return Decision(allowed=True, retry_after_seconds=0)

    def _sweep(self, now: float) -> None:
        # Dropping finished windows at most once per window length keeps memory bounded
        # by the clients seen recently without paying an O(n) pass on every request.
        if now < self._next_sweep:
            return
        self._windows = {key: window for key, window in self._windows.items() if now < window.started_at + self._window}
        self._next_sweep = now + self._window
