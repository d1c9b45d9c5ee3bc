"""Engine, sessions and schema migrations.

The schema is owned by Alembic, never by ``Base.metadata.create_all``: the code path
that builds test databases is the same one that upgrades production.
"""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_db_engine(database_url: str) -> Engine:
    connect_args: dict[str, Any] = {}
    if database_url.startswith("sqlite"):
        # FastAPI runs sync endpoints in a thread pool, so a pooled SQLite connection
        # is used from several threads (one at a time, guarded by the pool).
        connect_args["check_same_thread"] = False
    # A server can drop idle connections (restart, failover, idle timeout), so each
    # checkout is tested first; SQLite is a file opened in-process, where there is
    # nothing to drop and the test would be one more statement per request.
    engine = create_engine(
        database_url,
        pool_pre_ping=not database_url.startswith("sqlite"),
        connect_args=connect_args,
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _connection_record: Any) -> None:
    # SQLite ignores FOREIGN KEY (and so ON DELETE CASCADE) unless asked, per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: responses are serialised after the commit, and reloading
    # every attribute at that point would cost one query per object.
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` up to ``revision``."""
    engine = create_db_engine(database_url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            # Handing over a live connection (rather than the URL) avoids configparser
            # interpolation of '%' in passwords and reuses the engine set-up above.
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
