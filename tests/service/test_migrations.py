"""The Alembic migrations build exactly the schema the models describe."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

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

    assert revision == "0002"
