"""Business rules: who may do what, and what happens when they do.

Routers translate HTTP into calls on these classes and back; nothing here knows about
requests or status codes, only about domain errors from :mod:`reference_api.errors`.
"""

import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reference_api.clock import Clock
from reference_api.errors import Conflict, Forbidden, NotFound, TokenRejected, Unauthenticated
from reference_api.listing import PageRequest, SortKey
from reference_api.models import Order, OrderItem, RefreshToken, Role, User, UserStatus
from reference_api.repositories import (
    OrderRepository,
    RefreshTokenRepository,
    UserFilters,
    UserRepository,
)
from reference_api.schemas import OrderCreate, TokenPair, UserCreate, UserReplace, UserUpdate
from reference_api.security import (
    AccessTokenCodec,
    InvalidTokenError,
    Passwords,
    hash_refresh_token,
    new_refresh_token,
)

DUPLICATE_EMAIL = "A user with this email address already exists."
ADMIN_REQUIRED = "This operation requires the admin role."
BAD_CREDENTIALS = "Invalid email or password."
BAD_ACCESS_TOKEN = "The access token is invalid or has expired."
BAD_REFRESH_TOKEN = "The refresh token is invalid or has expired."
REFRESH_TOKEN_REUSED = "The refresh token was already used; every session from that login has been revoked."


def require_admin(actor: User) -> None:
    if actor.role != Role.admin:
        raise Forbidden(ADMIN_REQUIRED)


def require_self_or_admin(actor: User, user_id: uuid.UUID) -> None:
    # Checked before looking the user up, so a non-admin cannot probe which IDs exist
    # by telling 403 from 404.
    if actor.id != user_id and actor.role != Role.admin:
        raise Forbidden("You may only access your own account.")


def _normalise_email(email: str) -> str:
    return email.strip().lower()


class UserService:
    def __init__(self, session: Session, clock: Clock, passwords: Passwords) -> None:
        self._session = session
        self._users = UserRepository(session)
        self._clock = clock
        self._passwords = passwords

    def create(self, data: UserCreate, actor: User | None) -> User:
        if data.role == Role.admin:
            if actor is None:
                raise Unauthenticated("Sign in as an admin to create admin users.")
            require_admin(actor)
        now = self._clock()
        user = User(
            email=_normalise_email(data.email),
            name=data.name,
            password_hash=self._passwords.hash(data.password),
            role=data.role,
            status=UserStatus.active,
            created_at=now,
            updated_at=now,
        )
        self._users.add(user)
        self._commit()
        return user

    def get(self, user_id: uuid.UUID, actor: User) -> User:
        require_self_or_admin(actor, user_id)
        user = self._users.get(user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        return user

    def list_page(
        self, filters: UserFilters, sort: list[SortKey], page: PageRequest, actor: User
    ) -> tuple[list[User], int]:
        require_admin(actor)
        return self._users.list_page(filters, sort, page)

    def replace(self, user_id: uuid.UUID, data: UserReplace, actor: User) -> User:
        return self._apply(user_id, data.model_dump(), actor)

    def update(self, user_id: uuid.UUID, data: UserUpdate, actor: User) -> User:
        return self._apply(user_id, data.model_dump(exclude_unset=True), actor)

    def delete(self, user_id: uuid.UUID, actor: User) -> None:
        user = self.get(user_id, actor)
        self._users.delete(user)
        self._session.commit()

    def _apply(self, user_id: uuid.UUID, changes: dict[str, object], actor: User) -> User:
        user = self.get(user_id, actor)
        changes_privileged_field = any(
            field in changes and changes[field] != getattr(user, field) for field in ("role", "status")
        )
        if changes_privileged_field and actor.role != Role.admin:
            raise Forbidden("Only an admin may change role or status.")
        if "email" in changes:
            changes["email"] = _normalise_email(str(changes["email"]))
        for field, value in changes.items():
            setattr(user, field, value)
        user.updated_at = self._clock()
        self._commit()
        return user

    def _commit(self) -> None:
        # The unique index is the source of truth for duplicate emails: a check-then-
        # insert would still race with a concurrent sign-up.
        try:
            self._session.commit()
        except IntegrityError as exc:
            self._session.rollback()
            raise Conflict(DUPLICATE_EMAIL) from exc


class OrderService:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._users = UserRepository(session)
        self._orders = OrderRepository(session)
        self._clock = clock

    def create(self, user_id: uuid.UUID, data: OrderCreate, actor: User) -> Order:
        self._require_owner_or_admin(user_id, actor)
        order = Order(
            user_id=user_id,
            currency=data.currency,
            created_at=self._clock(),
            items=[
                OrderItem(
                    position=position,
                    sku=item.sku,
                    quantity=item.quantity,
                    unit_price_cents=int(item.unit_price.scaleb(2)),
                )
                for position, item in enumerate(data.items)
            ],
        )
        self._orders.add(order)
        self._session.commit()
        return order

    def get(self, user_id: uuid.UUID, order_id: uuid.UUID, actor: User) -> Order:
        self._require_owner_or_admin(user_id, actor)
        order = self._orders.get_for_user(user_id, order_id)
        if order is None:
            raise NotFound(f"No order with id {order_id} for this user.")
        return order

    def list_page(self, user_id: uuid.UUID, page: PageRequest, actor: User) -> tuple[list[Order], int]:
        self._require_owner_or_admin(user_id, actor)
        return self._orders.list_for_user(user_id, page)

    def _require_owner_or_admin(self, user_id: uuid.UUID, actor: User) -> None:
        if actor.id != user_id and actor.role != Role.admin:
            raise Forbidden("You may only access your own orders.")
        if self._users.get(user_id) is None:
            raise NotFound(f"No user with id {user_id}.")


class AuthService:
    def __init__(
        self,
        session: Session,
        clock: Clock,
        passwords: Passwords,
        tokens: AccessTokenCodec,
        refresh_ttl: timedelta,
    ) -> None:
        self._session = session
        self._users = UserRepository(session)
        self._refresh_tokens = RefreshTokenRepository(session)
        self._clock = clock
        self._passwords = passwords
        self._tokens = tokens
        self._refresh_ttl = refresh_ttl

    def login(self, email: str, password: str) -> TokenPair:
        user = self._users.get_by_email(_normalise_email(email))
        if user is None:
            self._passwords.burn_verification_time(password)
            raise Unauthenticated(BAD_CREDENTIALS)
        valid, upgraded_hash = self._passwords.verify_and_update(password, user.password_hash)
        # An inactive account gets the same answer as a wrong password, so the
        # response does not confirm that the account exists.
        if not valid or user.status != UserStatus.active:
            raise Unauthenticated(BAD_CREDENTIALS)
        if upgraded_hash is not None:
            user.password_hash = upgraded_hash
        return self._issue(user, family_id=uuid.uuid4())

    def refresh(self, refresh_token: str) -> TokenPair:
        now = self._clock()
        stored = self._refresh_tokens.get_by_hash_for_update(hash_refresh_token(refresh_token))
        if stored is None:
            raise TokenRejected(BAD_REFRESH_TOKEN)
        if stored.revoked_at is not None:
            # A revoked token coming back means two parties hold it, and we cannot tell
            # the thief from the owner: end the whole login for both (OAuth 2.0
            # Security BCP, RFC 9700 §4.14.2).
            self._refresh_tokens.revoke_family(stored.family_id, now)
            self._session.commit()
            raise TokenRejected(REFRESH_TOKEN_REUSED)
        user = self._users.get(stored.user_id)
        if stored.expires_at <= now or user is None or user.status != UserStatus.active:
            raise TokenRejected(BAD_REFRESH_TOKEN)
        stored.revoked_at = now
        return self._issue(user, family_id=stored.family_id)

    def logout(self, refresh_token: str) -> None:
        # Unknown or already revoked tokens are accepted silently: logout is
        # idempotent, and an error would only tell a caller which tokens exist.
        stored = self._refresh_tokens.get_by_hash_for_update(hash_refresh_token(refresh_token))
        if stored is not None:
            self._refresh_tokens.revoke_family(stored.family_id, self._clock())
            self._session.commit()

    def authenticate(self, access_token: str) -> User:
        try:
            claims = self._tokens.decode(access_token, self._clock())
        except InvalidTokenError as exc:
            raise TokenRejected(BAD_ACCESS_TOKEN) from exc
        user = self._users.get(claims.user_id)
        # Re-reading the user makes deactivation and deletion take effect immediately
        # instead of when the token expires.
        if user is None or user.status != UserStatus.active:
            raise TokenRejected(BAD_ACCESS_TOKEN)
        return user

    def _issue(self, user: User, family_id: uuid.UUID) -> TokenPair:
        now = self._clock()
        refresh_token = new_refresh_token()
        self._refresh_tokens.add(
            RefreshToken(
                user_id=user.id,
                family_id=family_id,
                token_hash=hash_refresh_token(refresh_token),
                created_at=now,
                expires_at=now + self._refresh_ttl,
            )
        )
        self._session.commit()
        return TokenPair(
            access_token=self._tokens.issue(user.id, user.role, now),
            expires_in=int(self._tokens.ttl.total_seconds()),
            refresh_token=refresh_token,
        )
