"""One error format for every failure: RFC 9457 problem details.

Domain code raises :class:`ApiError` subclasses; the handlers registered by
:func:`install_error_handlers` turn those, FastAPI validation errors and Starlette's
own HTTP errors into ``application/problem+json``. Unexpected exceptions are turned
into a generic 500 by the request-context middleware, which also logs them.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from typing import ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from reference_api.settings import DEFAULT_PROBLEM_BASE_URL

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Under PROBLEM_BASE_URL, each code's `type` URI is the site page that explains it.
PROBLEM_PAGES_PATH = "api-examples/errors/"
VALIDATION_DETAIL = "The request contains invalid fields; see `errors`."
MALFORMED_JSON_DETAIL = "The request body is not valid JSON."


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    BAD_REQUEST = "BAD_REQUEST"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    CONFLICT = "CONFLICT"
    PRECONDITION_FAILED = "PRECONDITION_FAILED"
    CONTENT_TOO_LARGE = "CONTENT_TOO_LARGE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


@dataclass(frozen=True)
class ProblemType:
    status: int
    title: str


# Titles are fixed per problem type (RFC 9457 §3.1.3); the occurrence-specific text
# goes in `detail`.
PROBLEM_TYPES: Mapping[ErrorCode, ProblemType] = {
    ErrorCode.VALIDATION_ERROR: ProblemType(422, "Request validation failed"),
    ErrorCode.BAD_REQUEST: ProblemType(400, "Malformed request"),
    ErrorCode.UNAUTHENTICATED: ProblemType(401, "Authentication required"),
    ErrorCode.FORBIDDEN: ProblemType(403, "Permission denied"),
    ErrorCode.NOT_FOUND: ProblemType(404, "Resource not found"),
    ErrorCode.METHOD_NOT_ALLOWED: ProblemType(405, "Method not allowed"),
    ErrorCode.CONFLICT: ProblemType(409, "Resource conflict"),
    ErrorCode.PRECONDITION_FAILED: ProblemType(412, "Precondition failed"),
    ErrorCode.CONTENT_TOO_LARGE: ProblemType(413, "Content too large"),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: ProblemType(422, "Idempotency key reused"),
    ErrorCode.RATE_LIMITED: ProblemType(429, "Too many requests"),
    ErrorCode.INTERNAL_ERROR: ProblemType(500, "Internal server error"),
    ErrorCode.SERVICE_UNAVAILABLE: ProblemType(503, "Service unavailable"),
}


# For errors raised by the framework, which only know a status: the first (most
# general) code with that status, so 422 maps to VALIDATION_ERROR.
def _first_code_by_status() -> dict[int, ErrorCode]:
    codes: dict[int, ErrorCode] = {}
    for code, problem in PROBLEM_TYPES.items():
        codes.setdefault(problem.status, code)
    return codes


_CODE_BY_STATUS = _first_code_by_status()


def problem_type_uri(code: ErrorCode, base_url: str = DEFAULT_PROBLEM_BASE_URL) -> str:
    return f"{base_url}{PROBLEM_PAGES_PATH}{code.lower().replace('_', '-')}.html"


class FieldError(BaseModel):
    field: str = Field(description="Where the bad value is, e.g. `body.email` or `query.limit`.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, extended with a stable `code` and the `request_id`."""

    model_config = ConfigDict(title="Problem")

    type: str = Field(description="URI identifying the problem type.")
    title: str
    status: int
    detail: str
    instance: str = Field(description="Path of the request that failed.")
    code: ErrorCode
    request_id: str = Field(description="Same value as the X-Request-ID response header.")
    errors: list[FieldError] | None = Field(
        default=None, description="Per-field messages; present on validation errors only."
    )


class ApiError(Exception):
    code: ErrorCode
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, detail: str, *, errors: Sequence[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class ValidationFailed(ApiError):
    code = ErrorCode.VALIDATION_ERROR


class Unauthenticated(ApiError):
    code = ErrorCode.UNAUTHENTICATED
    # RFC 9110 §11.6.1: a 401 must say how to authenticate.
    headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": "Bearer"}


class TokenRejected(Unauthenticated):
    # RFC 6750 §3.1: tell the client the token itself was the problem.
    headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class Forbidden(ApiError):
    code = ErrorCode.FORBIDDEN


class NotFound(ApiError):
    code = ErrorCode.NOT_FOUND


class Conflict(ApiError):
    code = ErrorCode.CONFLICT


class PreconditionFailed(ApiError):
    code = ErrorCode.PRECONDITION_FAILED


class IdempotencyKeyReused(ApiError):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED


class RateLimited(ApiError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after_seconds)}


class ServiceUnavailable(ApiError):
    code = ErrorCode.SERVICE_UNAVAILABLE


def problem_body(
    code: ErrorCode,
    detail: str,
    *,
    instance: str,
    request_id: str,
    errors: Sequence[FieldError] | None = None,
    base_url: str = DEFAULT_PROBLEM_BASE_URL,
) -> dict[str, object]:
    problem = PROBLEM_TYPES[code]
    return Problem(
        type=problem_type_uri(code, base_url),
        title=problem.title,
        status=problem.status,
        detail=detail,
        instance=instance,
        code=code,
        request_id=request_id,
        errors=list(errors) if errors is not None else None,
    ).model_dump(mode="json", exclude_none=True)


def problem_response(
    request: Request,
    code: ErrorCode,
    detail: str,
    *,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = problem_body(
        code,
        detail,
        instance=request.url.path,
        request_id=request.state.request_id,
        errors=errors,
        base_url=request.app.state.problem_base_url,
    )
    return JSONResponse(
        body,
        status_code=PROBLEM_TYPES[code].status,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _field_path(location: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in location)


async def _handle_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return problem_response(request, exc.code, exc.detail, errors=exc.errors, headers=exc.headers)


async def _handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # FastAPI reports an unparsable JSON body as a validation error too, but there are
    # no fields to blame: the syntax is wrong, which RFC 9110 §15.5.1 makes a 400.
    if any(error["type"] == "json_invalid" for error in exc.errors()):
        return problem_response(request, ErrorCode.BAD_REQUEST, MALFORMED_JSON_DETAIL)
    # Only location and message go back: pydantic's `input` would echo whatever the
    # client sent, passwords included.
    errors = [FieldError(field=_field_path(error["loc"]), message=error["msg"]) for error in exc.errors()]
    return problem_response(
        request,
        ErrorCode.VALIDATION_ERROR,
        VALIDATION_DETAIL,
        errors=errors,
    )


_FRAMEWORK_DETAILS = {
    404: "No resource exists at this URL.",
    405: "This URL does not support the {method} method.",
}


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route at this path accepts.

    Starlette's own Allow header names only the first route that matched the path,
    but GET and POST /api/users are two routes; RFC 9110 §15.5.6 wants them all.
    Asking the router about each method covers nested routers too.
    """
    return ", ".join(
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in request.app.router.routes
        )
    )


async def _handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    # Starlette raises these itself for unknown routes, wrong methods and unreadable
    # bodies; they must not bypass the problem format.
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _CODE_BY_STATUS.get(status, ErrorCode.BAD_REQUEST if status < 500 else ErrorCode.INTERNAL_ERROR)
    template = _FRAMEWORK_DETAILS.get(status)
    if template:
        detail = template.format(method=request.method)
    elif exc.detail != HTTPStatus(status).phrase:
        # Raised by this service's own middleware with a message meant for clients.
        detail = exc.detail
    else:
        detail = HTTPStatus(status).phrase
    headers = dict(exc.headers or {})
    if status == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem_response(request, code, detail, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _handle_api_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
