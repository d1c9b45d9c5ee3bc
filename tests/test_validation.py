"""The rules behind ``agentkb check``, through the Python API the Sphinx build uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkb.definitions import load_definition
from agentkb.validation import Finding, check_definition, check_folder, normalise_model, parse_tools

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
        ("max-turns-ten.md", "wrong-type"),
    ]


def test_name_with_uppercase_and_underscore_is_an_error_saying_what_is_wrong():
    assert findings_for("uppercase-name.md") == [
        f"{FIXTURES / 'uppercase-name.md'}:2: error[invalid-name]: "
        "field 'name' is 'Backend_Developer': it must be lowercase letters a-z joined by "
        "single hyphens, but has the uppercase letters 'B', 'D' and the character '_'; "
        "try 'backend-developer'"
    ]


def test_missing_description_is_an_error_pointing_at_the_front_matter():
    assert findings_for("missing-description.md") == [
        f"{FIXTURES / 'missing-description.md'}:1: error[missing-field]: required field 'description' is missing"
    ]


def test_max_turns_written_as_a_word_is_a_type_error():
    assert findings_for("max-turns-ten.md") == [
        f"{FIXTURES / 'max-turns-ten.md'}:4: error[wrong-type]: "
        "field 'maxTurns' must be a positive integer, not a string ('ten')"
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
        f"{FIXTURES / 'empty-tools.md'}:4: warning[empty-tools]: field 'tools' is empty; "
        "list the tools the agent needs, or remove the field to let it inherit every tool"
    ]


def test_model_given_as_a_display_name_is_a_warning():
    assert findings_for("bad-model.md") == [
        f"{FIXTURES / 'bad-model.md'}:4: warning[unknown-model]: field 'model': "
        "model 'Claude Sonnet 4' is neither an alias (sonnet, opus, haiku, inherit) "
        "nor a model ID such as claude-sonnet-4-20250514"
    ]


def test_permission_mode_typo_is_an_error_suggesting_the_mode():
    assert findings_for("permission-mode-typo.md") == [
        f"{FIXTURES / 'permission-mode-typo.md'}:4: error[invalid-value]: "
        "field 'permissionMode' is 'acceptEdit', not one of default, acceptEdits, auto, "
        "dontAsk, bypassPermissions, plan; did you mean 'acceptEdits'?"
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
