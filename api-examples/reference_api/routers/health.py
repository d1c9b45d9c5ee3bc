"""Liveness and readiness probes, for orchestrators and load balancers."""

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from reference_api import api_docs as docs
from reference_api.dependencies import DbSession
from reference_api.errors import ErrorCode, ServiceUnavailable
from reference_api.schemas import Health, Liveness

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

router.get(
    "",
    response_model=Health,
    summary="Readiness, at its original URL",
    description="The same check as `/api/health/ready`, kept for existing probes.",
    deprecated=True,
    responses=_ready_responses("/api/health"),
)(_ready)
