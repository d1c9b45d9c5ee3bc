"""JSON responses serialised once, by pydantic's core.

When a sync endpoint returns a model, FastAPI validates it again against
``response_model`` (in one more thread-pool round trip) and only then serialises it.
The endpoints build their response models from validated input and database rows
already, so the busy ones hand back the bytes themselves; ``response_model=`` on the
route still documents the schema in OpenAPI. Measured in bench/service_load.py.
"""

from collections.abc import Mapping

from fastapi import Response
from pydantic import BaseModel


def json_response(model: BaseModel, *, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        headers=dict(headers) if headers else None,
        media_type="application/json",
    )
