"""Every documented example is true: replayed against the demo data, the service
answers exactly what the OpenAPI document says it answers.

Each replay runs on a freshly seeded database with the clock frozen at
``demo_data.DEMO_NOW``, so timestamps are reproducible and compared like any other
field. Only values that are random by design are ignored; see ``VOLATILE``.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from reference_api.app import create_app

from .support import ApiClient, make_settings

SPEC = create_app(make_settings("sqlite://")).openapi()

# Values nobody can reproduce, and why:
# - access_token / refresh_token: carry a random jti or are 256 random bits;
# - request_id: generated per request unless the client sends one.
VOLATILE = {"access_token", "refresh_token", "request_id"}
# A created resource gets a random UUID4; its `id` is checked against Location instead.
VOLATILE_WHEN_CREATED = {"id"}

# Who sends each example request. Demo data belongs to Alice, so she is the caller,
# except where the operation itself is admin-only.
ADMIN_ONLY = {("get", "/api/users")}


def _operations() -> list[tuple[str, str]]:
    return [(method, path) for path, item in SPEC["paths"].items() for method in item]


def _first_example(holder: dict[str, Any]) -> Any:
    if "examples" in holder:
        return next(iter(holder["examples"].values()))["value"]
    return holder["example"]


def _path_and_query(operation: dict[str, Any], path: str) -> tuple[str, dict[str, Any]]:
    query: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        value = _first_example(parameter)
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(value))
        else:
            query[parameter["name"]] = value
    return path, query


def _body(operation: dict[str, Any]) -> dict[str, Any]:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return {"json": _first_example(content["application/json"])}
    if "application/x-www-form-urlencoded" in content:
        return {"data": _first_example(content["application/x-www-form-urlencoded"])}
    return {}


def _needs_token(operation: dict[str, Any]) -> bool:
    requirements = operation.get("security", [])
    # An empty requirement object means "anonymous is fine too" (sign-up).
    return bool(requirements) and {} not in requirements


def _without(value: Any, keys: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(item, keys) for item in value]
    return value


def _success(operation: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status = min(code for code in operation["responses"] if code.startswith("2"))
    return int(status), operation["responses"][status]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_the_documented_success_example_replays(method: str, path: str, client: ApiClient, auth) -> None:
    operation = SPEC["paths"][path][method]
    url, query = _path_and_query(operation, path)
    headers = {}
    if _needs_token(operation):
        headers = auth.admin if (method, path) in ADMIN_ONLY else auth.alice

    response = client.request(method.upper(), url, params=query, headers=headers, **_body(operation))

    status, documented = _success(operation)
    assert response.status_code == status, response.text
    if status == 204:
        assert response.content == b""
        assert "content-type" not in response.headers
        return
    if "application/json" not in documented["content"]:
        # Plain text (the Prometheus metrics): the documented media type, and the
        # example's comment lines (names and types of the series) are all served.
        [(media_type, content)] = documented["content"].items()
        assert response.headers["content-type"] == media_type
        comments = [line for line in content["example"].splitlines() if line.startswith("#")]
        assert set(comments) <= set(response.text.splitlines())
        return
    body = response.json()
    ignored = VOLATILE | (VOLATILE_WHEN_CREATED if status == 201 else set())
    expected = documented["content"]["application/json"]["example"]
    assert _without(body, ignored) == _without(expected, ignored)
    if "Location" in documented.get("headers", {}):
        assert response.headers["location"] == f"{url}/{body['id']}"


@dataclass(frozen=True)
class Trigger:
    """How to provoke a documented error the default replay would not."""

    caller: str | None = "alice"
    json: Any = None
    # Sent verbatim as application/json, for bodies that must not be valid JSON.
    raw_json: bytes | None = None
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        if self.raw_json is not None:
            return {"content": self.raw_json}
        return {"json": self.json}


DAVE = {"email": "dave@example.com", "name": "Dave Lister", "password": "a-long-passphrase"}
ALICE_REPLACEMENT = {
    "email": "alice@example.com",
    "name": "Alice",
    "role": "user",
    "status": "active",
}
# Errors caused by the request body or query rather than by the path or a missing token.
BODY_TRIGGERED = {
    ("post", "/api/users", "401"): Trigger(caller=None, json={**DAVE, "role": "admin"}),
    ("post", "/api/users", "403"): Trigger(json={**DAVE, "role": "admin"}),
    ("post", "/api/users", "409"): Trigger(caller=None, json={**DAVE, "email": "alice@example.com"}),
    ("post", "/api/users", "422"): Trigger(caller=None, json={**DAVE, "email": "alice", "password": "short1"}),
    ("get", "/api/users", "422"): Trigger(caller="admin", query={"sort": "password_hash"}),
    ("put", "/api/users/{user_id}", "409"): Trigger(json={**ALICE_REPLACEMENT, "email": "bob@example.com"}),
    ("put", "/api/users/{user_id}", "422"): Trigger(json={k: v for k, v in ALICE_REPLACEMENT.items() if k != "status"}),
    ("patch", "/api/users/{user_id}", "403"): Trigger(json={"role": "admin"}),
    ("patch", "/api/users/{user_id}", "409"): Trigger(json={"email": "bob@example.com"}),
    ("patch", "/api/users/{user_id}", "422"): Trigger(json={"name": None}),
    # An ETag from before the demo user's last write.
    ("put", "/api/users/{user_id}", "412"): Trigger(json=ALICE_REPLACEMENT, headers={"If-Match": '"0"'}),
    ("patch", "/api/users/{user_id}", "412"): Trigger(json={"name": "Alice"}, headers={"If-Match": '"0"'}),
    ("get", "/api/users/{user_id}/orders", "422"): Trigger(query={"limit": 101}),
    ("post", "/api/users/{user_id}/orders", "422"): Trigger(
        json={"items": [{"sku": "MUG-001", "quantity": 0, "unit_price": "9.90"}]}
    ),
    ("post", "/api/auth/login", "401"): Trigger(
        caller=None, json={"email": "alice@example.com", "password": "wrong-password"}
    ),
    ("post", "/api/auth/login", "422"): Trigger(caller=None, json={"email": "alice@example.com"}),
    ("post", "/api/auth/refresh", "401"): Trigger(caller=None, json={"refresh_token": "unknown"}),
    ("post", "/api/auth/refresh", "422"): Trigger(caller=None, json={}),
    ("post", "/api/auth/logout", "422"): Trigger(caller=None, json={}),
}
# Every JSON-body operation documents the same 400, provoked the same way. The body is
# parsed before any dependency runs, so the caller does not matter.
MALFORMED_JSON = Trigger(raw_json=b'{"email": ')
# Covered by test_middleware instead: they need an exhausted budget or a dead database,
# not a particular request.
NOT_REPLAYED = {"429", "503"}


def _error_examples() -> list[tuple[str, str, str]]:
    return [
        (method, path, status)
        for method, path in _operations()
        for status in SPEC["paths"][path][method]["responses"]
        if int(status) >= 400 and status not in NOT_REPLAYED
    ]


@pytest.mark.parametrize(("method", "path", "status"), _error_examples())
def test_the_documented_error_example_replays(method: str, path: str, status: str, client: ApiClient, auth) -> None:
    operation = SPEC["paths"][path][method]
    example = operation["responses"][status]["content"]["application/problem+json"]["example"]
    _, query = _path_and_query(operation, path)
    body = _body(operation)
    trigger = MALFORMED_JSON if status == "400" else BODY_TRIGGERED.get((method, path, status))
    extra_headers: dict[str, str] = {}
    if trigger is not None:
        caller = trigger.caller
        extra_headers = trigger.headers
        query.update(trigger.query)
        body = trigger.body()
    elif example["detail"] == "Missing bearer token.":
        caller = None
    else:
        # Path-triggered: 403 examples show Alice reaching for Bob's data; for 404 and
        # 422 an admin passes authorisation so the error itself is what comes back.
        caller = "alice" if status == "403" else "admin"
    headers = {**{"alice": auth.alice, "admin": auth.admin, None: {}}[caller], **extra_headers}
    if "content" in body:
        headers = {**headers, "Content-Type": "application/json"}

    response = client.request(method.upper(), example["instance"], params=query, headers=headers, **body)

    assert response.status_code == int(status), response.text
    assert _without(response.json(), VOLATILE) == _without(example, VOLATILE)
    assert re.fullmatch(r"[0-9a-f]{32}", response.json()["request_id"])
