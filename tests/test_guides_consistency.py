"""Contradictions the guides once had, each checked mechanically so it cannot come back:
between two guides, between a guide and the agent files it summarises, between a guide and
the reference service, or between a guide and the current version of a standard."""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from pydantic import ValidationError
from sitebuild import ROOT, TOPIC_GUIDES

GUIDES = [ROOT / "guides" / f"{stem}.md" for stem in TOPIC_GUIDES]
AGENTS = sorted((ROOT / "agents" / "definitions").glob("*.md"))
_md = MarkdownIt("commonmark")


def fences(path: Path, *languages: str) -> list[str]:
    """The code of every fenced block in `path` whose info string starts with one of `languages`."""
    tokens = _md.parse(path.read_text("utf-8"))
    return [t.content for t in tokens if t.type == "fence" and t.info.split()[:1] and t.info.split()[0] in languages]


def prose(path: Path) -> str:
    """The page without its fenced blocks and MyST comment lines."""
    text = re.sub(r"^(```|~~~).*?^\1\s*$", "", path.read_text("utf-8"), flags=re.MULTILINE | re.DOTALL)
    return "\n".join(line for line in text.splitlines() if not line.startswith("%"))


# --- Standards: no link to a version that has been replaced ---------------------------------

SUPERSEDED = {
    r"rfc-?7807\b": "RFC 7807 is obsoleted by RFC 9457",
    r"rfc-?2616\b|rfc-?723[0-5]\b": "RFC 2616 and RFC 7230-7235 are obsoleted by RFC 9110/9111/9112",
    r"owasp\.org/Top10/A\d\d_2021": "the OWASP Top 10:2021 is replaced by the 2025 edition",
    r"OWASP/ASVS/blob/v4": "OWASP ASVS 4.0.x is replaced by ASVS 5.0",
}
LINK = re.compile(r"\]\((?P<url>[^)\s]+)\)|<(?P<bare>https?://[^>\s]+)>")


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.stem)
def test_no_guide_links_a_superseded_standard(guide: Path) -> None:
    urls = [m["url"] or m["bare"] for m in LINK.finditer(guide.read_text("utf-8"))]
    stale = [
        f"{url}: {why}" for url in urls for pattern, why in SUPERSEDED.items() if re.search(pattern, url, re.IGNORECASE)
    ]
    assert not stale, stale


# --- Testing vs architecture: TestClient --------------------------------------------------

NEGATED_TESTCLIENT = re.compile(
    r"\b(?:not|never|avoid|instead of|rather than|don't|do not)\b[^.]{0,40}?`?TestClient", re.IGNORECASE
)


def test_testclient_works_on_the_pinned_stack_without_warnings() -> None:
    """The testing guide recommends TestClient as the synchronous client (TEST-IN-PROCESS-CLIENT)."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from fastapi.testclient import TestClient

        with TestClient(app) as client:
            assert client.get("/ping").json() == {"ok": True}


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.stem)
def test_no_guide_advises_against_testclient(guide: Path) -> None:
    assert not NEGATED_TESTCLIENT.findall(prose(guide))


# --- Databases vs status codes: a look-up is never the duplicate guard -------------------------

LOOKUP = re.compile(r"^(get_by_\w+|find_by_\w+|exists\w*|get_by|first)$")
INSERT = re.compile(r"^(add|add_all|insert\w*|create)$")


def _calls(node: ast.AST) -> list[str]:
    return [n.func.attr for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]


def lookup_guards(code: str) -> list[str]:
    """Functions that raise on a look-up's result and then insert: check-then-insert."""
    found = []
    for function in ast.walk(ast.parse(code)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        guarded = False
        for statement in function.body:
            if (
                isinstance(statement, ast.If)
                and any(LOOKUP.match(name) for name in _calls(statement.test))
                and any(isinstance(n, ast.Raise) for n in ast.walk(statement))
            ):
                guarded = True
            elif guarded and any(INSERT.match(name) for name in _calls(statement)):
                found.append(function.name)
                break
    return found


def test_the_lookup_guard_detector_finds_check_then_insert() -> None:
    sample = """
def register(self, email):
    if self._users.get_by_email(email) is not None:
        raise EmailTaken(email)
    return self._users.add(email)
"""
    assert lookup_guards(sample) == ["register"]
    assert lookup_guards("def register(self, email):\n    return self._users.add(email)\n") == []


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.stem)
def test_no_guide_sample_guards_a_unique_key_with_a_lookup(guide: Path) -> None:
    samples = [code for code in fences(guide, "python") if not code.lstrip().startswith(">>>")]
    assert not [name for code in samples for name in lookup_guards(code)]


# --- Logging guide vs agent files: every agent that shows a log call is cited ------------

LOG_CALL = re.compile(r"\b(?:logger|logging|log|console)\.(?:debug|info|warn|warning|error|exception|critical|log)\(")


def test_the_logging_guide_cites_every_agent_that_shows_a_log_call() -> None:
    logging_agents = {
        agent.stem
        for agent in AGENTS
        if any(LOG_CALL.search(code) for code in fences(agent, "typescript", "ts", "javascript", "js", "python", "py"))
    }
    assert logging_agents, "no agent shows a log call: the guide's premise changed"
    cited = set(re.findall(r"\{kb:agent\}`([a-z0-9-]+)#", (ROOT / "guides" / "logging.md").read_text("utf-8")))
    assert logging_agents <= cited, f"log calls in {sorted(logging_agents - cited)} are not cited"


# --- Passwords guide vs reference service ------------------------------------------------

#: OWASP Password Storage Cheat Sheet: five Argon2id settings of equal strength, p=1.
OWASP_ARGON2ID_MINIMUMS = [(47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5)]


def test_the_reference_service_password_bounds_meet_asvs_5() -> None:
    """PWD-LENGTH-BOUNDS: at least 8 characters required (V6.2.1), at least 64 accepted (V6.2.9)."""
    from annotated_types import MaxLen, MinLen

    from reference_api.schemas import UserCreate

    metadata = UserCreate.model_fields["password"].metadata
    minimum = next(m.min_length for m in metadata if isinstance(m, MinLen))
    maximum = next(m.max_length for m in metadata if isinstance(m, MaxLen))
    assert minimum >= 8
    assert maximum >= 64


TEST_SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def _argon2_settings(memory_kib: int, time_cost: int) -> object:
    from reference_api.settings import Settings

    return Settings(
        environment="test",
        jwt_secret=TEST_SECRET,
        argon2_memory_kib=memory_kib,
        argon2_time_cost=time_cost,
        argon2_parallelism=1,
    )


@pytest.mark.parametrize(("memory_kib", "time_cost"), OWASP_ARGON2ID_MINIMUMS)
def test_the_reference_service_accepts_every_owasp_argon2id_minimum(memory_kib: int, time_cost: int) -> None:
    try:
        _argon2_settings(memory_kib, time_cost)
    except ValidationError as exc:
        pytest.fail(f"m={memory_kib} t={time_cost} refused: {exc.errors()[0]['msg']}")


@pytest.mark.parametrize(("memory_kib", "time_cost"), [(47103, 1), (19455, 2), (12288, 2), (7168, 4), (6144, 9)])
def test_the_reference_service_refuses_argon2id_settings_below_every_owasp_minimum(
    memory_kib: int, time_cost: int
) -> None:
    with pytest.raises(ValidationError, match=r"below every Argon2id setting|greater than or equal to 7168"):
        _argon2_settings(memory_kib, time_cost)
