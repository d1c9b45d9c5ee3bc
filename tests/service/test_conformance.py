"""The reference service against the rulebook: one test per convention whose rule shows
through the service's HTTP interface (its responses, its /openapi.json, the webhooks it
sends, and the log records written while it serves a request).

Each test is marked ``@pytest.mark.convention("ID")`` and named after the ID;
tests/test_conformance_map.py checks the mapping, and lists the conventions that cannot
be observed over HTTP. Every test runs on SQLite and on PostgreSQL (the ``client`` and
``build_client`` fixtures), against the real app and a real database.
"""

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from reference_api import demo_data as demo
from reference_api.app import create_app
from reference_api.logging_config import CONTEXT_FIELDS, configure_logging
from reference_api.models import OutboxEvent, Role

from .support import TEST_JWT_SECRET, ApiClient, Receiver, access_claims, make_settings

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "code", "request_id"}
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
HEX_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")

LOGIN, REFRESH, LOGOUT = "/api/auth/login", "/api/auth/refresh", "/api/auth/logout"
USERS = "/api/users"
ALICE = f"{USERS}/{demo.ALICE_ID}"
BOB = f"{USERS}/{demo.BOB_ID}"
ALICE_ORDERS = f"{ALICE}/orders"
ALICE_ORDER = f"{ALICE_ORDERS}/{demo.ALICE_ORDER_ID}"
ORDER = {"currency": "EUR", "items": [{"sku": "MUG-001", "quantity": 2, "unit_price": "9.90"}]}
ALICE_LOGIN = {"email": "alice@example.com", "password": demo.DEMO_PASSWORD}
ALICE_REPLACEMENT = {"email": "alice@example.com", "name": "Alice P. Liddell", "role": "user", "status": "active"}
ORIGIN = "https://app.example.com"  # the one origin make_settings allows
WEBHOOK_SECRET = "conformance-webhook-secret-0123456789abcdef"


# -- helpers ---------------------------------------------------------------------------


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem with this status and code; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_MEMBERS
    assert (body["status"], body["code"]) == (status, code)
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return sorted(error["field"] for error in body["errors"])


def spec_of(client: ApiClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def sign_up(client: ApiClient, email: str, password: str = "a-long-enough-passphrase", name: str = "New User") -> Any:
    return client.post(USERS, json={"email": email, "name": name, "password": password})


def login(client: ApiClient, body: dict[str, str] = ALICE_LOGIN) -> dict[str, Any]:
    response = client.post(LOGIN, json=body)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def in_parallel(count: int, call: Any) -> list[Any]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


@pytest.fixture
def unmigrated(empty_database_url: str, clock: Any) -> Iterator[ApiClient]:
    """The app on a database that was never migrated: every query fails in the driver."""
    client = ApiClient(create_app(make_settings(empty_database_url), clock=clock))
    yield client
    client.close()


def webhook_service(build_client: Any, receiver: Receiver, **settings: object) -> ApiClient:
    client: ApiClient = build_client(
        webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET, webhook_poll_seconds=0.05, **settings
    )
    return client


def outbox(client: ApiClient) -> list[OutboxEvent]:
    with client.app.state.context.session_factory() as session:
        return list(session.scalars(select(OutboxEvent)))


def wait_until(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def settle() -> None:
    """Give the background webhook worker several polls (it polls every 0.05 s)."""
    time.sleep(0.4)


# -- api-design ------------------------------------------------------------------------

# The verbs the rulebook's own verb-in-path rules (API-PLURAL-NOUNS) look for.
CRUD_VERBS = {"get", "create", "update", "delete", "add", "remove", "fetch", "list"}


@pytest.mark.convention("API-PLURAL-NOUNS")
def test_api_plural_nouns(client: ApiClient) -> None:
    """Collections are plural nouns, items are the collection plus its ID, and no path names a verb."""
    paths = spec_of(client)["paths"]
    items = 0
    for path in paths:
        segments = path.strip("/").split("/")
        assert not CRUD_VERBS & {segment.split("-")[0] for segment in segments}, path
        for position, segment in enumerate(segments):
            if segment.startswith("{"):
                items += 1
                collection = segments[position - 1]
                assert collection.endswith("s"), path
                assert segment == "{" + collection[:-1] + "_id}", path
                assert "/" + "/".join(segments[:position]) in paths, f"{path}: its collection has no path"
    assert items == 4
    assert {"get", "post"} <= paths["/api/users"].keys()
    assert {"get", "put", "patch", "delete"} == paths["/api/users/{user_id}"].keys()


@pytest.mark.convention("API-KEBAB-PATHS")
def test_api_kebab_paths(client: ApiClient) -> None:
    """Every literal path segment of the live OpenAPI document is lower-case kebab-case."""
    kebab = re.compile(r"^(/([a-z0-9]+(-[a-z0-9]+)*|\{[^}]+\}))*/?$")  # the rulebook's own pattern

    assert [path for path in spec_of(client)["paths"] if not kebab.match(path)] == []


@pytest.mark.convention("API-SNAKE-CASE-FIELDS")
def test_api_snake_case_fields(client: ApiClient, auth: Any) -> None:
    """Every JSON member (schemas and live bodies) and every query and path parameter is snake_case."""
    spec = spec_of(client)
    names: set[str] = set()

    def collect_properties(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    names.update(value)
                if key not in ("example", "examples"):
                    collect_properties(value)
        elif isinstance(node, list):
            for value in node:
                collect_properties(value)

    collect_properties(spec)
    parameters = {
        parameter["name"]
        for _, _, operation in operations(spec)
        for parameter in operation.get("parameters", [])
        if parameter["in"] in ("query", "path")
    }

    def collect_members(node: Any) -> None:
        if isinstance(node, dict):
            names.update(node)
            for value in node.values():
                collect_members(value)
        elif isinstance(node, list):
            for value in node:
                collect_members(value)

    for response in (
        client.get(USERS, headers=auth.admin),
        client.get(ALICE_ORDERS, headers=auth.alice),
        client.post(LOGIN, json=ALICE_LOGIN),
        client.post(USERS, json={"email": "not-an-email"}),
        client.get("/api/health/ready"),
    ):
        collect_members(response.json())

    assert {"total_pages", "user_id", "request_id", "refresh_token"} <= names
    assert sorted(name for name in names | parameters if not SNAKE_CASE.match(name)) == []
    assert {"page", "limit", "sort", "q", "status", "role", "user_id", "order_id"} <= parameters


@pytest.mark.convention("API-PUT-PATCH")
def test_api_put_patch(client: ApiClient, auth: Any) -> None:
    """PUT needs every editable field and is idempotent; PATCH applies only the fields sent and refuses null."""
    incomplete = {key: value for key, value in ALICE_REPLACEMENT.items() if key != "status"}
    assert fields(problem(client.put(ALICE, json=incomplete, headers=auth.alice), 422, "VALIDATION_ERROR")) == [
        "body.status"
    ]

    first = client.put(ALICE, json=ALICE_REPLACEMENT, headers=auth.alice)
    second = client.put(ALICE, json=ALICE_REPLACEMENT, headers=auth.alice)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert first.json()["name"] == "Alice P. Liddell"

    patched = client.patch(ALICE, json={"name": "Only The Name"}, headers=auth.alice)
    assert patched.status_code == 200
    assert patched.json() == {**second.json(), "name": "Only The Name"}

    nulled = client.patch(ALICE, json={"name": None}, headers=auth.alice)
    assert fields(problem(nulled, 422, "VALIDATION_ERROR")) == ["body.name"]
    assert client.get(ALICE, headers=auth.alice).json() == patched.json()


@pytest.mark.convention("API-NEST-ONE-LEVEL")
def test_api_nest_one_level(client: ApiClient, auth: Any) -> None:
    """Paths nest one owner deep at most, and the owner in the path is checked."""
    paths = spec_of(client)["paths"]
    for path in paths:
        parameters = re.findall(r"\{[^}]+\}", path)
        assert len(parameters) <= 2, path
        if len(parameters) == 2:
            parent = path[: path.index(parameters[0]) + len(parameters[0])]
            assert parent in paths, f"{path}: the owner {parent} is not addressable"
    assert "/api/users/{user_id}/orders/{order_id}" in paths

    assert client.get(ALICE_ORDER, headers=auth.alice).status_code == 200
    problem(client.get(ALICE_ORDER, headers=auth.bob), 403, "FORBIDDEN")
    under_bob = f"{BOB}/orders/{demo.ALICE_ORDER_ID}"
    problem(client.get(under_bob, headers=auth.admin), 404, "NOT_FOUND")


# -- authentication --------------------------------------------------------------------


def _token(settings: Any, *, algorithm: str = "HS256", drop: str = "", **claims: object) -> str:
    payload = access_claims(settings, **claims)
    payload.pop(drop, None)
    key = None if algorithm == "none" else TEST_JWT_SECRET
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns about HS512 with a 47-byte key
        return jwt.encode(payload, key, algorithm=algorithm)


@pytest.mark.convention("AUTH-JWT-VALIDATE-CLAIMS")
def test_auth_jwt_validate_claims(client: ApiClient, settings: Any) -> None:
    """Only HS256 tokens with this service's iss and aud, and an unexpired exp and a sub, are accepted."""
    now = int(demo.DEMO_NOW.timestamp())
    assert client.get("/api/users/me", headers=bearer(_token(settings))).status_code == 200  # control

    rejected = {
        "wrong issuer": _token(settings, iss="https://evil.example"),
        "wrong audience": _token(settings, aud="another-api"),
        "alg none": _token(settings, algorithm="none"),
        "another algorithm, same key": _token(settings, algorithm="HS512"),
        "expired": _token(settings, exp=now),
        "long expired": _token(settings, iat=now - 3600, exp=now - 1800),
        "no exp": _token(settings, drop="exp"),
        "no iss": _token(settings, drop="iss"),
        "no aud": _token(settings, drop="aud"),
        "no sub": _token(settings, drop="sub"),
    }
    statuses = {
        case: client.get("/api/users/me", headers=bearer(token)).status_code for case, token in rejected.items()
    }

    assert statuses == dict.fromkeys(rejected, 401)


@pytest.mark.convention("AUTH-SHORT-ACCESS-TOKENS")
def test_auth_short_access_tokens(client: ApiClient, clock: Any) -> None:
    """An issued access token lives 15 minutes (exp - iat = 900 s) and stops working then."""
    tokens = login(client)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})

    assert claims["exp"] - claims["iat"] == 15 * 60
    assert tokens["expires_in"] == 15 * 60
    assert tokens["refresh_token"]
    clock.advance(minutes=14, seconds=59)
    assert client.get("/api/users/me", headers=bearer(tokens["access_token"])).status_code == 200
    clock.advance(seconds=1)
    assert client.get("/api/users/me", headers=bearer(tokens["access_token"])).status_code == 401


@pytest.mark.convention("AUTH-ROTATE-REFRESH-TOKENS")
def test_auth_rotate_refresh_tokens(client: ApiClient) -> None:
    """Refresh tokens are opaque and single-use; reuse revokes the whole login, and so does logout."""
    first = login(client)["refresh_token"]
    assert first.count(".") != 2  # opaque, not a JWT
    rotated = client.post(REFRESH, json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first

    problem(client.post(REFRESH, json={"refresh_token": first}), 401, "UNAUTHENTICATED")  # reuse...
    problem(client.post(REFRESH, json={"refresh_token": second}), 401, "UNAUTHENTICATED")  # ...ends the family
    # Another login of the same user is not affected.
    assert client.post(REFRESH, json={"refresh_token": demo.ALICE_REFRESH_TOKEN}).status_code == 200

    # Logout with any token of a login, even an already rotated one, ends that whole login.
    other = login(client)["refresh_token"]
    successor = client.post(REFRESH, json={"refresh_token": other}).json()["refresh_token"]
    assert client.post(LOGOUT, json={"refresh_token": other}).status_code == 204
    problem(client.post(REFRESH, json={"refresh_token": successor}), 401, "UNAUTHENTICATED")


@pytest.mark.convention("AUTH-SERVER-SIDE-RBAC")
def test_auth_server_side_rbac(client: ApiClient, auth: Any, settings: Any) -> None:
    """Every protected operation denies anonymous calls, and roles come from the database, not the token."""
    spec = spec_of(client)
    ids = {"{user_id}": str(demo.ALICE_ID), "{order_id}": str(demo.ALICE_ORDER_ID)}
    anonymous = {}
    for method, path, operation in operations(spec):
        if operation.get("security") and {} not in operation["security"]:
            url = path
            for placeholder, value in ids.items():
                url = url.replace(placeholder, value)
            anonymous[f"{method} {path}"] = client.request(method, url).status_code
    assert len(anonymous) == 9
    assert anonymous == dict.fromkeys(anonymous, 401)

    # A validly signed token claiming admin for a plain user grants nothing.
    forged = _token(settings, sub=str(demo.BOB_ID), role="admin")
    problem(client.get(USERS, headers=bearer(forged)), 403, "FORBIDDEN")

    # An admin demoted after their token was issued loses admin rights at once.
    zed = client.post(
        USERS,
        json={"email": "zed@example.com", "name": "Zed", "password": "zed-long-passphrase", "role": "admin"},
        headers=auth.admin,
    )
    assert zed.status_code == 201
    zed_token = auth.bearer(uuid.UUID(zed.json()["id"]), Role.admin)
    assert client.get(USERS, headers=zed_token).status_code == 200
    demoted = client.patch(f"{USERS}/{zed.json()['id']}", json={"role": "user"}, headers=auth.admin)
    assert demoted.status_code == 200
    problem(client.get(USERS, headers=zed_token), 403, "FORBIDDEN")


# -- concurrency -----------------------------------------------------------------------


@pytest.mark.convention("CONC-IF-MATCH")
def test_conc_if_match(client: ApiClient, auth: Any) -> None:
    """Users carry a strong ETag that every write changes; a stale or weak If-Match gets 412, also under a race."""
    etag = client.get(ALICE, headers=auth.alice).headers["etag"]
    assert re.fullmatch(r'"[^"]+"', etag)

    written = client.patch(ALICE, json={"name": "First"}, headers={**auth.alice, "If-Match": etag})
    assert written.status_code == 200
    current = written.headers["etag"]
    assert current != etag

    stale_patch = client.patch(ALICE, json={"name": "Lost"}, headers={**auth.alice, "If-Match": etag})
    problem(stale_patch, 412, "PRECONDITION_FAILED")
    stale_put = client.put(ALICE, json=ALICE_REPLACEMENT, headers={**auth.alice, "If-Match": etag})
    problem(stale_put, 412, "PRECONDITION_FAILED")
    weak = client.patch(ALICE, json={"name": "Weak"}, headers={**auth.alice, "If-Match": f"W/{current}"})
    problem(weak, 412, "PRECONDITION_FAILED")
    unchanged = client.get(ALICE, headers=auth.alice)
    assert (unchanged.json()["name"], unchanged.headers["etag"]) == ("First", current)

    def racing_write() -> int:
        headers = {**auth.alice, "If-Match": current}
        return int(client.patch(ALICE, json={"name": "Racer"}, headers=headers).status_code)

    assert sorted(in_parallel(4, racing_write)) == [200, 412, 412, 412]


@pytest.mark.convention("CONC-IDEMPOTENCY-KEY")
def test_conc_idempotency_key(client: ApiClient, auth: Any) -> None:
    """The same Idempotency-Key and body replay the first order; another body is a 422; a burst makes one order."""
    headers = {**auth.alice, "Idempotency-Key": "conformance-once"}
    first = client.post(ALICE_ORDERS, json=ORDER, headers=headers)
    again = client.post(ALICE_ORDERS, json=ORDER, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]

    other_body = {**ORDER, "currency": "USD"}
    problem(client.post(ALICE_ORDERS, json=other_body, headers=headers), 422, "IDEMPOTENCY_KEY_REUSED")

    burst_headers = {**auth.alice, "Idempotency-Key": "conformance-burst"}
    burst = in_parallel(6, lambda: client.post(ALICE_ORDERS, json=ORDER, headers=burst_headers))
    assert {response.status_code for response in burst} == {201}
    assert len({response.json()["id"] for response in burst}) == 1

    assert client.get(ALICE_ORDERS, headers=auth.alice).json()["meta"]["total"] == 1 + 2


# -- errors ----------------------------------------------------------------------------


@pytest.mark.convention("ERR-PROBLEM-DETAILS")
def test_err_problem_details(client: ApiClient, auth: Any) -> None:
    """Errors are problem+json with type, title, status, detail, instance, UPPER_SNAKE code, request_id, errors."""
    invalid = client.post(USERS, json={"email": "nope", "name": "", "password": "short"})
    body = problem(invalid, 422, "VALIDATION_ERROR")
    assert set(body) == PROBLEM_MEMBERS | {"errors"}
    assert body["type"].startswith("https://")
    assert body["instance"] == USERS
    assert isinstance(body["title"], str) and isinstance(body["detail"], str)
    assert all(set(error) == {"field", "message"} for error in body["errors"])
    assert fields(body) == ["body.email", "body.name", "body.password"]

    missing = [client.get(f"{USERS}/{uuid.uuid4()}", headers=auth.admin) for _ in range(2)]
    bodies = [problem(response, 404, "NOT_FOUND") for response in missing]
    assert all(set(found) == PROBLEM_MEMBERS for found in bodies)
    assert {(found["type"], found["title"], found["code"]) for found in bodies} == {
        (bodies[0]["type"], bodies[0]["title"], "NOT_FOUND")
    }

    spec = spec_of(client)
    problem_schema = spec["components"]["schemas"]["Problem"]
    assert set(problem_schema["required"]) == PROBLEM_MEMBERS
    assert all(UPPER_SNAKE.match(code) for code in spec["components"]["schemas"]["ErrorCode"]["enum"])
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], f"{method} {path} {status}"


@pytest.mark.convention("ERR-ONE-FORMAT")
def test_err_one_format(client: ApiClient, auth: Any) -> None:
    """Framework errors (unknown route, wrong method, bad JSON, bad path, oversized body, no token) are problems too."""
    cases = [
        (client.get("/api/no-such-thing"), 404, "NOT_FOUND"),
        (client.delete(USERS), 405, "METHOD_NOT_ALLOWED"),
        (client.post(LOGIN, content=b'{"email": ', headers={"Content-Type": "application/json"}), 400, "BAD_REQUEST"),
        (client.post(LOGIN, json=["not", "an", "object"]), 422, "VALIDATION_ERROR"),
        (client.get(f"{USERS}/not-a-uuid", headers=auth.alice), 422, "VALIDATION_ERROR"),
        (client.post(USERS, content=b"x" * (1024 * 1024 + 1)), 413, "CONTENT_TOO_LARGE"),
        (client.get("/api/users/me"), 401, "UNAUTHENTICATED"),
    ]
    for response, status, code in cases:
        body = problem(response, status, code)
        assert isinstance(body["detail"], str), body
    assert cases[1][0].headers["allow"] == "GET, POST"


@pytest.mark.convention("ERR-NO-INTERNALS")
def test_err_no_internals(unmigrated: ApiClient, auth: Any, caplog: pytest.LogCaptureFixture) -> None:
    """An unexpected failure is a generic 500 problem carrying only the request ID, and is logged with its traceback."""
    with caplog.at_level(logging.ERROR, logger="reference_api"):
        response = unmigrated.get("/api/users/me", headers={**auth.alice, "X-Request-ID": "no-internals"})

    body = problem(response, 500, "INTERNAL_ERROR")
    assert set(body) == PROBLEM_MEMBERS
    assert body["detail"] == "An unexpected error occurred. Quote the request_id when reporting it."
    assert body["request_id"] == "no-internals"
    leaked = response.text.lower().replace("/api/users/me", "")
    for fragment in ("select", "from ", "table", "relation", "sqlite", "psycopg", "sqlalchemy", "traceback", ".py"):
        assert fragment not in leaked
    [record] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert record.__dict__["request_id"] == "no-internals"
    assert record.exc_info is not None


# -- logging ---------------------------------------------------------------------------


@pytest.mark.convention("LOG-STRUCTURED-JSON")
def test_log_structured_json(client: ApiClient, auth: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Served logging writes one JSON object per line: timestamp, level, logger, message, allow-listed fields."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    capsys.readouterr()
    configure_logging("INFO")  # what create_served_app installs in each worker
    try:
        client.get("/api/users/me", headers={**auth.alice, "X-Request-ID": "json-lines"})
        client.post(LOGIN, json={"email": "alice@example.com", "password": "a-wrong-password"})
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)

    lines = capsys.readouterr().err.splitlines()
    entries = [json.loads(line) for line in lines]
    service = [entry for entry in entries if entry["logger"].startswith("reference_api")]
    assert len(service) == 2
    allowed = {"timestamp", "level", "logger", "message", "pid", *CONTEXT_FIELDS, "exception"}
    for entry in entries:
        assert isinstance(entry, dict)
        assert {"timestamp", "level", "logger", "message"} <= entry.keys() <= allowed, entry
        assert datetime.fromisoformat(entry["timestamp"]).utcoffset() == timedelta(0)
    assert service[0]["request_id"] == "json-lines"
    assert (service[0]["level"], service[0]["status"], service[1]["status"]) == ("INFO", 200, 401)


@pytest.mark.convention("LOG-REQUEST-ID")
def test_log_request_id(client: ApiClient, auth: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Each request gets an ID (a valid X-Request-ID or a new one), returned in the response and on its log records."""
    with caplog.at_level(logging.DEBUG, logger="reference_api"):
        supplied = client.get("/api/users/me", headers={**auth.alice, "X-Request-ID": "conformance-42"})
        generated = client.get("/api/users/me", headers=auth.alice)
        hostile = client.get("/api/users/me", headers={**auth.alice, "X-Request-ID": "bad id\twith tabs"})
        failed = client.get(f"{USERS}/{demo.UNKNOWN_ID}", headers={**auth.admin, "X-Request-ID": "conformance-404"})

    assert supplied.headers["x-request-id"] == "conformance-42"
    assert HEX_REQUEST_ID.match(generated.headers["x-request-id"])
    assert HEX_REQUEST_ID.match(hostile.headers["x-request-id"])
    assert failed.json()["request_id"] == failed.headers["x-request-id"] == "conformance-404"
    records = [record for record in caplog.records if record.name.startswith("reference_api")]
    expected = [response.headers["x-request-id"] for response in (supplied, generated, hostile, failed)]
    assert [record.__dict__.get("request_id") for record in records] == expected


@pytest.mark.convention("LOG-NO-SECRETS")
def test_log_no_secrets(client: ApiClient, auth: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Logs of sign-up, login, refresh and logout hold no password, token, header, query or email address."""
    new_password = "a-fresh-conformance-passphrase"
    with caplog.at_level(logging.DEBUG):
        assert sign_up(client, "dora@example.com", new_password).status_code == 201
        tokens = login(client)
        client.post(LOGIN, json={"email": "bob@example.com", "password": "wrong-password-guess"})
        client.get(USERS, params={"q": "alice@example.com"}, headers=bearer(tokens["access_token"]))
        refreshed = client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}).json()
        client.post(LOGOUT, json={"refresh_token": refreshed["refresh_token"]})

    # httpx/httpcore records are the test's own client, not the service.
    records = [record for record in caplog.records if not record.name.startswith(("httpx", "httpcore"))]
    assert len(records) >= 6
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in records)
    secrets = [
        demo.DEMO_PASSWORD,
        new_password,
        "wrong-password-guess",
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
        "Bearer",
        "alice@example.com",
        "bob@example.com",
        "dora@example.com",
        "q=",
    ]
    assert [secret for secret in secrets if secret in logged] == []


@pytest.mark.convention("LOG-LEVELS")
def test_log_levels(client: ApiClient, unmigrated: ApiClient, auth: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Served and refused requests log at INFO; a failed request logs one ERROR with its traceback."""
    with caplog.at_level(logging.DEBUG, logger="reference_api"):
        client.get("/api/users/me", headers=auth.alice)
        client.get("/api/users/me")
        client.get(f"{USERS}/{demo.UNKNOWN_ID}", headers=auth.admin)
        handled = [(record.name, record.levelname) for record in caplog.records]
        caplog.clear()
        unmigrated.get("/api/users/me", headers=auth.alice)
        failed = list(caplog.records)

    assert handled == [("reference_api.access", "INFO")] * 3
    [error] = [record for record in failed if record.levelno >= logging.WARNING]
    assert error.levelname == "ERROR"
    assert error.exc_info is not None
    [access] = [record for record in failed if record.name == "reference_api.access"]
    assert (access.levelname, access.__dict__["status"]) == ("INFO", 500)


# -- operations ------------------------------------------------------------------------


@pytest.mark.convention("OPS-LIVENESS-READINESS")
def test_ops_liveness_readiness(build_client: Any, tmp_path: Any, clock: Any) -> None:
    """Liveness needs nothing, readiness checks the database (bare 503 without it), neither is rate limited."""
    client = build_client(rate_limit_requests=1)
    live = [client.get("/api/health/live") for _ in range(3)]
    ready = [client.get("/api/health/ready") for _ in range(3)]
    assert [(r.status_code, r.json()) for r in live] == [(200, {"status": "ok"})] * 3
    assert [(r.status_code, r.json()) for r in ready] == [(200, {"status": "ok", "database": "ok"})] * 3

    down = ApiClient(create_app(make_settings(f"sqlite:///{tmp_path}/no-such-dir/db.sqlite"), clock=clock))
    try:
        not_ready = down.get("/api/health/ready")
        still_live = down.get("/api/health/live")
    finally:
        down.close()
    body = problem(not_ready, 503, "SERVICE_UNAVAILABLE")
    assert body["detail"] == "The database is unreachable."
    assert "no-such-dir" not in not_ready.text and "sqlite" not in not_ready.text.lower()
    assert (still_live.status_code, still_live.json()) == (200, {"status": "ok"})


@pytest.mark.convention("OPS-SHARED-STATE")
def test_ops_shared_state(build_client: Any, auth: Any) -> None:
    """Two app instances on one database share the login-failure budget, revocations and idempotency keys."""
    first = build_client(login_failures_per_account=3)
    second = build_client(login_failures_per_account=3)

    wrong = {"email": "bob@example.com", "password": "not-the-password"}
    statuses = [worker.post(LOGIN, json=wrong).status_code for worker in (first, second, first, second)]
    assert statuses == [401, 401, 401, 429]

    tokens = login(first)
    assert second.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    problem(first.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}), 401, "UNAUTHENTICATED")

    headers = {**auth.alice, "Idempotency-Key": "one-key-two-workers"}
    placed = first.post(ALICE_ORDERS, json=ORDER, headers=headers)
    replayed = second.post(ALICE_ORDERS, json=ORDER, headers=headers)
    assert (placed.status_code, replayed.status_code) == (201, 201)
    assert replayed.json()["id"] == placed.json()["id"]
    assert replayed.headers["idempotent-replayed"] == "true"


# -- pagination ------------------------------------------------------------------------


@pytest.mark.convention("PAGE-LIMIT-CAP")
def test_page_limit_cap(client: ApiClient, auth: Any) -> None:
    """page >= 1 (default 1), 1 <= limit <= 100 (default 20); out-of-range values are 422, never clamped."""
    for url, headers in ((USERS, auth.admin), (ALICE_ORDERS, auth.alice)):
        meta = client.get(url, headers=headers).json()["meta"]
        assert (meta["page"], meta["limit"]) == (1, 20)
        assert client.get(url, params={"limit": 100}, headers=headers).json()["meta"]["limit"] == 100
        out_of_range = (({"limit": 101}, "query.limit"), ({"limit": 0}, "query.limit"), ({"page": 0}, "query.page"))
        for params, field_name in out_of_range:
            response = client.get(url, params=params, headers=headers)
            assert fields(problem(response, 422, "VALIDATION_ERROR")) == [field_name], (url, params)

    spec = spec_of(client)
    for path in ("/api/users", "/api/users/{user_id}/orders"):
        parameters = {p["name"]: p["schema"] for p in spec["paths"][path]["get"]["parameters"]}
        limit, page = parameters["limit"], parameters["page"]
        assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 20)
        assert (page["minimum"], page["default"]) == (1, 1)


@pytest.mark.convention("PAGE-LIST-ENVELOPE")
def test_page_list_envelope(client: ApiClient, auth: Any) -> None:
    """Lists are {"data": [...], "meta": {page, limit, total, total_pages}}; single resources are bare."""
    users = client.get(USERS, params={"limit": 3}, headers=auth.admin).json()
    assert set(users) == {"data", "meta"}
    assert users["meta"] == {"page": 1, "limit": 3, "total": 4, "total_pages": 2}
    assert len(users["data"]) == 3

    orders = client.get(ALICE_ORDERS, headers=auth.alice).json()
    assert set(orders) == {"data", "meta"}
    assert orders["meta"] == {"page": 1, "limit": 20, "total": 1, "total_pages": 1}

    empty = client.get(USERS, params={"q": "matches-nobody"}, headers=auth.admin).json()
    assert empty == {"data": [], "meta": {"page": 1, "limit": 20, "total": 0, "total_pages": 0}}

    single = client.get(ALICE, headers=auth.alice).json()
    assert single["id"] == str(demo.ALICE_ID)
    assert not {"data", "meta"} & set(single)


@pytest.mark.convention("PAGE-SORT-WHITELIST")
def test_page_sort_whitelist(client: ApiClient, auth: Any) -> None:
    """sort takes whitelisted fields with '-' for descending, anything else is a 422, and the ID breaks ties."""
    # Sign-ups under the frozen clock share one created_at: only the tie-breaker orders them.
    new_ids = sorted(sign_up(client, f"tie-{n}@example.com").json()["id"] for n in range(3))
    demo_oldest_first = [str(demo.ADMIN_ID), str(demo.ALICE_ID), str(demo.BOB_ID), str(demo.CAROL_ID)]

    def walk(sort: str) -> list[str]:
        ids: list[str] = []
        for page in (1, 2, 3, 4):
            response = client.get(USERS, params={"sort": sort, "limit": 2, "page": page}, headers=auth.admin)
            assert response.status_code == 200, response.text
            ids += [user["id"] for user in response.json()["data"]]
        return ids

    assert walk("created_at") == demo_oldest_first + new_ids
    assert walk("-created_at") == new_ids + demo_oldest_first[::-1]
    by_name = client.get(USERS, params={"sort": "-name,email"}, headers=auth.admin).json()["data"]
    assert [user["name"] for user in by_name[:2]] == ["New User", "New User"]

    for sort in ("password_hash", "-", "name;drop", "created_at,role"):
        response = client.get(USERS, params={"sort": sort}, headers=auth.admin)
        assert fields(problem(response, 422, "VALIDATION_ERROR")) == ["query.sort"], sort


@pytest.mark.convention("PAGE-SEARCH-ESCAPED")
def test_page_search_escaped(client: ApiClient, auth: Any) -> None:
    """q is bounded in length, and '%' and '_' in it match themselves, not any text."""
    assert sign_up(client, "pat@example.com", name="Pat 100% Sure").status_code == 201

    def found(q: str) -> list[str]:
        response = client.get(USERS, params={"q": q}, headers=auth.admin)
        assert response.status_code == 200, response.text
        return [user["email"] for user in response.json()["data"]]

    assert found("%") == ["pat@example.com"]
    assert found("100%") == ["pat@example.com"]
    assert found("_") == []
    assert found("a%e") == []
    assert len(found("example")) == 5  # control: plain text matches
    for q, status in (("x" * 101, 422), ("x" * 100, 200), ("", 422)):
        assert client.get(USERS, params={"q": q}, headers=auth.admin).status_code == status, len(q)


# -- passwords -------------------------------------------------------------------------


@pytest.mark.convention("PWD-LENGTH-BOUNDS")
def test_pwd_length_bounds(client: ApiClient) -> None:
    """A password under 8 characters is refused, one of 64 is accepted, and long passwords are never truncated."""
    short = sign_up(client, "short@example.com", "x" * 7)
    assert fields(problem(short, 422, "VALIDATION_ERROR")) == ["body.password"]

    password = spec_of(client)["components"]["schemas"]["UserCreate"]["properties"]["password"]
    assert password["minLength"] >= 8
    assert password["maxLength"] >= 64

    sixty_four = "p" * 63 + "!"
    assert sign_up(client, "sixty-four@example.com", sixty_four).status_code == 201
    assert client.post(LOGIN, json={"email": "sixty-four@example.com", "password": sixty_four}).status_code == 200

    long_password = "L" * 100
    assert sign_up(client, "long@example.com", long_password).status_code == 201
    for prefix in (long_password[:72], long_password[:64]):  # bcrypt-style and 64-character truncation
        assert client.post(LOGIN, json={"email": "long@example.com", "password": prefix}).status_code == 401
    assert client.post(LOGIN, json={"email": "long@example.com", "password": long_password}).status_code == 200


# -- performance -----------------------------------------------------------------------


@pytest.mark.convention("PERF-CACHE-TTL-AND-INVALIDATION")
def test_perf_cache_ttl_and_invalidation(build_client: Any, auth: Any, clock: Any) -> None:
    """A cached signed-in user is evicted by the write that changes it and kept at most AUTH_CACHE_SECONDS elsewhere."""
    worker, other_worker = build_client(auth_cache_seconds=5), build_client(auth_cache_seconds=5)
    for app in (worker, other_worker):
        assert app.get("/api/users/me", headers=auth.bob).status_code == 200  # cached in both

    worker.patch(BOB, json={"status": "inactive"}, headers=auth.admin)

    assert worker.get("/api/users/me", headers=auth.bob).status_code == 401  # the writer's process: at once
    clock.advance(seconds=4.9)
    assert other_worker.get(BOB, headers=auth.bob).status_code == 200  # another process: until the TTL...
    clock.advance(seconds=0.1)
    problem(other_worker.get(BOB, headers=auth.bob), 401, "UNAUTHENTICATED")  # ...and no longer


# -- security --------------------------------------------------------------------------


@pytest.mark.convention("SEC-PARAMETERISED-QUERIES")
def test_sec_parameterised_queries(client: ApiClient, auth: Any) -> None:
    """SQL in search text, names and emails is stored and matched as plain data."""
    for payload in ("' OR '1'='1", "%' OR 1=1 --", "'); DROP TABLE users; --", '" OR ""="'):
        response = client.get(USERS, params={"q": payload}, headers=auth.admin)
        assert (response.status_code, response.json()["meta"]["total"]) == (200, 0), payload

    name = "Robert'); DROP TABLE users;--"
    created = client.post(USERS, json={"email": "o'brien@example.com", "name": name, "password": "a-long-passphrase"})
    assert created.status_code == 201, created.text
    assert (created.json()["name"], created.json()["email"]) == (name, "o'brien@example.com")
    assert client.get(created.headers["location"], headers=auth.admin).json()["name"] == name
    everyone = client.get(USERS, headers=auth.admin).json()
    assert everyone["meta"]["total"] == 5
    assert [user["name"] for user in client.get(USERS, params={"q": "o'brien"}, headers=auth.admin).json()["data"]] == [
        name
    ]


@pytest.mark.convention("SEC-OBJECT-LEVEL-AUTHZ")
def test_sec_object_level_authz(client: ApiClient, auth: Any) -> None:
    """A user can read and change only their own account and orders; admins may access any; IDs cannot be probed."""
    attempts = {
        "read": client.get(ALICE, headers=auth.bob),
        "replace": client.put(ALICE, json=ALICE_REPLACEMENT, headers=auth.bob),
        "update": client.patch(ALICE, json={"name": "Mallory"}, headers=auth.bob),
        "delete": client.delete(ALICE, headers=auth.bob),
        "list orders": client.get(ALICE_ORDERS, headers=auth.bob),
        "read order": client.get(ALICE_ORDER, headers=auth.bob),
        "place order": client.post(ALICE_ORDERS, json=ORDER, headers=auth.bob),
        "probe unknown id": client.get(f"{USERS}/{demo.UNKNOWN_ID}", headers=auth.bob),
    }
    for action, response in attempts.items():
        assert response.status_code == 403, action
        assert response.json()["code"] == "FORBIDDEN"

    own = client.get(ALICE, headers=auth.alice)
    assert (own.status_code, own.json()["name"]) == (200, "Alice Liddell")
    assert client.get(ALICE_ORDERS, headers=auth.alice).json()["meta"]["total"] == 1
    assert client.get(ALICE_ORDER, headers=auth.admin).status_code == 200
    assert client.get(ALICE, headers=auth.admin).status_code == 200


@pytest.mark.convention("SEC-EXPLICIT-COLUMNS")
def test_sec_explicit_columns(client: ApiClient, auth: Any) -> None:
    """No response and no documented schema carries password_hash or any other password field."""
    created = sign_up(client, "eve@example.com")
    responses = [
        created,
        client.get(created.headers["location"], headers=auth.admin),
        client.get("/api/users/me", headers=auth.alice),
        client.get(USERS, headers=auth.admin),
        client.patch(ALICE, json={"name": "Alice"}, headers=auth.alice),
        client.put(ALICE, json=ALICE_REPLACEMENT, headers=auth.alice),
        client.post(LOGIN, json=ALICE_LOGIN),
        client.post(ALICE_ORDERS, json=ORDER, headers=auth.alice),
        client.get(ALICE_ORDERS, headers=auth.alice),
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.text
        assert "password" not in response.text.lower()
        assert "$argon2" not in response.text

    spec = spec_of(client)
    documented = [schema for schema in spec["components"]["schemas"].values() if "properties" in schema]
    assert not any("password_hash" in schema["properties"] for schema in documented)
    for _, _, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                assert "password" not in json.dumps(response.get("content", {})).lower()
    schemas = spec["components"]["schemas"]
    read_fields = {"id", "email", "name", "role", "status", "created_at", "updated_at"}
    assert set(schemas["UserRead"]["properties"]) == read_fields
    for name, schema in schemas.items():
        if "password" in schema.get("properties", {}):
            assert schema["properties"]["password"]["writeOnly"] is True, name


@pytest.mark.convention("SEC-RATE-LIMIT")
def test_sec_rate_limit(build_client: Any) -> None:
    """Over budget is a 429 with Retry-After; failed sign-ins get smaller budgets per address and per account."""
    limited = build_client(rate_limit_requests=3)
    statuses = [limited.get("/api/users/me").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]

    per_address = build_client(login_failures_per_ip=3)
    guesses = [per_address.post(LOGIN, json={"email": f"guess-{n}@example.com", "password": "guess"}) for n in range(4)]
    assert [response.status_code for response in guesses] == [401, 401, 401, 429]
    refused = problem(guesses[-1], 429, "RATE_LIMITED")
    assert int(guesses[-1].headers["retry-after"]) > 0, refused

    defaults = build_client()  # 120 requests a minute, but 5 failed sign-ins per account
    wrong = {"email": "alice@example.com", "password": "not-the-password"}
    account = [defaults.post(LOGIN, json=wrong).status_code for _ in range(6)]
    assert account == [401] * 5 + [429]
    right = defaults.post(LOGIN, json=ALICE_LOGIN)
    problem(right, 429, "RATE_LIMITED")
    assert int(right.headers["retry-after"]) > 0


@pytest.mark.convention("SEC-CORS-ALLOWLIST")
def test_sec_cors_allowlist(build_client: Any) -> None:
    """Only listed origins get CORS headers, and with credentials the origin is echoed, never '*'."""
    client = build_client()
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Authorization"}
    allowed = client.options(USERS, headers={"Origin": ORIGIN, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-credentials" not in allowed.headers

    refused = client.options(USERS, headers={"Origin": "https://evil.example", **preflight})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    simple = client.get("/api/health/live", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers

    with_credentials = build_client(cors_allow_credentials=True)
    listed = with_credentials.get("/api/health/live", headers={"Origin": ORIGIN})
    assert listed.headers["access-control-allow-origin"] == ORIGIN
    assert listed.headers["access-control-allow-credentials"] == "true"
    other = with_credentials.get("/api/health/live", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


# -- status codes ----------------------------------------------------------------------


@pytest.mark.convention("HTTP-409-DUPLICATE")
def test_http_409_duplicate(client: ApiClient, auth: Any) -> None:
    """Creating or updating to a taken email is a 409, also when two sign-ups race."""
    problem(sign_up(client, "ALICE@example.com"), 409, "CONFLICT")
    problem(client.patch(ALICE, json={"email": "bob@example.com"}, headers=auth.alice), 409, "CONFLICT")
    replacement = {**ALICE_REPLACEMENT, "email": "Bob@Example.com"}
    problem(client.put(ALICE, json=replacement, headers=auth.alice), 409, "CONFLICT")

    racing = in_parallel(4, lambda: sign_up(client, "racer@example.com"))
    assert sorted(response.status_code for response in racing) == [201, 409, 409, 409]
    assert all(r.headers["content-type"] == PROBLEM_MEDIA_TYPE for r in racing if r.status_code == 409)


@pytest.mark.convention("HTTP-401-VS-403")
def test_http_401_vs_403(client: ApiClient, auth: Any) -> None:
    """No or bad credentials: 401 with WWW-Authenticate: Bearer; signed in without the right: 403 without it."""
    missing = client.get(USERS)
    problem(missing, 401, "UNAUTHENTICATED")
    assert missing.headers["www-authenticate"] == "Bearer"
    bad = client.get(USERS, headers=bearer("not.a.token"))
    problem(bad, 401, "UNAUTHENTICATED")
    assert bad.headers["www-authenticate"].startswith("Bearer")

    forbidden = client.get(USERS, headers=auth.bob)
    problem(forbidden, 403, "FORBIDDEN")
    assert "www-authenticate" not in forbidden.headers

    for method, path, operation in operations(spec_of(client)):
        if "401" in operation["responses"]:
            assert "WWW-Authenticate" in operation["responses"]["401"].get("headers", {}), f"{method} {path}"


@pytest.mark.convention("HTTP-201-LOCATION")
def test_http_201_location(client: ApiClient, auth: Any) -> None:
    """A create answers 201 with the resource and its URL in Location; a delete answers 204 with no body."""
    user = sign_up(client, "frank@example.com")
    assert user.status_code == 201
    assert user.headers["location"] == f"{USERS}/{user.json()['id']}"
    assert client.get(user.headers["location"], headers=auth.admin).json() == user.json()

    order = client.post(ALICE_ORDERS, json=ORDER, headers=auth.alice)
    assert order.status_code == 201
    assert order.headers["location"] == f"{ALICE_ORDERS}/{order.json()['id']}"
    assert client.get(order.headers["location"], headers=auth.alice).json() == order.json()

    deleted = client.delete(user.headers["location"], headers=auth.admin)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert client.get(user.headers["location"], headers=auth.admin).status_code == 404

    for method, path, operation in operations(spec_of(client)):
        if "201" in operation["responses"]:
            assert "Location" in operation["responses"]["201"]["headers"], f"{method} {path}"
        if method == "DELETE":
            assert "204" in operation["responses"], path


@pytest.mark.convention("HTTP-429-RETRY-AFTER")
def test_http_429_retry_after(build_client: Any, clock: Any) -> None:
    """Over budget is a 429 RATE_LIMITED problem whose Retry-After gives the seconds to wait, truthfully."""
    client = build_client(rate_limit_requests=2, rate_limit_window_seconds=60)
    assert [client.get("/api/users/me").status_code for _ in range(2)] == [401, 401]
    clock.advance(seconds=20)

    limited = client.get("/api/users/me")
    problem(limited, 429, "RATE_LIMITED")
    # A leaky bucket: one request drains every 30 s, so the next fits 10 s from now.
    assert limited.headers["retry-after"] == "10"
    clock.advance(seconds=9)
    assert client.get("/api/users/me").status_code == 429
    clock.advance(seconds=1)
    assert client.get("/api/users/me").status_code == 401

    clock.advance(seconds=60)  # a full budget again, for the spec itself
    for method, path, operation in operations(spec_of(client)):
        if "429" in operation["responses"]:
            assert "Retry-After" in operation["responses"]["429"].get("headers", {}), f"{method} {path}"


# -- validation ------------------------------------------------------------------------


@pytest.mark.convention("VAL-BOUNDARY-SCHEMA")
def test_val_boundary_schema(client: ApiClient, auth: Any) -> None:
    """Bodies, path, query and header parameters are typed and bounded: each out-of-bound value is a 422 naming it."""
    user = {"email": "gina@example.com", "name": "Gina", "password": "a-long-passphrase"}
    item = ORDER["items"][0]
    too_precise = "1" * 9 + ".00"  # 11 digits: more than the 10 a price may have
    probes = [
        ("POST", USERS, {"json": {**user, "name": "x" * 101}}, "body.name"),
        ("POST", USERS, {"json": {**user, "email": "a" * 250 + "@example.com"}}, "body.email"),
        ("POST", USERS, {"json": {**user, "email": "not-an-email"}}, "body.email"),
        ("POST", USERS, {"json": {**user, "password": "x" * 129}}, "body.password"),
        ("POST", USERS, {"json": {**user, "role": "root"}}, "body.role"),
        ("POST", USERS, {"json": [user]}, "body"),
        ("POST", ALICE_ORDERS, {"json": {"items": [{**item, "quantity": 10_001}]}}, "body.items.0.quantity"),
        ("POST", ALICE_ORDERS, {"json": {"items": [{**item, "unit_price": too_precise}]}}, "body.items.0.unit_price"),
        ("POST", ALICE_ORDERS, {"json": {"items": [{**item, "sku": "X" * 40}]}}, "body.items.0.sku"),
        ("POST", ALICE_ORDERS, {"json": {**ORDER, "currency": "EURO"}}, "body.currency"),
        ("POST", ALICE_ORDERS, {"json": {"items": [item] * 101}}, "body.items"),
        ("POST", ALICE_ORDERS, {"json": ORDER, "headers": {"Idempotency-Key": "k" * 256}}, "header.idempotency-key"),
        ("PATCH", ALICE, {"json": {"name": "A"}, "headers": {"If-Match": '"' + "1" * 999 + '"'}}, "header.if-match"),
        ("GET", USERS, {"params": {"q": "x" * 101}}, "query.q"),
        ("GET", USERS, {"params": {"sort": "name," * 20 + "name"}}, "query.sort"),
        ("GET", USERS, {"params": {"page": 10_001}}, "query.page"),
        ("GET", USERS, {"params": {"status": "gone"}}, "query.status"),
        ("GET", f"{USERS}/42", {}, "path.user_id"),
    ]
    for method, url, kwargs, expected in probes:
        owner = auth.alice if url.startswith(ALICE) else auth.admin
        response = client.request(method, url, **{**kwargs, "headers": {**owner, **kwargs.get("headers", {})}})
        assert response.status_code == 422, (method, url, expected, response.text)
        assert expected in fields(response.json()), (expected, response.json()["errors"])


@pytest.mark.convention("VAL-422-INVALID-FIELDS")
def test_val_422_invalid_fields(client: ApiClient) -> None:
    """Well-formed JSON with bad fields is a 422 with one entry per field; unparsable JSON is a 400 problem."""
    invalid = client.post(USERS, json={"email": "nope", "password": "short", "nickname": "x"})
    body = problem(invalid, 422, "VALIDATION_ERROR")
    assert fields(body) == ["body.email", "body.name", "body.nickname", "body.password"]

    for content in (b'{"email": "a@example.com",', b"not json", b"{'single': 'quotes'}"):
        malformed = client.post(USERS, content=content, headers={"Content-Type": "application/json"})
        assert "errors" not in problem(malformed, 400, "BAD_REQUEST")


@pytest.mark.convention("VAL-SEPARATE-MODELS")
def test_val_separate_models(client: ApiClient, auth: Any) -> None:
    """Server-owned fields sent in a create, replace or update body are a 422 naming them, never dropped or applied."""
    user = {"email": "hank@example.com", "name": "Hank", "password": "a-long-passphrase"}
    probes = [
        ("POST", USERS, {**user, "id": str(uuid.uuid4())}, "body.id"),
        ("POST", USERS, {**user, "created_at": "2020-01-01T00:00:00Z"}, "body.created_at"),
        ("POST", USERS, {**user, "password_hash": "x"}, "body.password_hash"),
        ("POST", USERS, {**user, "status": "active"}, "body.status"),
        ("PUT", ALICE, {**ALICE_REPLACEMENT, "id": str(uuid.uuid4())}, "body.id"),
        ("PATCH", ALICE, {"updated_at": "2020-01-01T00:00:00Z"}, "body.updated_at"),
        ("PATCH", ALICE, {"version": 7}, "body.version"),
        ("POST", ALICE_ORDERS, {**ORDER, "total": "0.01"}, "body.total"),
        ("POST", ALICE_ORDERS, {**ORDER, "user_id": str(demo.BOB_ID)}, "body.user_id"),
        ("POST", LOGIN, {**ALICE_LOGIN, "role": "admin"}, "body.role"),
    ]
    for method, url, body, expected in probes:
        response = client.request(method, url, json=body, headers=auth.alice)
        assert fields(problem(response, 422, "VALIDATION_ERROR")) == [expected], (method, url)

    # role is server-owned for a non-admin: refused, not dropped and not applied.
    problem(client.patch(ALICE, json={"role": "admin"}, headers=auth.alice), 403, "FORBIDDEN")
    assert client.get(ALICE, headers=auth.alice).json()["role"] == "user"
    assert client.get(ALICE_ORDERS, headers=auth.alice).json()["meta"]["total"] == 1


@pytest.mark.convention("VAL-DEFENCE-IN-DEPTH")
def test_val_defence_in_depth(client: ApiClient, auth: Any) -> None:
    """Schema refuses bad shapes, the service what state forbids, the unique constraint a racing update."""
    problem(client.patch(ALICE, json={"email": "not-an-email"}, headers=auth.alice), 422, "VALIDATION_ERROR")
    problem(client.patch(ALICE, json={"status": "inactive"}, headers=auth.alice), 403, "FORBIDDEN")
    problem(client.post(f"{USERS}/{demo.UNKNOWN_ID}/orders", json=ORDER, headers=auth.admin), 404, "NOT_FOUND")

    def take_the_address(user: tuple[str, dict[str, str]]) -> int:
        url, headers = user
        return int(client.patch(url, json={"email": "shared@example.com"}, headers=headers).status_code)

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(take_the_address, [(ALICE, auth.alice), (BOB, auth.bob)]))
    assert statuses == [200, 409]
    emails = [user["email"] for user in client.get(USERS, params={"q": "shared"}, headers=auth.admin).json()["data"]]
    assert emails == ["shared@example.com"]


# -- databases (what shows over HTTP) --------------------------------------------------


@pytest.mark.convention("DB-AWARE-UTC-TIMESTAMPS")
def test_db_aware_utc_timestamps(client: ApiClient, auth: Any) -> None:
    """Timestamps written and read back through either database are timezone-aware UTC instants."""
    created = sign_up(client, "ivy@example.com").json()
    order = client.post(ALICE_ORDERS, json=ORDER, headers=auth.alice).json()
    stored = client.get(f"{USERS}/{created['id']}", headers=auth.admin).json()
    seeded = client.get(ALICE, headers=auth.alice).json()

    values = [created["created_at"], stored["created_at"], stored["updated_at"], order["created_at"]]
    values.append(seeded["created_at"])
    instants = [datetime.fromisoformat(value) for value in values]
    assert all(instant.utcoffset() == timedelta(0) for instant in instants), values
    assert instants[:4] == [demo.DEMO_NOW] * 4
    assert instants[4] == demo.DEMO_NOW - timedelta(days=10)


# -- webhooks --------------------------------------------------------------------------


@pytest.mark.convention("HOOK-TRANSACTIONAL-OUTBOX")
def test_hook_transactional_outbox(build_client: Any, auth: Any, receiver: Receiver, clock: Any) -> None:
    """Each committed order sends one event at least once under one ID; failed or replayed creates send none."""
    receiver.plan = [(500, 0.0)]  # the first delivery fails, so it is sent again
    service = webhook_service(build_client, receiver, webhook_backoff_seconds=1)

    headers = {**auth.alice, "Idempotency-Key": "one-event"}
    burst = in_parallel(4, lambda: service.post(ALICE_ORDERS, json=ORDER, headers=headers))
    assert {response.status_code for response in burst} == {201}
    [order_id] = {response.json()["id"] for response in burst}
    assert service.post(ALICE_ORDERS, json={"items": []}, headers=auth.alice).status_code == 422

    assert receiver.wait_for(1)
    settle()
    clock.advance(seconds=1)  # the whole first backoff step
    assert receiver.wait_for(2)
    settle()

    assert len(receiver.received) == 2
    (first_headers, first_body), (second_headers, second_body) = receiver.received
    payload = json.loads(first_body)
    assert second_body == first_body
    assert first_headers["webhook-id"] == second_headers["webhook-id"] == payload["id"]
    assert (payload["type"], payload["data"]["order_id"]) == ("order.placed", order_id)


@pytest.mark.convention("HOOK-SIGNED-TIMESTAMP")
def test_hook_signed_timestamp(build_client: Any, auth: Any, receiver: Receiver, clock: Any) -> None:
    """A webhook carries t=<send time>,v1=HMAC-SHA256(secret, "<t>." + exact body)."""
    service = webhook_service(build_client, receiver)
    order = service.post(ALICE_ORDERS, json=ORDER, headers=auth.alice).json()

    assert receiver.wait_for(1)
    [(headers, body)] = receiver.received
    signature = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", headers["webhook-signature"])
    assert signature is not None, headers["webhook-signature"]
    timestamp = int(signature[1])
    assert timestamp == int(clock().timestamp())
    expected = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature[2], expected)
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["data"]["order_id"] == order["id"]


@pytest.mark.convention("HOOK-BOUNDED-RETRIES")
def test_hook_bounded_retries(build_client: Any, auth: Any, receiver: Receiver, clock: Any) -> None:
    """Deliveries time out, retry after doubling jittered delays, and are marked failed after the last attempt."""
    receiver.plan = [(204, 1.0), (500, 0.0), (500, 0.0), (500, 0.0)]  # too slow, then errors
    service = webhook_service(
        build_client,
        receiver,
        webhook_timeout_seconds=0.3,
        webhook_max_attempts=3,
        webhook_backoff_seconds=10,
        webhook_backoff_max_seconds=60,
    )
    service.post(ALICE_ORDERS, json=ORDER, headers=auth.alice)

    assert receiver.wait_for(1)
    assert wait_until(lambda: outbox(service)[0].attempts == 1)
    [event] = outbox(service)
    assert (event.status, event.last_error) == ("pending", "ReadTimeout")
    clock.advance(seconds=4.9)  # attempt 1 waits 10 s x [1/2, 1]
    settle()
    assert len(receiver.received) == 1
    clock.advance(seconds=5.1)
    assert receiver.wait_for(2)
    settle()
    clock.advance(seconds=9.9)  # attempt 2 waits 20 s x [1/2, 1]
    settle()
    assert len(receiver.received) == 2
    clock.advance(seconds=10.1)
    assert receiver.wait_for(3)
    assert wait_until(lambda: outbox(service)[0].attempts == 3)
    clock.advance(hours=2)
    settle()

    assert len(receiver.received) == 3
    [event] = outbox(service)
    assert (event.status, event.attempts, event.last_error) == ("failed", 3, "HTTP 500")


# -- the last gaps: deprecation, CSRF, trace context and metrics -------------------------

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_HEADER = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@pytest.mark.convention("API-DEPRECATION-HEADERS")
def test_api_deprecation_headers(build_client: Any) -> None:
    """The deprecated alias sends Deprecation (RFC 9745), Sunset (RFC 8594) and Link, and is deprecated in OpenAPI."""
    client = build_client(health_alias_sunset=date(2028, 1, 31))
    alias, ready = client.get("/api/health"), client.get("/api/health/ready")

    assert alias.status_code == ready.status_code == 200
    deprecated_on = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
    assert alias.headers["deprecation"] == f"@{deprecated_on}"  # a structured-field date
    assert alias.headers["sunset"] == "Mon, 31 Jan 2028 00:00:00 GMT"  # an HTTP-date
    assert parsedate_to_datetime(alias.headers["sunset"]).timestamp() > deprecated_on
    links = alias.headers["link"]
    for relation in ('rel="deprecation"', 'rel="sunset"', '</api/health/ready>; rel="successor-version"'):
        assert relation in links
    assert not {"deprecation", "sunset", "link"} & ready.headers.keys()

    deprecated = [
        (method, path) for method, path, operation in operations(spec_of(client)) if operation.get("deprecated")
    ]
    assert deprecated == [("GET", "/api/health")]
    documented = spec_of(client)["paths"]["/api/health"]["get"]["responses"]["200"]["headers"]
    assert {"Deprecation", "Sunset", "Link"} <= documented.keys()


@pytest.mark.convention("SEC-CSRF-COOKIE-SESSIONS")
def test_sec_csrf_cookie_sessions(client: ApiClient, auth: Any) -> None:
    """No response sets a cookie, so a cross-site request carries no credentials: cookies alone authenticate nobody."""
    tokens = login(client)
    responses = [
        client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}),
        client.get("/api/users/me", headers=bearer(tokens["access_token"])),
        client.get("/api/health"),
    ]
    assert all("set-cookie" not in response.headers for response in responses)

    cross_site = client.post(
        ALICE_ORDERS,
        content="currency=EUR",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"},
    )
    problem(cross_site, 401, "UNAUTHENTICATED")
    cookies = {"session": tokens["access_token"], "access_token": tokens["access_token"]}
    cookie_only = client.request(
        "GET", "/api/users/me", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    )
    problem(cookie_only, 401, "UNAUTHENTICATED")


@pytest.mark.convention("LOG-TRACE-CONTEXT")
def test_log_trace_context(
    unmigrated: ApiClient, client: ApiClient, auth: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A valid traceparent is joined: its trace ID is on every log line of the request and in traceresponse."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    capsys.readouterr()
    configure_logging("INFO")
    try:
        failed = unmigrated.get(
            "/api/users/me", headers={**auth.alice, "traceparent": TRACEPARENT, "X-Request-ID": "trace-1"}
        )
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)

    assert failed.status_code == 500
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    service = [entry for entry in entries if entry["logger"].startswith("reference_api")]
    assert len(service) >= 2  # the logged failure and the access line
    assert {(entry["trace_id"], entry["request_id"]) for entry in service} == {
        ("4bf92f3577b34da6a3ce929d0e0e4736", "trace-1")
    }
    trace_id, span_id, flags = TRACE_HEADER.fullmatch(failed.headers["traceresponse"]).groups()  # type: ignore[union-attr]
    assert (trace_id, flags) == ("4bf92f3577b34da6a3ce929d0e0e4736", "01")
    assert span_id not in ("00f067aa0ba902b7", "0" * 16)

    for invalid in (
        "",
        "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    ):
        restarted = client.get("/api/health/live", headers={"traceparent": invalid} if invalid else {})
        trace_id, span_id, flags = TRACE_HEADER.fullmatch(restarted.headers["traceresponse"]).groups()  # type: ignore[union-attr]
        assert trace_id not in ("4bf92f3577b34da6a3ce929d0e0e4736", "0" * 32) and flags == "00"


METRIC_LINE = re.compile(r'^http_requests_total\{method="(\w+)",route="([^"]+)",status="(\d{3})"\} (\d+)$')


@pytest.mark.convention("LOG-RED-METRICS")
def test_log_red_metrics(client: ApiClient, auth: Any) -> None:
    """/api/metrics counts requests and latency by method, route template and status, in the Prometheus text format."""
    for _ in range(2):
        assert client.get(ALICE, headers=auth.alice).status_code == 200
    assert client.get(f"{USERS}/{demo.UNKNOWN_ID}", headers=auth.admin).status_code == 404
    assert client.get(f"/no/such/{uuid.uuid4()}").status_code == 404

    response = client.get("/api/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    lines = response.text.splitlines()
    counts = {match.groups()[:3]: int(match[4]) for line in lines if (match := METRIC_LINE.match(line))}
    assert counts[("GET", "/api/users/{user_id}", "200")] == 2
    assert counts[("GET", "/api/users/{user_id}", "404")] == 1
    assert counts[("GET", "<unmatched>", "404")] == 1
    assert str(demo.UNKNOWN_ID) not in response.text and "/no/such" not in response.text
    assert "# TYPE http_request_duration_seconds histogram" in lines
    labels = 'method="GET",route="/api/users/{user_id}",status="200"'
    assert f'http_request_duration_seconds_bucket{{{labels},le="+Inf"}} 2' in lines
    assert f"http_request_duration_seconds_count{{{labels}}} 2" in lines
