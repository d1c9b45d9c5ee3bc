"""Schemathesis generates requests from the committed OpenAPI document and checks
every response against it: no 5xx, only documented status codes, content types,
headers and bodies. Bounded: a fixed number of examples per operation."""

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from reference_api import demo_data as demo
from reference_api.app import create_app
from reference_api.clock import system_clock
from reference_api.db import migrate
from reference_api.models import Role
from reference_api.security import AccessTokenCodec

from .support import make_settings, record_result

EXAMPLES_PER_OPERATION = 200
MINIMUM_CASES = 2000
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
# Filled by the test, read when the module's fixture tears down.
CASES: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()
FAILED: Counter[str] = Counter()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, dict[str, str]]]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    migrate(database_url)
    # Budgets off: thousands of requests from one client are the point here.
    settings_ = make_settings(
        database_url,
        rate_limit_enabled=False,
        login_failures_per_account=1_000_000,
        login_failures_per_ip=1_000_000,
    )
    app = create_app(settings_)
    with app.state.context.session_factory() as session:
        demo.seed(session, app.state.context.passwords)
    # The app runs on the system clock, so the token is minted with it too.
    admin = AccessTokenCodec(settings_).issue(demo.ADMIN_ID, Role.admin, system_clock())
    started = time.monotonic()
    yield app, {"Authorization": f"Bearer {admin}"}
    total = sum(CASES.values())
    record_result(
        "schemathesis",
        f"at least {MINIMUM_CASES} generated requests against openapi.json: no 5xx, every response as documented",
        f"{total} cases over {len(CASES)} operations in {time.monotonic() - started:.0f} s; "
        f"{sum(FAILED.values())} responses failed a check (5xx or not as documented); "
        f"statuses seen: {', '.join(str(status) for status in sorted(STATUSES))}",
    )


SPEC = json.loads((Path(__file__).resolve().parents[2] / "api-examples" / "openapi.json").read_text())
OPERATIONS = [(method.upper(), path) for path in SPEC["paths"] for method in SPEC["paths"][path]]


@pytest.fixture(scope="module")
def api_schema(fuzzed):
    app, _ = fuzzed
    return schemathesis.openapi.from_asgi("/openapi.json", app)


# Schemathesis's own pytest plugin relies on pytest internals that moved; Hypothesis
# drives its strategies directly instead, one test per operation.
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_response_matches_the_spec(method: str, path: str, api_schema, fuzzed) -> None:
    _, admin = fuzzed
    operation = api_schema[path][method]
    label = f"{method} {path}"
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        # Half the cases as the admin, so they get past authentication; the rest with
        # whatever the generator sends.
        headers = admin if CASES[label] % 2 == 0 else None
        CASES[label] += 1
        try:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
        except Exception:
            FAILED[label] += 1
            raise
        STATUSES[response.status_code] += 1

    run()


def test_enough_cases_ran() -> None:
    # Runs after the parametrised test in file order.
    assert sum(CASES.values()) >= MINIMUM_CASES, CASES
