"""Configuration, read once from environment variables and validated up front.

A misconfigured service should refuse to start rather than run insecurely, so the
checks that matter for production live here instead of being scattered in code.
"""

import secrets
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MISSING_SECRET = (
    "JWT_SECRET is not set. Set it to a private random value of at least 32 characters "
    "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), or run "
    "with --dev / AGENTKB_DEV=1 for a throwaway key that changes every start."
)
DEFAULT_PROBLEM_BASE_URL = "https://agentkb.github.io/agentkb/"
# The day `/api/health` became an alias of `/api/health/ready`: a fact of the API's
# history, sent in its Deprecation header (RFC 9745), so not a setting.
HEALTH_ALIAS_DEPRECATED_ON = date(2026, 11, 1)

# OWASP Password Storage Cheat Sheet: five Argon2id settings of equal strength, each with
# parallelism 1, as (memory in KiB, iterations). Less memory needs more passes, so a
# setting is strong enough when it reaches one of them in both; the default is the second.
ARGON2_OWASP_MINIMUMS = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))
ARGON2_MIN_MEMORY_KIB = 19456
ARGON2_MIN_TIME_COST = 2
ARGON2_MIN_PARALLELISM = 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    # Development mode is the only way to run without a configured JWT secret: it gets
    # a random one, so tokens die with the process and no secret ever sits in the source.
    agentkb_dev: bool = False
    database_url: str = "sqlite:///./reference_api.db"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # HS256 keys shorter than the 256-bit hash output weaken the MAC (RFC 7518 §3.2).
    # No default: a service that signs tokens with a published key fails open.
    jwt_secret: SecretStr = Field(min_length=32)
    jwt_issuer: str = "https://api.agentkb.dev"
    jwt_audience: str = "agentkb-reference-api"
    access_token_ttl_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_ttl_days: int = Field(default=14, ge=1, le=90)
    # How long a worker process trusts its last read of a token's user (ActorCache).
    # Writes in the same process take effect at once; in other workers a deactivated,
    # deleted or demoted account keeps its access for at most this long. 0: no cache,
    # every authenticated request reads its user.
    auth_cache_seconds: float = Field(default=1.0, ge=0, le=60)

    argon2_memory_kib: int = Field(default=ARGON2_MIN_MEMORY_KIB, ge=min(m for m, _ in ARGON2_OWASP_MINIMUMS))
    argon2_time_cost: int = Field(default=ARGON2_MIN_TIME_COST, ge=min(t for _, t in ARGON2_OWASP_MINIMUMS))
    argon2_parallelism: int = Field(default=ARGON2_MIN_PARALLELISM, ge=ARGON2_MIN_PARALLELISM)

    # NoDecode lets operators write CORS_ORIGINS=https://a.example,https://b.example
    # instead of a JSON array.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_allow_credentials: bool = False

    rate_limit_enabled: bool = True
    rate_limit_requests: int = Field(default=120, ge=1)
    rate_limit_window_seconds: int = Field(default=60, ge=1)
    # Failed sign-ins, counted in the database so every worker shares them: per account
    # against guessing one password from many addresses, per address against stuffing
    # many accounts from one. Each budget refills evenly over the window.
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_ip: int = Field(default=20, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)

    # Every request body is read at most this far; larger ones get a 413 before the
    # application parses them (OWASP API4:2023, unrestricted resource consumption).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Problem `type` URIs are built from this, so each one leads to a page explaining
    # the error: the site's api-examples/errors/ pages by default.
    problem_base_url: str = Field(default=DEFAULT_PROBLEM_BASE_URL, pattern=r"^https?://.+/$")

    # How long an Idempotency-Key is remembered: long enough for any client retry.
    idempotency_key_ttl_hours: int = Field(default=24, ge=1)

    # Signed `order.placed` webhooks. Without a URL events still go to the outbox,
    # and nothing is sent.
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    webhook_secret: SecretStr | None = Field(default=None, min_length=32)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_backoff_seconds: float = Field(default=2.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)

    # The day the deprecated `/api/health` alias stops answering, sent in its Sunset
    # header (RFC 8594). Operators who need longer set HEALTH_ALIAS_SUNSET=YYYY-MM-DD.
    health_alias_sunset: date = date(2027, 6, 30)

    # GET /api/metrics in the Prometheus text format, counted per worker process.
    metrics_enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _secret_or_dev_mode(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        present = {key.lower(): value for key, value in values.items()}
        if present.get("jwt_secret"):
            return values
        if str(present.get("agentkb_dev", "")).lower() in ("1", "true", "yes", "on"):
            return {**values, "jwt_secret": secrets.token_urlsafe(48)}
        raise ValueError(MISSING_SECRET)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_insecure_combinations(self) -> "Settings":
        if not any(
            self.argon2_memory_kib >= memory and self.argon2_time_cost >= passes
            for memory, passes in ARGON2_OWASP_MINIMUMS
        ):
            raise ValueError(
                f"ARGON2_MEMORY_KIB={self.argon2_memory_kib} with ARGON2_TIME_COST={self.argon2_time_cost} is below "
                "every Argon2id setting OWASP lists: (memory KiB, passes) = "
                + ", ".join(f"({m}, {t})" for m, t in ARGON2_OWASP_MINIMUMS)
            )
        if self.health_alias_sunset < HEALTH_ALIAS_DEPRECATED_ON:
            # RFC 9745 §4: the Sunset time MUST NOT be earlier than the Deprecation time.
            raise ValueError(f"HEALTH_ALIAS_SUNSET cannot be before {HEALTH_ALIAS_DEPRECATED_ON.isoformat()}")
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET must be set when WEBHOOK_URL is")
        if self.environment == "production" and self.agentkb_dev:
            raise ValueError("AGENTKB_DEV cannot be set when ENVIRONMENT=production")
        # Browsers reject this combination anyway (Fetch standard); failing here makes
        # the mistake visible at start-up instead of as a mysterious CORS error.
        if self.cors_allow_credentials and "*" in self.cors_origins:
            raise ValueError("CORS_ORIGINS cannot contain '*' when CORS_ALLOW_CREDENTIALS is true")
        return self
