"""The real server: `python -m reference_api --workers 2` on PostgreSQL, over loopback.

Holds that only show with several processes (budgets shared across workers, 50
simultaneous sign-ups), what a SIGKILL mid-load leaves behind, and that the server's
own log output, at DEBUG, holds no password and no token.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from reference_api.models import Order, OutboxEvent, User

from .support import TEST_JWT_SECRET, record_result

PASSWORD = "correct-horse-battery-staple"
SECRETS_SEEN: list[str] = [PASSWORD]
LOG_LINES_SEARCHED: list[int] = []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    database_url: str
    log: Path

    def client(self) -> httpx.Client:
        # No keep-alive: every request opens a connection, so the kernel spreads them
        # over both worker processes instead of pinning one.
        return httpx.Client(base_url=self.url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0))

    def kill(self) -> None:
        # The whole process group: the supervisor and both workers, no clean-up.
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def _start(database_url: str, log: Path, **env: str) -> Server:
    port = _free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"AGENTKB_DEV", "JWT_SECRET", "DATABASE_URL", "ENVIRONMENT"}
    }
    environment.update(
        DATABASE_URL=database_url,
        JWT_SECRET=TEST_JWT_SECRET,
        ENVIRONMENT="test",
        LOG_LEVEL="DEBUG",
        **env,
    )
    start = log.stat().st_size if log.exists() else 0  # a test may start a second server on the same log
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "reference_api", "--port", str(port), "--workers", "2"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", database_url, log)
    # Ready when both workers have answered the probe: the first can answer while the other
    # still starts, and on a busy machine every request of a test could then go to one.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()}")
        try:
            httpx.get(f"{server.url}/api/health/ready", timeout=1)
        except httpx.TransportError:
            pass
        if len(_worker_pids_that_served(log, "/api/health/ready", start)) == 2:
            return server
        time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"both workers did not become ready:\n{log.read_text()}")


@pytest.fixture
def serve(postgres, tmp_path: Path) -> Iterator:
    started: list[tuple[Server, str]] = []

    def start(**env: str) -> Server:
        name = postgres.create_database()
        server = _start(postgres.url_for(name), tmp_path / "server.log", **env)
        started.append((server, name))
        return server

    yield start
    for server, name in started:
        if server.process.poll() is None:
            server.kill()
        postgres.drop_database(name)
        LOG_LINES_SEARCHED.append(_assert_no_secrets_in(server.log))
    record_result(
        "no secrets in logs",
        "server logs at DEBUG hold no password and no token",
        f"{sum(LOG_LINES_SEARCHED)} log lines from the worker-process tests, searched for "
        "the password and "
        f"{len(SECRETS_SEEN) - 1} issued tokens: 0 found",
    )


def _assert_no_secrets_in(log: Path) -> int:
    text = log.read_text(errors="replace")
    assert "request completed" in text, "the server logged nothing"
    leaked = [secret for secret in SECRETS_SEEN if secret in text]
    assert not leaked, f"{len(leaked)} secrets in the server log"
    return text.count("\n")


def _sign_up_and_log_in(client: httpx.Client, email: str) -> dict[str, str]:
    client.post("/api/users", json={"email": email, "name": "Load", "password": PASSWORD})
    tokens = client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()
    SECRETS_SEEN.extend([tokens["access_token"], tokens["refresh_token"]])
    return tokens


def _scalar(database_url: str, statement) -> object:
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            return session.scalar(statement)
    finally:
        engine.dispose()


def _worker_pids_that_served(log: Path, path: str, start: int = 0) -> set[int]:
    """The process IDs in the access-log lines for ``path`` (from byte ``start`` of the log)."""
    pids = set()
    with log.open("rb") as fh:
        fh.seek(start)
        text = fh.read().decode(errors="replace")
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "request completed" and entry.get("path") == path:
            pids.add(entry["pid"])
    return pids


def test_the_failed_login_budget_holds_across_two_workers(serve) -> None:
    server = serve(LOGIN_FAILURES_PER_ACCOUNT="5")
    with server.client() as client:
        _sign_up_and_log_in(client, "target@example.com")
        wrong = {"email": "target@example.com", "password": "not-the-password"}
        logins = [client.post("/api/auth/login", json=wrong) for _ in range(12)]

    statuses = [response.status_code for response in logins]
    assert statuses == [401] * 5 + [429] * 7
    assert all("failed sign-ins" in r.json()["detail"] for r in logins if r.status_code == 429)
    pids = _worker_pids_that_served(server.log, "/api/auth/login")
    assert len(pids) == 2, "every sign-in went to one worker; the test proves nothing"
    record_result(
        "login throttle across workers",
        "5 failed sign-ins per account, shared by every worker process",
        "2 uvicorn workers on PostgreSQL, 12 wrong passwords on fresh connections: "
        f"{statuses.count(401)} x 401 then {statuses.count(429)} x 429",
    )


def test_the_request_budget_holds_across_two_workers(serve) -> None:
    # 30 per hour refills one request every 2 minutes: none comes back during the test.
    server = serve(RATE_LIMIT_REQUESTS="30", RATE_LIMIT_WINDOW_SECONDS="3600")
    with server.client() as client:
        responses = [client.get("/api/users/me") for _ in range(40)]
        # The probes are exempt: an exhausted budget must not fail readiness.
        ready = client.get("/api/health/ready").status_code

    statuses = [response.status_code for response in responses]
    assert statuses == [401] * 30 + [429] * 10
    refused = responses[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) > 0
    assert ready == 200
    pids = _worker_pids_that_served(server.log, "/api/users/me")
    assert len(pids) == 2, "every request went to one worker; the test proves nothing"
    record_result(
        "request budget across workers",
        "30 requests per address, shared by every worker process",
        "2 uvicorn workers on PostgreSQL, 40 requests from one address on fresh connections: "
        f"{statuses.count(401)} allowed, {statuses.count(429)} x 429",
    )


def test_the_real_server_refuses_an_oversized_chunked_body(serve) -> None:
    server = serve(MAX_BODY_BYTES="65536")

    def chunks() -> Iterator[bytes]:
        yield b'{"email": "x@example.com", "name": "'
        for _ in range(64):
            yield b"x" * 4096
        yield b'", "password": "correct-horse-battery-staple"}'

    with server.client() as client:
        response = client.post("/api/users", content=chunks(), headers={"Content-Type": "application/json"})

    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert response.json()["code"] == "CONTENT_TOO_LARGE"


def test_fifty_simultaneous_sign_ups_with_one_email_make_one_account(serve) -> None:
    server = serve()
    body = {"email": "race@example.com", "name": "Race", "password": PASSWORD}
    barrier = threading.Barrier(50)

    def sign_up(_: int) -> int:
        with server.client() as client:
            barrier.wait()
            return client.post("/api/users", json=body).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(sign_up, range(50)))

    rows = _scalar(
        server.database_url,
        select(func.count()).select_from(User).where(User.email == "race@example.com"),
    )
    assert sorted(statuses) == [201] + [409] * 49
    assert rows == 1
    record_result(
        "concurrent sign-ups",
        "50 simultaneous sign-ups with one email: one account",
        f"2 workers on PostgreSQL: {statuses.count(201)} x 201, {statuses.count(409)} x 409, {rows} row",
    )


def test_one_idempotency_key_sent_twenty_times_at_once_makes_one_order(serve) -> None:
    server = serve()
    with server.client() as client:
        tokens = _sign_up_and_log_in(client, "retrier@example.com")
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        user_id = client.get("/api/users/me", headers=headers).json()["id"]
    headers["Idempotency-Key"] = str(uuid.uuid4())
    order = {"items": [{"sku": "MUG-001", "quantity": 1, "unit_price": "9.90"}]}
    barrier = threading.Barrier(20)

    def place(_: int) -> tuple[int, str]:
        with server.client() as client:
            barrier.wait()
            response = client.post(f"/api/users/{user_id}/orders", json=order, headers=headers)
            return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(place, range(20)))

    orders = _scalar(server.database_url, select(func.count()).select_from(Order))
    events = _scalar(server.database_url, select(func.count()).select_from(OutboxEvent))
    assert {status for status, _ in results} == {201}
    assert len({order_id for _, order_id in results}) == 1
    assert (orders, events) == (1, 1)
    record_result(
        "concurrent idempotent retries",
        "20 simultaneous POSTs with one Idempotency-Key: one order",
        f"2 workers on PostgreSQL: 20 x 201 with one order id, {orders} order, {events} event",
    )


def test_sigkill_mid_load_loses_no_committed_order_or_event(serve) -> None:
    server = serve()
    with server.client() as client:
        tokens = _sign_up_and_log_in(client, "buyer@example.com")
        me = client.get("/api/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    order = {"items": [{"sku": "MUG-001", "quantity": 1, "unit_price": "9.90"}]}
    acknowledged: list[str] = []
    cut_off: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with server.client() as client:
            while not stop.is_set():
                key = str(uuid.uuid4())
                try:
                    response = client.post(
                        f"/api/users/{me['id']}/orders",
                        json=order,
                        headers={**headers, "Idempotency-Key": key},
                    )
                except httpx.TransportError:
                    cut_off.append(key)
                    return
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 40:
        time.sleep(0.01)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    engine = create_engine(server.database_url)
    try:
        with Session(engine) as session:
            stored = {str(order_id) for order_id in session.scalars(select(Order.id))}
            payloads = list(session.scalars(select(OutboxEvent.payload)))
    finally:
        engine.dispose()
    with_event = {order_id for order_id in stored if any(order_id in p for p in payloads)}
    lost = set(acknowledged) - stored
    assert not lost
    assert with_event == stored and len(payloads) == len(stored)
    record_result(
        "SIGKILL mid-load",
        "killing the server loses no acknowledged order and no outbox event",
        f"2 workers on PostgreSQL, 8 clients: {len(acknowledged)} orders acknowledged, "
        f"{len(cut_off)} requests cut off, {len(stored)} orders and {len(payloads)} events "
        f"stored, {len(lost)} lost",
    )
