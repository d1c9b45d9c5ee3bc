"""Database tables as SQLAlchemy 2 declarative models.

The Alembic migrations in ``migrations/versions`` create exactly these tables; a test
compares the two so they cannot drift apart.
"""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    Uuid,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Explicit constraint names keep migrations portable: PostgreSQL and SQLite would
# otherwise invent different names, and a later migration could not drop them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no timezone type and hands back
    naive values, which would then fail to compare with aware ones. Values are stored
    as UTC and always come back aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Role(StrEnum):
    admin = "admin"
    user = "user"


class UserStatus(StrEnum):
    active = "active"
    inactive = "inactive"


# Stored as VARCHAR with a CHECK constraint rather than a native PostgreSQL ENUM:
# adding a value later is then a plain migration instead of ALTER TYPE.
def _enum_column(enum: type[StrEnum], name: str) -> Enum:
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        validate_strings=True,
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Stored lower-cased by the service, so a plain unique index is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum_column(Role, "role"))
    status: Mapped[UserStatus] = mapped_column(_enum_column(UserStatus, "user_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Bumped by every UPDATE, which also checks the old value (SQLAlchemy's
    # version_id_col): the ETag clients send back in If-Match, and a guard against
    # two writers that both read version N.
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    orders: Mapped[list["Order"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}
    # The list's default order, with the id tie-breaker: a page reads `limit` rows
    # from the index instead of sorting the whole table.
    __table_args__ = (Index("ix_users_created_at_id", "created_at", "id"),)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="orders")
    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="OrderItem.position",
    )

    @property
    def total(self) -> Decimal:
        return sum((item.line_total for item in self.items), start=Decimal("0.00"))


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_cents > 0", name="unit_price_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    # Keeps items in the order the client sent them; UUIDs carry no ordering.
    position: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    # Integer minor units: exact on every backend. SQLite has no decimal type and
    # would silently round NUMERIC values through floating point.
    unit_price_cents: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def unit_price(self) -> Decimal:
        return Decimal(self.unit_price_cents).scaleb(-2)

    @property
    def line_total(self) -> Decimal:
        return Decimal(self.unit_price_cents * self.quantity).scaleb(-2)


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Every token minted by rotating one login shares a family, so reuse of any
    # revoked member can end the whole session.
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    # Only the SHA-256 of the token is stored: a database leak yields nothing usable.
    # A fast hash is enough because the token is 256 random bits, not a password.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateBucket(Base):
    """A leaky bucket for one rate-limit key: ``level`` drains continuously and each
    counted event adds one.

    Keys carry their limit in a prefix: ``account:<email>`` and ``ip:<address>`` for
    failed sign-ins, ``requests:<address>`` for the general request budget. The
    buckets live in the database so that every worker process and host shares one
    count; ``updated_at`` is plain epoch seconds so the drain is arithmetic that
    SQLite and PostgreSQL evaluate alike inside one atomic upsert.
    """

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    level: Mapped[float] = mapped_column(Double)
    # Indexed for the purge of drained buckets, which runs on every sign-in.
    updated_at: Mapped[float] = mapped_column(Double, index=True)
    # Whether the last unit offered was refused rather than counted: how one upsert
    # tells its caller the outcome (RETURNING sees only the row as it now is).
    refused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class IdempotencyKey(Base):
    """A client's Idempotency-Key for POST /orders, stored with the order it created.

    Written in the order's transaction: either both exist or neither, so a retry
    finds either the finished order or no trace of the first attempt.
    """

    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 of the canonical request body: the same key with another body is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class OutboxEvent(Base):
    """A webhook event, written in the same transaction as the change it reports
    (transactional outbox): a committed order always has its event, and a rolled-back
    one never does. A worker delivers pending events and records each attempt."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    event_type: Mapped[str] = mapped_column(String(64))
    # The exact JSON text that is signed and sent, so retries send identical bytes.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(_enum_column(OutboxStatus, "outbox_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
