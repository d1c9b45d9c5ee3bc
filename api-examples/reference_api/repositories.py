"""Data access: every SQL query the service runs lives in this module.

Repositories stage changes on the session; the service layer decides when a unit of
work is complete and commits.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from reference_api.listing import PageRequest, SortKey
from reference_api.models import Order, RefreshToken, Role, User, UserStatus

USER_SORT_COLUMNS = {
    "created_at": User.created_at,
    "email": User.email,
    "name": User.name,
}


@dataclass(frozen=True)
class UserFilters:
    status: UserStatus | None = None
    role: Role | None = None
    search: str | None = None


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, user_id: uuid.UUID) -> User | None:
        return self._session.get(User, user_id)

    def get_by_email(self, email: str) -> User | None:
        return self._session.scalars(select(User).where(User.email == email)).one_or_none()

    def add(self, user: User) -> None:
        self._session.add(user)

    def delete(self, user: User) -> None:
        self._session.delete(user)

    def list_page(self, filters: UserFilters, sort: list[SortKey], page: PageRequest) -> tuple[list[User], int]:
        query = select(User)
        if filters.status is not None:
            query = query.where(User.status == filters.status)
        if filters.role is not None:
            query = query.where(User.role == filters.role)
        if filters.search:
            # autoescape: a '%' or '_' typed by the user matches literally, not as a
            # wildcard.
            query = query.where(
                or_(
                    User.name.icontains(filters.search, autoescape=True),
                    User.email.icontains(filters.search, autoescape=True),
                )
            )
        total = self._session.scalar(select(func.count()).select_from(query.subquery()))
        ordering = [
            USER_SORT_COLUMNS[key.field].desc() if key.descending else USER_SORT_COLUMNS[key.field] for key in sort
        ]
        # The primary key as last tie-breaker makes pages stable: without a total order
        # the database may return equal rows in a different order on the next page.
        query = query.order_by(*ordering, User.id).offset(page.offset).limit(page.limit)
        return list(self._session.scalars(query)), total or 0


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
        # PostgreSQL, so exactly one of them wins the rotation. SQLite ignores it
        # and serialises writers anyway.
        query = select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        return self._session.scalars(query).one_or_none()

    def add(self, token: RefreshToken) -> None:
        self._session.add(token)

    def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        self._session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
