"""Read Claude Code agent definition files: YAML front matter plus a Markdown body.

Everything the site shows about an agent is derived from the raw file through
:func:`load_definition`, so this module is the single place that knows the format.
Errors carry the file and the line, because a user fixing their own
``.claude/agents/`` folder needs to know where to look.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FENCE = "---"
_FAST_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LocatedError(Exception):
    """An error in one of the site's data files, reported as ``path:line: message``."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


class DefinitionError(LocatedError):
    """A definition file that cannot be read at all: no front matter, bad YAML, ..."""


@dataclass(frozen=True)
class AgentDefinition:
    path: Path
    meta: dict[str, Any]
    #: 1-based line of each top-level front-matter key, for messages that point at a field.
    field_lines: dict[str, int]
    body: str
    #: 1-based line number, in the file, of the body's first line.
    body_start_line: int
    raw: bytes = field(repr=False)

    @property
    def slug(self) -> str:
        return self.path.stem

    @property
    def name(self) -> str:
        value = self.meta.get("name")
        return value if isinstance(value, str) else self.slug

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    def line_of(self, key: str) -> int:
        """The line of a front-matter field, or the opening fence when it is absent."""
        return self.field_lines.get(key, 1)


def _split(path: Path, text: str) -> tuple[str, int, int]:
    """Return the front-matter text, the line it starts on, and the body's first line."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != FENCE:
        raise DefinitionError(path, 1, "no YAML front matter: the file must start with a line '---'")
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n") == FENCE:
            return "".join(lines[1:index]), 2, index + 2
    raise DefinitionError(path, 1, "the front matter opened on line 1 is never closed with a line '---'")


def _mapping_lines(node: yaml.Node, first_line: int) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {key.value: key.start_mark.line + first_line for key, _ in node.value if isinstance(key, yaml.ScalarNode)}


def _compose_and_construct(front: str, loader_class: type) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(front)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def load_yaml(front: str) -> tuple[yaml.Node | None, Any]:
    """A YAML document's node tree (for line numbers) and its value, parsed once.

    libyaml's parser is several times faster, which a linter run on every commit
    needs; when it fails, the pure-Python parser runs again for its clearer message
    (it names the character at fault: "found character '\\t' ...").
    """
    try:
        return _compose_and_construct(front, _FAST_LOADER)
    except yaml.MarkedYAMLError:
        return _compose_and_construct(front, yaml.SafeLoader)


def parse_definition(path: Path, raw: bytes) -> AgentDefinition:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DefinitionError(path, line, "the file is not valid UTF-8") from None
    front, front_line, body_line = _split(path, text)
    try:
        node, meta = load_yaml(front)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = front_line + (mark.line if mark else 0)
        reason = exc.problem or exc.context or "malformed YAML"
        # An unclosed bracket or quote is only noticed lines later: say where it opened.
        if exc.context and exc.context_mark and front_line + exc.context_mark.line != line:
            reason += f" ({exc.context} that starts on line {front_line + exc.context_mark.line})"
        raise DefinitionError(path, line, f"malformed YAML front matter: {reason}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise DefinitionError(
            path,
            front_line,
            f"the front matter must be a mapping of fields, not a {type(meta).__name__}",
        )
    body = "".join(text.splitlines(keepends=True)[body_line - 1 :])
    return AgentDefinition(
        path=path,
        meta=meta,
        field_lines=_mapping_lines(node, front_line) if node is not None else {},
        body=body,
        body_start_line=body_line,
        raw=raw,
    )


def load_definition(path: Path | str) -> AgentDefinition:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DefinitionError(path, 1, f"cannot read the file: {exc.strerror}") from None
    return parse_definition(path, raw)


def definition_files(folder: Path) -> list[Path]:
    """The agent files of a folder, in a stable order (sidecars are not ``.md``)."""
    return sorted(p for p in folder.glob("*.md") if p.is_file())
