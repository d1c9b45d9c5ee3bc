"""Password hashing, access tokens (JWT) and refresh tokens (opaque).

Access tokens are short-lived, self-contained JWTs checked without a database hit.
Refresh tokens are random strings whose SHA-256 lives in ``refresh_tokens``, so they
can be rotated and revoked.
"""

import hashlib
import os
import secrets
import threading
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


class Passwords:
    """Argon2id hashing with the cost parameters from settings."""

    def __init__(self, settings: Settings) -> None:
        # Argon2Hasher defaults to the Argon2id variant, which OWASP recommends.
        self._hasher = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.argon2_time_cost,
                    memory_cost=settings.argon2_memory_kib,
                    parallelism=settings.argon2_parallelism,
                ),
            )
        )
        self._decoy_hash: str | None = None
        # Argon2 is meant to be slow and memory-hard: more hashes at once than there
        # are cores only share the same CPUs, each holding its memory (19 MiB by
        # default) for longer. Under a burst of sign-ups or logins the excess wait
        # here instead, so a hash finishes in its own time and everything else the
        # process does (other requests, the database write after a hash) keeps a
        # core. Measured in bench/service_load.py.
        self._slots = threading.BoundedSemaphore(os.cpu_count() or 1)

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify_and_update(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        """Check a password; the second value is a new hash when the cost settings
        have changed since ``password_hash`` was made, so logins upgrade old hashes."""
        with self._slots:
            return self._hasher.verify_and_update(password, password_hash)

    def burn_verification_time(self, password: str) -> None:
        """Spend as long as a real check would, for logins naming an unknown account.

        Without it the response time tells an attacker which emails are registered.
        """
        if self._decoy_hash is None:
            self._decoy_hash = self.hash(secrets.token_urlsafe(16))
        with self._slots:
            self._hasher.verify(password, self._decoy_hash)


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
