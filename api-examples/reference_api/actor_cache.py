"""The signed-in user, remembered for a second (by default) per worker process.

Every authenticated request re-reads its token's user, so that deleting, deactivating
or demoting an account takes effect before the token expires. That read cost every
request a query and a thread-pool round trip of its own, a large part of a cheap
request (api-examples/service-performance.md). This cache keeps the answer for
``AUTH_CACHE_SECONDS`` (1 by default; 0 turns it off) and is exact where it can be:

- Within a process, every write to a user (update, replace, delete) evicts the entry
  once its transaction has committed, and a lookup that was already under way when a
  write landed does not store what it read. The next request reads the database.
- Across worker processes nothing is shared, so a write in one worker reaches the
  others' entries when they expire: a deactivated, deleted or demoted account keeps
  working there for at most the TTL. Sharing would need a broker (Redis, NOTIFY) or
  a query per request, which is what the cache saves.

Only active users are kept, and never more than ``max_entries`` of them: an entry is
made only for a validly signed token of a real account, and the oldest go first.
"""

import threading
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta

from reference_api.clock import Clock
from reference_api.repositories import UserRecord


class ActorCache:
    def __init__(self, ttl: timedelta, clock: Clock, max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[uuid.UUID, tuple[datetime, UserRecord]] = OrderedDict()
        # Bumped by every eviction: a lookup that started before one stores nothing.
        self._generation = 0
        # Used from the event loop and from worker threads alike.
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._ttl > timedelta(0)

    def generation(self) -> int:
        """Take before reading the database; hand back to :meth:`store`."""
        with self._lock:
            return self._generation

    def get(self, user_id: uuid.UUID) -> UserRecord | None:
        with self._lock:
            found = self._entries.get(user_id)
            if found is None:
                return None
            stored_at, record = found
            # A clock that moved backwards also ends the entry.
            if not stored_at <= self._clock() < stored_at + self._ttl:
                del self._entries[user_id]
                return None
            return record

    def store(self, record: UserRecord, generation: int) -> None:
        """Keep ``record``, read after :meth:`generation` returned ``generation``,
        unless a user was written since."""
        if not self.enabled:
            return
        with self._lock:
            if generation != self._generation:
                return
            self._entries[record.id] = (self._clock(), record)
            self._entries.move_to_end(record.id)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def evict(self, user_id: uuid.UUID) -> None:
        """Forget ``user_id``; call after the write's commit."""
        with self._lock:
            self._generation += 1
            self._entries.pop(user_id, None)
