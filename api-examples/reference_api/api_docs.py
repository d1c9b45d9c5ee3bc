"""OpenAPI examples and response documentation shared by the routers.

Every example describes the demo world in :mod:`reference_api.demo_data`, and
``tests/service/test_openapi_examples.py`` replays them against it, so the published
documentation cannot drift from what the service really does.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from fastapi import Body, Path

from reference_api import demo_data as demo
from reference_api.errors import (
    MALFORMED_JSON_DETAIL,
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPES,
    VALIDATION_DETAIL,
    ErrorCode,
    FieldError,
    problem_body,
)

# A request ID is generated per request, so the value here is illustrative only.
EXAMPLE_REQUEST_ID = "5d0f6a3c2b1e4f7a9c8d7e6f5a4b3c2d"
# Returned for new resources; random (uuid4) in reality.
EXAMPLE_NEW_ID = uuid.UUID("55555555-5555-4555-8555-555555555555")

Responses = dict[int | str, dict[str, Any]]


def timestamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _user(user_id: uuid.UUID, email: str, name: str, role: str, status: str, age_days: int) -> dict[str, Any]:
    created = demo.DEMO_NOW - timedelta(days=age_days)
    return {
        "id": str(user_id),
        "email": email,
        "name": name,
        "role": role,
        "status": status,
        "created_at": timestamp(created),
        "updated_at": timestamp(created),
    }


ALICE = _user(demo.ALICE_ID, "alice@example.com", "Alice Liddell", "user", "active", 10)
BOB = _user(demo.BOB_ID, "bob@example.com", "Bob Builder", "user", "active", 7)

ALICE_PATH = f"/api/users/{demo.ALICE_ID}"
BOB_PATH = f"/api/users/{demo.BOB_ID}"
UNKNOWN_USER_PATH = f"/api/users/{demo.UNKNOWN_ID}"
ALICE_ORDERS_PATH = f"{ALICE_PATH}/orders"

ALICE_ORDER = {
    "id": str(demo.ALICE_ORDER_ID),
    "user_id": str(demo.ALICE_ID),
    "currency": "EUR",
    "created_at": timestamp(demo.DEMO_NOW - timedelta(days=2)),
    "items": [
        {"sku": "BOOK-0042", "quantity": 2, "unit_price": "12.50", "line_total": "25.00"},
        {"sku": "PEN-007", "quantity": 3, "unit_price": "1.99", "line_total": "5.97"},
    ],
    "total": "30.97",
}

TOKEN_PAIR = {
    "access_token": (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIyMjIyMjIyMi0yMjIyLTQyMjItODIyMi0"
        "yMjIyMjIyMjIyMjIiLCJyb2xlIjoidXNlciJ9.c2lnbmF0dXJlLW9taXR0ZWQtaW4tZXhhbXBsZQ"
    ),
    "token_type": "bearer",
    "expires_in": 900,
    "refresh_token": "Yl3kq0dO2rEw5n8vCj6sTq1uZx4aP7mHfG9bN2cV0eU",
}

NO_STORE_HEADER = {
    "Cache-Control": {
        "description": "`no-store`: tokens must not be cached (RFC 6749 §5.1).",
        "schema": {"type": "string", "example": "no-store"},
    }
}
ETAG_HEADER = {
    "ETag": {
        "description": "Version of this user; send it in `If-Match` to update safely.",
        "schema": {"type": "string", "example": '"1"'},
    }
}
REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this repeats the response to an earlier request with the same Idempotency-Key.",
        "schema": {"type": "string", "example": "true"},
    }
}
LOCATION_HEADER = {"Location": {"description": "URL of the created resource.", "schema": {"type": "string"}}}


def example(value: Any, summary: str) -> dict[str, Any]:
    """One named entry for ``openapi_examples=``; the replay test uses the first."""
    return {"summary": summary, "value": value}


def body(value: Any, summary: str) -> Any:
    """``Body(...)`` carrying one replayable request example."""
    return Body(openapi_examples={"demo": example(value, summary)})


def path_param(description: str, value: Any) -> Any:
    return Path(description=description, openapi_examples={"demo": example(value, "Demo data")})


def ok(status: int, value: Any, description: str, headers: Mapping[str, Any] | None = None) -> Responses:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"example": value}},
    }
    if headers:
        response["headers"] = dict(headers)
    return {status: response}


def no_content(description: str) -> Responses:
    return {204: {"description": description}}


_PROBLEM_HEADERS: Mapping[ErrorCode, Mapping[str, Any]] = {
    ErrorCode.UNAUTHENTICATED: {
        "WWW-Authenticate": {
            "description": "Authentication scheme to use (RFC 9110 §11.6.1).",
            "schema": {"type": "string", "example": "Bearer"},
        }
    },
    ErrorCode.RATE_LIMITED: {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": {"type": "integer", "example": 42},
        }
    },
}


def problem(code: ErrorCode, detail: str, instance: str, errors: Sequence[tuple[str, str]] | None = None) -> Responses:
    body = problem_body(
        code,
        detail,
        instance=instance,
        request_id=EXAMPLE_REQUEST_ID,
        errors=[FieldError(field=f, message=m) for f, m in errors] if errors else None,
    )
    response: dict[str, Any] = {
        "description": PROBLEM_TYPES[code].title,
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "example": body,
            }
        },
    }
    if code in _PROBLEM_HEADERS:
        response["headers"] = dict(_PROBLEM_HEADERS[code])
    return {PROBLEM_TYPES[code].status: response}


def invalid(instance: str, *errors: tuple[str, str]) -> Responses:
    return problem(ErrorCode.VALIDATION_ERROR, VALIDATION_DETAIL, instance, errors)


def malformed(instance: str) -> Responses:
    """The 400 for a JSON body that does not parse; every JSON-body operation has one."""
    return problem(ErrorCode.BAD_REQUEST, MALFORMED_JSON_DETAIL, instance)


def unauthenticated(instance: str) -> Responses:
    return problem(ErrorCode.UNAUTHENTICATED, "Missing bearer token.", instance)


def rate_limited(instance: str, detail: str = "Rate limit exceeded; retry in 42 seconds.") -> Responses:
    return problem(ErrorCode.RATE_LIMITED, detail, instance)


def merge(*parts: Responses) -> Responses:
    merged: Responses = {}
    for part in parts:
        merged.update(part)
    return merged
