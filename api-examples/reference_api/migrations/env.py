"""Alembic environment, driven programmatically by ``reference_api.db.migrate``.

There is no alembic.ini: the caller passes an open connection through
``config.attributes`` so the migration runs inside the caller's transaction.
"""

from alembic import context

from reference_api.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through reference_api.db.migrate(database_url)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most column properties; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
