"""FastAPI dependencies: per-request sessions, services and the current user.

Everything an endpoint needs comes from the :class:`AppContext` built by
``create_app``, never from module globals, so two apps (two tests) never share state.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from reference_api.clock import Clock
from reference_api.errors import Unauthenticated
from reference_api.models import User
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


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


def get_session(context: Context) -> Iterator[Session]:
    with context.session_factory() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]


def get_auth_service(context: Context, session: DbSession) -> AuthService:
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
        ),
    )


def get_user_service(context: Context, session: DbSession) -> UserService:
    return UserService(session, context.clock, context.passwords)


def get_order_service(context: Context, session: DbSession) -> OrderService:
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


def get_current_user(credentials: BearerCredentials, auth: AuthServiceDep) -> User:
    if credentials is None:
        raise Unauthenticated("Missing bearer token.")
    return auth.authenticate(credentials.credentials)


def get_optional_user(credentials: BearerCredentials, auth: AuthServiceDep) -> User | None:
    # Anonymous is fine, but a token that is present and bad is still rejected rather
    # than silently ignored.
    if credentials is None:
        return None
    return auth.authenticate(credentials.credentials)


CurrentUser = Annotated[User, Depends(get_current_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]
