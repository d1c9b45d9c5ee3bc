"""The OpenAPI document: generation, and the committed ``api-examples/openapi.json``."""

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from reference_api.errors import Problem

DEFAULT_SPEC_PATH = Path("api-examples/openapi.json")
REGENERATE_COMMAND = "python -m reference_api export-openapi"


def add_problem_schema(spec: dict[str, Any]) -> None:
    """Add the ``Problem`` schema that every error response refers to.

    Error responses are declared as raw ``application/problem+json`` content, which
    FastAPI does not trace back to a model, so it would not emit the schema itself.
    """
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(problem.pop("$defs"))
    schemas["Problem"] = problem


def render_openapi(app: FastAPI) -> str:
    """Serialise deterministically so the committed file only changes with the API."""
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_openapi(app: FastAPI, path: Path) -> None:
    path.write_text(render_openapi(app), encoding="utf-8")


def is_current(app: FastAPI, path: Path) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8") == render_openapi(app)
