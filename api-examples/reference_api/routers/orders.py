"""Orders, nested under the user who placed them."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from reference_api import api_docs as docs
from reference_api import demo_data as demo
from reference_api.dependencies import CurrentUser, OrderServiceDep
from reference_api.errors import ErrorCode
from reference_api.listing import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, PageRequest
from reference_api.schemas import OrderCreate, OrderPage, OrderRead, PageMeta

router = APIRouter(prefix="/api/users/{user_id}/orders", tags=["orders"])

UserId = Annotated[uuid.UUID, docs.path_param("ID of the user who owns the orders.", demo.ALICE_ID)]
OrderId = Annotated[uuid.UUID, docs.path_param("Order ID (UUID).", demo.ALICE_ORDER_ID)]

_BOB_ORDERS_PATH = f"{docs.BOB_PATH}/orders"
_NOT_YOURS = docs.problem(ErrorCode.FORBIDDEN, "You may only access your own orders.", _BOB_ORDERS_PATH)
_NO_SUCH_USER = docs.problem(
    ErrorCode.NOT_FOUND, f"No user with id {demo.UNKNOWN_ID}.", f"{docs.UNKNOWN_USER_PATH}/orders"
)

_NEW_ORDER = {
    "id": str(docs.EXAMPLE_NEW_ID),
    "user_id": str(demo.ALICE_ID),
    "currency": "EUR",
    "created_at": docs.timestamp(demo.DEMO_NOW),
    "items": [
        {"sku": "MUG-001", "quantity": 2, "unit_price": "9.90", "line_total": "19.80"},
        {"sku": "TEA-100", "quantity": 1, "unit_price": "4.25", "line_total": "4.25"},
    ],
    "total": "24.05",
}


@router.get(
    "",
    response_model=OrderPage,
    summary="List a user's orders",
    description="Newest first, with their items. Owners and admins only.",
    responses=docs.merge(
        docs.ok(
            200,
            {
                "data": [docs.ALICE_ORDER],
                "meta": {"page": 1, "limit": 20, "total": 1, "total_pages": 1},
            },
            "One page of orders.",
        ),
        docs.unauthenticated(docs.ALICE_ORDERS_PATH),
        _NOT_YOURS,
        _NO_SUCH_USER,
        docs.invalid(
            docs.ALICE_ORDERS_PATH,
            ("query.limit", "Input should be less than or equal to 100"),
        ),
    ),
)
def list_orders(
    user_id: UserId,
    actor: CurrentUser,
    orders: OrderServiceDep,
    page: Annotated[
        int,
        Query(ge=1, le=MAX_PAGE, openapi_examples={"first": docs.example(1, "First page")}),
    ] = 1,
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_PAGE_SIZE, openapi_examples={"default": docs.example(20, "20 per page")}),
    ] = DEFAULT_PAGE_SIZE,
) -> OrderPage:
    requested = PageRequest(page=page, limit=limit)
    found, total = orders.list_page(user_id, requested, actor)
    return OrderPage(
        data=[OrderRead.model_validate(order) for order in found],
        meta=PageMeta.of(requested, total),
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRead,
    summary="Place an order",
    description="Creates an order with its items in one transaction. Prices are decimal "
    "strings with at most two decimal places; the server computes line totals and the "
    "order total. Send an `Idempotency-Key` to retry safely: the same key with the same "
    "body returns the first response and creates nothing; with another body it is a 422. "
    "Placing an order queues a signed `order.placed` webhook.",
    responses=docs.merge(
        docs.ok(
            201,
            _NEW_ORDER,
            "Order created (or, for a repeated Idempotency-Key, the order created first).",
            {**docs.LOCATION_HEADER, **docs.REPLAYED_HEADER},
        ),
        docs.unauthenticated(docs.ALICE_ORDERS_PATH),
        _NOT_YOURS,
        _NO_SUCH_USER,
        docs.malformed(docs.ALICE_ORDERS_PATH),
        docs.invalid(
            docs.ALICE_ORDERS_PATH,
            ("body.items.0.quantity", "Input should be greater than 0"),
        ),
    ),
)
def create_order(
    user_id: UserId,
    data: Annotated[
        OrderCreate,
        docs.body(
            {
                "currency": "EUR",
                "items": [
                    {"sku": "MUG-001", "quantity": 2, "unit_price": "9.90"},
                    {"sku": "TEA-100", "quantity": 1, "unit_price": "4.25"},
                ],
            },
            "Two items",
        ),
    ],
    actor: CurrentUser,
    orders: OrderServiceDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="A unique value per order the client means to place (a UUID). "
            "Retries of the same request reuse it.",
            min_length=1,
            max_length=255,
            openapi_examples={"uuid": docs.example("7f9c4b2e-5a1d-4c3e-9b8a-2d6f0e1c3a5b", "A fresh UUID")},
        ),
    ] = None,
) -> OrderRead:
    placed = orders.create(user_id, data, actor, idempotency_key)
    response.headers["Location"] = f"/api/users/{user_id}/orders/{placed.order.id}"
    if placed.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return OrderRead.model_validate(placed.order)


@router.get(
    "/{order_id}",
    response_model=OrderRead,
    summary="Get an order",
    description="One order with its items and total. Owners and admins only.",
    responses=docs.merge(
        docs.ok(200, docs.ALICE_ORDER, "The order."),
        docs.unauthenticated(f"{docs.ALICE_ORDERS_PATH}/{demo.ALICE_ORDER_ID}"),
        _NOT_YOURS,
        docs.problem(
            ErrorCode.NOT_FOUND,
            f"No order with id {demo.UNKNOWN_ID} for this user.",
            f"{docs.ALICE_ORDERS_PATH}/{demo.UNKNOWN_ID}",
        ),
        docs.invalid(
            f"{docs.ALICE_ORDERS_PATH}/42",
            ("path.order_id", "Input should be a valid UUID, invalid length: found 2"),
        ),
    ),
)
def read_order(user_id: UserId, order_id: OrderId, actor: CurrentUser, orders: OrderServiceDep) -> OrderRead:
    return OrderRead.model_validate(orders.get(user_id, order_id, actor))
