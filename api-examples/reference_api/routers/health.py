"""Liveness and readiness in one cheap endpoint."""

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from reference_api import api_docs as docs
from reference_api.dependencies import DbSession
from reference_api.errors import ErrorCode, ServiceUnavailable
from reference_api.schemas import Health

router = APIRouter(prefix="/api/health", tags=["health"])


@router.get(
    "",
    response_model=Health,
    summary="Check that the service can reach its database",
    description="Runs `SELECT 1`. Returns 503 when the database is unreachable, so load "
    "balancers stop routing traffic here. Not rate limited.",
    responses=docs.merge(
        docs.ok(200, {"status": "ok", "database": "ok"}, "Healthy."),
        docs.problem(ErrorCode.SERVICE_UNAVAILABLE, "The database is unreachable.", "/api/health"),
    ),
)
def health(session: DbSession) -> Health:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise ServiceUnavailable("The database is unreachable.") from exc
    return Health(status="ok", database="ok")
