"""Test plumbing for the reference service: an HTTP client and a throwaway PostgreSQL."""

import csv
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
from fastapi import FastAPI
from filelock import FileLock
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from reference_api import demo_data as demo
from reference_api.settings import Settings


class ApiClient:
    """A synchronous HTTP client that talks to the app in-process through ASGI.

    Starlette's TestClient now warns unless the separate ``httpx2`` package is
    installed; this does the same job with httpx's own ASGI transport, running the
    app's lifespan like a real server would.
    """

    def __init__(self, app: FastAPI, *, client_ip: str = "203.0.113.7") -> None:
        self.app = app
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        self._stack.enter_context(self._portal.wrap_async_context_manager(app.router.lifespan_context(app)))
        transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            return await self._client.request(method, url, **kwargs)

        return self._portal.call(send)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("OPTIONS", url, **kwargs)

    def close(self) -> None:
        self._portal.call(self._client.aclose)
        self._stack.close()


class IsolatedSettings(Settings):
    """Settings built from arguments and defaults only, so variables exported on a
    developer's machine (DATABASE_URL, LOG_LEVEL...) cannot change what tests see."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        *other_sources: PydanticBaseSettingsSource,
        **named_sources: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


# The service has no default signing key; tests name theirs.
TEST_JWT_SECRET = "test-only-jwt-secret-0123456789abcdefghijklmnop"


def access_claims(settings: Settings, **overrides: object) -> dict[str, object]:
    """The claims of a valid access token for Alice, as the service issues them, with overrides."""
    now = int(demo.DEMO_NOW.timestamp())
    return {
        "sub": str(demo.ALICE_ID),
        "role": "user",
        "iat": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex,
        "type": "access",
        **overrides,
    }


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "jwt_secret": TEST_JWT_SECRET,
        "cors_origins": ["https://app.example.com"],
    }
    values.update(overrides)
    return IsolatedSettings(**values)


def find_postgres_bin_dir() -> Path | None:
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class TemporaryPostgres:
    """A private PostgreSQL cluster in a temp dir, trust auth, loopback only."""

    bin_dir: Path
    root: Path
    port: int

    @classmethod
    def start(cls, bin_dir: Path) -> "TemporaryPostgres":
        root = Path(tempfile.mkdtemp(prefix="agentkb-pg-"))
        server = cls(bin_dir=bin_dir, root=root, port=_free_loopback_port())
        if os.geteuid() == 0:
            # initdb refuses to run as root, so the cluster belongs to `postgres`.
            shutil.chown(root, user="postgres", group="postgres")
        data_dir = str(root / "db")
        server._run(
            "initdb",
            "-D",
            data_dir,
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        # A free port can be taken between the probe and the server's bind (by a cluster of
        # another pytest-xdist worker, say): then start again on another.
        for attempt in range(3):
            # fsync=off: the cluster is thrown away after the run, durability buys nothing.
            options = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
            try:
                server._run("pg_ctl", "-D", data_dir, "-l", str(root / "server.log"), "-w", "-o", options, "start")
                return server
            except RuntimeError:
                log = root / "server.log"
                if attempt == 2 or not log.exists() or "could not bind" not in log.read_text(errors="replace"):
                    raise
                server.port = _free_loopback_port()
        raise AssertionError("unreachable")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "db"), "-w", "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.root)
        if result.returncode != 0:
            log = self.root / "server.log"
            raise RuntimeError(
                f"{program} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n"
                + (log.read_text() if log.exists() else "")
            )


# The "Security and reliability" page (api-examples/reliability.md) renders this file.
# The tests that measure something write their row into it when AGENTKB_RECORD_RESULTS=1
# is set, so that an ordinary test run leaves the source tree as it found it; the tests
# assert their claims either way.
RESULTS_FILE = Path(__file__).resolve().parents[2] / "api-examples" / "reliability-results.csv"
RESULT_COLUMNS = ("check", "claim", "measured")


def record_result(check: str, claim: str, measured: str) -> None:
    """Replace the row for ``check`` (rows stay sorted, so reruns diff cleanly)."""
    if os.environ.get("AGENTKB_RECORD_RESULTS") != "1":
        return
    # pytest-xdist workers record at the same time: one reads and rewrites the file at once.
    with FileLock(f"{tempfile.gettempdir()}/agentkb-reliability-results.lock"):
        rows: dict[str, tuple[str, str, str]] = {}
        if RESULTS_FILE.exists():
            with RESULTS_FILE.open(newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                next(reader, None)
                rows = {row[0]: (row[0], row[1], row[2]) for row in reader if row}
        rows[check] = (check, claim, measured)
        with RESULTS_FILE.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(RESULT_COLUMNS)
            writer.writerows(rows[key] for key in sorted(rows))


@dataclass
class Receiver:
    """A real HTTP server for webhooks on 127.0.0.1: answers with the planned (status, delay)
    pairs in turn, then 204, and records every request (headers, case-insensitive) as it arrives."""

    url: str = ""
    plan: list[tuple[int, float]] = field(default_factory=list)
    received: list[tuple[httpx.Headers, bytes]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout)


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status, delay = state.plan.pop(0) if state.plan else (204, 0.0)
            with state.arrived:
                state.received.append((httpx.Headers(list(self.headers.items())), body))
                state.arrived.notify_all()
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender timed out and hung up

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
