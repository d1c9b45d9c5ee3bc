"""The general per-address request budget, kept in the database so that every worker
process and host shares one count.

It is a leaky bucket in the ``rate_buckets`` table, the same one that throttles
failed sign-ins (``RateBucketRepository``): each request is one atomic upsert that
drains the bucket and counts the request if it fits, so N workers grant the budget
once, not N times.
"""

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from reference_api.clock import Clock
from reference_api.repositories import RateBucketRepository

KEY_PREFIX = "requests:"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_seconds: int


class SharedRateLimiter:
    """``limit`` requests per ``window_seconds`` for each key, refilling evenly.

    A refused request is not counted, so Retry-After holds however often the client
    retries before it.
    """

    def __init__(
        self, *, limit: int, window_seconds: int, clock: Clock, session_factory: sessionmaker[Session]
    ) -> None:
        self._limit = limit
        self._drain = limit / window_seconds
        self._clock = clock
        self._session_factory = session_factory

    def hit(self, key: str) -> Decision:
        now = self._clock().timestamp()
        with self._session_factory() as session, session.begin():
            counted, level = RateBucketRepository(session).take(KEY_PREFIX + key, now, self._limit, self._drain)
        if counted:
            return Decision(allowed=True, retry_after_seconds=0)
        # The next request fits once the level has drained to limit - 1. Rounded first
        # so that float noise (39.9999...) does not add a second.
        wait = (level + 1.0 - self._limit) / self._drain
        return Decision(allowed=False, retry_after_seconds=max(1, math.ceil(round(wait, 6))))
