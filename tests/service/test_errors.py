"""Every failure uses the same RFC 9457 problem envelope, and leaks nothing."""

import logging
from collections.abc import Iterator

import pytest

from reference_api import demo_data as demo
from reference_api.app import create_app

from .support import ApiClient, make_settings

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code", "request_id"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == "https://agentkb.dev/problems/" + code.lower().replace("_", "-")
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
