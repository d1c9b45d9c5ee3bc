"""Password hashing, access tokens (JWT) and refresh tokens (opaque).

Access tokens are short-lived, self-contained JWTs checked without a database hit.
Refresh tokens are random strings whose SHA-256 lives in ``refresh_tokens``, so they
can be rotated and revoked.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from reference_api.models import Role
from reference_api.settings import Settings

JWT_ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"
REQUIRED_CLAIMS = ["sub", "role", "iat", "exp", "iss", "aud", "jti", "type"]


def build_password_hasher(settings: Settings) -> PasswordHash:
    # Argon2Hasher defaults to the Argon2id variant, which OWASP recommends.
    return PasswordHash(
        (
            Argon2Hasher(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_kib,
                parallelism=settings.argon2_parallelism,
            ),
        )
    )


class InvalidTokenError(Exception):
    """The access token is malformed, forged, expired or meant for someone else."""


@dataclass(frozen=True)
class AccessTokenClaims:
    user_id: uuid.UUID
    role: Role


class AccessTokenCodec:
    def __init__(self, settings: Settings) -> None:
        self._secret = settings.jwt_secret.get_secret_value()
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self.ttl = timedelta(minutes=settings.access_token_ttl_minutes)

    def issue(self, user_id: uuid.UUID, role: Role, now: datetime) -> str:
        claims = {
            "sub": str(user_id),
            "role": role.value,
            "iat": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "iss": self._issuer,
            "aud": self._audience,
            "jti": uuid.uuid4().hex,
            "type": ACCESS_TOKEN_TYPE,
        }
        return jwt.encode(claims, self._secret, algorithm=JWT_ALGORITHM)

    def decode(self, token: str, now: datetime) -> AccessTokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                # Pinning the algorithm is what defeats `alg: none` and key-confusion
                # tokens: PyJWT rejects any header naming something else.
                algorithms=[JWT_ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                # PyJWT compares exp/iat with the wall clock; the service's injectable
                # clock is the single notion of "now", so those two are checked below.
                options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from exc
        expires, issued = claims["exp"], claims["iat"]
        if not all(type(value) in (int, float) for value in (expires, issued)):
            raise InvalidTokenError("exp and iat must be NumericDate values")
        timestamp = now.timestamp()
        if expires <= timestamp:
            raise InvalidTokenError("token has expired")
        if issued > timestamp:
            raise InvalidTokenError("token was issued in the future")
        if claims["type"] != ACCESS_TOKEN_TYPE:
            raise InvalidTokenError("not an access token")
        try:
            return AccessTokenClaims(user_id=uuid.UUID(claims["sub"]), role=Role(claims["role"]))
        except ValueError as exc:
            raise InvalidTokenError("malformed subject or role") from exc


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
