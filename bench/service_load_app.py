"""The served app plus one benchmark-only route; used by bench/service_load.py only.

``GET /bench/baseline`` answers with the exact bytes of a ``GET /api/users?limit=20``
response, captured in-process before the server starts (file named by
``BENCH_BASELINE_BODY``). It passes through the same uvicorn, the same middleware and
the same access log as the real endpoints, but touches no database and validates
nothing: the floor that the list endpoint is compared with. It is hidden from
``/openapi.json`` and exists only in this factory, never in the public API.
"""

import os
from pathlib import Path

from fastapi import FastAPI, Response

from reference_api.app import create_served_app

BASELINE_PATH = "/bench/baseline"


def add_baseline(app: FastAPI, body: bytes) -> None:
    async def baseline() -> Response:
        return Response(body, media_type="application/json")

    app.add_api_route(BASELINE_PATH, baseline, methods=["GET"], include_in_schema=False)


def create() -> FastAPI:
    app = create_served_app()
    add_baseline(app, Path(os.environ["BENCH_BASELINE_BODY"]).read_bytes())
    return app
