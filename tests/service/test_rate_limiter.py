"""The fixed-window limiter on its own, driven by a manual clock."""

from reference_api import demo_data as demo
from reference_api.clock import ManualClock
from reference_api.rate_limit import FixedWindowRateLimiter


def limiter(clock: ManualClock, limit: int = 2) -> FixedWindowRateLimiter:
    return FixedWindowRateLimiter(limit=limit, window_seconds=10, clock=clock)


def test_allows_up_to_the_limit_then_refuses() -> None:
    clock = ManualClock(demo.DEMO_NOW)
    rate = limiter(clock)

    assert [rate.hit("a").allowed for _ in range(3)] == [True, True, False]


def test_retry_after_counts_down_to_the_end_of_the_window() -> None:
    clock = ManualClock(demo.DEMO_NOW)
    rate = limiter(clock, limit=1)
    rate.hit("a")
    clock.advance(seconds=3.5)

    assert rate.hit("a").retry_after_seconds == 7


def test_clients_have_separate_budgets() -> None:
    clock = ManualClock(demo.DEMO_NOW)
    rate = limiter(clock, limit=1)
    rate.hit("a")

    assert rate.hit("b").allowed


def test_a_new_window_starts_a_fresh_budget() -> None:
    clock = ManualClock(demo.DEMO_NOW)
    rate = limiter(clock, limit=1)
    rate.hit("a")
    clock.advance(seconds=10)

    assert rate.hit("a").allowed
