"""Failed sign-ins are throttled per account and per address, in the database, so the
count is exact across threads, app instances and worker processes."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from reference_api import demo_data as demo
from reference_api.models import RateBucket

from .support import ApiClient

WRONG = {"email": "alice@example.com", "password": "not-the-password"}
RIGHT = {"email": "alice@example.com", "password": demo.DEMO_PASSWORD}


def attempts(client: ApiClient, body: dict, count: int) -> list[int]:
    return [client.post("/api/auth/login", json=body).status_code for _ in range(count)]


def test_an_account_is_throttled_after_its_failure_budget(build_client) -> None:
    client = build_client(login_failures_per_account=3, login_failure_window_seconds=900)

    statuses = attempts(client, WRONG, 4)
    refused = client.post("/api/auth/login", json=WRONG)

    assert statuses == [401, 401, 401, 429]
    assert refused.status_code == 429
    # One unit drains every 900 / 3 = 300 seconds.
    assert refused.headers["retry-after"] == "300"
    assert refused.json()["code"] == "RATE_LIMITED"


def test_even_the_right_password_waits_while_the_account_is_throttled(build_client) -> None:
    client = build_client(login_failures_per_account=2)
    attempts(client, WRONG, 2)

    assert client.post("/api/auth/login", json=RIGHT).status_code == 429


def test_the_budget_refills_continuously(build_client, clock) -> None:
    client = build_client(login_failures_per_account=3, login_failure_window_seconds=900)
    attempts(client, WRONG, 3)
    clock.advance(seconds=299)
    assert attempts(client, WRONG, 1) == [429]

    clock.advance(seconds=1)

    assert attempts(client, WRONG, 2) == [401, 429]


def test_the_account_budget_holds_across_client_addresses(build_client) -> None:
    client = build_client(login_failures_per_account=2, login_failures_per_ip=100)
    other = ApiClient(client.app, client_ip="198.51.100.9")
    try:
        first = attempts(client, WRONG, 2)
        from_elsewhere = attempts(other, WRONG, 1)
    finally:
        other.close()

    assert first == [401, 401]
    assert from_elsewhere == [429]


def test_an_address_is_throttled_across_accounts(build_client) -> None:
    client = build_client(login_failures_per_account=100, login_failures_per_ip=3)
    emails = ["alice@example.com", "bob@example.com", "nobody@example.com", "carol@example.com"]

    statuses = [client.post("/api/auth/login", json={**WRONG, "email": email}).status_code for email in emails]

    assert statuses == [401, 401, 401, 429]


def test_a_successful_login_clears_the_accounts_failures(build_client) -> None:
    client = build_client(login_failures_per_account=3)
    attempts(client, WRONG, 2)

    assert attempts(client, RIGHT, 1) == [200]
    assert attempts(client, WRONG, 3) == [401, 401, 401]


def test_two_app_instances_share_one_budget(build_client) -> None:
    # Two apps on one database stand for two worker processes.
    first = build_client(login_failures_per_account=3)
    second = build_client(login_failures_per_account=3)

    assert attempts(first, WRONG, 2) + attempts(second, WRONG, 2) == [401, 401, 401, 429]


def test_parallel_guesses_get_exactly_the_budget(build_client) -> None:
    client = build_client(login_failures_per_account=5, login_failures_per_ip=100)

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda _: attempts(client, WRONG, 1)[0], range(12)))

    assert sorted(statuses) == [401] * 5 + [429] * 7
    with client.app.state.context.session_factory() as session:
        level = session.scalar(select(RateBucket.level).where(RateBucket.key == "account:alice@example.com"))
    assert level == 5


def test_drained_buckets_are_deleted(build_client, clock) -> None:
    client = build_client(login_failures_per_account=3, login_failure_window_seconds=900)
    for email in ("guess-1@example.com", "guess-2@example.com"):
        client.post("/api/auth/login", json={**WRONG, "email": email})
    clock.advance(seconds=901)

    client.post("/api/auth/login", json=WRONG)

    with client.app.state.context.session_factory() as session:
        keys = set(session.scalars(select(RateBucket.key)))
    # The general request budget shares the table; this request touched its bucket.
    assert keys == {"account:alice@example.com", "ip:203.0.113.7", "requests:203.0.113.7"}
