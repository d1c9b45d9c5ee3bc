"""The committed OpenAPI document is current, valid and fully documented."""

from pathlib import Path

import pytest
from openapi_spec_validator import validate

from reference_api.app import create_app
from reference_api.openapi import REGENERATE_COMMAND, render_openapi

from .support import make_settings

COMMITTED = Path(__file__).resolve().parents[2] / "api-examples" / "openapi.json"
TAGS = {"users", "orders", "auth", "health"}


@pytest.fixture(scope="module")
def app():
    return create_app(make_settings("sqlite://"))


@pytest.fixture(scope="module")
def spec(app) -> dict:
    return app.openapi()


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_committed_spec_matches_the_code(app) -> None:
    current = render_openapi(app)

    assert COMMITTED.read_text(encoding="utf-8") == current, (
        f"{COMMITTED} is out of date; regenerate it from the repository root with: {REGENERATE_COMMAND}"
    )


def test_spec_is_valid_openapi(spec: dict) -> None:
    validate(spec)


def test_every_operation_has_summary_description_and_a_known_tag(spec: dict) -> None:
    for name, operation in operations(spec):
        assert operation.get("summary"), name
        assert operation.get("description"), name
        assert operation.get("tags") and set(operation["tags"]) <= TAGS, name


def test_every_request_has_an_example(spec: dict) -> None:
    for name, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            assert parameter.get("examples"), f"{name}: parameter {parameter['name']}"
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            assert "example" in content or "examples" in content, f"{name}: {media_type}"


def test_every_response_with_a_body_has_an_example(spec: dict) -> None:
    for name, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status == "204":
                assert "content" not in response, name
                continue
            for media_type, content in response["content"].items():
                assert "example" in content, f"{name} {status} {media_type}"


def test_error_responses_are_documented_as_problem_details(spec: dict) -> None:
    for name, operation in operations(spec):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            assert list(response["content"]) == ["application/problem+json"], f"{name} {status}"
            content = response["content"]["application/problem+json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
            assert content["example"]["status"] == int(status), f"{name} {status}"


def test_every_json_body_operation_documents_the_malformed_json_400(spec: dict) -> None:
    for name, operation in operations(spec):
        if "application/json" not in operation.get("requestBody", {}).get("content", {}):
            continue
        assert "400" in operation["responses"], name
        example = operation["responses"]["400"]["content"]["application/problem+json"]["example"]
        assert example["code"] == "BAD_REQUEST", name


def test_the_framework_default_validation_schema_is_not_advertised(spec: dict) -> None:
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_bearer_jwt_is_the_security_scheme(spec: dict) -> None:
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]

    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
