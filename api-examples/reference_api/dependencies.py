"""FastAPI dependencies: per-request sessions, services and the current user.

Everything an endpoint needs comes from the :class:`AppContext` built by
``create_app``, never from module globals, so two apps (two tests) never share state.

FastAPI runs every plain ``def`` dependency in the thread pool, one round trip per
dependency. Those that only build objects are ``async def`` and run on the event loop
instead. The current user's token is checked on the loop too (CPU only), and the user
comes from the per-process :class:`ActorCache` when it is there; only a miss goes to
a worker thread to query. With the endpoint itself, an authenticated request crosses
to a thread and back once (twice on a miss) instead of nine times
(bench/service_load.py, api-examples/service-performance.md).
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from reference_api.actor_cache import ActorCache
from reference_api.clock import Clock
from reference_api.errors import Unauthenticated
from reference_api.repositories import UserRecord
from reference_api.security import AccessTokenCodec, Passwords
from reference_api.services import AuthService, LoginLimits, OrderService, UserService
from reference_api.settings import Settings


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    clock: Clock
    engine: Engine
    session_factory: sessionmaker[Session]
    passwords: Passwords
    tokens: AccessTokenCodec
    actors: ActorCache


async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


async def get_session(context: Context) -> AsyncIterator[Session]:
    # Creating a session does no I/O (it connects on first use), and closing it only
    # hands the connection back to the pool (a rollback, a no-op after a commit), so
    # both happen here on the event loop. Closing in a worker thread instead cost a
    # hand-off per request and, under load on PostgreSQL, deadlocked: every thread
    # waited for a pooled connection while every connection waited for a thread to
    # be closed in (bench/service_load.py).
    session = context.session_factory()
    try:
        yield session
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session)]


async def get_auth_service(context: Context, session: DbSession) -> AuthService:
    return AuthService(
        session,
        context.clock,
        context.passwords,
        context.tokens,
        refresh_ttl=timedelta(days=context.settings.refresh_token_ttl_days),
        login_limits=LoginLimits(
            per_account=context.settings.login_failures_per_account,
            per_ip=context.settings.login_failures_per_ip,
            window_seconds=context.settings.login_failure_window_seconds,
            purge_after_seconds=max(
                context.settings.login_failure_window_seconds, context.settings.rate_limit_window_seconds
            ),
        ),
        actors=context.actors,
    )


async def get_user_service(context: Context, session: DbSession) -> UserService:
    return UserService(session, context.clock, context.passwords, context.actors)


async def get_order_service(context: Context, session: DbSession) -> OrderService:
    return OrderService(
        session,
        context.clock,
        idempotency_ttl=timedelta(hours=context.settings.idempotency_key_ttl_hours),
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]
OrderServiceDep = Annotated[OrderService, Depends(get_order_service)]

# auto_error=False: FastAPI's own error would be a 403 without WWW-Authenticate and
# outside the problem format; the dependencies below raise the proper 401 instead.
bearer_scheme = HTTPBearer(
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="Access token from `POST /api/auth/login`.",
    auto_error=False,
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


async def _authenticate(auth: AuthService, access_token: str) -> UserRecord:
    # Verifying the signature is CPU work, done here on the loop; only the database
    # read on a cache miss blocks, so only it goes to a worker thread.
    claims = auth.verify_access_token(access_token)
    cached = auth.cached_actor(claims)
    if cached is not None:
        return cached
    return await anyio.to_thread.run_sync(auth.load_actor, claims)


async def get_current_user(credentials: BearerCredentials, auth: AuthServiceDep) -> UserRecord:
    if credentials is None:
        raise Unauthenticated("Missing bearer token.")
    return await _authenticate(auth, credentials.credentials)


async def get_optional_user(credentials: BearerCredentials, auth: AuthServiceDep) -> UserRecord | None:
    # Anonymous is fine, but a token that is present and bad is still rejected rather
    # than silently ignored.
    if credentials is None:
        return None
    return await _authenticate(auth, credentials.credentials)


CurrentUser = Annotated[UserRecord, Depends(get_current_user)]
OptionalUser = Annotated[UserRecord | None, Depends(get_optional_user)]
