"""Login, token refresh and logout."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from reference_api import api_docs as docs
from reference_api import demo_data as demo
from reference_api.dependencies import AuthServiceDep
from reference_api.errors import ErrorCode
from reference_api.schemas import LoginRequest, RefreshRequest, TokenPair
from reference_api.services import BAD_CREDENTIALS, BAD_REFRESH_TOKEN

router = APIRouter(prefix="/api/auth", tags=["auth"])

LOGIN_PATH = "/api/auth/login"
TOKEN_PATH = "/api/auth/token"


def _login_responses(path: str) -> docs.Responses:
    return docs.merge(
        docs.ok(200, docs.TOKEN_PAIR, "Signed in."),
        docs.problem(ErrorCode.UNAUTHENTICATED, BAD_CREDENTIALS, path),
        docs.invalid(path, ("body.password", "Field required")),
        docs.rate_limited(path),
    )


@router.post(
    "/login",
    response_model=TokenPair,
    summary="Sign in with email and password",
    description="Returns a short-lived JWT access token and a single-use refresh token. "
    "Wrong password, unknown email and deactivated account all get the same 401. Limited "
    "to a few attempts per minute per client.",
    responses=docs.merge(_login_responses(LOGIN_PATH), docs.malformed(LOGIN_PATH)),
)
def login(
    credentials: Annotated[
        LoginRequest,
        docs.body({"email": "alice@example.com", "password": demo.DEMO_PASSWORD}, "Alice"),
    ],
    auth: AuthServiceDep,
) -> TokenPair:
    return auth.login(credentials.email, credentials.password)


@router.post(
    "/token",
    response_model=TokenPair,
    summary="Sign in with an OAuth2 password form",
    description="The same as `/api/auth/login`, for clients that speak the OAuth2 "
    "password grant (form-encoded `username` and `password`).",
    responses=_login_responses(TOKEN_PATH),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "example": {"username": "alice@example.com", "password": demo.DEMO_PASSWORD}
                }
            }
        }
    },
)
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], auth: AuthServiceDep) -> TokenPair:
    return auth.login(form.username, form.password)


@router.post(
    "/refresh",
    response_model=TokenPair,
    summary="Exchange a refresh token for new tokens",
    description="Rotates the refresh token: the one sent is revoked and a new one is "
    "returned. Presenting an already-used refresh token revokes every token from that "
    "login, because it means the token was copied.",
    responses=docs.merge(
        docs.ok(200, docs.TOKEN_PAIR, "New access and refresh tokens."),
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
) -> TokenPair:
    return auth.refresh(body.refresh_token)


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
