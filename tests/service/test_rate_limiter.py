"""The shared leaky-bucket limiter on its own, on each database, driven by a manual
clock: the count lives in the database, so two limiters on one database (two worker
processes) share one budget."""

from collections.abc import Iterator

import pytest
from sqlalchemy import event, select

from reference_api import demo_data as demo
from reference_api.clock import ManualClock
from reference_api.db import create_db_engine, create_session_factory
from reference_api.models import RateBucket
from reference_api.rate_limit import SharedRateLimiter


@pytest.fixture
def session_factory(database_url: str) -> Iterator:
    engine = create_db_engine(database_url)
    yield create_session_factory(engine)
    engine.dispose()


def limiter(session_factory, clock: ManualClock, limit: int = 2, window_seconds: int = 10) -> SharedRateLimiter:
    return SharedRateLimiter(limit=limit, window_seconds=window_seconds, clock=clock, session_factory=session_factory)


def test_allows_up_to_the_limit_then_refuses(session_factory) -> None:
    rate = limiter(session_factory, ManualClock(demo.DEMO_NOW))

    assert [rate.hit("a").allowed for _ in range(3)] == [True, True, False]


def test_retry_after_is_when_the_next_request_fits(session_factory) -> None:
    clock = ManualClock(demo.DEMO_NOW)
    rate = limiter(session_factory, clock, limit=2, window_seconds=10)
    rate.hit("a")
    rate.hit("a")

    refused = rate.hit("a")
    # One unit drains every 5 s. Retrying early is refused and not counted, so the
    # first answer stays true.
    assert refused.retry_after_seconds == 5
    clock.advance(seconds=4)
    assert rate.hit("a").retry_after_seconds == 1
    clock.advance(seconds=1)
    assert rate.hit("a").allowed


def test_the_budget_refills_evenly(session_factory) -> None:
    clock = ManualClock(demo.DEMO_NOW)
    rate = limiter(session_factory, clock, limit=2, window_seconds=10)
    rate.hit("a")
    rate.hit("a")
    clock.advance(seconds=5)

    assert [rate.hit("a").allowed for _ in range(2)] == [True, False]


def test_clients_have_separate_budgets(session_factory) -> None:
    rate = limiter(session_factory, ManualClock(demo.DEMO_NOW), limit=1)
    rate.hit("a")

    assert rate.hit("b").allowed


def test_two_limiters_on_one_database_share_the_budget(database_url: str) -> None:
    clock = ManualClock(demo.DEMO_NOW)
    engines = [create_db_engine(database_url) for _ in range(2)]
    try:
        first, second = (limiter(create_session_factory(engine), clock, limit=3) for engine in engines)
        allowed = [rate.hit("a").allowed for rate in (first, second) * 3]
    finally:
        for engine in engines:
            engine.dispose()

    assert allowed == [True] * 3 + [False] * 3


def test_one_request_is_one_statement(session_factory) -> None:
    statements: list[str] = []
    engine = session_factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    rate = limiter(session_factory, ManualClock(demo.DEMO_NOW))

    rate.hit("a")

    assert len(statements) == 1
    with session_factory() as session:
        assert session.scalar(select(RateBucket.level).where(RateBucket.key == "requests:a")) == 1
