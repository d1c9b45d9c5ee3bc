"""Lint agent definitions against Claude Code's documented sub-agent format.

Claude Code silently ignores most mistakes in an agent file (an unknown field, a
misspelt tool, a model it does not know), so the agent quietly runs with other
settings than its author intended. These rules turn such mistakes into findings
that point at the file, the line and the field.

The module knows nothing about Sphinx: the ``check`` command prints the findings,
and the site's extension turns them into build warnings.
"""

from __future__ import annotations

import difflib
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from .definitions import AgentDefinition, DefinitionError, definition_files, load_definition

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    severity: Severity
    #: A stable identifier for the rule, such as ``missing-field`` or ``unknown-tool``.
    code: str
    #: The front-matter field at fault, or ``None`` when the file as a whole is.
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}[{self.code}]: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


@dataclass(frozen=True)
class ModelInfo:
    value: str
    kind: Literal["alias", "id"]
    #: ``opus``, ``sonnet`` or ``haiku``; ``None`` for ``inherit``.
    family: str | None
    label: str


BUILTIN_TOOLS = frozenset(
    {
        "Agent",
        # Agent's former name, which older definitions still use.
        "Task",
        "Bash",
        "BashOutput",
        "KillShell",
        "Edit",
        "MultiEdit",
        "Glob",
        "Grep",
        "LS",
        "NotebookEdit",
        "NotebookRead",
        "Read",
        "Skill",
        "SlashCommand",
        "TodoWrite",
        "WebFetch",
        "WebSearch",
        "Write",
        "ExitPlanMode",
        "AskUserQuestion",
    }
)
MODEL_ALIASES = ("sonnet", "opus", "haiku", "inherit")
PERMISSION_MODES = ("default", "acceptEdits", "auto", "dontAsk", "bypassPermissions", "plan")
MEMORY_SCOPES = ("user", "project", "local")
EFFORT_LEVELS = ("low", "medium", "high", "max")
ISOLATION_MODES = ("worktree",)
COLOR_NAMES = ("red", "orange", "yellow", "green", "cyan", "blue", "purple", "magenta", "pink", "white")

_NAME = re.compile(r"[a-z]+(?:-[a-z]+)*")
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz-")
_MCP_TOOL = re.compile(r"mcp__[\w.*-]+")
_TOOL_PATTERN = re.compile(r"(?P<tool>\w+)\(.+\)")
_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
#: Any plausible model ID, including ones newer than this module, is left alone.
_MODEL_ID_SHAPE = re.compile(r"claude-[a-z0-9.-]+")
# Since Claude 4 the family comes before the version; before that, after it.
_FAMILY = r"(?P<family>opus|sonnet|haiku)"
_VERSION = r"(?P<major>\d+)(?:-(?P<minor>\d{1,2}))?"
_SNAPSHOT = r"(?:-(?:\d{8}|latest))?"
_FAMILY_FIRST_ID = re.compile(f"claude-{_FAMILY}-{_VERSION}{_SNAPSHOT}")
_VERSION_FIRST_ID = re.compile(f"claude-{_VERSION}-{_FAMILY}{_SNAPSHOT}")
#: A name in a comma-separated list; commas inside ``Bash(a, b)`` do not separate.
_LIST_ITEM = re.compile(r"(?:[^,(]|\([^)]*\)?)+")
#: Names people carry over from other formats, too far from the right one for difflib.
_FIELD_ALIASES = {"allowedtools": "tools"}

Problem = tuple[Severity, str, str]
Rule = Callable[[str, Any], Iterator[Problem]]


def normalise_model(value: str) -> ModelInfo | None:
    """Recognise a model alias or a full model ID; ``None`` for anything else."""
    if value in MODEL_ALIASES:
        family = None if value == "inherit" else value
        label = "Inherit (the main conversation's model)" if family is None else value.title()
        return ModelInfo(value, "alias", family, label)
    for pattern in (_FAMILY_FIRST_ID, _VERSION_FIRST_ID):
        match = pattern.fullmatch(value)
        if match:
            family = match["family"]
            version = match["major"] + (f".{match['minor']}" if match["minor"] else "")
            if pattern is _FAMILY_FIRST_ID:
                label = f"Claude {family.title()} {version}"
            else:
                label = f"Claude {version} {family.title()}"
            return ModelInfo(value, "id", family, label)
    return None


def parse_tools(value: object) -> list[str]:
    """The tool names of a ``tools``-style field, written as a string or a YAML list."""
    if isinstance(value, str):
        items: Iterable[str] = _LIST_ITEM.findall(value)
    elif isinstance(value, list):
        items = (str(item) for item in value)
    else:
        return []
    return [name for name in (item.strip() for item in items) if name]


def _fold(word: str) -> str:
    return re.sub(r"[\s_-]", "", word.lower())


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` most likely misspells, ignoring case, ``_`` and ``-``."""
    by_fold = {_fold(candidate): candidate for candidate in candidates}
    hits = difflib.get_close_matches(_fold(word), by_fold, n=1, cutoff=0.75)
    return by_fold[hits[0]] if hits else None


def _did_you_mean(suggestion: str | None) -> str:
    return f"; did you mean '{suggestion}'?" if suggestion else ""


def _describe(value: object) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _wrong_type(field: str, expected: str, value: object) -> Problem:
    return "error", "wrong-type", f"field '{field}' must be {expected}, not {_describe(value)}"


def _of_type(kind: type | tuple[type, ...], expected: str) -> Rule:
    def rule(field: str, value: Any) -> Iterator[Problem]:
        if not isinstance(value, kind):
            yield _wrong_type(field, expected, value)

    return rule


def _one_of(choices: Sequence[str], severity: Severity) -> Rule:
    expected = f"'{choices[0]}'" if len(choices) == 1 else "one of " + ", ".join(choices)

    def rule(field: str, value: Any) -> Iterator[Problem]:
        if not isinstance(value, str):
            yield _wrong_type(field, expected, value)
        elif value not in choices:
            code = "invalid-value" if severity == "error" else "unusual-value"
            hint = _did_you_mean(_closest(value, choices))
            yield severity, code, f"field '{field}' is {value!r}, not {expected}{hint}"

    return rule


def _string_list(field: str, value: Any) -> Problem | None:
    """The problem with a field that takes a comma-separated string or a list of strings."""
    expected = "a comma-separated string or a list of strings"
    if isinstance(value, str):
        return None
    if not isinstance(value, list):
        return _wrong_type(field, expected, value)
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str):
            return (
                "error",
                "wrong-type",
                f"field '{field}' must be {expected}, but item {position} is {_describe(item)}",
            )
    return None


def _characters(noun: str, chars: Sequence[str]) -> str:
    listed = ", ".join(map(repr, chars))
    return f"the {noun} {listed}" if len(chars) == 1 else f"the {noun}s {listed}"


def _check_name(field: str, value: Any) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield _wrong_type(field, "a string", value)
        return
    if _NAME.fullmatch(value):
        return
    if not value:
        yield "error", "empty-field", f"field '{field}' is empty"
        return
    faults = []
    uppercase = sorted({char for char in value if char.isupper()})
    if uppercase:
        faults.append(_characters("uppercase letter", uppercase))
    others = sorted({char for char in value if not (char.isupper() or char in _NAME_CHARACTERS)})
    if others:
        faults.append(_characters("character", others))
    if value.startswith("-") or value.endswith("-"):
        faults.append("a hyphen at the start or end")
    if "--" in value:
        faults.append("consecutive hyphens")
    # Only suggest a name when the fix is mechanical; dropping characters could change its meaning.
    fixed = re.sub(r"[\s_-]+", "-", value.lower()).strip("-")
    hint = f"; try '{fixed}'" if _NAME.fullmatch(fixed) else ""
    yield (
        "error",
        "invalid-name",
        f"field 'name' is {value!r}: it must be lowercase letters a-z joined by single hyphens, "
        f"but has {' and '.join(faults)}{hint}",
    )


def _check_description(field: str, value: Any) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield _wrong_type(field, "a string", value)
    elif not value.strip():
        yield "error", "empty-field", f"field '{field}' is empty; Claude Code delegates by it"


def _tool_problem(name: str) -> str | None:
    if name in BUILTIN_TOOLS or _MCP_TOOL.fullmatch(name):
        return None
    pattern = _TOOL_PATTERN.fullmatch(name)
    if pattern and pattern["tool"] in BUILTIN_TOOLS:
        return None
    head, paren, rest = name.partition("(")
    suggestion = _closest(head, BUILTIN_TOOLS)
    return (
        f"tool '{name}' is not a Claude Code tool name; Claude Code ignores it"
        f"{_did_you_mean(suggestion and suggestion + paren + rest)}"
    )


def _check_tools(field: str, value: Any) -> Iterator[Problem]:
    blank = value in (None, []) or isinstance(value, str) and not parse_tools(value)
    if field == "tools" and blank:
        yield (
            "warning",
            "empty-tools",
            "field 'tools' is empty; list the tools the agent needs, or remove the field to let it inherit every tool",
        )
        return
    problem = _string_list(field, value)
    if problem:
        yield problem
        return
    for name in parse_tools(value):
        message = _tool_problem(name)
        if message:
            yield "warning", "unknown-tool", f"field '{field}': {message}"


def _check_model(field: str, value: Any) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield _wrong_type(field, "a string", value)
    elif not (normalise_model(value) or _MODEL_ID_SHAPE.fullmatch(value)):
        hint = _did_you_mean(_closest(value, MODEL_ALIASES))
        yield (
            "warning",
            "unknown-model",
            f"field 'model': model {value!r} is neither an alias ({', '.join(MODEL_ALIASES)}) "
            f"nor a model ID such as claude-sonnet-4-20250514{hint}",
        )


def _check_max_turns(field: str, value: Any) -> Iterator[Problem]:
    # bool is a subclass of int, and ``maxTurns: yes`` is certainly not a count.
    if not isinstance(value, int) or isinstance(value, bool):
        yield _wrong_type(field, "a positive integer", value)
    elif value < 1:
        yield "error", "invalid-value", f"field '{field}' must be a positive integer, not {value}"


def _check_skills(field: str, value: Any) -> Iterator[Problem]:
    problem = _string_list(field, value)
    if problem:
        yield problem


def _check_color(field: str, value: Any) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield _wrong_type(field, "a string", value)
    elif value.lower() not in COLOR_NAMES and not _HEX_COLOR.fullmatch(value):
        yield (
            "warning",
            "unusual-value",
            f"field '{field}' is {value!r}, which is neither a colour name "
            f"({', '.join(COLOR_NAMES)}) nor a hex colour such as '#1e90ff'",
        )


FIELD_RULES: dict[str, Rule] = {
    "name": _check_name,
    "description": _check_description,
    "tools": _check_tools,
    "disallowedTools": _check_tools,
    "model": _check_model,
    "permissionMode": _one_of(PERMISSION_MODES, "error"),
    "maxTurns": _check_max_turns,
    "skills": _check_skills,
    "mcpServers": _of_type((list, dict), "a list or a mapping"),
    "hooks": _of_type(dict, "a mapping"),
    "memory": _one_of(MEMORY_SCOPES, "error"),
    "background": _of_type(bool, "true or false"),
    "effort": _one_of(EFFORT_LEVELS, "warning"),
    "isolation": _one_of(ISOLATION_MODES, "error"),
    "initialPrompt": _of_type(str, "a string"),
    "color": _check_color,
}
REQUIRED_FIELDS = ("name", "description")


def _unknown_field(field: str) -> str:
    suggestion = _FIELD_ALIASES.get(_fold(field)) or _closest(field, FIELD_RULES)
    return f"unknown field '{field}'; Claude Code ignores it{_did_you_mean(suggestion)}"


def check_definition(defn: AgentDefinition) -> list[Finding]:
    """Findings of the rules that need only this one file."""
    findings = [
        Finding(defn.path, 1, "error", "missing-field", field, f"required field '{field}' is missing")
        for field in REQUIRED_FIELDS
        if field not in defn.meta
    ]
    for key, value in defn.meta.items():
        field = str(key)
        line = defn.line_of(field)
        rule = FIELD_RULES.get(field)
        if rule is None:
            message = _unknown_field(field)
            findings.append(Finding(defn.path, line, "warning", "unknown-field", field, message))
            continue
        findings.extend(
            Finding(defn.path, line, severity, code, field, message) for severity, code, message in rule(field, value)
        )
    return findings


def definition_paths(paths: Iterable[Path]) -> list[Path]:
    """Expand folders to their ``*.md`` files, keeping order and dropping repeats."""
    seen: set[Path] = set()
    files = []
    for path in paths:
        for file in definition_files(path) if path.is_dir() else [path]:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files


def default_skills_dir(definition_path: Path) -> Path:
    """``.claude/skills`` for a file in ``.claude/agents``: the agents folder's sibling."""
    return Path(os.path.normpath(definition_path.parent / os.pardir / "skills"))


def _duplicate_names(definitions: Sequence[AgentDefinition]) -> Iterator[Finding]:
    by_name: dict[str, list[AgentDefinition]] = defaultdict(list)
    for defn in definitions:
        name = defn.meta.get("name")
        if isinstance(name, str) and name:
            by_name[name].append(defn)
    for name, group in by_name.items():
        for defn in group[1:]:
            others = ", ".join(str(other.path) for other in group if other is not defn)
            yield Finding(
                defn.path,
                defn.line_of("name"),
                "warning",
                "duplicate-name",
                "name",
                f"name '{name}' is also used by {others}; Claude Code loads only one of them",
            )


def _missing_skills(definitions: Sequence[AgentDefinition], skills_dirs: Sequence[Path]) -> Iterator[Finding]:
    for defn in definitions:
        value = defn.meta.get("skills")
        if value is None or _string_list("skills", value):
            continue
        folders = [default_skills_dir(defn.path), *skills_dirs]
        for skill in parse_tools(value):
            if not any((folder / skill / "SKILL.md").is_file() for folder in folders):
                yield Finding(
                    defn.path,
                    defn.line_of("skills"),
                    "warning",
                    "missing-skill",
                    "skills",
                    f"field 'skills': skill '{skill}' is not present in "
                    f"{' or '.join(map(str, folders))} (no {skill}/SKILL.md)",
                )


def check_folder(
    paths: Iterable[Path], *, skills_dirs: Sequence[Path] = ()
) -> tuple[list[AgentDefinition], list[Finding]]:
    """Load and check definition files (folders stand for their ``*.md`` files).

    A file that cannot be loaded becomes an error finding, and the others are still
    checked. ``skills_dirs`` are searched for skills after each file's
    :func:`default_skills_dir`.
    """
    definitions = []
    findings = []
    for path in definition_paths(paths):
        try:
            defn = load_definition(path)
        except DefinitionError as exc:
            findings.append(Finding(exc.path, exc.line, "error", "unreadable", None, exc.message))
            continue
        definitions.append(defn)
        findings.extend(check_definition(defn))
    findings.extend(_duplicate_names(definitions))
    findings.extend(_missing_skills(definitions, skills_dirs))
    return definitions, findings
