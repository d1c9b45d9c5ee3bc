"""Exercises a sidecar names (``exercise = "<function>"``): after a sample has run,
use what it defined, for real. A sample that only defines classes and routes has
not shown that they work until something calls them.

Each receives the sample's namespace.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError


def custom_exception_handlers(ns: dict[str, Any]) -> None:
    """The handlers answer a CustomException with its status, anything else with a bare 500."""
    app, custom_exception = ns["app"], ns["CustomException"]

    @app.get("/teapot")
    async def teapot() -> None:
        raise custom_exception("short and stout", 418)

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("database password is hunter2")

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"error": "short and stout", "path": "/teapot"}
    response = client.get("/crash")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error"}


def run_test_functions(ns: dict[str, Any]) -> None:
    """Call every ``test_*`` function the sample defines."""
    tests = [value for name, value in ns.items() if name.startswith("test_") and callable(value)]
    assert tests, "the sample defines no test_* function"
    for test in tests:
        test()


def main_app(ns: dict[str, Any]) -> None:
    """Lifespan (which disposes of the engine), health check, CORS, and the router's prefix."""
    from src.core.config import settings

    origin = settings.CORS_ORIGINS[0]
    with TestClient(ns["app"]) as client:
        assert client.get("/health").json() == {"status": "ok"}
        preflight = client.options("/health", headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
        assert preflight.headers["access-control-allow-origin"] == origin
        asyncio.run(_create_tables())
        response = client.get("/api/users")
        assert response.status_code == 200, response.text
        assert response.json() == []


async def _create_tables() -> None:
    import src.models.user  # noqa: F401  (registers the users table on Base)
    from src.core.database import Base, engine

    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


def user_service_crud(ns: dict[str, Any]) -> None:
    """Create, fetch, search, update and delete users through the sample's UserService."""
    from src.core.database import SessionLocal, engine
    from src.core.exceptions import ConflictError, NotFoundError
    from src.core.security import verify_password
    from src.schemas.user import UserCreate, UserFilters, UserUpdate

    service_class = ns["UserService"]

    async def scenario() -> None:
        await _create_tables()
        async with SessionLocal() as db:
            service = service_class(db)
            ada = await service.create(
                UserCreate(email="ada@example.com", name="Ada Lovelace", password="analytical engine")
            )
            await service.create(UserCreate(email="alan@example.com", name="Alan Turing", password="universal machine"))
            fetched = await service.get_by_id(ada.id)
            assert fetched.email == "ada@example.com"
            assert verify_password("analytical engine", fetched.password_hash)

            users, total = await service.get_all(UserFilters(search="lovelace"))
            assert total == 1 and [u.name for u in users] == ["Ada Lovelace"]
            users, total = await service.get_all(UserFilters(limit=1))
            assert total == 2 and len(users) == 1

            with pytest.raises(ConflictError):
                await service.create(
                    UserCreate(email="ada@example.com", name="Ada again", password="analytical engine")
                )

            updated = await service.update(ada.id, UserUpdate(status="inactive"))
            assert (updated.status, updated.name) == ("inactive", "Ada Lovelace")
            users, total = await service.get_all(UserFilters(status="inactive"))
            assert [u.id for u in users] == [ada.id]

            await service.delete(ada.id)
            with pytest.raises(NotFoundError):
                await service.get_by_id(ada.id)
        await engine.dispose()

    asyncio.run(scenario())


def pydantic_schemas(ns: dict[str, Any]) -> None:
    """The schemas validate input, read ORM objects, and the generic page holds them."""
    with pytest.raises(ValidationError):
        ns["UserCreate"](email="not an email", name="Ada", password="long enough")
    with pytest.raises(ValidationError):
        ns["UserCreate"](email="ada@example.com", name="Ada", password="short")
    with pytest.raises(ValidationError):
        ns["UserFilters"](limit=101)
    now = datetime.now(UTC)
    row = SimpleNamespace(id="1", email="ada@example.com", name="Ada", status="active", created_at=now, updated_at=now)
    user = ns["UserResponse"].model_validate(row)
    page = ns["PaginatedResponse"][ns["UserResponse"]](data=[user], meta={"total": 1})
    assert page.model_dump()["data"][0]["email"] == "ada@example.com"


def create_user_model(ns: dict[str, Any]) -> None:
    """Store a user through the sample's model."""
    from src.core.database import Base, SessionLocal, engine

    user_class = ns["User"]

    async def scenario() -> None:
        try:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            async with SessionLocal() as db:
                db.add(user_class(email="ada@example.com", name="Ada", password_hash="x"))
                await db.commit()
        finally:
            await engine.dispose()

    asyncio.run(scenario())


def async_client_fixture(ns: dict[str, Any]) -> None:
    """Drive the sample's ``client`` fixture the way an async pytest plugin would."""
    from src.core.database import SessionLocal, engine

    fixture = ns["client"].__wrapped__  # the function under @pytest.fixture

    async def scenario() -> None:
        try:
            async with SessionLocal() as db_session:
                clients = fixture(db_session)
                await anext(clients)
                await clients.aclose()
        finally:
            await engine.dispose()

    asyncio.run(scenario())
