"""Signed webhooks, delivered from the transactional outbox.

Orders write an ``order.placed`` event in their own transaction
(:func:`reference_api.services._order_placed_event`); this module sends pending
events to ``WEBHOOK_URL``. Each request is signed with HMAC-SHA256 over
``"{timestamp}." + body``, so a receiver can check both who sent it and that it is
fresh (a replayed capture carries an old timestamp). Delivery is at least once: a
receiver deduplicates on ``Webhook-Id``.
"""

import hashlib
import hmac
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from reference_api.clock import Clock
from reference_api.models import OutboxEvent, OutboxStatus
from reference_api.repositories import OutboxRepository

SIGNATURE_HEADER = "Webhook-Signature"
ID_HEADER = "Webhook-Id"
# Receivers should refuse signatures older than this, which bounds replay.
DEFAULT_TOLERANCE_SECONDS = 300

log = logging.getLogger("reference_api.webhooks")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Webhook-Signature`` value: ``t=<unix seconds>,v1=<hex HMAC-SHA256>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver runs: the signature matches and the timestamp is recent."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        supplied = fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    # Constant-time comparison: timing must not reveal how much of a forgery matched.
    return hmac.compare_digest(expected, supplied)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float

    def delay(self, attempts: int, rand: Callable[[], float]) -> float:
        """Exponential backoff with "equal jitter": half the step fixed, half random.

        Doubling spaces out retries to a struggling receiver; the random half keeps
        events that failed together (a receiver outage) from retrying in lockstep.
        """
        step = min(self.max_seconds, self.base_seconds * 2 ** (attempts - 1))
        return step / 2 + rand() * step / 2


class WebhookDispatcher:
    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        clock: Clock,
        url: str,
        secret: str,
        timeout_seconds: float,
        policy: RetryPolicy,
        rand: Callable[[], float] = random.random,
        batch_size: int = 20,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._url = url
        self._secret = secret
        self._policy = policy
        self._rand = rand
        self._batch_size = batch_size
        # No redirects: a receiver must not be able to bounce signed events elsewhere.
        self._http = httpx.Client(timeout=timeout_seconds, follow_redirects=False)

    def deliver_due(self) -> int:
        """Attempt every event whose time has come; return how many were attempted.

        The claimed rows stay locked until the attempts are recorded, so a second
        worker skips them instead of sending them again; the HTTP timeout bounds how
        long that is.
        """
        with self._session_factory() as session:
            events = OutboxRepository(session).claim_due(self._clock(), self._batch_size)
            for event in events:
                self._attempt(event)
            session.commit()
        return len(events)

    def _attempt(self, event: OutboxEvent) -> None:
        now = self._clock()
        body = event.payload.encode()
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: str(event.id),
            SIGNATURE_HEADER: sign(self._secret, int(now.timestamp()), body),
        }
        event.attempts += 1
        try:
            response = self._http.post(self._url, content=body, headers=headers)
            error = None if response.is_success else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            # The class name only: exception text can hold the URL and its credentials.
            error = type(exc).__name__
        if error is None:
            event.status = OutboxStatus.delivered
            event.delivered_at = now
            event.last_error = None
        elif event.attempts >= self._policy.max_attempts:
            event.status = OutboxStatus.failed
            event.last_error = error
            log.warning("webhook given up after %d attempts: %s", event.attempts, error)
        else:
            event.last_error = error
            delay = self._policy.delay(event.attempts, self._rand)
            event.next_attempt_at = now + timedelta(seconds=delay)

    def run(self, stop: threading.Event, poll_seconds: float) -> None:
        """Deliver until ``stop`` is set; for a background thread."""
        while not stop.is_set():
            try:
                attempted = self.deliver_due()
            except Exception:
                # A database hiccup must not kill the worker: log, wait, try again.
                log.exception("webhook delivery round failed")
                attempted = 0
            if attempted == 0:
                stop.wait(poll_seconds)

    def close(self) -> None:
        self._http.close()
