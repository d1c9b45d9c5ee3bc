"""The conformance tests of the reference service map one to one onto the rulebook.

tests/service/test_conformance.py holds one test per convention whose rule shows over
HTTP, each marked ``@pytest.mark.convention("ID")`` and named ``test_<id>``. This file
reads it with ``ast`` (no service, no database) and checks that mapping; every other
convention must be listed in ``NOT_OVER_HTTP`` with the reason, so a new convention in
the rulebook forces a decision.
"""

import ast
from pathlib import Path

import pytest

from agentkb.rulebook import default_rulebook

CONFORMANCE = Path(__file__).resolve().parent / "service" / "test_conformance.py"
MARKER = "pytest.mark.convention"

#: Conventions whose rule cannot be observed through the service's HTTP interface.
NOT_OVER_HTTP: dict[str, str] = {
    "ARCH-LAYERED-CALLS": "Which module calls which is code organisation; responses are the same either way.",
    "ARCH-INJECT-DEPENDENCIES": "Constructor wiring of services is invisible from outside the process.",
    "ARCH-DOMAIN-ERRORS": "Which layer raises which exception class; HTTP sees only the problem (ERR-* tests).",
    "ARCH-APP-FACTORY": "How the app object is built is not observable over HTTP.",
    "CONF-ENV-VARS": "Where settings come from (environment, not code) is a deployment and repository property.",
    "CONF-VALIDATE-AT-STARTUP": "A refused configuration means no server to talk to (test_settings checks it).",
    "CONF-SECRET-TYPES": "SecretStr is a type in the code; secrets never reach responses either way.",
    "CONF-DOCUMENT-VARIABLES": "A documentation file in the repository.",
    "DB-PLURAL-SNAKE-TABLES": "Table names never reach the client.",
    "DB-INDEX-FOREIGN-KEYS": "Indexes are schema internals with no effect on responses.",
    "DB-NO-N-PLUS-ONE": "The query count per request is database-side (test_orders counts the queries).",
    "DB-REVERSIBLE-MIGRATIONS": "Migrations run outside the HTTP interface (test_migrations).",
    "PERF-MEASURE-FIRST": "A process rule for performance changes, not service behaviour.",
    "PERF-NO-BLOCKING-IN-ASYNC": "Shows only as latency under load; a timing test on shared cores would be flaky.",
    "PERF-SELECT-NEEDED-COLUMNS": "Which columns a query loads is database-side; the responses are identical.",
    "PROJ-RUFF-LINT-SECTION": "Tooling configuration.",
    "PROJ-MYPY-STRICT": "Tooling configuration.",
    "PROJ-TS-STRICT": "Tooling configuration, and the service has no TypeScript.",
    "PROJ-FILE-NAMING": "Repository layout.",
    "PROJ-TESTS-BESIDE-SOURCE": "Repository layout.",
    "PWD-ARGON2ID": "The stored hash never leaves the server (test_auth reads it from the database).",
    "PWD-BCRYPT-LEGACY-ONLY": "Needs a bcrypt hash planted in the database; cost and migration are database-side.",
    "PWD-NO-PASSLIB": "A dependency choice.",
    "PWD-REHASH-ON-LOGIN": "The upgraded hash is visible only in the database.",
    "TEST-REAL-DATABASE": "How the tests are written, not how the service behaves.",
    "TEST-IN-PROCESS-CLIENT": "How the tests are written, not how the service behaves.",
    "TEST-ERROR-PATHS": "How the tests are written, not how the service behaves.",
    "TEST-COVERAGE-FLOOR": "A CI setting, not service behaviour.",
}


def _is_marker(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return ast.unparse(target) == MARKER


def _marker_id(decorator: ast.expr) -> str | None:
    """The ID of ``@pytest.mark.convention("ID")``; None for any other shape of the marker."""
    if not isinstance(decorator, ast.Call) or decorator.keywords or len(decorator.args) != 1:
        return None
    argument = decorator.args[0]
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    return None


@pytest.fixture(scope="module")
def tree() -> ast.Module:
    return ast.parse(CONFORMANCE.read_text(encoding="utf-8"), filename=str(CONFORMANCE))


@pytest.fixture(scope="module")
def tests(tree: ast.Module) -> dict[str, list[ast.expr]]:
    """Each top-level test function with its convention markers."""
    return {
        node.name: [decorator for decorator in node.decorator_list if _is_marker(decorator)]
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    }


@pytest.fixture(scope="module")
def tested(tests: dict[str, list[ast.expr]]) -> dict[str, str]:
    """Convention ID -> the test that checks it (assumes the markers are well formed)."""
    return {str(_marker_id(markers[0])): name for name, markers in tests.items() if len(markers) == 1}


def test_there_are_conformance_tests(tests: dict[str, list[ast.expr]]) -> None:
    assert len(tests) >= 30


def test_every_test_carries_exactly_one_convention_marker(tests: dict[str, list[ast.expr]]) -> None:
    wrong = {name: len(markers) for name, markers in tests.items() if len(markers) != 1}
    assert wrong == {}
    malformed = [name for name, markers in tests.items() if _marker_id(markers[0]) is None]
    assert malformed == [], 'write the marker as @pytest.mark.convention("ID")'


def test_the_marker_is_used_only_on_test_functions(tree: ast.Module, tests: dict[str, list[ast.expr]]) -> None:
    # Each use, called or not, holds exactly one `pytest.mark.convention` attribute node.
    everywhere = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and ast.unparse(node) == MARKER]
    on_tests = sum(len(markers) for markers in tests.values())
    assert len(everywhere) == on_tests


def test_every_marked_id_is_a_convention_of_the_rulebook(tested: dict[str, str]) -> None:
    known = default_rulebook().conventions
    assert sorted(conv_id for conv_id in tested if conv_id not in known) == []


def test_each_test_is_named_after_its_convention(tested: dict[str, str]) -> None:
    misnamed = {
        name: conv_id for conv_id, name in tested.items() if name != "test_" + conv_id.lower().replace("-", "_")
    }
    assert misnamed == {}


def test_no_convention_is_tested_twice(tests: dict[str, list[ast.expr]]) -> None:
    ids = [_marker_id(markers[0]) for markers in tests.values() if len(markers) == 1]
    assert sorted({conv_id for conv_id in ids if ids.count(conv_id) > 1}, key=str) == []


def test_each_test_says_what_it_checks_in_one_line(tree: ast.Module, tests: dict[str, list[ast.expr]]) -> None:
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in tests]
    docstrings = {node.name: ast.get_docstring(node, clean=False) for node in functions}
    assert [name for name, doc in docstrings.items() if not doc or "\n" in doc] == []


def test_every_convention_is_tested_or_explained(tested: dict[str, str]) -> None:
    every = set(default_rulebook().conventions)
    undecided = every - set(tested) - set(NOT_OVER_HTTP)
    assert sorted(undecided) == [], "test it in tests/service/test_conformance.py or explain it in NOT_OVER_HTTP"
    assert sorted(set(tested) & set(NOT_OVER_HTTP)) == []
    assert sorted(set(NOT_OVER_HTTP) - every) == []
    assert all(reason.strip() for reason in NOT_OVER_HTTP.values())
