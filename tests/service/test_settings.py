"""Configuration is validated at start-up, so insecure set-ups refuse to run."""

import pytest
from pydantic import ValidationError

from reference_api.__main__ import main
from reference_api.settings import Settings

from .support import make_settings

SECRET = "a-production-secret-that-is-long-enough-0123"


@pytest.fixture
def no_secret_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JWT_SECRET", "AGENTKB_DEV", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_secret_in_env")
def test_without_a_jwt_secret_the_settings_refuse_to_load() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET is not set"):
        Settings()


@pytest.mark.usefixtures("no_secret_in_env")
def test_the_server_refuses_to_start_without_a_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "1"]) == 2

    error = capsys.readouterr().err
    assert error.startswith("refusing to start:")
    assert "JWT_SECRET is not set" in error and "--dev" in error


@pytest.mark.usefixtures("no_secret_in_env")
def test_development_mode_makes_a_random_key_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTKB_DEV", "1")

    first, second = Settings(), Settings()

    assert len(first.jwt_secret.get_secret_value()) >= 32
    assert first.jwt_secret != second.jwt_secret


@pytest.mark.usefixtures("no_secret_in_env")
def test_a_configured_secret_wins_over_development_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTKB_DEV", "1")
    monkeypatch.setenv("JWT_SECRET", SECRET)

    assert Settings().jwt_secret.get_secret_value() == SECRET


def test_production_refuses_development_mode() -> None:
    with pytest.raises(ValidationError, match="AGENTKB_DEV cannot be set"):
        make_settings("sqlite://", environment="production", agentkb_dev=True)


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
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app@db.internal/app")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("ACCESS_TOKEN_TTL_MINUTES", "5")

    settings = Settings()

    assert settings.database_url == "postgresql+psycopg://app@db.internal/app"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.access_token_ttl_minutes == 5


def test_defaults_follow_the_guides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "ACCESS_TOKEN_TTL_MINUTES", "ENVIRONMENT", "MAX_BODY_BYTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JWT_SECRET", SECRET)

    settings = Settings()

    assert settings.database_url == "sqlite:///./reference_api.db"
    assert settings.access_token_ttl_minutes == 15
    assert (settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism) == (
        19456,
        2,
        1,
    )
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.problem_base_url == "https://agentkb.github.io/agentkb/"


def test_a_webhook_url_needs_a_signing_secret() -> None:
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET must be set"):
        make_settings("sqlite://", webhook_url="https://hooks.example.com/orders")


def test_the_health_alias_sunset_is_a_setting_not_before_its_deprecation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("HEALTH_ALIAS_SUNSET", "2028-03-31")
    assert Settings().health_alias_sunset.isoformat() == "2028-03-31"
    with pytest.raises(ValidationError, match="HEALTH_ALIAS_SUNSET cannot be before 2026-11-01"):
        make_settings("sqlite://", health_alias_sunset="2026-10-31")
