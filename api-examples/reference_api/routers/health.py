"""Liveness and readiness probes, for orchestrators and load balancers."""

from datetime import UTC, date, datetime, time
from email.utils import format_datetime

from fastapi import APIRouter, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from reference_api import api_docs as docs
from reference_api.dependencies import Context, DbSession
from reference_api.errors import ErrorCode, ServiceUnavailable
from reference_api.schemas import Health, Liveness
from reference_api.settings import HEALTH_ALIAS_DEPRECATED_ON

router = APIRouter(prefix="/api/health", tags=["health"])

_UNREACHABLE = "The database is unreachable."


@router.get(
    "/live",
    response_model=Liveness,
    summary="Check that the process is serving",
    description="Touches nothing else, the database included: a failing database must "
    "not make an orchestrator restart healthy processes. Not rate limited.",
    responses=docs.ok(200, {"status": "ok"}, "The process answers."),
)
def live() -> Liveness:
    return Liveness(status="ok")


def _ready(session: DbSession) -> Health:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise ServiceUnavailable(_UNREACHABLE) from exc
    return Health(status="ok", database="ok")


def _ready_responses(path: str) -> docs.Responses:
    return docs.merge(
        docs.ok(200, {"status": "ok", "database": "ok"}, "Ready for traffic."),
        docs.problem(ErrorCode.SERVICE_UNAVAILABLE, _UNREACHABLE, path),
    )


router.get(
    "/ready",
    response_model=Health,
    summary="Check that the service can reach its database",
    description="Runs `SELECT 1`. Returns 503 when the database is unreachable, so load "
    "balancers stop routing traffic here until it is back. Not rate limited.",
    responses=_ready_responses("/api/health/ready"),
)(_ready)

# Where a client reads why the alias is going and what replaces it.
DEPRECATION_DOC = "guides/api-design.html"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def deprecation_headers(sunset: date, docs_base_url: str) -> dict[str, str]:
    """RFC 9745 Deprecation (a structured-field date: ``@`` and Unix seconds), RFC 8594
    Sunset (an HTTP-date), and links to the explanation and the replacement."""
    doc = f"{docs_base_url}{DEPRECATION_DOC}"
    return {
        "Deprecation": f"@{int(_midnight(HEALTH_ALIAS_DEPRECATED_ON).timestamp())}",
        "Sunset": format_datetime(_midnight(sunset), usegmt=True),
        "Link": f'<{doc}>; rel="deprecation"; type="text/html", <{doc}>; rel="sunset"; type="text/html", '
        '</api/health/ready>; rel="successor-version"',
    }


_ALIAS_HEADERS = {
    "Deprecation": {"description": "When this URL was deprecated (RFC 9745).", "schema": {"type": "string"}},
    "Sunset": {"description": "When this URL stops answering (RFC 8594).", "schema": {"type": "string"}},
    "Link": {"description": "The deprecation notice and the successor URL.", "schema": {"type": "string"}},
}


def _alias_responses() -> docs.Responses:
    responses = _ready_responses("/api/health")
    for response in responses.values():
        response["headers"] = _ALIAS_HEADERS
    return responses


@router.get(
    "",
    response_model=Health,
    summary="Readiness, at its original URL (deprecated)",
    description="The same check as `/api/health/ready`, kept for existing probes until the date in "
    "its `Sunset` header (setting `HEALTH_ALIAS_SUNSET`). Every answer carries `Deprecation`, `Sunset` "
    "and `Link` headers pointing to the replacement.",
    deprecated=True,
    responses=_alias_responses(),
)
def ready_alias(session: DbSession, context: Context, response: Response) -> Health:
    headers = deprecation_headers(context.settings.health_alias_sunset, context.settings.problem_base_url)
    response.headers.update(headers)
    try:
        return _ready(session)
    except ServiceUnavailable as exc:
        exc.headers = {**exc.headers, **headers}
        raise
