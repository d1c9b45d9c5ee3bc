"""The rules behind ``agentkb check``, through the Python API the Sphinx build uses."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from agentkb.definitions import load_definition
from agentkb.validation import (
    RULES,
    SPEC,
    Finding,
    check_definition,
    check_folder,
    normalise_model,
    parse_tools,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "definitions"
REAL_DEFINITIONS = ROOT / "agents" / "definitions"


def findings_for(fixture: str) -> list[str]:
    _, findings = check_folder([FIXTURES / fixture])
    return [str(finding) for finding in findings]


def test_valid_definition_with_many_optional_fields_has_no_findings():
    assert findings_for("valid-many-fields.md") == []


def test_description_with_example_blocks_and_escaped_newlines_has_no_findings():
    assert findings_for("examples-description.md") == []


def test_file_without_front_matter_is_an_error_on_line_1():
    assert findings_for("no-front-matter.md") == [
        f"{FIXTURES / 'no-front-matter.md'}:1: error[unreadable]: "
        "no YAML front matter: the file must start with a line '---'"
    ]


def test_unclosed_front_matter_is_an_error_on_line_1():
    assert findings_for("unclosed-front-matter.md") == [
        f"{FIXTURES / 'unclosed-front-matter.md'}:1: error[unreadable]: "
        "the front matter opened on line 1 is never closed with a line '---'"
    ]


def test_tab_in_front_matter_is_an_error_on_the_tab_line():
    assert findings_for("tab-in-yaml.md") == [
        f"{FIXTURES / 'tab-in-yaml.md'}:3: error[unreadable]: "
        "malformed YAML front matter: found character '\\t' that cannot start any token"
    ]


def test_front_matter_that_is_a_list_is_an_error_on_line_2():
    assert findings_for("list-front-matter.md") == [
        f"{FIXTURES / 'list-front-matter.md'}:2: error[unreadable]: "
        "the front matter must be a mapping of fields, not a list"
    ]


def test_non_utf8_file_is_an_error_on_the_line_of_the_bad_byte():
    assert findings_for("not-utf8.md") == [
        f"{FIXTURES / 'not-utf8.md'}:3: error[unreadable]: the file is not valid UTF-8"
    ]


def test_unreadable_file_does_not_stop_the_next_file_being_checked():
    _, findings = check_folder([FIXTURES / "not-utf8.md", FIXTURES / "max-turns-ten.md"])
    assert [(finding.path.name, finding.code) for finding in findings] == [
        ("not-utf8.md", "unreadable"),
        ("max-turns-ten.md", "invalid-value"),
    ]


def test_name_with_uppercase_and_underscore_is_a_warning_saying_what_is_wrong():
    # Claude Code loads such a name; only the documentation asks for lowercase and hyphens.
    assert findings_for("uppercase-name.md") == [
        f"{FIXTURES / 'uppercase-name.md'}:2: warning[name-style]: "
        "field 'name' is 'Backend_Developer': the documented form is lowercase letters joined "
        "by single hyphens (digits work too), but it has the uppercase letters 'B', 'D' and the "
        "character '_'; try 'backend-developer'"
    ]


def test_missing_description_is_an_error_pointing_at_the_front_matter():
    assert findings_for("missing-description.md") == [
        f"{FIXTURES / 'missing-description.md'}:1: error[missing-field]: required field 'description' is missing"
    ]


def test_max_turns_written_as_a_word_is_a_warning_that_claude_code_ignores_it():
    assert findings_for("max-turns-ten.md") == [
        f"{FIXTURES / 'max-turns-ten.md'}:4: warning[invalid-value]: "
        "field 'maxTurns' must be a positive integer, not a string ('ten'); Claude Code ignores it"
    ]


def test_miscapitalised_field_is_a_warning_suggesting_the_documented_field():
    assert (
        f"{FIXTURES / 'unknown-field.md'}:4: warning[unknown-field]: "
        "unknown field 'Tools'; Claude Code ignores it; did you mean 'tools'?"
    ) in findings_for("unknown-field.md")


def test_allowed_tools_field_is_a_warning_suggesting_tools():
    assert (
        f"{FIXTURES / 'unknown-field.md'}:5: warning[unknown-field]: "
        "unknown field 'allowed_tools'; Claude Code ignores it; did you mean 'tools'?"
    ) in findings_for("unknown-field.md")


def test_copilot_and_package_tool_names_are_warnings():
    prefix = f"{FIXTURES / 'copilot-tools.md'}:4: warning[unknown-tool]: field 'tools': "
    assert findings_for("copilot-tools.md") == [
        prefix + f"tool '{name}' is not a Claude Code tool name; Claude Code ignores it"
        for name in ("codebase", "editFiles", "pytest")
    ]


def test_lowercase_tool_names_suggest_the_claude_code_spelling():
    prefix = f"{FIXTURES / 'lowercase-tools.md'}:4: warning[unknown-tool]: field 'tools': "
    assert findings_for("lowercase-tools.md") == [
        prefix + "tool 'read' is not a Claude Code tool name; Claude Code ignores it; did you mean 'Read'?",
        prefix + "tool 'bash(git diff:*)' is not a Claude Code tool name; Claude Code ignores it; "
        "did you mean 'Bash(git diff:*)'?",
    ]


def test_empty_tools_string_is_a_warning():
    assert findings_for("empty-tools.md") == [
        f"{FIXTURES / 'empty-tools.md'}:4: warning[empty-tools]: field 'tools' lists no tool, "
        "so the agent gets none; list the tools it needs, or remove the field to let it "
        "inherit every tool"
    ]


def test_model_given_as_a_display_name_is_a_warning():
    assert findings_for("bad-model.md") == [
        f"{FIXTURES / 'bad-model.md'}:4: warning[unknown-model]: field 'model': "
        "model 'Claude Sonnet 4' is neither an alias (sonnet, opus, haiku, fable, inherit) "
        "nor a model ID such as claude-sonnet-4-20250514"
    ]


def test_permission_mode_typo_is_a_warning_suggesting_the_mode():
    assert findings_for("permission-mode-typo.md") == [
        f"{FIXTURES / 'permission-mode-typo.md'}:4: warning[invalid-value]: "
        "field 'permissionMode' is 'acceptEdit', not one of default, manual, acceptEdits, auto, "
        "dontAsk, bypassPermissions, plan; Claude Code ignores it; did you mean 'acceptEdits'?"
    ]


def test_single_file_rules_do_not_need_the_other_files():
    defn = load_definition(FIXTURES / "max-turns-ten.md")
    assert [finding.field for finding in check_definition(defn)] == ["maxTurns"]


def test_finding_prints_as_path_line_severity_code_and_message():
    finding = Finding(Path("a.md"), 3, "warning", "unknown-field", "foo", "unknown field 'foo'")
    assert str(finding) == "a.md:3: warning[unknown-field]: unknown field 'foo'"


ARCHITECT = "name: architect\ndescription: Designs.\n"


def write_agent(folder: Path, slug: str, front_matter: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.md"
    path.write_text(f"---\n{front_matter}---\n\nYou help.\n", encoding="utf-8")
    return path


def test_duplicate_name_warns_on_every_file_after_the_first(tmp_path):
    agents = tmp_path / ".claude" / "agents"
    for slug in ("a", "b", "c"):
        write_agent(agents, slug, "name: reviewer\ndescription: Reviews.\n")
    _, findings = check_folder([agents])
    assert [str(finding) for finding in findings] == [
        f"{agents / 'b.md'}:2: warning[duplicate-name]: name 'reviewer' is also used by "
        f"{agents / 'a.md'}, {agents / 'c.md'}; Claude Code loads only one of them",
        f"{agents / 'c.md'}:2: warning[duplicate-name]: name 'reviewer' is also used by "
        f"{agents / 'a.md'}, {agents / 'b.md'}; Claude Code loads only one of them",
    ]


def test_skill_in_the_skills_folder_next_to_the_agents_folder_is_found(tmp_path):
    agents = tmp_path / ".claude" / "agents"
    write_agent(agents, "a", ARCHITECT + "skills: software-architect\n")
    skill = tmp_path / ".claude" / "skills" / "software-architect"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: software-architect\n---\n", encoding="utf-8")
    assert check_folder([agents])[1] == []


def test_skill_in_an_extra_skills_folder_is_found(tmp_path):
    agents = tmp_path / ".claude" / "agents"
    write_agent(agents, "a", ARCHITECT + "skills: [software-architect]\n")
    shared = tmp_path / "shared-skills"
    (shared / "software-architect").mkdir(parents=True)
    (shared / "software-architect" / "SKILL.md").write_text("# Skill\n", encoding="utf-8")
    assert check_folder([agents], skills_dirs=[shared])[1] == []


def test_missing_skill_is_a_warning_naming_the_folders_searched(tmp_path):
    agents = tmp_path / ".claude" / "agents"
    path = write_agent(agents, "a", ARCHITECT + "skills: software-architect\n")
    _, findings = check_folder([path])
    assert [str(finding) for finding in findings] == [
        f"{path}:4: warning[missing-skill]: field 'skills': skill 'software-architect' is not "
        f"present in {tmp_path / '.claude' / 'skills'} (no software-architect/SKILL.md)"
    ]


def test_real_definitions_have_no_errors():
    _, findings = check_folder([REAL_DEFINITIONS])
    assert [str(finding) for finding in findings if finding.severity == "error"] == []


def test_real_definitions_warn_about_their_shared_name_and_the_missing_skill():
    definitions, findings = check_folder([REAL_DEFINITIONS])
    assert len(definitions) == 5
    assert sorted((finding.path.name, finding.line, finding.code) for finding in findings) == [
        ("opus-principles.md", 2, "duplicate-name"),
        ("sonnet-compact-checklist.md", 2, "duplicate-name"),
        ("sonnet-node-playbook.md", 2, "duplicate-name"),
        ("sonnet-node-playbook.md", 6, "missing-skill"),
        ("sonnet-typescript-fastapi.md", 2, "duplicate-name"),
    ]


@pytest.mark.parametrize(
    ("value", "family", "label"),
    [
        ("sonnet", "sonnet", "Sonnet"),
        ("opus", "opus", "Opus"),
        ("haiku", "haiku", "Haiku"),
        ("inherit", None, "Inherit (the main conversation's model)"),
    ],
)
def test_model_aliases_normalise_to_their_family(value, family, label):
    info = normalise_model(value)
    assert (info.kind, info.family, info.label) == ("alias", family, label)


@pytest.mark.parametrize(
    ("value", "family", "label"),
    [
        ("claude-sonnet-4-20250514", "sonnet", "Claude Sonnet 4"),
        ("claude-opus-4-1", "opus", "Claude Opus 4.1"),
        ("claude-sonnet-4-5", "sonnet", "Claude Sonnet 4.5"),
        ("claude-3-5-haiku-20241022", "haiku", "Claude 3.5 Haiku"),
        ("claude-3-opus-20240229", "opus", "Claude 3 Opus"),
    ],
)
def test_model_ids_normalise_to_family_and_readable_label(value, family, label):
    info = normalise_model(value)
    assert (info.kind, info.family, info.label) == ("id", family, label)


@pytest.mark.parametrize("value", ["Claude Sonnet 4", "gpt-4o", "Sonnet", ""])
def test_anything_else_does_not_normalise(value):
    assert normalise_model(value) is None


def test_tools_string_splits_on_commas_outside_parentheses():
    assert parse_tools("Read, Bash(git add:*, git commit:*),Grep") == [
        "Read",
        "Bash(git add:*, git commit:*)",
        "Grep",
    ]


def test_tools_list_keeps_its_names_without_surrounding_spaces():
    assert parse_tools([" Read", "mcp__github__create_issue "]) == [
        "Read",
        "mcp__github__create_issue",
    ]


def test_an_unclosed_bracket_names_the_line_where_it_opened(tmp_path: Path) -> None:
    path = tmp_path / "unclosed.md"
    path.write_text("---\nname: broken\ndescription: [unclosed\nmodel: sonnet\n---\nBody\n", "utf-8")
    _, findings = check_folder([path])
    assert [str(f) for f in findings] == [
        f"{path}:4: error[unreadable]: malformed YAML front matter: expected ',' or ']', "
        "but got ':' (while parsing a flow sequence that starts on line 3)"
    ]


def findings_of(tmp_path: Path, front_matter: str) -> list[tuple[str, str, str]]:
    path = write_agent(tmp_path, "agent", front_matter)
    return [(finding.severity, finding.code, finding.message) for finding in check_folder([path])[1]]


@pytest.mark.parametrize("name", ["c4-code", "v2", "3d-modeler", "a"])
def test_names_with_digits_have_no_findings(tmp_path, name):
    assert findings_of(tmp_path, f"name: {name}\ndescription: Designs.\n") == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("plugin:reviewer", "contains the character ':'"),
        ("-reviewer", "starts with '-'"),
        ("r" * 257, "is longer than 256 characters"),
    ],
)
def test_names_claude_code_refuses_are_errors(tmp_path, name, reason):
    assert findings_of(tmp_path, f"name: '{name}'\ndescription: Designs.\n") == [
        ("error", "invalid-name", f"field 'name' is {name!r}: Claude Code refuses it because it {reason}")
    ]


@pytest.mark.parametrize(
    ("front_matter", "code", "message"),
    [
        ("name: a\ndescription: ''\n", "empty-field", "field 'description' is empty; Claude Code skips the agent"),
        ("name: 12\ndescription: D.\n", "wrong-type", "field 'name' must be a string, not an integer (12)"),
        ("name: a\ndescription: [a, b]\n", "wrong-type", "field 'description' must be a string, not a list"),
    ],
)
def test_unusable_name_or_description_is_an_error(tmp_path, front_matter, code, message):
    assert findings_of(tmp_path, front_matter) == [("error", code, message)]


def test_agent_team_and_task_tools_are_known(tmp_path):
    tools = "Read, Agent, TaskCreate, TaskList, TaskGet, TaskUpdate, TaskStop, SendMessage, ToolSearch, Task"
    assert findings_of(tmp_path, f"name: lead\ndescription: Leads.\ntools: {tools}\n") == []


def test_retired_tool_is_a_warning_naming_its_successor(tmp_path):
    assert findings_of(tmp_path, "name: a\ndescription: D.\ntools: Read, MultiEdit, TeamCreate\n") == [
        (
            "warning",
            "unknown-tool",
            "field 'tools': tool 'MultiEdit' is no longer a Claude Code tool; Claude Code ignores it; use 'Edit'",
        ),
        (
            "warning",
            "unknown-tool",
            "field 'tools': tool 'TeamCreate' is no longer a Claude Code tool; Claude Code ignores it",
        ),
    ]


@pytest.mark.parametrize("model", ["fable", "claude-fable-5", "claude-mythos-5-1", "claude-opus-4-8"])
def test_current_model_aliases_and_ids_have_no_findings(tmp_path, model):
    assert findings_of(tmp_path, f"name: a\ndescription: D.\nmodel: {model}\n") == []


def test_fable_model_id_normalises_to_its_family():
    info = normalise_model("claude-fable-5-1")
    assert (info.kind, info.family, info.label) == ("id", "fable", "Claude Fable 5.1")


def test_every_finding_names_a_rule_with_a_fixed_severity(tmp_path):
    _, findings = check_folder([FIXTURES])
    assert findings
    assert all(finding.severity == RULES[finding.code].severity for finding in findings)


def test_spec_file_records_its_source_and_the_date_it_was_checked():
    assert SPEC["source"]["url"] == "https://code.claude.com/docs/en/sub-agents"
    assert isinstance(SPEC["source"]["checked"], date)


@pytest.mark.parametrize(
    "front_matter",
    [
        "effort: 3\n",
        "effort: xhigh\n",
        "maxTurns: '12'\n",
        "model: Inherit\n",
        "mcpServers: [github, {db: {command: npx}}]\n",
        "color: purple\n",
    ],
)
def test_values_claude_code_reads_have_no_findings(tmp_path, front_matter):
    assert findings_of(tmp_path, "name: a\ndescription: D.\n" + front_matter) == []


@pytest.mark.parametrize(
    ("front_matter", "message"),
    [
        (
            "color: magenta\n",
            "field 'color' is 'magenta', not one of Claude Code's agent colours "
            "(red, blue, green, yellow, purple, orange, pink, cyan); Claude Code ignores it",
        ),
        (
            "color: '#1e90ff'\n",
            "field 'color' is '#1e90ff', not one of Claude Code's agent colours "
            "(red, blue, green, yellow, purple, orange, pink, cyan); Claude Code ignores it",
        ),
        (
            "mcpServers: {github: {command: npx}}\n",
            "field 'mcpServers' must be a list, not a mapping; Claude Code ignores it",
        ),
        ("maxTurns: 0\n", "field 'maxTurns' must be a positive integer, not 0; Claude Code ignores it"),
    ],
)
def test_values_claude_code_drops_are_warnings(tmp_path, front_matter, message):
    assert findings_of(tmp_path, "name: a\ndescription: D.\n" + front_matter) == [("warning", "invalid-value", message)]
