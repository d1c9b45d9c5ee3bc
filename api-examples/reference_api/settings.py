"""Configuration, read once from environment variables and validated up front.

A misconfigured service should refuse to start rather than run insecurely, so the
checks that matter for production live here instead of being scattered in code.
"""

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Public on purpose: it only exists so `python -m reference_api` works out of the
# box, and the validator below refuses it in production.
DEV_JWT_SECRET = "dev-only-insecure-secret-change-me-0123456789"

# OWASP Password Storage Cheat Sheet, Argon2id minimum: 19 MiB memory, 2 iterations,
# 1 degree of parallelism. Settings may raise these but never go below them.
ARGON2_MIN_MEMORY_KIB = 19456
ARGON2_MIN_TIME_COST = 2
ARGON2_MIN_PARALLELISM = 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./reference_api.db"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # HS256 keys shorter than the 256-bit hash output weaken the MAC (RFC 7518 §3.2).
    jwt_secret: SecretStr = Field(default=SecretStr(DEV_JWT_SECRET), min_length=32)
    jwt_issuer: str = "https://api.agentkb.dev"
    jwt_audience: str = "agentkb-reference-api"
    access_token_ttl_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_ttl_days: int = Field(default=14, ge=1, le=90)

    argon2_memory_kib: int = Field(default=ARGON2_MIN_MEMORY_KIB, ge=ARGON2_MIN_MEMORY_KIB)
    argon2_time_cost: int = Field(default=ARGON2_MIN_TIME_COST, ge=ARGON2_MIN_TIME_COST)
    argon2_parallelism: int = Field(default=ARGON2_MIN_PARALLELISM, ge=ARGON2_MIN_PARALLELISM)

    # NoDecode lets operators write CORS_ORIGINS=https://a.example,https://b.example
    # instead of a JSON array.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_allow_credentials: bool = False

    rate_limit_enabled: bool = True
    rate_limit_requests: int = Field(default=120, ge=1)
    rate_limit_window_seconds: int = Field(default=60, ge=1)
    # Credential stuffing targets the login endpoint, so it gets its own, tighter budget.
    login_rate_limit_requests: int = Field(default=5, ge=1)
    login_rate_limit_window_seconds: int = Field(default=60, ge=1)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_insecure_combinations(self) -> "Settings":
        if self.environment == "production" and self.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
            raise ValueError("JWT_SECRET must be set to a private value when ENVIRONMENT=production")
        # Browsers reject this combination anyway (Fetch standard); failing here makes
        # the mistake visible at start-up instead of as a mysterious CORS error.
        if self.cors_allow_credentials and "*" in self.cors_origins:
            raise ValueError("CORS_ORIGINS cannot contain '*' when CORS_ALLOW_CREDENTIALS is true")
        return self
