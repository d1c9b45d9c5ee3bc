"""Conditional updates (ETag / If-Match) on users and Idempotency-Key on orders."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from reference_api import demo_data as demo
from reference_api.models import Order, OutboxEvent

from .support import ApiClient

ALICE = f"/api/users/{demo.ALICE_ID}"
ORDERS = f"{ALICE}/orders"
ORDER = {"currency": "EUR", "items": [{"sku": "MUG-001", "quantity": 2, "unit_price": "9.90"}]}


def count(client: ApiClient, model: type) -> int:
    with client.app.state.context.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_reads_carry_an_etag_that_every_write_changes(client: ApiClient, auth) -> None:
    first = client.get(ALICE, headers=auth.alice).headers["etag"]
    me = client.get("/api/users/me", headers=auth.alice).headers["etag"]
    written = client.patch(ALICE, json={"name": "Alice L."}, headers=auth.alice)

    assert first == me == '"1"'
    assert written.headers["etag"] == '"2"'
    assert client.get(ALICE, headers=auth.alice).headers["etag"] == '"2"'


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_stale_if_match_is_a_412_and_changes_nothing(client: ApiClient, auth, method) -> None:
    etag = client.get(ALICE, headers=auth.alice).headers["etag"]
    client.patch(ALICE, json={"name": "Someone else's edit"}, headers=auth.admin)
    body = {"email": "alice@example.com", "name": "Mine", "role": "user", "status": "active"}
    if method == "PATCH":
        body = {"name": "Mine"}

    response = client.request(method, ALICE, json=body, headers={**auth.alice, "If-Match": etag})

    assert response.status_code == 412
    assert response.json()["code"] == "PRECONDITION_FAILED"
    assert client.get(ALICE, headers=auth.alice).json()["name"] == "Someone else's edit"


@pytest.mark.parametrize("if_match", ['"1"', '"7", "1"', "*"])
def test_a_current_if_match_lets_the_write_through(client: ApiClient, auth, if_match) -> None:
    response = client.patch(ALICE, json={"name": "Alice L."}, headers={**auth.alice, "If-Match": if_match})

    assert response.status_code == 200


@pytest.mark.parametrize("if_match", ['W/"1"', "1", '"one"'])
def test_weak_or_foreign_etags_never_match(client: ApiClient, auth, if_match) -> None:
    # If-Match uses the strong comparison (RFC 9110 §13.1.1).
    response = client.patch(ALICE, json={"name": "Alice L."}, headers={**auth.alice, "If-Match": if_match})

    assert response.status_code == 412


def test_without_if_match_the_write_is_unconditional(client: ApiClient, auth) -> None:
    assert client.patch(ALICE, json={"name": "Alice L."}, headers=auth.alice).status_code == 200


def test_two_writers_with_one_etag_one_wins(client: ApiClient, auth) -> None:
    etag = client.get(ALICE, headers=auth.alice).headers["etag"]

    def write(name: str) -> int:
        headers = {**auth.alice, "If-Match": etag}
        return client.patch(ALICE, json={"name": name}, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(write, [f"writer {n}" for n in range(6)]))

    assert statuses == [200] + [412] * 5


def test_the_same_key_and_body_replays_the_first_response(client: ApiClient, auth) -> None:
    headers = {**auth.alice, "Idempotency-Key": "order-1"}

    first = client.post(ORDERS, json=ORDER, headers=headers)
    second = client.post(ORDERS, json=ORDER, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert count(client, Order) == 2  # the demo order and this one
    assert count(client, OutboxEvent) == 1


def test_the_same_key_with_another_body_is_a_422(client: ApiClient, auth) -> None:
    headers = {**auth.alice, "Idempotency-Key": "order-1"}
    client.post(ORDERS, json=ORDER, headers=headers)

    response = client.post(ORDERS, json={**ORDER, "currency": "USD"}, headers=headers)

    assert response.status_code == 422
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert count(client, Order) == 2


def test_keys_belong_to_one_user(client: ApiClient, auth) -> None:
    client.post(ORDERS, json=ORDER, headers={**auth.alice, "Idempotency-Key": "k"})
    bobs = client.post(
        f"/api/users/{demo.BOB_ID}/orders",
        json=ORDER,
        headers={**auth.bob, "Idempotency-Key": "k"},
    )

    assert bobs.status_code == 201
    assert "idempotent-replayed" not in bobs.headers


def test_without_a_key_every_post_creates_an_order(client: ApiClient, auth) -> None:
    client.post(ORDERS, json=ORDER, headers=auth.alice)
    client.post(ORDERS, json=ORDER, headers=auth.alice)

    assert count(client, Order) == 3


def test_concurrent_requests_sharing_a_key_create_one_order(client: ApiClient, auth) -> None:
    headers = {**auth.alice, "Idempotency-Key": "burst"}

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: client.post(ORDERS, json=ORDER, headers=headers), range(10)))

    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert count(client, Order) == 2
    assert count(client, OutboxEvent) == 1


def test_placing_an_order_writes_its_event_in_the_same_transaction(client: ApiClient, auth) -> None:
    order = client.post(ORDERS, json=ORDER, headers=auth.alice).json()

    with client.app.state.context.session_factory() as session:
        event = session.scalars(select(OutboxEvent)).one()
    assert event.event_type == "order.placed"
    assert event.status == "pending"
    assert f'"order_id":"{order["id"]}"' in event.payload
    assert '"total":"19.80"' in event.payload


def test_a_key_is_forgotten_after_its_retention(build_client, auth, clock) -> None:
    client = build_client(idempotency_key_ttl_hours=24)
    first = client.post(ORDERS, json=ORDER, headers={**auth.alice, "Idempotency-Key": "daily"})
    clock.advance(hours=24, seconds=1)

    again = client.post(
        ORDERS,
        json={**ORDER, "currency": "USD"},
        # A fresh token: the first one expired during the day.
        headers={**auth.alice, "Idempotency-Key": "daily"},
    )

    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
