"""Cross-cutting behaviour: request IDs, JSON access logs, CORS, rate limits, health."""

import io
import json
import logging
import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from reference_api import demo_data as demo
from reference_api.app import create_app
from reference_api.logging_config import JsonFormatter

from .support import ApiClient, make_settings

ORIGIN = "https://app.example.com"


def test_a_request_id_is_generated_when_none_is_sent(client: ApiClient) -> None:
    response = client.get("/api/health")

    assert len(response.headers["x-request-id"]) == 32


def test_a_well_formed_request_id_is_echoed(client: ApiClient) -> None:
    response = client.get("/api/health", headers={"X-Request-ID": "checkout-7f3a.1"})

    assert response.headers["x-request-id"] == "checkout-7f3a.1"


@pytest.mark.parametrize("supplied", ["has spaces", "x" * 129, 'quote"d'])
def test_a_suspicious_request_id_is_replaced(client: ApiClient, supplied: str) -> None:
    response = client.get("/api/health", headers={"X-Request-ID": supplied})

    assert response.headers["x-request-id"] != supplied


def test_error_bodies_carry_the_same_request_id(client: ApiClient) -> None:
    response = client.get("/api/users/me", headers={"X-Request-ID": "abc-123"})

    assert response.json()["request_id"] == "abc-123"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("reference_api")
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous_level)


def test_each_request_is_logged_as_one_json_line(client: ApiClient, json_log) -> None:
    client.get("/api/users/me", headers={"X-Request-ID": "log-me"})

    [line] = json_log.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "request completed"
    assert entry["logger"] == "reference_api.access"
    assert entry["request_id"] == "log-me"
    assert entry["method"] == "GET"
    assert entry["path"] == "/api/users/me"
    assert entry["status"] == 401
    assert isinstance(entry["duration_ms"], float)


def test_logs_never_contain_passwords_or_tokens(client: ApiClient, json_log) -> None:
    login = {"email": "alice@example.com", "password": demo.DEMO_PASSWORD}
    tokens = client.post("/api/auth/login", json=login).json()
    client.get("/api/users/me?debug=1", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

    output = json_log.getvalue()
    assert output.count("\n") == 3
    for secret in (demo.DEMO_PASSWORD, tokens["access_token"], tokens["refresh_token"], "debug"):
        assert secret not in output


def test_cors_preflight_from_an_allowed_origin(client: ApiClient) -> None:
    response = client.options(
        "/api/users",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in response.headers


def test_cors_preflight_from_another_origin_is_refused(client: ApiClient) -> None:
    response = client.options(
        "/api/users",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
        },
    )

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_cors_responses_expose_the_request_id(client: ApiClient) -> None:
    response = client.get("/api/health", headers={"Origin": ORIGIN})

    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "X-Request-ID" in response.headers["access-control-expose-headers"]


def test_requests_over_the_limit_get_429_with_retry_after(build_client, clock) -> None:
    client = build_client(rate_limit_requests=3, rate_limit_window_seconds=60)
    statuses = [client.get("/api/users/me").status_code for _ in range(3)]
    clock.advance(seconds=5)

    response = client.get("/api/users/me")

    assert statuses == [401, 401, 401]
    assert response.status_code == 429
    # One unit drains every 20 s. 5 s in, the bucket holds 2.75; the next request
    # fits once it is down to 2: 0.75 units, 15 s.
    assert response.headers["retry-after"] == "15"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "RATE_LIMITED"


def test_the_budget_comes_back_after_the_window(build_client, clock) -> None:
    client = build_client(rate_limit_requests=1, rate_limit_window_seconds=60)
    client.get("/api/users/me")
    clock.advance(seconds=60)

    assert client.get("/api/users/me").status_code == 401


def test_the_budget_is_shared_by_apps_on_one_database(build_client) -> None:
    # Two apps stand for two worker processes: one count in the database.
    first = build_client(rate_limit_requests=2)
    second = build_client(rate_limit_requests=2)

    statuses = [client.get("/api/users/me").status_code for client in (first, second, first)]

    assert statuses == [401, 401, 429]


@pytest.mark.parametrize(("enabled", "extra"), [(True, 1), (False, 0)])
def test_the_rate_limit_costs_one_statement_and_none_when_off(build_client, enabled: bool, extra: int) -> None:
    client = build_client(rate_limit_enabled=enabled)
    statements: list[str] = []
    event.listen(client.app.state.context.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    client.get("/api/users/me")

    # Without a token the request itself runs no SQL: what is left is the limiter's.
    assert len(statements) == extra


HEALTH_PATHS = ["/api/health/live", "/api/health/ready", "/api/health"]


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_checks_are_not_rate_limited(build_client, path: str) -> None:
    client = build_client(rate_limit_requests=1)

    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 200]


@pytest.mark.parametrize("path", ["/api/health/ready", "/api/health"])
def test_readiness_reports_the_database(client: ApiClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_without_a_database_readiness_is_503_and_liveness_still_200(tmp_path, clock) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path}/missing-dir/db.sqlite"), clock=clock)
    client = ApiClient(app)
    try:
        ready = client.get("/api/health/ready")
        live = client.get("/api/health/live")
    finally:
        client.close()

    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.json()["code"] == "SERVICE_UNAVAILABLE"
    assert "missing-dir" not in ready.text
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}


def test_readiness_is_503_when_postgresql_is_down(clock) -> None:
    # A port nobody listens on: the connection is refused, as when the server is down.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(make_settings(f"postgresql+psycopg://postgres@127.0.0.1:{port}/none"), clock=clock)
    client = ApiClient(app)
    try:
        assert client.get("/api/health/ready").status_code == 503
        assert client.get("/api/health/live").status_code == 200
    finally:
        client.close()
