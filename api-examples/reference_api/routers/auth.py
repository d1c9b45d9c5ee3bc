"""Login, token refresh and logout."""

from typing import Annotated

from fastapi import APIRouter, Request, Response, status

from reference_api import api_docs as docs
from reference_api import demo_data as demo
from reference_api.dependencies import AuthServiceDep
from reference_api.errors import ErrorCode
from reference_api.middleware import client_ip
from reference_api.schemas import LoginRequest, RefreshRequest, TokenPair
from reference_api.services import BAD_CREDENTIALS, BAD_REFRESH_TOKEN

router = APIRouter(prefix="/api/auth", tags=["auth"])

LOGIN_PATH = "/api/auth/login"

# RFC 6749 §5.1: responses carrying tokens must not be stored by any cache.
_NO_STORE = {"Cache-Control": "no-store"}


def _tokens(pair: TokenPair, response: Response) -> TokenPair:
    response.headers.update(_NO_STORE)
    return pair


@router.post(
    "/login",
    response_model=TokenPair,
    summary="Sign in with email and password",
    description="A first-party JSON login: returns a short-lived JWT access token and a "
    "single-use refresh token. Wrong password, unknown email and deactivated account all "
    "get the same 401. Failed attempts are throttled per account and per client address.",
    responses=docs.merge(
        docs.ok(200, docs.TOKEN_PAIR, "Signed in.", docs.NO_STORE_HEADER),
        docs.problem(ErrorCode.UNAUTHENTICATED, BAD_CREDENTIALS, LOGIN_PATH),
        docs.invalid(LOGIN_PATH, ("body.password", "Field required")),
        docs.rate_limited(LOGIN_PATH, "Too many failed sign-ins; retry in 42 seconds."),
        docs.malformed(LOGIN_PATH),
    ),
)
def login(
    credentials: Annotated[
        LoginRequest,
        docs.body({"email": "alice@example.com", "password": demo.DEMO_PASSWORD}, "Alice"),
    ],
    auth: AuthServiceDep,
    request: Request,
    response: Response,
) -> TokenPair:
    pair = auth.login(credentials.email, credentials.password, client_ip(request.scope))
    return _tokens(pair, response)


@router.post(
    "/refresh",
    response_model=TokenPair,
    summary="Exchange a refresh token for new tokens",
    description="Rotates the refresh token: the one sent is revoked and a new one is "
    "returned. Presenting an already-used refresh token revokes every token from that "
    "login, because it means the token was copied.",
    responses=docs.merge(
        docs.ok(200, docs.TOKEN_PAIR, "New access and refresh tokens.", docs.NO_STORE_HEADER),
        docs.problem(ErrorCode.UNAUTHENTICATED, BAD_REFRESH_TOKEN, "/api/auth/refresh"),
        docs.malformed("/api/auth/refresh"),
        docs.invalid("/api/auth/refresh", ("body.refresh_token", "Field required")),
    ),
)
def refresh(
    body: Annotated[
        RefreshRequest,
        docs.body({"refresh_token": demo.ALICE_REFRESH_TOKEN}, "Alice's demo session"),
    ],
    auth: AuthServiceDep,
    response: Response,
) -> TokenPair:
    return _tokens(auth.refresh(body.refresh_token), response)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    # The default JSONResponse would label the empty 204 `application/json`.
    response_class=Response,
    summary="Sign out",
    description="Revokes the refresh token and every token rotated from the same login. "
    "Succeeds even if the token is unknown or already revoked.",
    responses=docs.merge(
        docs.no_content("Signed out."),
        docs.malformed("/api/auth/logout"),
        docs.invalid("/api/auth/logout", ("body.refresh_token", "Field required")),
    ),
)
def logout(
    body: Annotated[
        RefreshRequest,
        docs.body({"refresh_token": demo.ALICE_REFRESH_TOKEN}, "Alice's demo session"),
    ],
    auth: AuthServiceDep,
) -> None:
    auth.logout(body.refresh_token)
