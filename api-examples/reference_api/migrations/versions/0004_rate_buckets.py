"""Generalise login_failures into rate_buckets, shared by every rate limit.

The general per-address request budget moves from each worker's memory into the
database, as the same leaky bucket the sign-in throttle already used. One table
holds both, told apart by the key's prefix (``account:``, ``ip:`` for failed
sign-ins, ``requests:`` for the general budget), with one new column, ``refused``. The table is created under its new
name and the rows copied, rather than renamed, so the primary key and index carry
the new names on SQLite as well as PostgreSQL.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("key", "level", "updated_at")


def _create(name: str, *extra: sa.Column) -> sa.Table:
    table = op.create_table(
        name,
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("level", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        *extra,
        sa.PrimaryKeyConstraint("key", name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_updated_at", name, ["updated_at"])
    assert table is not None
    return table


def _copy(source: str, target: sa.Table, where: sa.ColumnElement[bool] | None = None) -> None:
    old = sa.table(source, *(sa.column(name) for name in _COLUMNS))
    query = sa.select(*(old.c[name] for name in _COLUMNS))
    if where is not None:
        query = query.where(where)
    op.execute(target.insert().from_select(list(_COLUMNS), query))


def upgrade() -> None:
    # ``refused`` records whether the last unit offered was counted, so the general
    # limiter learns the outcome from its one upsert.
    refused = sa.Column("refused", sa.Boolean(), server_default=sa.false(), nullable=False)
    _copy("login_failures", _create("rate_buckets", refused))
    op.drop_table("login_failures")


def downgrade() -> None:
    # Only the sign-in buckets existed before; the general ones start afresh in memory.
    _copy(
        "rate_buckets",
        _create("login_failures"),
        where=sa.not_(sa.column("key").startswith("requests:")),
    )
    op.drop_table("rate_buckets")
