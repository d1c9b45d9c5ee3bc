"""The per-process cache of the signed-in user (reference_api.actor_cache).

Exact within a process, bounded by AUTH_CACHE_SECONDS across processes: two apps on
one database stand for two worker processes.
"""

import uuid
from datetime import UTC, datetime, timedelta

from reference_api import demo_data as demo
from reference_api.actor_cache import ActorCache
from reference_api.clock import ManualClock
from reference_api.models import Role, UserStatus
from reference_api.repositories import UserRecord

from .support import ApiClient

ME = "/api/users/me"
BOB = f"/api/users/{demo.BOB_ID}"


def _record(user_id: uuid.UUID | None = None) -> UserRecord:
    return UserRecord(
        id=user_id or uuid.uuid4(),
        email="someone@example.com",
        name="Someone",
        role=Role.user,
        status=UserStatus.active,
        created_at=demo.DEMO_NOW,
        updated_at=demo.DEMO_NOW,
        version=1,
    )


def _cache(seconds: float = 1.0, max_entries: int = 10) -> tuple[ActorCache, ManualClock]:
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    return ActorCache(timedelta(seconds=seconds), clock, max_entries=max_entries), clock


def test_an_entry_lives_for_the_ttl_and_no_longer() -> None:
    cache, clock = _cache(seconds=1)
    record = _record()
    cache.store(record, cache.generation())

    clock.advance(seconds=0.999)
    assert cache.get(record.id) == record
    clock.advance(seconds=0.001)
    assert cache.get(record.id) is None


def test_a_clock_moved_backwards_ends_the_entry() -> None:
    cache, clock = _cache()
    record = _record()
    cache.store(record, cache.generation())

    clock.advance(seconds=-5)

    assert cache.get(record.id) is None


def test_a_lookup_that_began_before_a_write_stores_nothing() -> None:
    cache, _ = _cache()
    stale = _record()
    generation = cache.generation()  # the lookup starts and reads the row...
    cache.evict(uuid.uuid4())  # ...a write to any user commits and evicts...

    cache.store(stale, generation)  # ...and what the lookup read is dropped

    assert cache.get(stale.id) is None
    cache.store(stale, cache.generation())
    assert cache.get(stale.id) == stale


def test_the_cache_holds_at_most_max_entries_dropping_the_oldest() -> None:
    cache, _ = _cache(max_entries=2)
    first, second, third = _record(), _record(), _record()
    for record in (first, second, third):
        cache.store(record, cache.generation())

    assert [cache.get(r.id) for r in (first, second, third)] == [None, second, third]


def test_a_ttl_of_zero_stores_nothing() -> None:
    cache, _ = _cache(seconds=0)
    record = _record()
    cache.store(record, cache.generation())

    assert not cache.enabled
    assert cache.get(record.id) is None


def test_deactivating_a_cached_user_takes_effect_at_once_in_the_same_process(client: ApiClient, auth) -> None:
    bob = auth.bob
    assert client.get(ME, headers=bob).status_code == 200  # bob is cached now

    client.patch(BOB, json={"status": "inactive"}, headers=auth.admin)

    assert client.get(ME, headers=bob).status_code == 401


def test_deleting_a_cached_user_takes_effect_at_once_in_the_same_process(client: ApiClient, auth) -> None:
    bob = auth.bob
    assert client.get(ME, headers=bob).status_code == 200

    assert client.delete(BOB, headers=auth.admin).status_code == 204

    assert client.get(ME, headers=bob).status_code == 401


def test_demoting_a_cached_admin_takes_effect_at_once_in_the_same_process(client: ApiClient, auth) -> None:
    # Bob is promoted, then uses the admin-only list (and is cached as an admin)...
    client.patch(BOB, json={"role": "admin"}, headers=auth.admin)
    bob = auth.bearer(demo.BOB_ID, Role.admin)
    assert client.get("/api/users", headers=bob).status_code == 200

    client.patch(BOB, json={"role": "user"}, headers=auth.admin)

    assert client.get("/api/users", headers=bob).status_code == 403


def test_another_worker_sees_a_deactivation_within_the_ttl(build_client, auth, clock) -> None:
    worker, other_worker = build_client(auth_cache_seconds=2), build_client(auth_cache_seconds=2)
    bob = auth.bob
    assert worker.get(ME, headers=bob).status_code == 200

    other_worker.patch(BOB, json={"status": "inactive"}, headers=auth.admin)

    # The bound, stated: the first worker's entry may serve until it expires...
    clock.advance(seconds=1.9)
    assert worker.get(f"/api/users/{demo.BOB_ID}", headers=bob).status_code == 200
    # ...and not a moment longer.
    clock.advance(seconds=0.1)
    assert worker.get(ME, headers=bob).status_code == 401


def test_with_the_cache_off_another_worker_sees_a_deactivation_at_once(build_client, auth) -> None:
    worker, other_worker = build_client(auth_cache_seconds=0), build_client(auth_cache_seconds=0)
    bob = auth.bob
    assert worker.get(ME, headers=bob).status_code == 200

    other_worker.patch(BOB, json={"status": "inactive"}, headers=auth.admin)

    assert worker.get(ME, headers=bob).status_code == 401


def test_me_is_read_afresh_even_when_the_caller_is_cached(build_client, auth) -> None:
    worker, other_worker = build_client(), build_client()
    bob = auth.bob
    before = worker.get(ME, headers=bob)

    other_worker.patch(BOB, json={"name": "Robert"}, headers=bob)

    after = worker.get(ME, headers=bob)
    assert after.json()["name"] == "Robert"
    assert after.headers["etag"] != before.headers["etag"]
