"""The rulebook's rules: each fires on its 'fires' examples and stays silent on its 'silent' ones.

Code and text rules run in-process (agentkb.detect); openapi rules run through the pinned
Spectral CLI, all their examples in one process. The generated Spectral ruleset must load,
carry what a linter shows (severity, message, documentation URL) and pass the reference
service's own OpenAPI document. Detections quote their raw line exactly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from agentkb import spectral
from agentkb.definitions import load_definition
from agentkb.detect import Detection, check_rule, detect, validate_rulebook
from agentkb.rulebook import SITE_URL, RulebookError, default_rulebook, load_rulebook

ROOT = Path(__file__).resolve().parent.parent
RULEBOOK = default_rulebook()
RULES = {rule.full_id: rule for rule in RULEBOOK.rules}
LOCAL_RULES = [rule_id for rule_id, rule in RULES.items() if rule.kind != "openapi"]
OPENAPI_RULES = [rule_id for rule_id, rule in RULES.items() if rule.kind == "openapi"]
AGENTS = sorted((ROOT / "agents" / "definitions").glob("*.md"))
needs_npm = pytest.mark.skipif(
    shutil.which("npm") is None and not (spectral.SPECTRAL_DIR / "node_modules" / ".bin" / "spectral").exists(),
    reason="Spectral needs Node.js and npm (tools/spectral)",
)


def test_every_rule_is_valid_and_has_examples() -> None:
    validate_rulebook(RULEBOOK)  # raises RulebookError naming file:line
    for rule in RULEBOOK.rules:
        assert rule.fires and rule.silent, rule.full_id


def test_the_rulebook_has_rules_of_every_kind() -> None:
    kinds = {rule.kind for rule in RULEBOOK.active_rules}
    assert kinds == {"code", "text", "openapi"}
    assert len(RULEBOOK.active_rules) >= 100


@pytest.mark.parametrize("rule_id", LOCAL_RULES)
def test_rule_examples(rule_id: str) -> None:
    rule = RULES[rule_id]
    languages = rule.languages if rule.kind == "code" else (None,)
    for language in languages:
        for example in rule.fires:
            assert check_rule(rule, example, language), f"{rule_id} ({language}) should fire on:\n{example}"
        for example in rule.silent:
            found = check_rule(rule, example, language)
            assert not found, f"{rule_id} ({language}) should stay silent on:\n{example}\nbut matched {found}"


@pytest.fixture(scope="module")
def openapi_results() -> dict[str, list[tuple[bool, set[str]]]]:
    """Every openapi rule's examples, linted by one Spectral process."""
    texts, owners = [], []
    for rule_id in OPENAPI_RULES:
        rule = RULES[rule_id]
        for example in rule.fires:
            texts.append(example)
            owners.append((rule_id, True))
        for example in rule.silent:
            texts.append(example)
            owners.append((rule_id, False))
    fired = spectral.lint_texts(RULEBOOK, texts)
    results: dict[str, list[tuple[bool, set[str]]]] = {}
    for (rule_id, should_fire), names in zip(owners, fired, strict=True):
        results.setdefault(rule_id, []).append((should_fire, names))
    return results


@needs_npm
@pytest.mark.parametrize("rule_id", OPENAPI_RULES)
def test_openapi_rule_examples(rule_id: str, openapi_results: dict[str, list[tuple[bool, set[str]]]]) -> None:
    name = spectral.rule_name(RULES[rule_id])
    for index, (should_fire, names) in enumerate(openapi_results[rule_id]):
        assert (name in names) == should_fire, (
            f"{rule_id}: example {index} should {'fire' if should_fire else 'stay silent'}; Spectral said {names}"
        )


def test_ruleset_fields() -> None:
    data = spectral.ruleset(RULEBOOK, base_url="https://example.org/kb/")
    active = [rule for rule in RULEBOOK.active_rules if rule.kind == "openapi"]
    assert set(data["rules"]) == {spectral.rule_name(rule) for rule in active}
    for rule in active:
        conv = RULEBOOK.get(rule.convention)
        body = data["rules"][spectral.rule_name(rule)]
        assert body["severity"] == {"MUST": "error", "SHOULD": "warn", "MAY": "info"}[conv.level]
        assert body["documentationUrl"] == f"https://example.org/kb/{conv.guide}.html#{conv.anchor}"
        assert rule.convention in body["message"]
        assert body["description"] == conv.title
        assert body["given"] and body["then"]
    assert spectral.ruleset(RULEBOOK)["rules"] and SITE_URL in json.dumps(spectral.ruleset(RULEBOOK))


@needs_npm
def test_ruleset_loads_and_passes_the_reference_service(tmp_path: Path) -> None:
    """Spectral accepts the ruleset (exit 0, JSON out) and finds nothing in the service's spec."""
    ruleset = spectral.write_ruleset(tmp_path / "ruleset.json", RULEBOOK)
    spec = ROOT / "api-examples" / "openapi.json"
    result = subprocess.run(
        [*spectral.spectral_command(), "lint", "-r", str(ruleset), "-f", "json", "--quiet", str(spec)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout or "[]") == []


@needs_npm
def test_openapi_detections_point_at_the_raw_line(tmp_path: Path) -> None:
    agent = tmp_path / "api-agent.md"
    agent.write_text(
        "---\nname: api-agent\ndescription: Designs APIs.\n---\n\nAn example:\n\n- item\n\n"
        "  ```yaml\n  openapi: 3.0.3\n  info: {title: T, version: '1'}\n  paths:\n    /items:\n      get:\n"
        "        parameters:\n          - name: limit\n            in: query\n            schema: {type: integer}\n"
        "        responses:\n          '200': {description: OK}\n  ```\n",
        "utf-8",
    )
    definition = load_definition(agent)
    [document] = spectral.openapi_documents(definition)
    assert document.first_line == 11
    found = spectral.detect_openapi([definition], RULEBOOK)[agent]
    assert [(d.rule.full_id, d.line) for d in found] == [("PAGE-LIMIT-CAP/openapi-limit-without-maximum", 19)]
    raw = agent.read_text("utf-8").split("\n")
    assert all(d.quote and d.quote in raw[d.line - 1] for d in found)


@pytest.mark.parametrize("path", AGENTS, ids=lambda p: p.stem)
def test_detections_quote_their_raw_line(path: Path) -> None:
    definition = load_definition(path)
    raw = definition.raw.decode("utf-8").split("\n")
    found = detect(definition, RULEBOOK.rules)
    assert found == sorted(found, key=Detection.sort_key)
    assert len({(d.rule.full_id, d.line) for d in found}) == len(found)
    for d in found:
        assert d.quote and d.quote in raw[d.line - 1], (d.rule.full_id, d.line, d.quote)
        assert not d.rule.disabled and d.rule.kind != "openapi"


def test_detect_on_a_small_agent(tmp_path: Path) -> None:
    agent = tmp_path / "tiny.md"
    agent.write_text(
        "---\nname: tiny\ndescription: A tiny agent.\n---\n"
        "Answer 409 Conflict when the email already exists.\n\n"
        "```python\nfrom datetime import datetime\n\ncreated = datetime.utcnow()\n```\n\n"
        "```text\ndatetime.utcnow()\n```\n",
        "utf-8",
    )
    found = detect(load_definition(agent), RULEBOOK.rules)
    assert [(d.rule.full_id, d.line, d.quote) for d in found] == [
        ("HTTP-409-DUPLICATE/states-409-for-duplicates", 5, "409"),
        ("DB-AWARE-UTC-TIMESTAMPS/naive-utcnow", 10, "datetime.utcnow"),
    ]


def test_a_stronger_stance_hides_a_mention_on_the_same_line(tmp_path: Path) -> None:
    agent = tmp_path / "refresh.md"
    agent.write_text(
        "---\nname: r\ndescription: d\n---\nUse refresh tokens, and rotate refresh tokens on use.\n", "utf-8"
    )
    found = detect(load_definition(agent), RULEBOOK.rules)
    assert [d.rule.full_id for d in found] == ["AUTH-ROTATE-REFRESH-TOKENS/states-refresh-token-rotation"]


def _rulebook_with(tmp_path: Path, rule_yaml: str) -> Path:
    folder = tmp_path / "rulebook"
    folder.mkdir()
    (folder / "errors.yaml").write_text(
        "- id: ERR-PROBLEM-DETAILS\n  title: Problems\n  level: MUST\n  rules:\n" + rule_yaml, "utf-8"
    )
    return folder


def test_unknown_kind_is_reported_at_its_line(tmp_path: Path) -> None:
    folder = _rulebook_with(tmp_path, "  - id: x\n    kind: regex\n    stance: states\n    match: {pattern: a}\n")
    with pytest.raises(RulebookError, match=r"errors\.yaml:5: .*kind must be one of"):
        load_rulebook(folder)


def test_missing_examples_are_reported_at_their_line(tmp_path: Path) -> None:
    folder = _rulebook_with(
        tmp_path,
        "  - id: ok\n    kind: text\n    stance: states\n    message: m\n    match: {pattern: rfc 9457}\n"
        "    examples: {fires: [RFC 9457], silent: [nothing]}\n"
        "  - id: no-examples\n    kind: text\n    stance: states\n    message: m\n    match: {pattern: problem}\n",
    )
    with pytest.raises(RulebookError, match=r"errors\.yaml:11: ERR-PROBLEM-DETAILS: rule no-examples: .*'fires'"):
        validate_rulebook(load_rulebook(folder))


@pytest.mark.parametrize(
    ("rule_yaml", "error"),
    [
        ("    kind: text\n    match: {pattern: '('}\n", "not a valid regular expression"),
        ("    kind: text\n    match: {pattern: a, nearby: b}\n", "not nearby"),
        ("    kind: code\n    languages: [python]\n    match: {kind: no_such_kind}\n", "ast-grep rejects"),
        ("    kind: code\n    languages: [python]\n    match: {patern: x}\n", "unknown ast-grep rule keys"),
        ("    kind: openapi\n    match: {given: $, then: {function: truthy}}\n", "stance must be 'contradicts'"),
    ],
)
def test_unusable_rules_are_reported_at_their_line(tmp_path: Path, rule_yaml: str, error: str) -> None:
    folder = _rulebook_with(
        tmp_path,
        "  - id: bad\n    stance: states\n    message: m\n" + rule_yaml + "    examples: {fires: [a], silent: [b]}\n",
    )
    with pytest.raises(RulebookError, match=rf"errors\.yaml:5: .*{error}"):
        validate_rulebook(load_rulebook(folder))


def test_disabled_rules_never_run_but_keep_their_examples(tmp_path: Path) -> None:
    folder = _rulebook_with(
        tmp_path,
        "  - id: switched-off\n    kind: text\n    stance: states\n    message: m\n    match: {pattern: rfc 9457}\n"
        "    examples: {fires: [RFC 9457], silent: [nothing]}\n    disabled: precision 3/10 on the corpus\n"
        "  - id: switched-off-spec\n    kind: openapi\n    stance: contradicts\n    message: m\n"
        "    match: {given: $.paths, then: {function: truthy}}\n"
        "    examples: {fires: [a], silent: [b]}\n    disabled: no reason\n",
    )
    rulebook = load_rulebook(folder)
    validate_rulebook(rulebook)
    [off, off_spec] = rulebook.rules
    assert off.disabled and not rulebook.active_rules
    assert check_rule(off, "Errors follow RFC 9457.") == [(1, "RFC 9457")]
    agent = tmp_path / "a.md"
    agent.write_text("---\nname: a\ndescription: d\n---\nErrors follow RFC 9457.\n", "utf-8")
    assert detect(load_definition(agent), rulebook.rules) == []
    assert spectral.ruleset(rulebook)["rules"] == {}
    assert list(spectral.ruleset(rulebook, include_disabled=True)["rules"]) == ["err-problem-details-switched-off-spec"]
