"""Orders nested under users: creation, totals, ownership and eager loading."""

from sqlalchemy import event

from reference_api import demo_data as demo

from .support import ApiClient

ALICE_ORDERS = f"/api/users/{demo.ALICE_ID}/orders"
TWO_ITEMS = {
    "currency": "EUR",
    "items": [
        {"sku": "MUG-001", "quantity": 2, "unit_price": "9.90"},
        {"sku": "TEA-100", "quantity": 1, "unit_price": "4.25"},
    ],
}


def test_placing_an_order_computes_line_totals_and_total(client: ApiClient, auth) -> None:
    response = client.post(ALICE_ORDERS, json=TWO_ITEMS, headers=auth.alice)

    assert response.status_code == 201
    order = response.json()
    assert response.headers["location"] == f"{ALICE_ORDERS}/{order['id']}"
    assert order["items"] == [
        {"sku": "MUG-001", "quantity": 2, "unit_price": "9.90", "line_total": "19.80"},
        {"sku": "TEA-100", "quantity": 1, "unit_price": "4.25", "line_total": "4.25"},
    ]
    assert order["total"] == "24.05"


def test_prices_are_exact_decimals_not_floats(client: ApiClient, auth) -> None:
    items = [
        {"sku": "CHEAP-1", "quantity": 3, "unit_price": "0.10"},
        {"sku": "CHEAP-2", "quantity": 1, "unit_price": "0.20"},
    ]

    response = client.post(ALICE_ORDERS, json={"items": items}, headers=auth.alice)

    assert response.json()["total"] == "0.50"


def test_a_placed_order_can_be_read_back(client: ApiClient, auth) -> None:
    created = client.post(ALICE_ORDERS, json=TWO_ITEMS, headers=auth.alice)

    fetched = client.get(created.headers["location"], headers=auth.alice)

    assert fetched.status_code == 200
    assert fetched.json() == created.json()


def test_orders_are_listed_newest_first_with_their_items(client: ApiClient, auth, clock) -> None:
    clock.advance(minutes=5)
    created = client.post(ALICE_ORDERS, json=TWO_ITEMS, headers=auth.alice).json()

    response = client.get(ALICE_ORDERS, headers=auth.alice)

    assert response.json()["meta"] == {"page": 1, "limit": 20, "total": 2, "total_pages": 1}
    assert [order["id"] for order in response.json()["data"]] == [
        created["id"],
        str(demo.ALICE_ORDER_ID),
    ]
    assert response.json()["data"][1]["total"] == "30.97"


def test_orders_are_paginated_in_the_list_envelope(client: ApiClient, auth) -> None:
    client.post(ALICE_ORDERS, json=TWO_ITEMS, headers=auth.alice)

    response = client.get(ALICE_ORDERS, params={"page": 2, "limit": 1}, headers=auth.alice)

    assert [order["id"] for order in response.json()["data"]] == [str(demo.ALICE_ORDER_ID)]
    assert response.json()["meta"] == {"page": 2, "limit": 1, "total": 2, "total_pages": 2}


def test_listing_orders_loads_items_without_a_query_per_order(client: ApiClient, auth) -> None:
    for _ in range(5):
        client.post(ALICE_ORDERS, json=TWO_ITEMS, headers=auth.alice)
    statements: list[str] = []
    engine = client.app.state.context.engine

    def listener(connection, cursor, statement, *rest) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(ALICE_ORDERS, headers=auth.alice)
    finally:
        event.remove(engine, "before_cursor_execute", listener)

    assert len(response.json()["data"]) == 6
    item_queries = [sql for sql in statements if "FROM order_items" in sql]
    assert len(item_queries) == 1, statements


def test_an_order_needs_at_least_one_item(client: ApiClient, auth) -> None:
    response = client.post(ALICE_ORDERS, json={"items": []}, headers=auth.alice)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.items"


def test_quantities_must_be_positive(client: ApiClient, auth) -> None:
    order = {"items": [{"sku": "MUG-001", "quantity": 0, "unit_price": "9.90"}]}

    response = client.post(ALICE_ORDERS, json=order, headers=auth.alice)

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body.items.0.quantity", "message": "Input should be greater than 0"}
    ]


def test_prices_with_fractions_of_a_cent_are_rejected(client: ApiClient, auth) -> None:
    order = {"items": [{"sku": "MUG-001", "quantity": 1, "unit_price": "9.999"}]}

    response = client.post(ALICE_ORDERS, json=order, headers=auth.alice)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.items.0.unit_price"


def test_a_user_cannot_see_someone_elses_orders(client: ApiClient, auth) -> None:
    response = client.get(f"{ALICE_ORDERS}/{demo.ALICE_ORDER_ID}", headers=auth.bob)

    assert response.status_code == 403
    assert response.json()["detail"] == "You may only access your own orders."


def test_a_user_cannot_place_orders_for_someone_else(client: ApiClient, auth) -> None:
    assert client.post(ALICE_ORDERS, json=TWO_ITEMS, headers=auth.bob).status_code == 403


def test_an_admin_can_read_anyones_orders(client: ApiClient, auth) -> None:
    response = client.get(f"{ALICE_ORDERS}/{demo.ALICE_ORDER_ID}", headers=auth.admin)

    assert response.status_code == 200
    assert response.json()["total"] == "30.97"


def test_an_order_is_only_found_under_its_owner(client: ApiClient, auth) -> None:
    response = client.get(f"/api/users/{demo.BOB_ID}/orders/{demo.ALICE_ORDER_ID}", headers=auth.admin)

    assert response.status_code == 404


def test_orders_of_an_unknown_user_are_not_found(client: ApiClient, auth) -> None:
    response = client.get(f"/api/users/{demo.UNKNOWN_ID}/orders", headers=auth.admin)

    assert response.status_code == 404
    assert response.json()["detail"] == f"No user with id {demo.UNKNOWN_ID}."
