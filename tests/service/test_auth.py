"""Login, refresh-token rotation and reuse detection, logout, and token checks."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import jwt
from sqlalchemy import select

from reference_api import demo_data as demo
from reference_api.models import RefreshToken, User

from .support import ApiClient, access_claims

ALICE_LOGIN = {"email": "alice@example.com", "password": demo.DEMO_PASSWORD}


def login(client: ApiClient, **overrides: str) -> dict:
    response = client.post("/api/auth/login", json={**ALICE_LOGIN, **overrides})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_returns_a_bearer_token_pair(client: ApiClient, settings) -> None:
    tokens = login(client)

    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    claims = jwt.decode(
        tokens["access_token"],
        settings.jwt_secret.get_secret_value(),
        algorithms=["HS256"],
        audience=settings.jwt_audience,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["sub"] == str(demo.ALICE_ID)
    assert claims["role"] == "user"
    assert claims["type"] == "access"
    assert claims["iss"] == settings.jwt_issuer
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert uuid.UUID(hex=claims["jti"])


def test_the_access_token_identifies_the_user(client: ApiClient) -> None:
    tokens = login(client)

    response = client.get("/api/users/me", headers=bearer(tokens["access_token"]))

    assert response.json()["email"] == "alice@example.com"


def test_the_oauth2_password_grant_is_gone(client: ApiClient) -> None:
    # RFC 9700 §2.4: the resource-owner password grant must not be used.
    form = {"username": "alice@example.com", "password": demo.DEMO_PASSWORD}

    assert client.post("/api/auth/token", data=form).status_code == 404


def test_login_rejects_unknown_fields(client: ApiClient) -> None:
    response = client.post("/api/auth/login", json={**ALICE_LOGIN, "grant_type": "password"})

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body.grant_type", "message": "Extra inputs are not permitted"}]


def test_token_responses_must_not_be_cached(client: ApiClient) -> None:
    # RFC 6749 §5.1: Cache-Control: no-store on every response carrying tokens.
    response = client.post("/api/auth/login", json=ALICE_LOGIN)
    refreshed = client.post("/api/auth/refresh", json={"refresh_token": response.json()["refresh_token"]})

    assert response.headers["cache-control"] == "no-store"
    assert refreshed.status_code == 200
    assert refreshed.headers["cache-control"] == "no-store"


def test_login_email_is_case_insensitive(client: ApiClient) -> None:
    assert login(client, email="Alice@Example.com")["token_type"] == "bearer"


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(client: ApiClient) -> None:
    wrong_password = client.post("/api/auth/login", json={**ALICE_LOGIN, "password": "nope"})
    unknown_email = client.post("/api/auth/login", json={**ALICE_LOGIN, "email": "nobody@example.com"})

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json()["detail"] == unknown_email.json()["detail"]
    assert wrong_password.headers["www-authenticate"] == "Bearer"


def test_an_inactive_user_cannot_log_in(client: ApiClient) -> None:
    response = client.post("/api/auth/login", json={**ALICE_LOGIN, "email": "carol@example.com"})

    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid email or password."


def test_passwords_are_stored_as_argon2id_hashes(client: ApiClient) -> None:
    client.post(
        "/api/users",
        json={"email": "dave@example.com", "name": "Dave", "password": "a-long-passphrase"},
    )

    with client.app.state.context.session_factory() as session:
        stored = session.scalars(select(User.password_hash).where(User.email == "dave@example.com")).one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "a-long-passphrase" not in stored


def test_refresh_tokens_are_stored_only_as_hashes(client: ApiClient) -> None:
    tokens = login(client)

    with client.app.state.context.session_factory() as session:
        stored = list(session.scalars(select(RefreshToken.token_hash)))
    assert tokens["refresh_token"] not in stored
    assert all(len(value) == 64 for value in stored)


def test_refreshing_rotates_the_refresh_token(client: ApiClient) -> None:
    first = login(client)

    response = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})

    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/users/me", headers=bearer(second["access_token"])).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(client: ApiClient) -> None:
    first = login(client)
    second = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()

    replay = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    after = client.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})

    assert replay.status_code == 401
    assert replay.json()["detail"].startswith("The refresh token was already used")
    assert after.status_code == 401


def test_reuse_only_revokes_the_affected_session(client: ApiClient) -> None:
    stolen = login(client)
    other_device = login(client)
    client.post("/api/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    client.post("/api/auth/refresh", json={"refresh_token": stolen["refresh_token"]})

    response = client.post("/api/auth/refresh", json={"refresh_token": other_device["refresh_token"]})

    assert response.status_code == 200


def test_an_unknown_refresh_token_is_rejected(client: ApiClient) -> None:
    response = client.post("/api/auth/refresh", json={"refresh_token": "made-up"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_refresh_tokens_expire(client: ApiClient, clock, settings) -> None:
    tokens = login(client)
    clock.advance(days=settings.refresh_token_ttl_days, seconds=1)

    response = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 401


def test_logout_revokes_the_refresh_token(client: ApiClient) -> None:
    tokens = login(client)

    response = client.post("/api/auth/logout", json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    refresh = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


def test_logout_with_an_unknown_token_still_succeeds(client: ApiClient) -> None:
    response = client.post("/api/auth/logout", json={"refresh_token": "never-issued"})

    assert response.status_code == 204


def test_a_missing_token_is_a_401_challenge(client: ApiClient) -> None:
    response = client.get("/api/users/me")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "UNAUTHENTICATED"


def test_a_non_bearer_scheme_is_treated_as_missing(client: ApiClient) -> None:
    response = client.get("/api/users/me", headers={"Authorization": "Basic YWxpY2U6cHc="})

    assert response.status_code == 401


def test_access_tokens_work_until_they_expire(client: ApiClient, auth, clock) -> None:
    headers = auth.alice
    clock.advance(minutes=14, seconds=59)
    assert client.get("/api/users/me", headers=headers).status_code == 200

    clock.advance(seconds=1)
    response = client.get("/api/users/me", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_a_token_issued_in_the_future_is_rejected(client: ApiClient, auth, clock) -> None:
    clock.advance(minutes=5)
    headers = auth.alice
    clock.advance(minutes=-5)

    assert client.get("/api/users/me", headers=headers).status_code == 401


def _forge(settings, *, secret: str | None = None, algorithm: str = "HS256", **claims) -> str:
    payload = access_claims(settings, **{"sub": str(demo.ADMIN_ID), "role": "admin", **claims})
    key = secret if secret is not None else settings.jwt_secret.get_secret_value()
    return jwt.encode(payload, key if algorithm != "none" else None, algorithm=algorithm)


def test_a_correctly_forged_token_is_accepted_as_a_control(client: ApiClient, settings) -> None:
    # Proves the helper builds valid tokens, so the rejections below are meaningful.
    assert client.get("/api/users/me", headers=bearer(_forge(settings))).status_code == 200


def test_a_token_for_another_audience_is_rejected(client: ApiClient, settings) -> None:
    token = _forge(settings, aud="some-other-api")

    assert client.get("/api/users/me", headers=bearer(token)).status_code == 401


def test_a_token_from_another_issuer_is_rejected(client: ApiClient, settings) -> None:
    token = _forge(settings, iss="https://evil.example")

    assert client.get("/api/users/me", headers=bearer(token)).status_code == 401


def test_an_unsigned_alg_none_token_is_rejected(client: ApiClient, settings) -> None:
    token = _forge(settings, algorithm="none")

    assert client.get("/api/users/me", headers=bearer(token)).status_code == 401


def test_a_token_signed_with_another_key_is_rejected(client: ApiClient, settings) -> None:
    token = _forge(settings, secret="another-secret-that-is-also-32-bytes-long")

    assert client.get("/api/users/me", headers=bearer(token)).status_code == 401


def test_a_token_without_an_expiry_is_rejected(client: ApiClient, settings) -> None:
    now = int(demo.DEMO_NOW.timestamp())
    payload = {
        "sub": str(demo.ADMIN_ID),
        "role": "admin",
        "iat": now,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": "x",
        "type": "access",
    }
    token = jwt.encode(payload, settings.jwt_secret.get_secret_value(), algorithm="HS256")

    assert client.get("/api/users/me", headers=bearer(token)).status_code == 401


def test_the_role_comes_from_the_database_not_the_token(client: ApiClient, settings) -> None:
    # A signed token claiming "admin" for a plain user grants nothing extra.
    token = _forge(settings, sub=str(demo.BOB_ID), role="admin")

    assert client.get("/api/users", headers=bearer(token)).status_code == 403


def test_concurrent_refreshes_of_one_token_rotate_it_once(client: ApiClient) -> None:
    # Reuse detection lives in the database (a conditional UPDATE), so it holds
    # across threads and worker processes alike.
    token = login(client)["refresh_token"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(
                lambda _: client.post("/api/auth/refresh", json={"refresh_token": token}),
                range(8),
            )
        )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [401] * 7
