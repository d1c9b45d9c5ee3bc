"""Request and response bodies (pydantic v2).

Input and output models are separate on purpose: a response can never echo a field
the client should not see (``password_hash``), and a request can never set a field
the server owns (``id``, ``created_at``).
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
)

from reference_api.listing import PageRequest
from reference_api.models import Role, UserStatus

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Password fields use repr=False, which keeps them out of tracebacks and debug logs that
# print the model; the schema marks them write-only so docs never show them in output.
_SECRET = {"format": "password", "writeOnly": True}
# At least 12 characters (OWASP ASVS 2.1.1); the upper bound stops multi-megabyte
# "passwords" from tying up Argon2.
NewPassword = Annotated[str, Field(min_length=12, max_length=128, repr=False, json_schema_extra=_SECRET)]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,31}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Money = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2)]


class InputModel(BaseModel):
    """Base of every request body.

    extra="forbid" turns a field the server owns (``id``, ``created_at``) or a typo
    into a 422 that names it; silently dropping it would let the client believe the
    value was applied (VAL-SEPARATE-MODELS).
    """

    model_config = ConfigDict(extra="forbid")


class UserCreate(InputModel):
    email: EmailStr
    name: Name
    password: NewPassword
    role: Role = Field(default=Role.user, description="Only an admin may create another admin.")


class UserReplace(InputModel):
    """Full replacement (PUT): every field is required."""

    email: EmailStr
    name: Name
    role: Role = Field(description="Only an admin may change it.")
    status: UserStatus = Field(description="Only an admin may change it.")


class UserUpdate(InputModel):
    """Partial update (PATCH): send only the fields to change."""

    email: EmailStr | None = None
    name: Name | None = None
    role: Role | None = Field(default=None, description="Only an admin may change it.")
    status: UserStatus | None = Field(default=None, description="Only an admin may change it.")

    @field_validator("email", "name", "role", "status")
    @classmethod
    def _reject_explicit_null(cls, value: object) -> object:
        # Absent means "leave unchanged"; an explicit null would try to blank a
        # required column, so it is a client error rather than a silent no-op.
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class UserFields(BaseModel):
    """What every representation of a user shows: the API's ``UserRead`` and the
    repositories' ``UserRecord``. Never the password hash."""

    id: uuid.UUID
    email: str
    name: str
    role: Role
    status: UserStatus
    created_at: datetime
    updated_at: datetime


class UserRead(UserFields):
    model_config = ConfigDict(from_attributes=True)


class PageMeta(BaseModel):
    page: int
    limit: int
    total: int = Field(description="Number of items matching the filters, across all pages.")
    total_pages: int = Field(description="`total` divided by `limit`, rounded up; 0 when empty.")

    @classmethod
    def of(cls, request: PageRequest, total: int) -> "PageMeta":
        return cls(
            page=request.page,
            limit=request.limit,
            total=total,
            # Integer ceiling division: exact at any size, and 0 for an empty result.
            total_pages=(total + request.limit - 1) // request.limit,
        )


class UserPage(BaseModel):
    data: list[UserRead]
    meta: PageMeta


class OrderItemCreate(InputModel):
    sku: Sku
    quantity: int = Field(gt=0, le=10_000)
    unit_price: Money = Field(description="Decimal string with at most two decimal places.")


class OrderCreate(InputModel):
    currency: Currency = "EUR"
    items: list[OrderItemCreate] = Field(min_length=1, max_length=100)


class OrderItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    currency: str
    created_at: datetime
    items: list[OrderItemRead]
    total: Decimal = Field(description="Sum of the line totals, computed by the server.")


class OrderPage(BaseModel):
    data: list[OrderRead]
    meta: PageMeta


class LoginRequest(InputModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=128, repr=False, json_schema_extra=_SECRET)


class RefreshRequest(InputModel):
    refresh_token: str = Field(min_length=1, max_length=256)


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Access-token lifetime in seconds.")
    refresh_token: str = Field(description="Opaque; single use. Exchange it at /api/auth/refresh.")


class Liveness(BaseModel):
    status: Literal["ok"]


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
