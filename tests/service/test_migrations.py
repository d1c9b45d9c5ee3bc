"""The Alembic migrations build exactly the schema the models describe."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from reference_api.db import alembic_config, create_db_engine, migrate
from reference_api.models import Base


def test_migrated_schema_matches_the_models(empty_database_url: str) -> None:
    migrate(empty_database_url)

    engine = create_db_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_migrations_downgrade_to_an_empty_database(empty_database_url: str) -> None:
    migrate(empty_database_url)

    engine = create_db_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()

    assert tables == {"alembic_version"}


def test_migrating_an_up_to_date_database_changes_nothing(empty_database_url: str) -> None:
    migrate(empty_database_url)
    migrate(empty_database_url)

    engine = create_db_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()

    assert revision == "0004"


def test_0004_keeps_the_sign_in_buckets_and_back(empty_database_url: str) -> None:
    migrate(empty_database_url, "0003")
    engine = create_db_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO login_failures VALUES ('account:a@example.com', 2.5, 100.0)"))
        migrate(empty_database_url)
        with engine.begin() as connection:
            moved = connection.execute(text("SELECT key, level, updated_at FROM rate_buckets")).all()
            general = "INSERT INTO rate_buckets (key, level, updated_at) VALUES ('requests:203.0.113.7', 1.0, 100.0)"
            connection.execute(text(general))
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
        with engine.connect() as connection:
            back = connection.execute(text("SELECT key, level, updated_at FROM login_failures")).all()
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()

    assert [tuple(row) for row in moved] == [("account:a@example.com", 2.5, 100.0)]
    # Only sign-in buckets existed before 0004: the general budget's are dropped.
    assert [tuple(row) for row in back] == [("account:a@example.com", 2.5, 100.0)]
    assert "rate_buckets" not in tables
