"""Fixtures for the reference service: every test runs against a migrated database
holding only the demo data, once on SQLite and once on PostgreSQL.

PostgreSQL comes from ``TEST_DATABASE_URL`` when set (a server where the URL's user
may create databases), otherwise from a throwaway cluster started with the local
``initdb``/``pg_ctl``. Without either, PostgreSQL tests are skipped, except under CI
(``CI`` set), where a missing backend must fail the run rather than hide.
"""

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from reference_api import demo_data as demo
from reference_api.app import create_app
from reference_api.clock import ManualClock
from reference_api.db import migrate
from reference_api.models import Base, Role
from reference_api.security import AccessTokenCodec, Passwords
from reference_api.settings import Settings

from .support import (
    ApiClient,
    Receiver,
    TemporaryPostgres,
    find_postgres_bin_dir,
    make_settings,
    webhook_receiver,
)

BACKENDS = ["sqlite", "postgresql"]


@dataclass
class PostgresBackend:
    """One migrated database shared by the tests and emptied before each of them.

    TRUNCATE costs milliseconds where creating a database per test costs a tenth of a
    second; tests that need a database of their own ask for ``empty_database_url``.
    """

    admin_url: str
    shared: str = "agentkb_test"

    def url_for(self, database: str) -> str:
        url = make_url(self.admin_url).set(database=database)
        return url.render_as_string(hide_password=False)

    def execute(self, statement: str, database: str | None = None) -> None:
        url = self.url_for(database) if database else self.admin_url
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def create_database(self, name: str | None = None) -> str:
        name = name or f"agentkb_test_{uuid.uuid4().hex[:12]}"
        self.drop_database(name)
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def prepare_shared(self) -> None:
        migrate(self.url_for(self.create_database(self.shared)))

    def empty_shared(self) -> str:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        self.execute(f"TRUNCATE {tables}", database=self.shared)
        return self.url_for(self.shared)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresBackend]:
    # Under pytest-xdist each worker has its own shared database (and, without
    # TEST_DATABASE_URL, its own cluster, port and socket folder).
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    shared = f"agentkb_test_{worker}" if worker else "agentkb_test"
    existing = os.environ.get("TEST_DATABASE_URL")
    if existing:
        backend = PostgresBackend(admin_url=existing, shared=shared)
        backend.prepare_shared()
        yield backend
        backend.drop_database(backend.shared)
        return
    bin_dir = find_postgres_bin_dir()
    if bin_dir is None:
        reason = "PostgreSQL not available: no initdb on PATH or in /usr/lib/postgresql/*/bin"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI must test both backends", pytrace=False)
        pytest.skip(f"{reason} (set TEST_DATABASE_URL to use an existing server)")
    server = TemporaryPostgres.start(bin_dir)
    try:
        backend = PostgresBackend(admin_url=server.url, shared=shared)
        backend.prepare_shared()
        yield backend
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of the current backend with no rows in it."""
    if backend == "sqlite":
        path = tmp_path / "service.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    postgres: PostgresBackend = request.getfixturevalue("postgres")
    return postgres.empty_shared()


@pytest.fixture
def empty_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the current backend without any tables: not even migrated."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    postgres: PostgresBackend = request.getfixturevalue("postgres")
    name = postgres.create_database()
    yield postgres.url_for(name)
    postgres.drop_database(name)


@pytest.fixture(scope="session")
def demo_password_hash() -> str:
    # Argon2 at production cost is deliberately slow; hash the demo password once
    # per run instead of once per seeded database.
    return Passwords(make_settings("sqlite://")).hash(demo.DEMO_PASSWORD)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(demo.DEMO_NOW)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


ClientFactory = Callable[..., ApiClient]


@pytest.fixture
def build_client(database_url: str, clock: ManualClock, demo_password_hash: str) -> Iterator[ClientFactory]:
    """Build clients for apps with custom settings, sharing the seeded test database."""
    clients: list[ApiClient] = []

    def build(**setting_overrides: object) -> ApiClient:
        app = create_app(make_settings(database_url, **setting_overrides), clock=clock)
        if not clients:
            context = app.state.context
            with context.session_factory() as session:
                demo.seed(session, context.passwords, password_hash=demo_password_hash)
        clients.append(ApiClient(app))
        return clients[-1]

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def client(build_client: ClientFactory) -> ApiClient:
    """A client for an app with default settings over the demo dataset."""
    return build_client()


class AuthHeaders:
    """Bearer headers for the demo users, minted directly: no Argon2 per test."""

    def __init__(self, codec: AccessTokenCodec, clock: ManualClock) -> None:
        self._codec = codec
        self._clock = clock

    def bearer(self, user_id: uuid.UUID, role: Role = Role.user) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._codec.issue(user_id, role, self._clock())}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.bearer(demo.ADMIN_ID, Role.admin)

    @property
    def alice(self) -> dict[str, str]:
        return self.bearer(demo.ALICE_ID)

    @property
    def bob(self) -> dict[str, str]:
        return self.bearer(demo.BOB_ID)


@pytest.fixture
def auth(settings: Settings, clock: ManualClock) -> AuthHeaders:
    return AuthHeaders(AccessTokenCodec(settings), clock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 (see support.Receiver)."""
    with webhook_receiver() as state:
        yield state
