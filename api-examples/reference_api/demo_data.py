"""A small, fixed dataset: the world the OpenAPI examples describe.

IDs, timestamps and even one refresh token are constants, so every documented
example can be replayed against a freshly seeded database and must produce exactly
the documented response. Never seed this into a real deployment: everyone can read
the demo password and refresh token below.
"""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from reference_api.models import Order, OrderItem, RefreshToken, Role, User, UserStatus
from reference_api.security import Passwords, hash_refresh_token

# The instant the demo world is frozen at; pass ManualClock(DEMO_NOW) to create_app.
DEMO_NOW = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
DEMO_PASSWORD = "correct-horse-battery-staple"

ADMIN_ID = uuid.UUID("11111111-1111-4111-8111-111111111111")
ALICE_ID = uuid.UUID("22222222-2222-4222-8222-222222222222")
BOB_ID = uuid.UUID("33333333-3333-4333-8333-333333333333")
CAROL_ID = uuid.UUID("44444444-4444-4444-8444-444444444444")
ALICE_ORDER_ID = uuid.UUID("aaaaaaaa-0000-4000-8000-000000000001")
UNKNOWN_ID = uuid.UUID("99999999-9999-4999-8999-999999999999")
ALICE_REFRESH_TOKEN = "demo-refresh-token-for-alice-do-not-use-in-production"


# (id, email, name, role, status, days before DEMO_NOW the account was created)
DEMO_USERS = [
    (ADMIN_ID, "admin@example.com", "Ada Admin", Role.admin, UserStatus.active, 14),
    (ALICE_ID, "alice@example.com", "Alice Liddell", Role.user, UserStatus.active, 10),
    (BOB_ID, "bob@example.com", "Bob Builder", Role.user, UserStatus.active, 7),
    (CAROL_ID, "carol@example.com", "Carol Danvers", Role.user, UserStatus.inactive, 3),
]


def seed(session: Session, passwords: Passwords, *, password_hash: str | None = None) -> None:
    """Insert the demo users, one order and one refresh token, then commit.

    Every user's password is DEMO_PASSWORD. ``password_hash`` lets callers that seed
    many databases hash it once and reuse it; Argon2 is deliberately slow.
    """
    hashed = password_hash or passwords.hash(DEMO_PASSWORD)
    day = timedelta(days=1)
    for user_id, email, name, role, status, age_days in DEMO_USERS:
        created_at = DEMO_NOW - age_days * day
        session.add(
            User(
                id=user_id,
                email=email,
                name=name,
                password_hash=hashed,
                role=role,
                status=status,
                created_at=created_at,
                updated_at=created_at,
            )
        )
    session.flush()
    session.add(
        Order(
            id=ALICE_ORDER_ID,
            user_id=ALICE_ID,
            currency="EUR",
            created_at=DEMO_NOW - 2 * day,
            items=[
                OrderItem(position=0, sku="BOOK-0042", quantity=2, unit_price_cents=1250),
                OrderItem(position=1, sku="PEN-007", quantity=3, unit_price_cents=199),
            ],
        )
    )
    session.add(
        RefreshToken(
            user_id=ALICE_ID,
            family_id=uuid.UUID("bbbbbbbb-0000-4000-8000-000000000001"),
            token_hash=hash_refresh_token(ALICE_REFRESH_TOKEN),
            created_at=DEMO_NOW - day,
            expires_at=DEMO_NOW + 13 * day,
        )
    )
    session.commit()
