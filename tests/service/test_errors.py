"""Every failure uses the same RFC 9457 problem envelope, and leaks nothing."""

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from reference_api import demo_data as demo
from reference_api.app import create_app
from reference_api.errors import PROBLEM_TYPES, ErrorCode, problem_type_uri

from .support import ApiClient, make_settings

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code", "request_id"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == (
        "https://agentkb.github.io/agentkb/api-examples/errors/" + code.lower().replace("_", "-") + ".html"
    )
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def test_an_unknown_route_is_a_404_problem(client: ApiClient) -> None:
    body = assert_problem(client.get("/api/nothing-here"), 404, "NOT_FOUND")

    assert body["detail"] == "No resource exists at this URL."


def test_an_unsupported_method_is_a_405_problem_with_allow(client: ApiClient) -> None:
    response = client.put("/api/health")

    body = assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"
    assert body["detail"] == "This URL does not support the PUT method."


@pytest.mark.parametrize(
    ("path", "method", "allowed"),
    [
        ("/api/users", "DELETE", "GET, POST"),
        (f"/api/users/{demo.ALICE_ID}", "POST", "DELETE, GET, PATCH, PUT"),
        ("/api/auth/login", "GET", "POST"),
    ],
)
def test_405_names_every_method_of_every_route_at_the_path(
    client: ApiClient, path: str, method: str, allowed: str
) -> None:
    # GET and POST /api/users are separate routes; RFC 9110 §15.5.6 wants both listed.
    response = client.request(method, path)

    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == allowed


SITE = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_has_a_page_its_type_uri_leads_to(code: ErrorCode) -> None:
    uri = problem_type_uri(code)
    relative = uri.removeprefix("https://agentkb.github.io/agentkb/")
    page = SITE / relative.removesuffix(".html")

    assert relative != uri
    text = page.with_suffix(".md").read_text(encoding="utf-8")
    assert f"`{code}`" in text
    assert f"{PROBLEM_TYPES[code].status}" in text.splitlines()[0]
    assert page.stem in (SITE / "api-examples" / "errors" / "index.md").read_text(encoding="utf-8")


def test_the_problem_base_url_is_configurable(build_client) -> None:
    client = build_client(problem_base_url="https://docs.example.com/shop/")

    body = client.get("/api/nothing-here").json()

    assert body["type"] == "https://docs.example.com/shop/api-examples/errors/not-found.html"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/users", {"id": str(demo.UNKNOWN_ID)}),
        (f"/api/users/{demo.ALICE_ID}/orders", {"created_at": "2025-01-01T00:00:00Z"}),
    ],
)
def test_fields_the_server_owns_are_refused_not_dropped(client: ApiClient, auth, path: str, body: dict) -> None:
    valid = {
        "/api/users": {"email": "eve@example.com", "name": "Eve", "password": demo.DEMO_PASSWORD},
        f"/api/users/{demo.ALICE_ID}/orders": {"items": [{"sku": "MUG-001", "quantity": 1, "unit_price": "9.90"}]},
    }[path]

    response = client.post(path, json={**valid, **body}, headers=auth.alice)

    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    (field,) = body
    assert problem["errors"] == [{"field": f"body.{field}", "message": "Extra inputs are not permitted"}]


def test_a_body_over_the_declared_limit_is_a_413_problem(build_client) -> None:
    client = build_client(max_body_bytes=2048)

    response = client.post(
        "/api/auth/login", content=b"{" + b" " * 4096 + b"}", headers={"content-type": "application/json"}
    )

    body = assert_problem(response, 413, "CONTENT_TOO_LARGE")
    assert "2048 bytes" in body["detail"]


def test_a_chunked_body_over_the_limit_is_a_413_problem(build_client) -> None:
    client = build_client(max_body_bytes=2048)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "alice@example.com", "password": "'
        for _ in range(8):
            yield b"x" * 512
        yield b'"}'

    response = client.post("/api/auth/login", content=chunks(), headers={"content-type": "application/json"})

    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "CONTENT_TOO_LARGE")


def test_a_body_under_the_limit_is_served(build_client) -> None:
    client = build_client(max_body_bytes=2048)

    response = client.post("/api/auth/login", json={"email": "alice@example.com", "password": demo.DEMO_PASSWORD})

    assert response.status_code == 200


def test_a_missing_resource_is_a_404_problem(client: ApiClient, auth) -> None:
    assert_problem(client.get(f"/api/users/{demo.UNKNOWN_ID}", headers=auth.admin), 404, "NOT_FOUND")


def test_validation_errors_list_each_field_without_echoing_input(client: ApiClient) -> None:
    payload = {"email": "not-an-email", "name": "", "password": "hunter2"}

    body = assert_problem(client.post("/api/users", json=payload), 422, "VALIDATION_ERROR")

    assert [error["field"] for error in body["errors"]] == [
        "body.email",
        "body.name",
        "body.password",
    ]
    assert all(set(error) == {"field", "message"} for error in body["errors"])
    assert "hunter2" not in str(body)


@pytest.mark.parametrize(
    "content",
    [b'{"email": ', b'{"email": "alice@example.com",}', b"email=alice@example.com", b"{'a': 1}"],
    ids=["truncated", "trailing-comma", "form-encoded", "single-quotes"],
)
def test_malformed_json_is_a_400_problem(client: ApiClient, content: bytes) -> None:
    response = client.post("/api/auth/login", content=content, headers={"Content-Type": "application/json"})

    body = assert_problem(response, 400, "BAD_REQUEST")
    assert body["title"] == "Malformed request"
    assert body["detail"] == "The request body is not valid JSON."
    assert "errors" not in body


@pytest.mark.parametrize("content", [b"[]", b'"alice@example.com"', b"null"], ids=["array", "string", "null"])
def test_well_formed_json_of_the_wrong_shape_is_a_422_problem(client: ApiClient, content: bytes) -> None:
    response = client.post("/api/auth/login", content=content, headers={"Content-Type": "application/json"})

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["field"].startswith("body")


def test_a_malformed_uuid_in_the_path_is_a_validation_problem(client: ApiClient, auth) -> None:
    body = assert_problem(client.get("/api/users/not-a-uuid", headers=auth.admin), 422, "VALIDATION_ERROR")

    assert body["errors"][0]["field"] == "path.user_id"


def test_only_validation_problems_carry_errors(client: ApiClient) -> None:
    assert "errors" not in client.get("/api/users/me").json()


@pytest.fixture
def unmigrated_client(empty_database_url: str, clock) -> Iterator[ApiClient]:
    # A real database failure, no mocks: the app points at a database that was never
    # migrated, so the first query fails inside the driver with SQL in its message.
    client = ApiClient(create_app(make_settings(empty_database_url), clock=clock))
    yield client
    client.close()


def test_an_unexpected_error_is_a_generic_500_that_leaks_nothing(unmigrated_client: ApiClient, auth) -> None:
    response = unmigrated_client.get("/api/users/me", headers=auth.alice)

    body = assert_problem(response, 500, "INTERNAL_ERROR")
    assert body["detail"] == "An unexpected error occurred. Quote the request_id when reporting it."
    leaked = response.text.lower().replace("/api/users/me", "")
    for fragment in ("select", "users", "table", "relation", "sqlite", "psycopg", "traceback"):
        assert fragment not in leaked


def test_an_unexpected_error_is_logged_with_the_request_id(
    unmigrated_client: ApiClient, auth, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="reference_api.errors"):
        response = unmigrated_client.get("/api/users/me", headers={**auth.alice, "X-Request-ID": "trace-me-500"})

    [record] = caplog.records
    assert record.request_id == "trace-me-500" == response.json()["request_id"]
    assert record.exc_info is not None
