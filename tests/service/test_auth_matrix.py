"""Every way an access token can be wrong, each answered with the same 401 problem."""

import base64
import json
from collections.abc import Callable

import jwt
import pytest

from reference_api import demo_data as demo

from .support import ApiClient, access_claims, record_result

LOGIN = {"email": "alice@example.com", "password": demo.DEMO_PASSWORD}
REJECTED: set[str] = set()
BACKENDS_RUN: set[str] = set()


def _signed(settings, **overrides: object) -> str:
    return jwt.encode(access_claims(settings, **overrides), settings.jwt_secret.get_secret_value(), algorithm="HS256")


def _alg_none(settings) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(access_claims(settings))}."


def _refresh_token(client: ApiClient, settings) -> str:
    return client.post("/api/auth/login", json=LOGIN).json()["refresh_token"]


def _of_a_deactivated_account(client: ApiClient, settings, auth) -> str:
    token = _signed(settings)
    client.patch(f"/api/users/{demo.ALICE_ID}", json={"status": "inactive"}, headers=auth.admin)
    return token


CASES: dict[str, Callable[..., str | None]] = {
    "no token": lambda client, settings, auth: None,
    "malformed": lambda client, settings, auth: "not.a.jwt",
    "expired": lambda client, settings, auth: _signed(
        settings, iat=int(demo.DEMO_NOW.timestamp()) - 1200, exp=int(demo.DEMO_NOW.timestamp()) - 600
    ),
    "wrong signature": lambda client, settings, auth: jwt.encode(
        access_claims(settings), "another-key-that-is-also-32-bytes-long!", algorithm="HS256"
    ),
    "alg none": lambda client, settings, auth: _alg_none(settings),
    "wrong issuer": lambda client, settings, auth: _signed(settings, iss="https://evil.example"),
    "wrong audience": lambda client, settings, auth: _signed(settings, aud="another-api"),
    "refresh token as access token": lambda client, settings, auth: _refresh_token(client, settings),
    "revoked (account deactivated)": _of_a_deactivated_account,
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_access_token_is_a_401_problem(client: ApiClient, settings, auth, backend: str, case: str) -> None:
    token = CASES[case](client, settings, auth)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}

    response = client.get("/api/users/me", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")
    REJECTED.add(case)
    BACKENDS_RUN.add(backend)


def test_a_revoked_refresh_token_is_a_401_problem(client: ApiClient) -> None:
    refresh = client.post("/api/auth/login", json=LOGIN).json()["refresh_token"]
    client.post("/api/auth/logout", json={"refresh_token": refresh})

    response = client.post("/api/auth/refresh", json={"refresh_token": refresh})

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"
    REJECTED.add("revoked refresh token")


def test_the_matrix_is_recorded() -> None:
    # Runs after the cases above (file order).
    assert len(REJECTED) == len(CASES) + 1
    record_result(
        "auth matrix",
        "every bad credential is a 401 problem: " + ", ".join(sorted(REJECTED)),
        f"{len(REJECTED)} of {len(REJECTED)} rejected with 401, on " + " and ".join(sorted(BACKENDS_RUN)),
    )
