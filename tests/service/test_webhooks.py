"""order.placed webhooks: signed, delivered from the outbox to a real HTTP receiver on
127.0.0.1, retried with backoff, given up after the last attempt."""

import hmac
import json
import time

from sqlalchemy import select

from reference_api import demo_data as demo
from reference_api.models import OutboxEvent
from reference_api.webhooks import RetryPolicy, WebhookDispatcher, sign, verify

from .support import ApiClient, Receiver

SECRET = "webhook-test-secret-0123456789abcdefghij"
ORDERS = f"/api/users/{demo.ALICE_ID}/orders"
ORDER = {"items": [{"sku": "MUG-001", "quantity": 1, "unit_price": "9.90"}]}


def dispatcher(client: ApiClient, receiver: Receiver, clock, **policy: float) -> WebhookDispatcher:
    context = client.app.state.context
    return WebhookDispatcher(
        session_factory=context.session_factory,
        clock=clock,
        url=receiver.url,
        secret=SECRET,
        timeout_seconds=policy.pop("timeout", 2.0),
        policy=RetryPolicy(max_attempts=int(policy.pop("max_attempts", 3)), base_seconds=10, max_seconds=60),
        rand=lambda: 0.5,
    )


def events(client: ApiClient) -> list[OutboxEvent]:
    with client.app.state.context.session_factory() as session:
        return list(session.scalars(select(OutboxEvent)))


def test_an_order_is_delivered_signed(client: ApiClient, auth, receiver, clock) -> None:
    order = client.post(ORDERS, json=ORDER, headers=auth.alice).json()
    sender = dispatcher(client, receiver, clock)

    assert sender.deliver_due() == 1
    sender.close()

    ((headers, body),) = receiver.received
    payload = json.loads(body)
    assert payload["type"] == "order.placed"
    assert payload["data"]["order_id"] == order["id"]
    assert payload["data"]["total"] == "9.90"
    assert headers["Webhook-Id"] == payload["id"]
    now = clock().timestamp()
    assert verify(SECRET, headers["Webhook-Signature"], body, now)
    forged = "another-secret-0123456789abcdefghijkl"
    assert not verify(forged, headers["Webhook-Signature"], body, now)
    assert not verify(SECRET, headers["Webhook-Signature"], body + b" ", now)
    assert not verify(SECRET, headers["Webhook-Signature"], body, now + 301)
    (event,) = events(client)
    assert (event.status, event.attempts, event.delivered_at) == ("delivered", 1, clock())


def test_the_signature_covers_timestamp_and_body() -> None:
    expected = hmac.new(b"k" * 32, b"1700000000.{}", "sha256").hexdigest()

    assert sign("k" * 32, 1700000000, b"{}") == f"t=1700000000,v1={expected}"


def test_failures_are_retried_with_growing_delays(client: ApiClient, auth, receiver, clock) -> None:
    receiver.plan = [(500, 0.0), (503, 0.0)]
    client.post(ORDERS, json=ORDER, headers=auth.alice)
    sender = dispatcher(client, receiver, clock, max_attempts=5)

    delays = []
    for _ in range(3):
        assert sender.deliver_due() == 1
        (event,) = events(client)
        if event.status == "pending":
            delays.append((event.next_attempt_at - clock()).total_seconds())
            assert sender.deliver_due() == 0  # not due yet
            clock.advance(seconds=delays[-1])
    sender.close()

    # base 10 s doubling, equal jitter at rand=0.5: 3/4 of 10, then of 20.
    assert delays == [7.5, 15.0]
    assert (event.status, event.attempts, event.last_error) == ("delivered", 3, None)
    assert len(receiver.received) == 3
    assert len({headers["Webhook-Id"] for headers, _ in receiver.received}) == 1


def test_after_the_last_attempt_the_event_is_given_up(client, auth, receiver, clock) -> None:
    receiver.plan = [(500, 0.0)] * 10
    client.post(ORDERS, json=ORDER, headers=auth.alice)
    sender = dispatcher(client, receiver, clock, max_attempts=2)

    sender.deliver_due()
    clock.advance(hours=1)
    sender.deliver_due()
    clock.advance(hours=1)
    attempted_after_giving_up = sender.deliver_due()
    sender.close()

    (event,) = events(client)
    assert (event.status, event.attempts, event.last_error) == ("failed", 2, "HTTP 500")
    assert attempted_after_giving_up == 0


def test_a_slow_receiver_times_out_and_counts_as_a_failure(client, auth, receiver, clock) -> None:
    receiver.plan = [(204, 1.5)]
    client.post(ORDERS, json=ORDER, headers=auth.alice)
    sender = dispatcher(client, receiver, clock, timeout=0.3)

    started = time.monotonic()
    sender.deliver_due()
    elapsed = time.monotonic() - started
    sender.close()

    (event,) = events(client)
    assert (event.status, event.last_error) == ("pending", "ReadTimeout")
    assert elapsed < 1.4


def test_an_unreachable_receiver_is_retried(client: ApiClient, auth, clock) -> None:
    client.post(ORDERS, json=ORDER, headers=auth.alice)
    closed = Receiver(url="http://127.0.0.1:9/hooks")  # discard port: nothing listens
    sender = dispatcher(client, closed, clock)

    sender.deliver_due()
    sender.close()

    (event,) = events(client)
    assert (event.status, event.attempts, event.last_error) == ("pending", 1, "ConnectError")


def test_the_running_service_delivers_in_the_background(build_client, auth, receiver) -> None:
    client = build_client(webhook_url=receiver.url, webhook_secret=SECRET, webhook_poll_seconds=0.05)

    client.post(ORDERS, json=ORDER, headers=auth.alice)

    assert receiver.wait_for(1)
    ((headers, body),) = receiver.received
    assert json.loads(body)["type"] == "order.placed"
