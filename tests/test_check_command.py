"""``agentkb check`` as people run it on their own ``.claude/agents/`` folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agentkb.__main__ import main
from agentkb.rulebook import SITE_URL
from agentkb.validation import RULES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path("tests", "data", "definitions")
REAL_DEFINITIONS = Path("agents", "definitions")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentkb", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_tab_in_yaml_is_reported_with_file_and_line_and_no_traceback():
    result = run_cli("check", str(FIXTURES / "tab-in-yaml.md"))
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        f"{FIXTURES / 'tab-in-yaml.md'}:3: error[unreadable]: malformed YAML front matter: "
        "found character '\\t' that cannot start any token\n"
        "1 file checked: 1 error, 0 warnings\n",
        "",
    )


def test_non_utf8_file_is_reported_with_file_and_line_and_no_traceback():
    result = run_cli("check", str(FIXTURES / "not-utf8.md"))
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        f"{FIXTURES / 'not-utf8.md'}:3: error[unreadable]: the file is not valid UTF-8\n"
        "1 file checked: 1 error, 0 warnings\n",
        "",
    )


def test_wrong_field_type_is_reported_with_file_line_and_field_and_no_traceback():
    result = run_cli("check", str(FIXTURES / "max-turns-ten.md"))
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"{FIXTURES / 'max-turns-ten.md'}:4: warning[invalid-value]: "
        "field 'maxTurns' must be a positive integer, not a string ('ten'); Claude Code ignores it\n"
        "1 file checked: 0 errors, 1 warning\n",
        "",
    )


def test_nonexistent_path_is_a_usage_error_without_traceback():
    result = run_cli("check", "no/such/agents")
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        "agentkb check: error: no such file or directory: no/such/agents\n",
    )


def test_real_definitions_print_their_warnings_sorted_then_a_summary(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["check", str(REAL_DEFINITIONS)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.partition("]:")[0] + "]" for line in lines[:-1]] == [
        f"{REAL_DEFINITIONS / 'opus-principles.md'}:2: warning[duplicate-name]",
        f"{REAL_DEFINITIONS / 'sonnet-compact-checklist.md'}:2: warning[duplicate-name]",
        f"{REAL_DEFINITIONS / 'sonnet-node-playbook.md'}:2: warning[duplicate-name]",
        f"{REAL_DEFINITIONS / 'sonnet-node-playbook.md'}:6: warning[missing-skill]",
        f"{REAL_DEFINITIONS / 'sonnet-typescript-fastapi.md'}:2: warning[duplicate-name]",
    ]
    assert lines[-1] == "5 files checked: 0 errors, 5 warnings"


def test_missing_skill_warning_names_the_skill_and_the_folder_searched(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    main(["check", str(REAL_DEFINITIONS)])
    assert (
        f"{REAL_DEFINITIONS / 'sonnet-node-playbook.md'}:6: warning[missing-skill]: "
        f"field 'skills': skill 'software-architect' is not present in {Path('agents', 'skills')} "
        "(no software-architect/SKILL.md)"
    ) in capsys.readouterr().out.splitlines()


def test_skills_dir_option_adds_a_folder_to_search(tmp_path, capsys, monkeypatch):
    (tmp_path / "software-architect").mkdir()
    (tmp_path / "software-architect" / "SKILL.md").write_text("# Skill\n", encoding="utf-8")
    monkeypatch.chdir(ROOT)
    playbook = str(REAL_DEFINITIONS / "sonnet-node-playbook.md")
    main(["check", "--skills-dir", str(tmp_path), playbook])
    assert capsys.readouterr().out == "1 file checked: 0 errors, 0 warnings\n"


def test_json_format_lists_files_findings_and_summary(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    files = [str(FIXTURES / "bad-model.md"), str(FIXTURES / "valid-many-fields.md")]
    main(["check", "--format", "json", *files])
    assert json.loads(capsys.readouterr().out) == {
        "files": files,
        "findings": [
            {
                "path": str(FIXTURES / "bad-model.md"),
                "line": 4,
                "severity": "warning",
                "code": "unknown-model",
                "field": "model",
                "message": "field 'model': model 'Claude Sonnet 4' is neither an alias "
                "(sonnet, opus, haiku, fable, inherit) nor a model ID such as claude-sonnet-4-20250514",
            }
        ],
        "summary": {"files": 2, "errors": 0, "warnings": 1},
    }


def test_clean_definition_exits_with_status_0(capsys):
    assert main(["check", str(ROOT / FIXTURES / "valid-many-fields.md")]) == 0


def test_warnings_alone_exit_with_status_0(capsys):
    assert main(["check", str(ROOT / FIXTURES / "bad-model.md")]) == 0


def test_strict_makes_warnings_exit_with_status_1(capsys):
    assert main(["check", "--strict", str(ROOT / FIXTURES / "bad-model.md")]) == 1


def test_errors_exit_with_status_1(capsys):
    assert main(["check", str(ROOT / FIXTURES / "missing-description.md")]) == 1


def test_missing_subcommand_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_folder_without_agent_files_is_a_usage_error_naming_it(tmp_path, capsys):
    (tmp_path / "agents").mkdir()
    assert main(["check", str(tmp_path), str(ROOT / FIXTURES / "bad-model.md")]) == 2
    assert capsys.readouterr() == ("", f"agentkb check: error: no agent files (*.md) in folder: {tmp_path}\n")


def test_sarif_format_lists_every_rule_and_locates_each_result(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    files = [str(FIXTURES / "bad-model.md"), str(FIXTURES / "missing-description.md")]
    assert main(["check", "--format", "sarif", *files]) == 1
    log = json.loads(capsys.readouterr().out)
    assert (log["version"], log["$schema"]) == ("2.1.0", "https://json.schemastore.org/sarif-2.1.0.json")
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(RULES)
    assert rules[list(RULES).index("unknown-model")] == {
        "id": "unknown-model",
        "shortDescription": {"text": RULES["unknown-model"].summary},
        "helpUri": f"{SITE_URL}agents/checker/unknown-model.html",
        "defaultConfiguration": {"level": "warning"},
    }
    assert [
        (
            result["ruleId"],
            rules[result["ruleIndex"]]["id"],
            result["level"],
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for result in run["results"]
    ] == [
        ("unknown-model", "unknown-model", "warning", "tests/data/definitions/bad-model.md", 4),
        ("missing-field", "missing-field", "error", "tests/data/definitions/missing-description.md", 1),
    ]
    assert run["results"][1]["message"] == {"text": "required field 'description' is missing"}


def test_sarif_output_is_valid_against_the_sarif_2_1_0_schema(capsys):
    # pydantic-sarif's models are generated from the OASIS schema (sarif-schema-2.1.0.json)
    # and forbid unknown properties, so validating against them is validating against it.
    from pydantic_sarif.model import StaticAnalysisResultsFormatSarifVersion210JsonSchema as SarifLog

    main(["check", "--format", "sarif", str(ROOT / FIXTURES)])
    log = json.loads(capsys.readouterr().out)
    assert log["runs"][0]["results"]
    SarifLog.model_validate(log)


def test_importing_the_command_line_imports_nothing_of_the_site_or_the_service():
    heavy = ("sphinx", "myst_parser", "docutils", "fastapi", "psycopg", "sqlalchemy", "pydantic")
    script = f"import sys, agentkb.__main__\nprint(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"


UTC_AGENT = """---
name: time-keeper
description: Stores timestamps.
---

Store every timestamp in UTC.

```python
from datetime import datetime

created = datetime.utcnow()
```
"""


def test_conventions_option_reports_line_convention_stance_and_permalink(tmp_path, capsys):
    agent = tmp_path / "time-keeper.md"
    agent.write_text(UTC_AGENT, "utf-8")
    assert main(["check", "--conventions", str(agent)]) == 0
    out = capsys.readouterr().out.splitlines()
    url = f"{SITE_URL}guides/databases.html#conv-db-aware-utc-timestamps"
    finding = next(line for line in out if "DB-AWARE-UTC-TIMESTAMPS" in line and "contradicts" in line)
    assert finding.startswith(f"{agent}:11: DB-AWARE-UTC-TIMESTAMPS (MUST) contradicts: ")
    assert "“datetime.utcnow”" in finding and finding.endswith(url)
    assert out[-1].startswith("1 file checked: 0 errors, ") and out[-1].endswith(" convention findings")
    assert main(["check", "--conventions", "--strict", str(agent)]) == 1


def test_conventions_in_json_and_sarif_carry_the_rule_and_the_permalink(tmp_path, capsys):
    agent = tmp_path / "time-keeper.md"
    agent.write_text(UTC_AGENT, "utf-8")
    main(["check", "--conventions", "--format", "json", str(agent)])
    report = json.loads(capsys.readouterr().out)
    found = next(
        f
        for f in report["conventions"]
        if f["convention"] == "DB-AWARE-UTC-TIMESTAMPS" and f["stance"] == "contradicts"
    )
    assert (found["line"], found["stance"], found["quote"]) == (11, "contradicts", "datetime.utcnow")
    assert found["url"].endswith("guides/databases.html#conv-db-aware-utc-timestamps")
    main(["check", "--conventions", "--format", "sarif", str(agent)])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    result = next(r for r in run["results"] if r["ruleId"] == found["rule"])
    assert result["level"] == "warning" and result["locations"][0]["physicalLocation"]["region"]["startLine"] == 11
    assert rules[found["rule"]]["helpUri"] == found["url"]
