"""Lint agent definitions against what Claude Code accepts in a sub-agent file.

Claude Code refuses only a few mistakes: a file it cannot parse, or one without a
usable ``name`` and ``description``. Those are errors. It silently ignores the rest
(an unknown field, a misspelt tool, a permission mode it does not know), so the
agent quietly runs with other settings than its author intended: those are
warnings. Every finding carries the ID of a rule in :data:`RULES`, and each rule
has a page on the site (``agents/checker/<id>``).

What Claude Code accepts comes from one data file, ``claude_code_spec.toml``, which
records the documentation it was taken from and when. The module knows nothing
about Sphinx: the ``check`` command prints the findings, and the site's extension
turns them into build warnings.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from .definitions import AgentDefinition, DefinitionError, definition_files, load_definition

Severity = Literal["error", "warning"]

SPEC_PATH = Path(__file__).with_name("claude_code_spec.toml")
#: The data file's contents: fields, tools, models, name rules and their sources.
SPEC: dict[str, Any] = tomllib.loads(SPEC_PATH.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class CheckRule:
    #: Stable: findings, SARIF results and the rule's page URL all use it.
    id: str
    severity: Severity
    summary: str


RULES: dict[str, CheckRule] = {
    rule.id: rule
    for rule in (
        CheckRule("unreadable", "error", "The file has no readable YAML front matter"),
        CheckRule("missing-field", "error", "A required field (name or description) is missing"),
        CheckRule("empty-field", "error", "A required field (name or description) is empty"),
        CheckRule("wrong-type", "error", "The name or the description is not a string"),
        CheckRule("invalid-name", "error", "Claude Code refuses the agent's name"),
        CheckRule("name-style", "warning", "The name is not lowercase letters, digits and hyphens"),
        CheckRule("unknown-field", "warning", "A front-matter field Claude Code does not know"),
        CheckRule("invalid-value", "warning", "An optional field's value Claude Code ignores"),
        CheckRule("unknown-tool", "warning", "A tool name Claude Code does not know"),
        CheckRule("empty-tools", "warning", "The tools field is present but lists no tool"),
        CheckRule("unknown-model", "warning", "A model that is neither an alias nor a model ID"),
        CheckRule("duplicate-name", "warning", "Two files define agents with the same name"),
        CheckRule("missing-skill", "warning", "A preloaded skill is not where Claude Code looks"),
    )
}


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    severity: Severity
    #: The ID of the rule in :data:`RULES`, such as ``missing-field`` or ``unknown-tool``.
    code: str
    #: The front-matter field at fault, or ``None`` when the file as a whole is.
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}[{self.code}]: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


def _finding(path: Path, line: int, code: str, field: str | None, message: str) -> Finding:
    return Finding(path, line, RULES[code].severity, code, field, message)


@dataclass(frozen=True)
class ModelInfo:
    value: str
    kind: Literal["alias", "id"]
    #: A model family such as ``opus`` or ``sonnet``; ``None`` for ``inherit``.
    family: str | None
    label: str


_MODELS = SPEC["models"]
_TOOLS = SPEC["tools"]
_NAME = SPEC["name"]
MODEL_ALIASES: tuple[str, ...] = tuple(_MODELS["aliases"])
#: Tool names a ``tools`` list may use: today's names and the former ones Claude Code still matches.
KNOWN_TOOLS = frozenset(_TOOLS["builtin"]) | frozenset(_TOOLS["aliases"])
COLOR_NAMES: tuple[str, ...] = tuple(SPEC["colours"]["names"])

_DOCUMENTED_NAME = re.compile(_NAME["documented"])
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_MCP_TOOL = re.compile(r"mcp__[\w.*-]+")
_TOOL_PATTERN = re.compile(r"(?P<tool>\w+)\(.+\)")
#: What JavaScript's parseInt reads from the start of a string, as Claude Code reads maxTurns.
_LEADING_INTEGER = re.compile(r"\s*[+-]?\d+")
#: Any plausible model ID, including ones newer than the data file, is left alone.
_MODEL_ID_SHAPE = re.compile(re.escape(_MODELS["id-prefix"]) + r"[a-z0-9.-]+")
_FAMILY = "(?P<family>" + "|".join(map(re.escape, _MODELS["families"])) + ")"
_VERSION = r"(?P<major>\d+)(?:-(?P<minor>\d{1,2}))?"
_SNAPSHOT = r"(?:-(?:\d{8}|latest))?"
_FAMILY_FIRST_ID = re.compile(f"claude-{_FAMILY}-{_VERSION}{_SNAPSHOT}")
_VERSION_FIRST_ID = re.compile(f"claude-{_VERSION}-{_FAMILY}{_SNAPSHOT}")
#: A name in a comma-separated list; commas inside ``Bash(a, b)`` do not separate.
_LIST_ITEM = re.compile(r"(?:[^,(]|\([^)]*\)?)+")

Problem = tuple[str, str]  # (rule ID, message)
Check = Callable[[str, Any], Iterator[Problem]]


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


_IGNORED = "; Claude Code ignores it"


def _ignored_type(field: str, expected: str, value: object) -> Problem:
    return "invalid-value", f"field '{field}' must be {expected}, not {_describe(value)}{_IGNORED}"


def _of_type(kind: type | tuple[type, ...], expected: str) -> Check:
    def check(field: str, value: Any) -> Iterator[Problem]:
        if not isinstance(value, kind):
            yield _ignored_type(field, expected, value)

    return check


def _one_of(field: str, value: Any) -> Iterator[Problem]:
    choices = SPEC["fields"]["choices"][field]
    expected = f"'{choices[0]}'" if len(choices) == 1 else "one of " + ", ".join(choices)
    if not isinstance(value, str):
        yield _ignored_type(field, expected, value)
    elif value not in choices:
        hint = _did_you_mean(_closest(value, choices))
        yield "invalid-value", f"field '{field}' is {value!r}, not {expected}{_IGNORED}{hint}"


def _string_list(field: str, value: Any) -> Problem | None:
    """The problem with a field that takes a comma-separated string or a list of strings."""
    expected = "a comma-separated string or a list of strings"
    if isinstance(value, str):
        return None
    if not isinstance(value, list):
        return _ignored_type(field, expected, value)
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str):
            return (
                "invalid-value",
                f"field '{field}' must be {expected}, but item {position} is {_describe(item)}{_IGNORED}",
            )
    return None


def _characters(noun: str, chars: Sequence[str]) -> str:
    listed = ", ".join(map(repr, chars))
    return f"the {noun} {listed}" if len(chars) == 1 else f"the {noun}s {listed}"


def _required_text(field: str, value: Any) -> Problem | None:
    """Claude Code skips an agent whose name or description is not a non-empty string."""
    if not isinstance(value, str):
        return "wrong-type", f"field '{field}' must be a string, not {_describe(value)}"
    if not value.strip():
        return "empty-field", f"field '{field}' is empty; Claude Code skips the agent"
    return None


def _refusal_reasons(name: str) -> list[str]:
    """Why Claude Code refuses to load an agent with this name (nothing when it loads it)."""
    refused = [char for char in _NAME["rejected-characters"] if char in name]
    reasons = [f"contains {_characters('character', refused)}"] if refused else []
    if name.startswith(_NAME["rejected-prefix"]):
        reasons.append(f"starts with {_NAME['rejected-prefix']!r}")
    if len(name) > _NAME["max-length"]:
        reasons.append(f"is longer than {_NAME['max-length']} characters")
    return reasons


def _check_name(field: str, value: Any) -> Iterator[Problem]:
    problem = _required_text(field, value)
    if problem:
        yield problem
        return
    reasons = _refusal_reasons(value)
    if reasons:
        yield "invalid-name", f"field 'name' is {value!r}: Claude Code refuses it because it {' and '.join(reasons)}"
        return
    if _DOCUMENTED_NAME.fullmatch(value):
        return
    faults = []
    uppercase = sorted({char for char in value if char.isupper()})
    if uppercase:
        faults.append(_characters("uppercase letter", uppercase))
    others = sorted({char for char in value if not (char.isupper() or char in _NAME_CHARACTERS)})
    if others:
        faults.append(_characters("character", others))
    if value.endswith("-"):
        faults.append("a hyphen at the end")
    if "--" in value:
        faults.append("consecutive hyphens")
    # Only suggest a name when the fix is mechanical; dropping characters could change its meaning.
    fixed = re.sub(r"[\s_-]+", "-", value.lower()).strip("-")
    hint = f"; try '{fixed}'" if _DOCUMENTED_NAME.fullmatch(fixed) else ""
    yield (
        "name-style",
        f"field 'name' is {value!r}: the documented form is lowercase letters joined by single "
        f"hyphens (digits work too), but it has {' and '.join(faults)}{hint}",
    )


def _check_text(field: str, value: Any) -> Iterator[Problem]:
    problem = _required_text(field, value)
    if problem:
        yield problem


def _tool_problem(name: str) -> str | None:
    if name in KNOWN_TOOLS or _MCP_TOOL.fullmatch(name):
        return None
    pattern = _TOOL_PATTERN.fullmatch(name)
    if pattern and pattern["tool"] in KNOWN_TOOLS:
        return None
    head, paren, rest = name.partition("(")
    if head in _TOOLS["retired"]:
        successor = _TOOLS["retired"][head]
        instead = f"; use '{successor}'" if successor else ""
        return f"tool '{name}' is no longer a Claude Code tool; Claude Code ignores it{instead}"
    suggestion = _closest(head, KNOWN_TOOLS)
    return (
        f"tool '{name}' is not a Claude Code tool name; Claude Code ignores it"
        f"{_did_you_mean(suggestion and suggestion + paren + rest)}"
    )


def _check_tools(field: str, value: Any) -> Iterator[Problem]:
    blank = value in (None, []) or isinstance(value, str) and not parse_tools(value)
    if field == "tools" and blank:
        yield (
            "empty-tools",
            "field 'tools' lists no tool, so the agent gets none; list the tools it needs, "
            "or remove the field to let it inherit every tool",
        )
        return
    problem = _string_list(field, value)
    if problem:
        yield problem
        return
    for name in parse_tools(value):
        message = _tool_problem(name)
        if message:
            yield "unknown-tool", f"field '{field}': {message}"


def _check_model(field: str, value: Any) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield _ignored_type(field, "a string", value)
        return
    value = value.strip()
    # Claude Code reads any capitalisation of ``inherit`` as inherit.
    if value.lower() == "inherit":
        return
    if not (normalise_model(value) or _MODEL_ID_SHAPE.fullmatch(value)):
        hint = _did_you_mean(_closest(value, MODEL_ALIASES))
        yield (
            "unknown-model",
            f"field 'model': model {value!r} is neither an alias ({', '.join(MODEL_ALIASES)}) "
            f"nor a model ID such as {_MODELS['example-id']}{hint}",
        )


def _check_positive_integer(field: str, value: Any) -> Iterator[Problem]:
    if isinstance(value, str) and (leading := _LEADING_INTEGER.match(value)):
        value = int(leading.group())
    # bool is a subclass of int, and ``maxTurns: yes`` is certainly not a count.
    if not isinstance(value, int) or isinstance(value, bool):
        yield _ignored_type(field, "a positive integer", value)
    elif value < 1:
        yield "invalid-value", f"field '{field}' must be a positive integer, not {value}{_IGNORED}"


def _check_choice_or_integer(field: str, value: Any) -> Iterator[Problem]:
    if not isinstance(value, int) or isinstance(value, bool):
        yield from _one_of(field, value)


def _check_string_list(field: str, value: Any) -> Iterator[Problem]:
    problem = _string_list(field, value)
    if problem:
        yield problem


def _check_colour(field: str, value: Any) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield _ignored_type(field, "a string", value)
    elif value not in COLOR_NAMES:
        hint = _did_you_mean(_closest(value, COLOR_NAMES))
        yield (
            "invalid-value",
            f"field '{field}' is {value!r}, not one of Claude Code's agent colours "
            f"({', '.join(COLOR_NAMES)}){_IGNORED}{hint}",
        )


#: One check per kind of value the data file's ``[fields.kinds]`` names.
_CHECKS_BY_KIND: dict[str, Check] = {
    "name": _check_name,
    "text": _check_text,
    "tool-list": _check_tools,
    "model": _check_model,
    "choice": _one_of,
    "choice-or-integer": _check_choice_or_integer,
    "positive-integer": _check_positive_integer,
    "string-list": _check_string_list,
    "list": _of_type(list, "a list"),
    "mapping": _of_type(dict, "a mapping"),
    "boolean": _of_type(bool, "true or false"),
    "string": _of_type(str, "a string"),
    "colour": _check_colour,
}
FIELD_CHECKS: dict[str, Check] = {field: _CHECKS_BY_KIND[kind] for field, kind in SPEC["fields"]["kinds"].items()}
REQUIRED_FIELDS: tuple[str, ...] = tuple(SPEC["fields"]["required"])


def _unknown_field(field: str) -> str:
    suggestion = SPEC["fields"]["aliases"].get(_fold(field)) or _closest(field, FIELD_CHECKS)
    return f"unknown field '{field}'; Claude Code ignores it{_did_you_mean(suggestion)}"


def check_definition(defn: AgentDefinition) -> list[Finding]:
    """Findings of the rules that need only this one file."""
    findings = [
        _finding(defn.path, 1, "missing-field", field, f"required field '{field}' is missing")
        for field in REQUIRED_FIELDS
        if field not in defn.meta
    ]
    for key, value in defn.meta.items():
        field = str(key)
        line = defn.line_of(field)
        check = FIELD_CHECKS.get(field)
        if check is None:
            findings.append(_finding(defn.path, line, "unknown-field", field, _unknown_field(field)))
            continue
        findings.extend(_finding(defn.path, line, code, field, message) for code, message in check(field, value))
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
            yield _finding(
                defn.path,
                defn.line_of("name"),
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
                yield _finding(
                    defn.path,
                    defn.line_of("skills"),
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
            findings.append(_finding(exc.path, exc.line, "unreadable", None, exc.message))
            continue
        definitions.append(defn)
        findings.extend(check_definition(defn))
    findings.extend(_duplicate_names(definitions))
    findings.extend(_missing_skills(definitions, skills_dirs))
    return definitions, findings
