"""The application factory.

Everything stateful (engine, sessions, clock) is created per call, so each
test can build an app on its own database, and nothing happens at import time.
"""

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.orm import Session, sessionmaker

from reference_api.actor_cache import ActorCache
from reference_api.clock import Clock, system_clock
from reference_api.db import create_db_engine, create_session_factory
from reference_api.dependencies import AppContext
from reference_api.errors import install_error_handlers
from reference_api.logging_config import configure_logging
from reference_api.middleware import (
    REQUEST_ID_HEADER,
    BodySizeLimitMiddleware,
    RateLimitMiddleware,
    RequestContextMiddleware,
)
from reference_api.observability import TRACEPARENT_HEADER, TRACERESPONSE_HEADER, RequestMetrics
from reference_api.openapi import add_problem_schema
from reference_api.rate_limit import SharedRateLimiter
from reference_api.routers import auth, health, metrics, orders, users
from reference_api.security import AccessTokenCodec, Passwords
from reference_api.settings import Settings
from reference_api.webhooks import RetryPolicy, WebhookDispatcher

API_VERSION = "1.0.0"
TAGS = [
    {"name": "users", "description": "Accounts: sign-up, profile, admin management."},
    {"name": "orders", "description": "Orders and their items, nested under their owner."},
    {"name": "auth", "description": "Access tokens (JWT) and rotating refresh tokens."},
    {"name": "health", "description": "Liveness and readiness probes, and request metrics."},
]


def _start_webhook_worker(
    settings: Settings, session_factory: sessionmaker[Session], clock: Clock, stop: threading.Event
) -> threading.Thread | None:
    if settings.webhook_url is None or settings.webhook_secret is None:
        return None
    dispatcher = WebhookDispatcher(
        session_factory=session_factory,
        clock=clock,
        url=settings.webhook_url,
        secret=settings.webhook_secret.get_secret_value(),
        timeout_seconds=settings.webhook_timeout_seconds,
        policy=RetryPolicy(
            max_attempts=settings.webhook_max_attempts,
            base_seconds=settings.webhook_backoff_seconds,
            max_seconds=settings.webhook_backoff_max_seconds,
        ),
    )

    def run() -> None:
        try:
            dispatcher.run(stop, settings.webhook_poll_seconds)
        finally:
            dispatcher.close()

    # A thread per process: every worker drains the outbox, and SKIP LOCKED keeps
    # them from sending one event twice at once.
    thread = threading.Thread(target=run, name="webhook-dispatcher", daemon=True)
    thread.start()
    return thread


def create_served_app() -> FastAPI:
    """What ``python -m reference_api`` runs, in each worker process: settings from the
    environment, JSON logs on stderr."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)


class ReferenceAPI(FastAPI):
    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            add_problem_schema(super().openapi())
        assert self.openapi_schema is not None
        return self.openapi_schema


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or system_clock
    engine = create_db_engine(settings.database_url)
    session_factory = create_session_factory(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        worker = _start_webhook_worker(settings, session_factory, clock, stop)
        yield
        stop.set()
        if worker is not None:
            worker.join()
        engine.dispose()

    app = ReferenceAPI(
        title="agentkb reference API",
        version=API_VERSION,
        summary="Users, orders and token auth, built the way the agentkb guides recommend.",
        description="Every error is an RFC 9457 problem (`application/problem+json`). "
        "Authenticate with `Authorization: Bearer <access_token>` from `/api/auth/login`.",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.context = AppContext(
        settings=settings,
        clock=clock,
        engine=engine,
        session_factory=session_factory,
        passwords=Passwords(settings),
        tokens=AccessTokenCodec(settings),
        actors=ActorCache(timedelta(seconds=settings.auth_cache_seconds), clock),
    )
    app.state.problem_base_url = settings.problem_base_url
    install_error_handlers(app)
    for module in (users, orders, auth, health):
        app.include_router(module.router)
    app.state.metrics = RequestMetrics() if settings.metrics_enabled else None
    if settings.metrics_enabled:
        app.include_router(metrics.router)

    # Starlette wraps in reverse order of registration: the last one added is the
    # outermost. Request context must see everything, and CORS must answer preflight
    # requests before they count against the rate limit.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimitMiddleware,
            general=SharedRateLimiter(
                limit=settings.rate_limit_requests,
                window_seconds=settings.rate_limit_window_seconds,
                clock=clock,
                session_factory=session_factory,
            ),
            exempt_paths=frozenset({"/api/health", "/api/health/live", "/api/health/ready", "/api/metrics"}),
        )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=settings.cors_allow_credentials,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER, TRACEPARENT_HEADER],
        expose_headers=[
            REQUEST_ID_HEADER,
            TRACERESPONSE_HEADER,
            "Location",
            "Retry-After",
            "Deprecation",
            "Sunset",
            "Link",
        ],
        max_age=600,
    )
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app
