"""User accounts: sign-up, profile, and admin management."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status

from reference_api import api_docs as docs
from reference_api import demo_data as demo
from reference_api.dependencies import CurrentUser, OptionalUser, UserServiceDep
from reference_api.errors import ErrorCode
from reference_api.listing import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, PageRequest, SortKey, parse_sort
from reference_api.models import Role, User, UserStatus
from reference_api.repositories import USER_SORT_COLUMNS, UserFilters, UserRecord
from reference_api.responses import json_response
from reference_api.schemas import (
    PageMeta,
    UserCreate,
    UserPage,
    UserRead,
    UserReplace,
    UserUpdate,
)
from reference_api.services import ADMIN_REQUIRED, DUPLICATE_EMAIL, STALE_USER, Preconditions

router = APIRouter(prefix="/api/users", tags=["users"])

UserId = Annotated[
    uuid.UUID,
    docs.path_param("User ID (UUID).", demo.ALICE_ID),
]

_NOT_YOURS = docs.problem(ErrorCode.FORBIDDEN, "You may only access your own account.", docs.BOB_PATH)
_NO_SUCH_USER = docs.problem(ErrorCode.NOT_FOUND, f"No user with id {demo.UNKNOWN_ID}.", docs.UNKNOWN_USER_PATH)


def _with_etag(user: User | UserRecord) -> Response:
    # The version changes with every write, so it identifies this representation
    # (a strong validator, RFC 9110 §8.8.3); clients send it back in If-Match.
    return json_response(UserRead.model_validate(user), headers={"ETag": f'"{user.version}"'})


async def _preconditions(
    if_match: Annotated[
        str | None,
        Header(
            description="The `ETag` from your last read. The change is refused with 412 if "
            "the user has changed since; without the header the write is unconditional.",
            max_length=1000,
            openapi_examples={"current": docs.example('"1"', "The demo user's ETag")},
        ),
    ] = None,
) -> Preconditions:
    # If-Match is optional: existing clients keep working, and those that care about
    # lost updates opt in. Requiring it (428, RFC 6585) is the stricter alternative.
    if if_match is None or if_match.strip() == "*":
        return Preconditions()
    versions = set()
    for tag in if_match.split(","):
        # Strong comparison (RFC 9110 §13.1.1): a weak W/ tag never matches, and
        # neither does anything that is not one of our ETags.
        value = tag.strip()
        if value.startswith('"') and value.endswith('"') and value[1:-1].isdigit():
            versions.add(int(value[1:-1]))
    return Preconditions(frozenset(versions))


IfMatch = Annotated[Preconditions, Depends(_preconditions)]
_STALE = docs.problem(ErrorCode.PRECONDITION_FAILED, STALE_USER, docs.ALICE_PATH)

_BAD_USER_ID = docs.invalid(
    "/api/users/not-a-uuid",
    ("path.user_id", "Input should be a valid UUID, invalid character: found `n` at 0"),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    summary="Create a user",
    description="Open sign-up: anyone may create a `user` account. Creating an `admin` "
    "requires an admin's bearer token. Emails are unique, case-insensitively.",
    responses=docs.merge(
        docs.ok(
            201,
            {
                **docs.ALICE,
                "id": str(docs.EXAMPLE_NEW_ID),
                "email": "dave@example.com",
                "name": "Dave Lister",
                "created_at": docs.timestamp(demo.DEMO_NOW),
                "updated_at": docs.timestamp(demo.DEMO_NOW),
            },
            "User created.",
            docs.LOCATION_HEADER,
        ),
        docs.problem(ErrorCode.UNAUTHENTICATED, "Sign in as an admin to create admin users.", "/api/users"),
        docs.problem(ErrorCode.FORBIDDEN, ADMIN_REQUIRED, "/api/users"),
        docs.problem(ErrorCode.CONFLICT, DUPLICATE_EMAIL, "/api/users"),
        docs.malformed("/api/users"),
        docs.invalid(
            "/api/users",
            (
                "body.email",
                "value is not a valid email address: An email address must have an @-sign.",
            ),
            ("body.password", "String should have at least 12 characters"),
        ),
    ),
    # Anonymous sign-up is allowed, so the bearer requirement is optional.
    openapi_extra={"security": [{}]},
)
def create_user(
    data: Annotated[
        UserCreate,
        docs.body(
            {
                "email": "dave@example.com",
                "name": "Dave Lister",
                "password": demo.DEMO_PASSWORD,
            },
            "Sign up",
        ),
    ],
    actor: OptionalUser,
    users: UserServiceDep,
) -> Response:
    user = users.create(data, actor)
    return json_response(
        UserRead.model_validate(user),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/api/users/{user.id}"},
    )


@router.get(
    "/me",
    response_model=UserRead,
    summary="Get the signed-in user",
    description="Returns the account the bearer token belongs to.",
    responses=docs.merge(
        docs.ok(200, docs.ALICE, "The caller's account.", docs.ETAG_HEADER),
        docs.unauthenticated("/api/users/me"),
    ),
)
def read_me(actor: CurrentUser, users: UserServiceDep) -> Response:
    # Read afresh: the actor may come from the per-process cache, which is exact about
    # who may do what but not meant to serve the account's current representation.
    return _with_etag(users.get(actor.id, actor))


async def _sort_keys(
    sort: Annotated[
        str,
        Query(
            description="Comma-separated fields, `-` prefix for descending. Allowed: "
            + ", ".join(sorted(USER_SORT_COLUMNS))
            + ".",
            max_length=100,
            openapi_examples={"newest first": docs.example("-created_at,name", "Newest first")},
        ),
    ] = "created_at",
) -> list[SortKey]:
    return parse_sort(sort, frozenset(USER_SORT_COLUMNS))


@router.get(
    "",
    response_model=UserPage,
    summary="List users",
    description="Admin only. Paginated (`page`, `limit` up to 100), filterable by `status` "
    "and `role`, searchable with `q` (case-insensitive match on name or email) and "
    "sortable with `sort`.",
    responses=docs.merge(
        docs.ok(
            200,
            {
                "data": [docs.BOB, docs.ALICE],
                "meta": {"page": 1, "limit": 20, "total": 2, "total_pages": 1},
            },
            "One page of users.",
        ),
        docs.unauthenticated("/api/users"),
        docs.problem(ErrorCode.FORBIDDEN, ADMIN_REQUIRED, "/api/users"),
        docs.invalid(
            "/api/users",
            (
                "query.sort",
                "cannot sort by 'password_hash'; allowed fields: created_at, email, name",
            ),
        ),
    ),
)
def list_users(
    actor: CurrentUser,
    users: UserServiceDep,
    sort: Annotated[list[SortKey], Depends(_sort_keys)],
    page: Annotated[
        int,
        Query(ge=1, le=MAX_PAGE, openapi_examples={"first": docs.example(1, "First page")}),
    ] = 1,
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_PAGE_SIZE, openapi_examples={"default": docs.example(20, "20 per page")}),
    ] = DEFAULT_PAGE_SIZE,
    user_status: Annotated[
        UserStatus | None,
        Query(alias="status", openapi_examples={"active": docs.example("active", "Active only")}),
    ] = None,
    role: Annotated[Role | None, Query(openapi_examples={"users": docs.example("user", "Non-admins")})] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Case-insensitive substring of the name or email.",
            openapi_examples={"domain": docs.example("example.com", "Emails at a domain")},
        ),
    ] = None,
) -> Response:
    requested = PageRequest(page=page, limit=limit)
    found, total = users.list_page(UserFilters(status=user_status, role=role, search=q), sort, requested, actor)
    return json_response(
        UserPage(
            data=[UserRead.model_validate(user) for user in found],
            meta=PageMeta.of(requested, total),
        )
    )


@router.get(
    "/{user_id}",
    response_model=UserRead,
    summary="Get a user",
    description="Users may read their own account; admins may read any.",
    responses=docs.merge(
        docs.ok(200, docs.ALICE, "The user.", docs.ETAG_HEADER),
        docs.unauthenticated(docs.ALICE_PATH),
        _NOT_YOURS,
        _NO_SUCH_USER,
        _BAD_USER_ID,
    ),
)
def read_user(user_id: UserId, actor: CurrentUser, users: UserServiceDep) -> Response:
    return _with_etag(users.get(user_id, actor))


_REPLACED_ALICE = {
    **docs.ALICE,
    "name": "Alice Pleasance Liddell",
    "updated_at": docs.timestamp(demo.DEMO_NOW),
}


@router.put(
    "/{user_id}",
    response_model=UserRead,
    summary="Replace a user",
    description="Replaces every editable field. Users may replace their own account but "
    "only an admin may change `role` or `status`.",
    responses=docs.merge(
        docs.ok(200, _REPLACED_ALICE, "The updated user.", docs.ETAG_HEADER),
        docs.unauthenticated(docs.ALICE_PATH),
        _NOT_YOURS,
        _NO_SUCH_USER,
        docs.problem(ErrorCode.CONFLICT, DUPLICATE_EMAIL, docs.ALICE_PATH),
        _STALE,
        docs.malformed(docs.ALICE_PATH),
        docs.invalid(docs.ALICE_PATH, ("body.status", "Field required")),
    ),
)
def replace_user(
    user_id: UserId,
    data: Annotated[
        UserReplace,
        docs.body(
            {
                "email": "alice@example.com",
                "name": "Alice Pleasance Liddell",
                "role": "user",
                "status": "active",
            },
            "Change the display name",
        ),
    ],
    actor: CurrentUser,
    users: UserServiceDep,
    if_match: IfMatch,
) -> Response:
    return _with_etag(users.replace(user_id, data, actor, if_match))


@router.patch(
    "/{user_id}",
    response_model=UserRead,
    summary="Update part of a user",
    description="Changes only the fields present in the body; `null` is rejected. Only an "
    "admin may change `role` or `status`.",
    responses=docs.merge(
        docs.ok(200, _REPLACED_ALICE, "The updated user.", docs.ETAG_HEADER),
        docs.unauthenticated(docs.ALICE_PATH),
        docs.problem(ErrorCode.FORBIDDEN, "Only an admin may change role or status.", docs.ALICE_PATH),
        _NO_SUCH_USER,
        docs.problem(ErrorCode.CONFLICT, DUPLICATE_EMAIL, docs.ALICE_PATH),
        _STALE,
        docs.malformed(docs.ALICE_PATH),
        docs.invalid(docs.ALICE_PATH, ("body.name", "Value error, may be omitted but not null")),
    ),
)
def update_user(
    user_id: UserId,
    data: Annotated[UserUpdate, docs.body({"name": "Alice Pleasance Liddell"}, "Change the display name")],
    actor: CurrentUser,
    users: UserServiceDep,
    if_match: IfMatch,
) -> Response:
    return _with_etag(users.update(user_id, data, actor, if_match))


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    # The default JSONResponse would label the empty 204 `application/json`.
    response_class=Response,
    summary="Delete a user",
    description="Deletes the account with its orders and sessions. Users may delete "
    "themselves; deleting anyone else requires the admin role.",
    responses=docs.merge(
        docs.no_content("User deleted."),
        docs.unauthenticated(docs.ALICE_PATH),
        _NOT_YOURS,
        _NO_SUCH_USER,
        _BAD_USER_ID,
    ),
)
def delete_user(user_id: UserId, actor: CurrentUser, users: UserServiceDep) -> None:
    users.delete(user_id, actor)
