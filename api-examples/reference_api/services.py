"""Business rules: who may do what, and what happens when they do.

Routers translate HTTP into calls on these classes and back; nothing here knows about
requests or status codes, only about domain errors from :mod:`reference_api.errors`.
"""

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from reference_api.actor_cache import ActorCache
from reference_api.clock import Clock
from reference_api.errors import (
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    PreconditionFailed,
    RateLimited,
    TokenRejected,
    Unauthenticated,
)
from reference_api.listing import PageRequest, SortKey
from reference_api.models import (
    IdempotencyKey,
    Order,
    OrderItem,
    OutboxEvent,
    OutboxStatus,
    RefreshToken,
    Role,
    User,
    UserStatus,
)
from reference_api.repositories import (
    IdempotencyKeyRepository,
    OrderRepository,
    OutboxRepository,
    RateBucketRepository,
    RefreshTokenRepository,
    UserFilters,
    UserRecord,
    UserRepository,
)
from reference_api.schemas import OrderCreate, TokenPair, UserCreate, UserReplace, UserUpdate
from reference_api.security import (
    AccessTokenClaims,
    AccessTokenCodec,
    InvalidTokenError,
    Passwords,
    hash_refresh_token,
    new_refresh_token,
)

DUPLICATE_EMAIL = "A user with this email address already exists."
STALE_USER = "The user was changed since you read it; fetch it again and retry."
IDEMPOTENCY_KEY_REUSED = "This Idempotency-Key was already used with a different request body."
ORDER_PLACED = "order.placed"
ADMIN_REQUIRED = "This operation requires the admin role."
BAD_CREDENTIALS = "Invalid email or password."
BAD_ACCESS_TOKEN = "The access token is invalid or has expired."
BAD_REFRESH_TOKEN = "The refresh token is invalid or has expired."
# A user as read (UserRecord) or as loaded for a write (User).
Found = TypeVar("Found", User, UserRecord)

REFRESH_TOKEN_REUSED = "The refresh token was already used; every session from that login has been revoked."


def require_admin(actor: UserRecord) -> None:
    if actor.role != Role.admin:
        raise Forbidden(ADMIN_REQUIRED)


def require_self_or_admin(actor: UserRecord, user_id: uuid.UUID) -> None:
    # Checked before looking the user up, so a non-admin cannot probe which IDs exist
    # by telling 403 from 404.
    if actor.id != user_id and actor.role != Role.admin:
        raise Forbidden("You may only access your own account.")


def _found(user: Found | None, user_id: uuid.UUID) -> Found:
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def _normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class Preconditions:
    """The versions an If-Match header accepts: None means any (no header, or `*`)."""

    versions: frozenset[int] | None = None

    def allows(self, version: int) -> bool:
        return self.versions is None or version in self.versions


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    # True when an Idempotency-Key matched an earlier request: nothing new was created.
    replayed: bool = False


class UserService:
    def __init__(self, session: Session, clock: Clock, passwords: Passwords, actors: ActorCache) -> None:
        self._session = session
        self._users = UserRepository(session)
        self._clock = clock
        self._passwords = passwords
        self._actors = actors

    def create(self, data: UserCreate, actor: UserRecord | None) -> User:
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

    def get(self, user_id: uuid.UUID, actor: UserRecord) -> UserRecord:
        require_self_or_admin(actor, user_id)
        return _found(self._users.find(user_id), user_id)

    def list_page(
        self, filters: UserFilters, sort: list[SortKey], page: PageRequest, actor: UserRecord
    ) -> tuple[list[UserRecord], int]:
        require_admin(actor)
        return self._users.list_page(filters, sort, page)

    def replace(self, user_id: uuid.UUID, data: UserReplace, actor: UserRecord, if_match: Preconditions) -> User:
        return self._apply(user_id, data.model_dump(), actor, if_match)

    def update(self, user_id: uuid.UUID, data: UserUpdate, actor: UserRecord, if_match: Preconditions) -> User:
        return self._apply(user_id, data.model_dump(exclude_unset=True), actor, if_match)

    def delete(self, user_id: uuid.UUID, actor: UserRecord) -> None:
        user = self._load(user_id, actor)
        self._users.delete(user)
        self._session.commit()
        self._actors.evict(user_id)

    def _load(self, user_id: uuid.UUID, actor: UserRecord) -> User:
        """The ORM object, for a write."""
        require_self_or_admin(actor, user_id)
        return _found(self._users.get(user_id), user_id)

    def _apply(
        self,
        user_id: uuid.UUID,
        changes: dict[str, object],
        actor: UserRecord,
        if_match: Preconditions,
    ) -> User:
        user = self._load(user_id, actor)
        if not if_match.allows(user.version):
            raise PreconditionFailed(STALE_USER)
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
        # After the commit: a lookup from before it then stores nothing (ActorCache).
        self._actors.evict(user_id)
        return user

    def _commit(self) -> None:
        # The unique index is the source of truth for duplicate emails: a check-then-
        # insert would still race with a concurrent sign-up.
        try:
            self._session.commit()
        except IntegrityError as exc:
            self._session.rollback()
            raise Conflict(DUPLICATE_EMAIL) from exc
        except StaleDataError as exc:
            # The UPDATE found another version than the one this request read: a
            # concurrent write landed in between, and this one would overwrite it.
            self._session.rollback()
            raise PreconditionFailed(STALE_USER) from exc


def _order_placed_event(order: Order, now: datetime) -> OutboxEvent:
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": ORDER_PLACED,
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "data": {
            "order_id": str(order.id),
            "user_id": str(order.user_id),
            "currency": order.currency,
            "total": str(order.total),
        },
    }
    return OutboxEvent(
        id=event_id,
        event_type=ORDER_PLACED,
        payload=json.dumps(payload, separators=(",", ":"), sort_keys=True),
        status=OutboxStatus.pending,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


class OrderService:
    def __init__(self, session: Session, clock: Clock, idempotency_ttl: timedelta) -> None:
        self._session = session
        self._idempotency_ttl = idempotency_ttl
        self._users = UserRepository(session)
        self._orders = OrderRepository(session)
        self._idempotency = IdempotencyKeyRepository(session)
        self._outbox = OutboxRepository(session)
        self._clock = clock

    def create(
        self,
        user_id: uuid.UUID,
        data: OrderCreate,
        actor: UserRecord,
        idempotency_key: str | None = None,
    ) -> PlacedOrder:
        self._require_owner_or_admin(user_id, actor)
        request_hash = hashlib.sha256(json.dumps(data.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
        now = self._clock()
        if idempotency_key is not None:
            # Keys are a retry window, not a permanent ledger: after it, a key may be
            # used again for a new order.
            self._idempotency.forget_older_than(user_id, now - self._idempotency_ttl)
            earlier = self._replay(user_id, idempotency_key, request_hash)
            if earlier is not None:
                return earlier
        order = Order(
            id=uuid.uuid4(),
            user_id=user_id,
            currency=data.currency,
            created_at=now,
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
        # Same transaction as the order: committed together or not at all.
        self._outbox.add(_order_placed_event(order, now))
        self._session.flush()
        if idempotency_key is not None:
            claimed = self._idempotency.insert_if_absent(
                IdempotencyKey(
                    user_id=user_id,
                    key=idempotency_key,
                    request_hash=request_hash,
                    order_id=order.id,
                    created_at=now,
                )
            )
            if not claimed:
                # A concurrent request with this key committed first; drop this
                # order and answer with that one.
                self._session.rollback()
                earlier = self._replay(user_id, idempotency_key, request_hash)
                assert earlier is not None, "the conflicting key was committed"
                return earlier
        self._session.commit()
        return PlacedOrder(order)

    def _replay(self, user_id: uuid.UUID, key: str, request_hash: str) -> PlacedOrder | None:
        record = self._idempotency.get(user_id, key)
        if record is None:
            return None
        if record.request_hash != request_hash:
            raise IdempotencyKeyReused(IDEMPOTENCY_KEY_REUSED)
        order = self._orders.get_for_user(user_id, record.order_id)
        assert order is not None, "idempotency_keys.order_id cascades on delete"
        return PlacedOrder(order, replayed=True)

    def get(self, user_id: uuid.UUID, order_id: uuid.UUID, actor: UserRecord) -> Order:
        self._require_owner_or_admin(user_id, actor)
        order = self._orders.get_for_user(user_id, order_id)
        if order is None:
            raise NotFound(f"No order with id {order_id} for this user.")
        return order

    def list_page(self, user_id: uuid.UUID, page: PageRequest, actor: UserRecord) -> tuple[list[Order], int]:
        self._require_owner_or_admin(user_id, actor)
        return self._orders.list_for_user(user_id, page)

    def _require_owner_or_admin(self, user_id: uuid.UUID, actor: UserRecord) -> None:
        if actor.id != user_id and actor.role != Role.admin:
            raise Forbidden("You may only access your own orders.")
        if self._users.get(user_id) is None:
            raise NotFound(f"No user with id {user_id}.")


@dataclass(frozen=True)
class LoginLimits:
    """How many failed sign-ins each bucket holds; each refills evenly over the window."""

    per_account: int
    per_ip: int
    window_seconds: int
    # The general request budget's buckets share the table, and a sign-in purges
    # drained buckets of both kinds, so this is the longer of the two drain times.
    purge_after_seconds: int


class AuthService:
    def __init__(
        self,
        session: Session,
        clock: Clock,
        passwords: Passwords,
        tokens: AccessTokenCodec,
        refresh_ttl: timedelta,
        login_limits: LoginLimits,
        actors: ActorCache,
    ) -> None:
        self._session = session
        self._actors = actors
        self._users = UserRepository(session)
        self._refresh_tokens = RefreshTokenRepository(session)
        self._failures = RateBucketRepository(session)
        self._clock = clock
        self._passwords = passwords
        self._tokens = tokens
        self._refresh_ttl = refresh_ttl
        self._limits = login_limits

    def login(self, email: str, password: str, client_ip: str) -> TokenPair:
        email = _normalise_email(email)
        account_key, ip_key = f"account:{email}", f"ip:{client_ip}"
        buckets = {account_key: self._limits.per_account, ip_key: self._limits.per_ip}
        self._count_attempt_as_failure(buckets)
        user = self._users.get_by_email(email)
        # End the read before the deliberately slow hash: holding the transaction would
        # keep a pooled connection (and on SQLite a shared lock that stalls every
        # writer) busy for the whole Argon2 run. The loaded user stays usable
        # (expire_on_commit=False); the writes below open a new transaction.
        self._session.commit()
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
        # It was not a failure after all: the account starts afresh, and the address
        # gets its unit back.
        self._failures.clear(account_key)
        self._failures.add(ip_key, -1.0, self._clock().timestamp(), self._drain(buckets[ip_key]))
        return self._issue(user, family_id=uuid.uuid4())

    def _drain(self, capacity: int) -> float:
        return capacity / self._limits.window_seconds

    def _count_attempt_as_failure(self, buckets: dict[str, int]) -> None:
        """Count the attempt before checking the password, and refuse it if a bucket
        overflows.

        Counting first (one atomic upsert per bucket, committed before the slow hash)
        means N parallel guesses, in any number of workers, see N distinct counts; a
        check-then-count would let all of them through. A successful login refunds.
        """
        now = self._clock().timestamp()
        self._failures.purge_untouched_since(now - self._limits.purge_after_seconds)
        levels = {key: self._failures.add(key, 1.0, now, self._drain(capacity)) for key, capacity in buckets.items()}
        overflowing = [key for key, level in levels.items() if level > buckets[key]]
        if overflowing:
            # A refused attempt checks no password, so it does not count.
            for key, capacity in buckets.items():
                self._failures.add(key, -1.0, now, self._drain(capacity))
            self._session.commit()
            wait = max((levels[key] - buckets[key]) / self._drain(buckets[key]) for key in overflowing)
            seconds = max(1, math.ceil(wait))
            raise RateLimited(f"Too many failed sign-ins; retry in {seconds} seconds.", retry_after_seconds=seconds)
        self._session.commit()

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
        if not self._refresh_tokens.claim(stored, now):
            # A concurrent request rotated it between our read and this update: the
            # same token was presented twice, which is reuse.
            self._session.rollback()
            self._refresh_tokens.revoke_family(stored.family_id, now)
            self._session.commit()
            raise TokenRejected(REFRESH_TOKEN_REUSED)
        return self._issue(user, family_id=stored.family_id)

    def logout(self, refresh_token: str) -> None:
        # Unknown or already revoked tokens are accepted silently: logout is
        # idempotent, and an error would only tell a caller which tokens exist.
        stored = self._refresh_tokens.get_by_hash_for_update(hash_refresh_token(refresh_token))
        if stored is not None:
            self._refresh_tokens.revoke_family(stored.family_id, self._clock())
            self._session.commit()

    def verify_access_token(self, access_token: str) -> AccessTokenClaims:
        """Check the token's signature and claims: CPU only, no I/O."""
        try:
            return self._tokens.decode(access_token, self._clock())
        except InvalidTokenError as exc:
            raise TokenRejected(BAD_ACCESS_TOKEN) from exc

    def cached_actor(self, claims: AccessTokenClaims) -> UserRecord | None:
        """The token's user if this process read it within the cache's TTL: no I/O.
        None means "ask :meth:`load_actor`", never "rejected"."""
        return self._actors.get(claims.user_id)

    def load_actor(self, claims: AccessTokenClaims) -> UserRecord:
        """The token's user, read from the database (one query), then cached."""
        generation = self._actors.generation()
        user = self._users.find(claims.user_id)
        # End the read here: the endpoint runs in another thread-pool job, and a
        # connection held from one job to the next, with every thread waiting for a
        # connection, is how the thread pool and the connection pool deadlock.
        self._session.rollback()
        # Re-reading the user makes deactivation and deletion take effect immediately
        # (within the cache's TTL in other worker processes) instead of when the token
        # expires.
        if user is None or user.status != UserStatus.active:
            raise TokenRejected(BAD_ACCESS_TOKEN)
        self._actors.store(user, generation)
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
