"""Data access: every SQL query the service runs lives in this module.

Repositories stage changes on the session; the service layer decides when a unit of
work is complete and commits.
"""

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import ColumnElement, Select, Table, bindparam, case, func, not_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from reference_api.listing import PageRequest, SortKey
from reference_api.models import (
    IdempotencyKey,
    Order,
    OutboxEvent,
    OutboxStatus,
    RateBucket,
    RefreshToken,
    Role,
    User,
    UserStatus,
)
from reference_api.schemas import UserFields

# The table's Core columns, not the mapped attributes: a statement naming an ORM
# attribute goes through the ORM's loading machinery even when it selects columns.
_users = User.__table__
USER_SORT_COLUMNS = {
    "created_at": _users.c.created_at,
    "email": _users.c.email,
    "name": _users.c.name,
}


class UserRecord(UserFields):
    """A user as read, for reads that change nothing: the signed-in user, one user,
    a page of users, with the version that is its ETag.

    These reads select columns with SQLAlchemy Core and map each row to this frozen
    model, instead of building ORM objects the session then tracks; writes load the
    ORM ``User`` (whose version column guards concurrent updates). With the statements
    below built once, the list's count and page cost about two thirds of the CPU
    they did through the ORM (bench/service_load.py).
    """

    model_config = ConfigDict(frozen=True)

    version: int


_USER_RECORD_COLUMNS = [_users.c[name] for name in UserRecord.model_fields]
# Statements for the hot reads are built once and take their values as bound
# parameters: SQLAlchemy then finds the compiled SQL from the statement object it has
# seen, instead of building a new one and deriving its cache key on every request.
_FIND_USER = select(*_USER_RECORD_COLUMNS).where(_users.c.id == bindparam("user_id"))


def _count_and_page(query: Select[Any], sort: tuple[SortKey, ...]) -> tuple[Select[Any], Select[Any]]:
    count = select(func.count()).select_from(query.subquery())
    ordering = [USER_SORT_COLUMNS[key.field].desc() if key.descending else USER_SORT_COLUMNS[key.field] for key in sort]
    # The primary key as last tie-breaker makes pages stable: without a total order
    # the database may return equal rows in a different order on the next page.
    page = query.order_by(*ordering, _users.c.id).offset(bindparam("offset")).limit(bindparam("limit"))
    return count, page


@functools.lru_cache(maxsize=64)
def _user_page_statements(by_status: bool, by_role: bool, sort: tuple[SortKey, ...]) -> tuple[Select[Any], Select[Any]]:
    """Count and page statements for one shape of list request (which filters, which
    order), values bound at execution. A search is built per request instead, since
    its escaping is part of the statement."""
    query = select(*_USER_RECORD_COLUMNS)
    if by_status:
        query = query.where(_users.c.status == bindparam("status"))
    if by_role:
        query = query.where(_users.c.role == bindparam("role"))
    return _count_and_page(query, sort)


@dataclass(frozen=True)
class UserFilters:
    status: UserStatus | None = None
    role: Role | None = None
    search: str | None = None


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, user_id: uuid.UUID) -> User | None:
        """The ORM object, for changing it."""
        return self._session.get(User, user_id)

    def find(self, user_id: uuid.UUID) -> UserRecord | None:
        row = self._session.execute(_FIND_USER, {"user_id": user_id}).mappings().first()
        return None if row is None else UserRecord(**row)

    def get_by_email(self, email: str) -> User | None:
        return self._session.scalars(select(User).where(User.email == email)).one_or_none()

    def add(self, user: User) -> None:
        self._session.add(user)

    def delete(self, user: User) -> None:
        self._session.delete(user)

    def list_page(self, filters: UserFilters, sort: list[SortKey], page: PageRequest) -> tuple[list[UserRecord], int]:
        values: dict[str, object] = {"status": filters.status, "role": filters.role}
        if filters.search:
            query = select(*_USER_RECORD_COLUMNS)
            if filters.status is not None:
                query = query.where(_users.c.status == bindparam("status"))
            if filters.role is not None:
                query = query.where(_users.c.role == bindparam("role"))
            # autoescape: a '%' or '_' typed by the user matches literally, not as a
            # wildcard.
            query = query.where(
                or_(
                    _users.c.name.icontains(filters.search, autoescape=True),
                    _users.c.email.icontains(filters.search, autoescape=True),
                )
            )
            count, page_query = _count_and_page(query, tuple(sort))
        else:
            count, page_query = _user_page_statements(filters.status is not None, filters.role is not None, tuple(sort))
        # A value the statement does not name is ignored.
        total = self._session.execute(count, values).scalar()
        rows = self._session.execute(page_query, {**values, "offset": page.offset, "limit": page.limit}).mappings()
        return [UserRecord(**row) for row in rows], total or 0


class OrderRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _with_items(self) -> Select[tuple[Order]]:
        # selectinload fetches the items of every order on the page in one extra query,
        # instead of one query per order when `items` is first touched (N+1).
        return select(Order).options(selectinload(Order.items))

    def get_for_user(self, user_id: uuid.UUID, order_id: uuid.UUID) -> Order | None:
        query = self._with_items().where(Order.id == order_id, Order.user_id == user_id)
        return self._session.scalars(query).one_or_none()

    def list_for_user(self, user_id: uuid.UUID, page: PageRequest) -> tuple[list[Order], int]:
        total = self._session.scalar(select(func.count()).select_from(Order).where(Order.user_id == user_id))
        query = (
            self._with_items()
            .where(Order.user_id == user_id)
            .order_by(Order.created_at.desc(), Order.id)
            .offset(page.offset)
            .limit(page.limit)
        )
        return list(self._session.scalars(query)), total or 0

    def add(self, order: Order) -> None:
        self._session.add(order)


class RefreshTokenRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get_by_hash_for_update(self, token_hash: str) -> RefreshToken | None:
        # The row lock serialises two concurrent refreshes of the same token on
        # PostgreSQL. SQLite ignores it, which is why rotation goes through claim().
        query = select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        return self._session.scalars(query).one_or_none()

    def claim(self, token: RefreshToken, now: datetime) -> bool:
        """Revoke ``token`` if nobody else has: True for exactly one caller.

        The condition is checked by the UPDATE itself, so it holds across threads and
        worker processes on every backend, not only where row locks exist.
        """
        result = self._session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    def add(self, token: RefreshToken) -> None:
        self._session.add(token)

    def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        self._session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def _dialect_insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    # ON CONFLICT is not in SQLAlchemy's generic insert(); both backends speak it with
    # the same syntax, through their dialect's own construct.
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class RateBucketRepository:
    """Leaky buckets for every rate limit, changed only by atomic upserts."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, key: str, delta: float, now: float, drain_per_second: float) -> float:
        """Drain the bucket up to ``now``, add ``delta`` (never below zero), and
        return the new level: one statement, so concurrent callers in any process
        each see a distinct, exact result."""
        table = RateBucket.__table__
        level = self._drained(now, drain_per_second) + delta
        statement = (
            _dialect_insert(self._session, table)
            .values(key=key, level=max(delta, 0.0), updated_at=now, refused=False)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={"level": case((level > 0, level), else_=0.0), "updated_at": now, "refused": False},
            )
            .returning(table.c.level)
        )
        return float(self._session.execute(statement).scalar_one())

    def take(self, key: str, now: float, capacity: int, drain_per_second: float) -> tuple[bool, float]:
        """Count one unit unless it would overflow ``capacity``; return whether it
        was counted and the bucket's level at ``now``.

        One statement either way. A refused unit leaves the level and its timestamp
        as they were (the same bucket, still draining) and only sets ``refused``, so
        the caller can tell the outcomes apart and retrying early costs nothing.
        """
        table = RateBucket.__table__
        counted = self._drained(now, drain_per_second) + 1.0
        fits = counted <= capacity
        statement = (
            _dialect_insert(self._session, table)
            .values(key=key, level=1.0, updated_at=now, refused=False)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "level": case((fits, counted), else_=table.c.level),
                    "updated_at": case((fits, now), else_=table.c.updated_at),
                    "refused": not_(fits),
                },
            )
            .returning(table.c.level, table.c.updated_at, table.c.refused)
        )
        level, updated_at, refused = self._session.execute(statement).one()
        return not refused, max(float(level) - (now - float(updated_at)) * drain_per_second, 0.0)

    @staticmethod
    def _drained(now: float, drain_per_second: float) -> ColumnElement[float]:
        table = RateBucket.__table__
        drained = table.c.level - (now - table.c.updated_at) * drain_per_second
        return case((drained > 0, drained), else_=0.0)

    def clear(self, key: str) -> None:
        self._session.execute(RateBucket.__table__.delete().where(RateBucket.key == key))

    def purge_untouched_since(self, cutoff: float) -> None:
        """Drop buckets nobody has touched since ``cutoff``.

        Keys are attacker-chosen (any email, any address), so without this the table
        grows with every guessed one. A bucket holds at most its capacity and drains
        that in its window, so one untouched for the longest window is empty and
        deleting it is exact.
        """
        table = RateBucket.__table__
        self._session.execute(table.delete().where(table.c.updated_at < cutoff))


class IdempotencyKeyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, user_id: uuid.UUID, key: str) -> IdempotencyKey | None:
        return self._session.get(IdempotencyKey, (user_id, key))

    def forget_older_than(self, user_id: uuid.UUID, cutoff: datetime) -> None:
        # One user's keys only: the primary key starts with user_id, so this is an
        # index range, and no request pays for everyone else's history.
        self._session.execute(
            IdempotencyKey.__table__.delete().where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.created_at < cutoff
            )
        )

    def insert_if_absent(self, record: IdempotencyKey) -> bool:
        """Insert unless the key exists; False when another request holds it.

        ON CONFLICT DO NOTHING waits for a concurrent transaction that inserted the
        same key and only then decides, so of N simultaneous requests one wins and
        the others see its committed row.
        """
        table = IdempotencyKey.__table__
        values = {column.name: getattr(record, column.key) for column in table.columns}
        statement = (
            _dialect_insert(self._session, table)
            .values(**values)
            .on_conflict_do_nothing()
            # RETURNING yields a row only when this statement inserted one; rowcount is
            # not reliable for ON CONFLICT across drivers.
            .returning(table.c.key)
        )
        return self._session.execute(statement).first() is not None


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, event: OutboxEvent) -> None:
        self._session.add(event)

    def claim_due(self, now: datetime, limit: int) -> list[OutboxEvent]:
        """Pending events whose time has come, locked for this worker.

        SKIP LOCKED lets several workers (processes or hosts) drain the outbox
        together without sending one event twice at the same time; SQLite ignores
        the clause and has a single writer anyway.
        """
        query = (
            select(OutboxEvent)
            .where(OutboxEvent.status == OutboxStatus.pending, OutboxEvent.next_attempt_at <= now)
            .order_by(OutboxEvent.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self._session.scalars(query))
