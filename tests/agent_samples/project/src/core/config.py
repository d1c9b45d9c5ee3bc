import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Settings:
    APP_NAME: str = "User API"
    CORS_ORIGINS: list[str] = field(default_factory=lambda: ["http://localhost:3000"])
    # The set-up gives every sample a database of its own in a temporary folder.
    DATABASE_URL: str = field(default_factory=lambda: os.environ["AGENT_SAMPLES_DATABASE_URL"])


settings = Settings()
