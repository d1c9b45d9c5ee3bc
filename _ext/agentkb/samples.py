"""Which code samples run, and why the others do not: the classification, without Sphinx.

- Agents' samples are classified from their language and from a sidecar next to each
  definition (``<slug>.samples.toml``, keyed by the first 12 hex digits of the sample's
  SHA-256, so edits elsewhere in the file do not move an entry). The Sybil evaluators in
  ``tests/agent_samples`` import this classification and enforce it, so a status shown
  on a page is one the tests check.
- Hand-written pages: a Python block's status is what Sybil will do with it, found with
  the very parsers the test suite gives Sybil (:func:`page_parsers`, used by the root
  ``conftest.py``): ``% skip: next``, ``<!-- skip: next -->``, ``skip: start``/``end``
  and the conditional ``skip: next if(...)`` are Sybil's lexers' reading, not a second one.

The Sphinx layer (badges, the report) is :mod:`agentkb.verification`.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from doctest import ELLIPSIS, NORMALIZE_WHITESPACE
from pathlib import Path
from typing import Any

from .definitions import AgentDefinition, LocatedError
from .facts import AgentFacts, CodeSample, measure

SIDECAR_SUFFIX = ".samples.toml"
KEY_LENGTH = 12

#: Statuses in the order the report's columns show them.
STATUSES = ("runs", "runs-with-setup", "needs-python", "does-not-run", "not-executed")
STATUS_TITLES = {
    "runs": "runs",
    "runs-with-setup": "runs with set-up",
    "needs-python": "needs a newer Python",
    "does-not-run": "does not run",
    "not-executed": "not executed",
}

_KEYS_FOR = {
    "runs": ({"status"}, {"exercise", "schema"}),
    "runs-with-setup": ({"status", "setup"}, {"exercise"}),
    "needs-python": ({"status", "python", "reason"}, {"setup", "exercise"}),
    "does-not-run": ({"status", "error", "reason", "corrected"}, {"setup", "exercise", "schema"}),
    "not-executed": ({"status", "reason"}, set()),
}
_ALL_KEYS = set().union(*(required | optional for required, optional in _KEYS_FOR.values()))
#: Keys that only make sense for one checker.
_KEY_CHECKS = {"setup": "python", "exercise": "python", "python": "python", "schema": "json"}

#: Language as written in a fence -> the checker the tests apply to it.
_CHECKERS = {
    "python": "python",
    "py": "python",
    "json": "json",
    "toml": "toml",
    "yaml": "yaml",
    "yml": "yaml",
    "typescript": "tsc",
    "ts": "tsc",
    "javascript": "tsc",
    "js": "tsc",
}
#: Languages nothing here can execute, and why.
_UNCHECKED = {
    "": "plain text",
    "prisma": "the Prisma CLI is not installed here",
}
_IMPORT = re.compile(
    r"""^\s*(?:import\b[^'"]*?['"](?P<esm>[^'"]+)['"]|.*\brequire\(\s*['"](?P<cjs>[^'"]+)['"]\s*\))""",
    re.MULTILINE,
)


class SidecarError(LocatedError):
    """A sidecar that cannot be applied: unknown key, bad value, entry without a sample."""


@dataclass(frozen=True)
class Entry:
    """One table of a sidecar: what is known about one sample."""

    path: Path
    key: str
    line: int
    values: dict[str, str]
    #: 1-based line of each key, for messages that point at a value.
    key_lines: dict[str, int]

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    @property
    def status(self) -> str:
        return self.values["status"]

    def where(self, name: str | None = None) -> str:
        return f"{self.path}:{self.key_lines.get(name, self.line) if name else self.line}"


@dataclass(frozen=True)
class Verdict:
    """The classification of one code sample of an agent file."""

    slug: str
    sample: CodeSample
    key: str
    #: 1-based line of the opening fence in the raw file.
    line: int
    status: str
    #: "python", "json", "toml", "yaml", "openapi", "tsc", or "" when nothing runs.
    check: str
    reason: str
    entry: Entry | None

    @property
    def language(self) -> str:
        return self.sample.language or "text"

    @property
    def anchor(self) -> str:
        return f"sample-{self.key}"

    def value(self, name: str) -> str | None:
        return self.entry.get(name) if self.entry else None

    @property
    def expected_error(self) -> tuple[str, str]:
        """``error = "Type: fragment"`` split into the exception type and the fragment."""
        kind, _, fragment = (self.value("error") or "").partition(": ")
        return kind, fragment

    @property
    def min_python(self) -> tuple[int, ...]:
        return tuple(int(part) for part in (self.value("python") or "0").split("."))


def sample_key(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def sidecar_path(definition_path: Path) -> Path:
    return definition_path.with_name(definition_path.stem + SIDECAR_SUFFIX)


_HEADER = re.compile(r'^\s*\[\s*"?([^"\]]*)"?\s*\]')
_ASSIGNMENT = re.compile(r'^\s*"?([A-Za-z0-9_-]+)"?\s*=')


def _lines(text: str) -> tuple[dict[str, int], dict[str, dict[str, int]], dict[str, int]]:
    """Lines of the tables, of the keys in each table, and of keys outside any table.

    tomllib keeps no positions; sidecars are flat tables of one-line values, which a
    line scan locates well enough for error messages.
    """
    tables: dict[str, int] = {}
    keys: dict[str, dict[str, int]] = {}
    top: dict[str, int] = {}
    current: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if header := _HEADER.match(line):
            current = header.group(1).strip()
            tables.setdefault(current, number)
            keys.setdefault(current, {})
        elif assignment := _ASSIGNMENT.match(line):
            target = top if current is None else keys[current]
            target.setdefault(assignment.group(1), number)
    return tables, keys, top


def load_sidecar(path: Path) -> dict[str, Entry]:
    """The entries of a sidecar file, checked for shape; {} when there is no file."""
    if not path.exists():
        return {}
    text = path.read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise SidecarError(path, int(match.group(1)) if match else 1, f"not valid TOML: {exc}") from None
    tables, key_lines, top = _lines(text)
    entries = {}
    for key, values in data.items():
        line = tables.get(key, top.get(key, 1))
        if not isinstance(values, dict):
            raise SidecarError(path, line, f'{key!r} must be a table ["<sample key>"], not a value')
        if not re.fullmatch(rf"[0-9a-f]{{{KEY_LENGTH}}}", key):
            raise SidecarError(
                path, line, f"{key!r} is not a sample key (the first {KEY_LENGTH} hex digits of the sample's SHA-256)"
            )
        entry = Entry(path, key, line, values, key_lines.get(key, {}))
        _check_entry(entry)
        entries[key] = entry
    return entries


def _check_entry(entry: Entry) -> None:
    for name, value in entry.values.items():
        if name not in _ALL_KEYS:
            raise SidecarError(
                entry.path,
                entry.key_lines.get(name, entry.line),
                f"unknown key {name!r} (known: {', '.join(sorted(_ALL_KEYS))})",
            )
        if not isinstance(value, str):
            raise SidecarError(entry.path, entry.key_lines.get(name, entry.line), f"{name!r} must be a string")
    status = entry.values.get("status")
    if status not in _KEYS_FOR:
        raise SidecarError(
            entry.path,
            entry.key_lines.get("status", entry.line),
            f"status must be one of {', '.join(STATUSES)}, not {status!r}",
        )
    required, optional = _KEYS_FOR[status]
    for name in sorted(required - entry.values.keys()):
        raise SidecarError(entry.path, entry.line, f"status {status!r} needs the key {name!r}")
    for name in sorted(entry.values.keys() - required - optional):
        raise SidecarError(
            entry.path,
            entry.key_lines.get(name, entry.line),
            f"the key {name!r} does not apply to status {status!r}",
        )
    if "python" in entry.values and not re.fullmatch(r"3\.\d+", entry.values["python"]):
        raise SidecarError(entry.path, entry.key_lines["python"], 'python must be a version such as "3.12"')
    if "error" in entry.values and not re.fullmatch(r"\w+: .+", entry.values["error"]):
        raise SidecarError(entry.path, entry.key_lines["error"], 'error must read "ExceptionType: message fragment"')


def _imports(code: str) -> list[str]:
    found = [m.group("esm") or m.group("cjs") for m in _IMPORT.finditer(code)]
    return list(dict.fromkeys(found))


def _imports_reason(modules: list[str]) -> str:
    packages = [f"`{m}`" for m in modules if not m.startswith(".")]
    local = len(modules) - len(packages)
    parts = [f"{', '.join(packages)} (not installed here)"] if packages else []
    if local:
        parts.append(f"{local} module{'s' if local > 1 else ''} of its project")
    return "imports " + " and ".join(parts)


def _default(sample: CodeSample) -> tuple[str, str, str]:
    """Status, checker and reason for a sample the sidecar says nothing about."""
    language = sample.language.lower()
    check = _CHECKERS.get(language)
    if check == "yaml" and re.search(r"^openapi:", sample.code, re.MULTILINE):
        check = "openapi"
    if check == "tsc" and (modules := _imports(sample.code)):
        return "not-executed", "", _imports_reason(modules)
    if check:
        return "runs", check, ""
    return "not-executed", "", _UNCHECKED.get(language, "no checker for this language")


def classify(definition: AgentDefinition, facts: AgentFacts | None = None) -> list[Verdict]:
    """Every code sample of an agent file with its status; SidecarError if the sidecar is wrong.

    ``facts`` are the body's, when the caller has them already (parsing the body is most
    of the work)."""
    entries = load_sidecar(sidecar_path(definition.path))
    verdicts = []
    for sample in (facts or measure(definition.body)).samples:
        key = sample_key(sample.code)
        status, check, reason = _default(sample)
        entry = entries.get(key)
        if entry is not None:
            status = entry.status
            check = check or _CHECKERS.get(sample.language.lower(), "")
            if status != "not-executed" and not check:
                raise SidecarError(
                    entry.path,
                    entry.key_lines.get("status", entry.line),
                    f'nothing can check {sample.language or "plain text"} samples: use status "not-executed"',
                )
            for name, needed in _KEY_CHECKS.items():
                if name in entry.values and check != needed:
                    raise SidecarError(
                        entry.path,
                        entry.key_lines[name],
                        f"the key {name!r} applies to {needed} samples, not {sample.language or 'plain text'}",
                    )
            reason = entry.get("reason") or ""
        verdicts.append(
            Verdict(
                slug=definition.slug,
                sample=sample,
                key=key,
                line=definition.body_start_line + sample.line - 1,
                status=status,
                check="" if status == "not-executed" else check,
                reason=reason,
                entry=entry,
            )
        )
    matched = {v.key for v in verdicts}
    for key, entry in entries.items():
        if key not in matched:
            raise SidecarError(
                entry.path,
                entry.line,
                f"entry {key!r} matches no code sample of {definition.path.name} (was the sample edited?)",
            )
    return verdicts


# --- Hand-written pages, read the way Sybil reads them -------------------------------------


def page_parsers() -> list[Any]:
    """The Sybil parsers for the site's hand-written pages (the root conftest.py uses these)."""
    from sybil.parsers.myst import ClearNamespaceParser, PythonCodeBlockParser, SkipParser

    return [
        PythonCodeBlockParser(doctest_optionflags=ELLIPSIS | NORMALIZE_WHITESPACE),
        SkipParser(),
        ClearNamespaceParser(),
    ]


@dataclass(frozen=True)
class PageBlock:
    """A Python example Sybil collects from a page, and what it will do with it."""

    #: 1-based line where the example starts (the fence, or the comment of an invisible block).
    line: int
    #: "runs", "runs-with-setup", "skipped" or "skipped-if" (a ``skip: ... if(...)``).
    status: str
    #: The skip's reason, or its condition for "skipped-if".
    reason: str = ""
    invisible: bool = False


_INVISIBLE = re.compile(r"^\s*(%|<!--)\s*invisible-code")


def _skip_reason(arguments: str | None) -> tuple[str, str]:
    """("skipped" | "skipped-if", reason or condition) for the text after ``skip: next``."""
    text = (arguments or "").strip()
    if text.startswith("if"):
        return "skipped-if", text[2:].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return "skipped", text[1:-1]
    return "skipped", text


def page_blocks(text: str, path: str = "<page>") -> list[PageBlock]:
    """The Python examples Sybil would collect from a MyST page, each with its status."""
    from sybil import Document
    from sybil.evaluators.skip import Skipper

    document = Document(text, path)
    code, skip_parser = page_parsers()[:2]
    regions = sorted([*code(document), *skip_parser(document)], key=lambda r: r.start)
    found: list[PageBlock] = []
    skip_next: tuple[str, str] | None = None
    skipping: tuple[str, str] | None = None
    for region in regions:
        if isinstance(region.evaluator, Skipper):
            action, arguments = region.parsed
            if action == "next":
                skip_next = _skip_reason(arguments)
            elif action == "start":
                skipping = _skip_reason(arguments)
            else:
                skipping = None
            continue
        line = text.count("\n", 0, region.start) + 1
        invisible = bool(_INVISIBLE.match(text[region.start : region.end]))
        skip = skip_next or skipping
        if skip is not None:
            found.append(PageBlock(line, skip[0], skip[1], invisible))
            skip_next = None
            continue
        set_up = bool(found) and found[-1].invisible and found[-1].status.startswith("runs")
        found.append(PageBlock(line, "runs-with-setup" if set_up and not invisible else "runs", "", invisible))
    return found
