"""Configuration is validated at start-up, so insecure set-ups refuse to run."""

import pytest
from pydantic import ValidationError

from reference_api.settings import DEV_JWT_SECRET, Settings

from .support import make_settings

SECRET = "a-production-secret-that-is-long-enough-0123"


def test_production_refuses_the_development_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET must be set"):
        make_settings("sqlite://", environment="production", jwt_secret=DEV_JWT_SECRET)


def test_production_accepts_a_private_jwt_secret() -> None:
    settings = make_settings("sqlite://", environment="production", jwt_secret=SECRET)

    assert settings.jwt_secret.get_secret_value() == SECRET


def test_jwt_secrets_shorter_than_256_bits_are_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        make_settings("sqlite://", jwt_secret="short")


@pytest.mark.parametrize(
    "weaker",
    [{"argon2_memory_kib": 19455}, {"argon2_time_cost": 1}, {"argon2_parallelism": 0}],
    ids=["memory", "iterations", "parallelism"],
)
def test_argon2_cost_cannot_go_below_the_owasp_minimum(weaker: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        make_settings("sqlite://", **weaker)


def test_wildcard_cors_origin_with_credentials_is_refused() -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS cannot contain"):
        make_settings("sqlite://", cors_origins=["*"], cors_allow_credentials=True)


def test_settings_are_read_from_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app@db.internal/app")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("ACCESS_TOKEN_TTL_MINUTES", "5")

    settings = Settings()

    assert settings.database_url == "postgresql+psycopg://app@db.internal/app"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.access_token_ttl_minutes == 5


def test_defaults_follow_the_guides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "ACCESS_TOKEN_TTL_MINUTES", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)

    settings = Settings()

    assert settings.database_url == "sqlite:///./reference_api.db"
    assert settings.access_token_ttl_minutes == 15
    assert (settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism) == (
        19456,
        2,
        1,
    )
