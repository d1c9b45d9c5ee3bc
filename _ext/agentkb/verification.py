"""What became of every code block on the site: run, checked, or why not.

The agents' samples are classified here, from their language and from a sidecar
file next to each definition (``<slug>.samples.toml``, keyed by the first 12 hex
digits of the sample's SHA-256, so edits elsewhere in the file do not move an
entry). The Sybil evaluators in ``tests/agent_samples`` import this
classification and enforce it, so a status shown on a page is one the tests
check: a sample said not to run is asserted to fail with the stated error.

Hand-written pages follow their Sybil comments: Python blocks run unless a
``% skip`` comment says otherwise; other languages are not executed.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from . import tables
from .definitions import AgentDefinition, LocatedError
from .facts import CodeSample, measure
from .ingest import catalog
from .state import build_state

logger = logging.getLogger(__name__)

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
    "python": "python", "py": "python",
    "json": "json", "toml": "toml", "yaml": "yaml", "yml": "yaml",
    "typescript": "tsc", "ts": "tsc", "javascript": "tsc", "js": "tsc",
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
            raise SidecarError(path, line, f"{key!r} must be a table [\"<sample key>\"], not a value")
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
                entry.path, entry.key_lines.get(name, entry.line),
                f"unknown key {name!r} (known: {', '.join(sorted(_ALL_KEYS))})",
            )
        if not isinstance(value, str):
            raise SidecarError(entry.path, entry.key_lines.get(name, entry.line), f"{name!r} must be a string")
    status = entry.values.get("status")
    if status not in _KEYS_FOR:
        raise SidecarError(
            entry.path, entry.key_lines.get("status", entry.line),
            f"status must be one of {', '.join(STATUSES)}, not {status!r}",
        )
    required, optional = _KEYS_FOR[status]
    for name in sorted(required - entry.values.keys()):
        raise SidecarError(entry.path, entry.line, f"status {status!r} needs the key {name!r}")
    for name in sorted(entry.values.keys() - required - optional):
        raise SidecarError(
            entry.path, entry.key_lines.get(name, entry.line),
            f"the key {name!r} does not apply to status {status!r}",
        )
    if "python" in entry.values and not re.fullmatch(r"3\.\d+", entry.values["python"]):
        raise SidecarError(entry.path, entry.key_lines["python"], "python must be a version such as \"3.12\"")
    if "error" in entry.values and not re.fullmatch(r"\w+: .+", entry.values["error"]):
        raise SidecarError(
            entry.path, entry.key_lines["error"], "error must read \"ExceptionType: message fragment\""
        )


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


def classify(definition: AgentDefinition) -> list[Verdict]:
    """Every code sample of an agent file with its status; SidecarError if the sidecar is wrong."""
    entries = load_sidecar(sidecar_path(definition.path))
    verdicts = []
    for sample in measure(definition.body).samples:
        key = sample_key(sample.code)
        status, check, reason = _default(sample)
        entry = entries.get(key)
        if entry is not None:
            status = entry.status
            check = check or _CHECKERS.get(sample.language.lower(), "")
            if status != "not-executed" and not check:
                raise SidecarError(
                    entry.path, entry.key_lines.get("status", entry.line),
                    f"nothing can check {sample.language or 'plain text'} samples: use status \"not-executed\"",
                )
            for name, needed in _KEY_CHECKS.items():
                if name in entry.values and check != needed:
                    raise SidecarError(
                        entry.path, entry.key_lines[name],
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
                entry.path, entry.line,
                f"entry {key!r} matches no code sample of {definition.path.name} (was the sample edited?)",
            )
    return verdicts


# --- On the page ---------------------------------------------------------------

@dataclass(frozen=True)
class Status:
    """What the badge line before one code block says."""

    kind: str  # a status, or "skipped" on hand-written pages
    text: str
    detail: str = ""
    #: "docname" or "docname#anchor" of the corrected version.
    corrected: str = ""
    anchor: str = ""


_BADGE_COLOURS = {
    "runs": "success",
    "runs-with-setup": "success",
    "needs-python": "warning",
    "does-not-run": "danger",
    "not-executed": "secondary",
    "skipped": "secondary",
}
_PASSED = {
    "python": "runs", "json": "valid JSON", "toml": "valid TOML", "yaml": "valid YAML",
    "openapi": "valid OpenAPI", "tsc": "type-checks",
}
_FAILED = {"python": "does not run", "tsc": "does not type-check"}


def agent_status(verdict: Verdict) -> Status:
    if verdict.status == "not-executed":
        return Status("not-executed", "not executed", f"{verdict.language} ({verdict.reason})",
                      anchor=verdict.anchor)
    if verdict.status == "does-not-run":
        failed = _FAILED.get(verdict.check, "invalid")
        return Status("does-not-run", failed, verdict.reason,
                      corrected=verdict.value("corrected") or "", anchor=verdict.anchor)
    if verdict.status == "needs-python":
        return Status("needs-python", f"needs Python {verdict.value('python')}", verdict.reason,
                      anchor=verdict.anchor)
    text = _PASSED[verdict.check]
    if verdict.value("schema"):
        text += ", follows the agent's envelope"
    if verdict.status == "runs-with-setup":
        text += " with set-up"
    return Status(verdict.status, text, anchor=verdict.anchor)


def _status_node(status: Status) -> nodes.paragraph:
    line = nodes.paragraph(classes=["kb-status", f"kb-status-{status.kind}"])
    colour = _BADGE_COLOURS[status.kind]
    line += nodes.inline(status.text, status.text, classes=["sd-badge", f"sd-bg-{colour}", f"sd-bg-text-{colour}"])
    if status.detail:
        line += nodes.inline("", "", nodes.Text(" "), *_inline(status.detail), classes=["kb-status-detail"])
    if status.corrected:
        line += nodes.Text(" → ")
        line += _link("corrected version", status.corrected)
    if status.anchor:
        line["ids"].append(status.anchor)
    return line


def _inline(text: str) -> list[nodes.Node]:
    """Text with `backticks` as inline code, which also keeps smart quotes out of code."""
    return [
        nodes.literal(part, part) if index % 2 else nodes.Text(part)
        for index, part in enumerate(text.split("`"))
        if part
    ]


def _link(text: str, target: str) -> nodes.reference:
    """A link to ``docname[#anchor]``, given its URI once the writer's page is known."""
    docname, _, anchor = target.partition("#")
    reference = nodes.reference(text, text, internal=True, refuri="")
    reference["kb_target"] = docname.lstrip("/")
    reference["kb_anchor"] = anchor
    return reference


_SKIP = re.compile(r'^skip:\s*(next|start|end)\b\s*(?:"([^"]*)")?')


def _handwritten(doctree: nodes.document) -> list[tuple[nodes.Element, Status]]:
    """Statuses of a hand-written page's blocks, read from the Sybil comments before them."""
    found = []
    skip_next: str | None = None
    skipping: str | None = None
    for node in doctree.findall(lambda n: isinstance(n, (nodes.comment, nodes.literal_block, nodes.doctest_block))):
        if isinstance(node, nodes.comment):
            if match := _SKIP.match(node.astext().strip()):
                verb, reason = match.groups()
                if verb == "next":
                    skip_next = reason or ""
                elif verb == "start":
                    skipping = reason or ""
                else:
                    skipping = None
            continue
        language = "python" if isinstance(node, nodes.doctest_block) else node.get("language", "")
        language = "text" if language in ("", "default", "text", "none") else language
        included = node.get("source") and Path(node["source"]).suffix != ".md"
        if included:
            found.append((node, Status("not-executed", "not executed",
                                       f"{language} (included from {Path(node['source']).name})")))
        elif language not in ("python", "py", "pycon"):
            found.append((node, Status("not-executed", "not executed", language)))
        elif skip_next is not None or skipping is not None:
            reason = skip_next if skip_next is not None else skipping
            found.append((node, Status("skipped", "skipped", reason or "")))
            skip_next = None
        else:
            previous = node.previous_sibling()
            set_up = isinstance(previous, nodes.comment) and previous.astext().startswith("invisible-code-block")
            found.append((node, Status("runs-with-setup", "runs with set-up") if set_up else Status("runs", "runs")))
    return found


def _agent_blocks(doctree: nodes.document, verdicts: list[Verdict]) -> list[tuple[nodes.Element, Status]]:
    by_line = {v.line: v for v in verdicts}
    by_code = {v.sample.code.rstrip("\n"): v for v in verdicts}
    found = []
    used: dict[str, int] = {}
    for node in doctree.findall(nodes.literal_block):
        verdict = by_line.get(node.line) or by_code.get(node.astext().rstrip("\n"))
        if verdict is None:  # a block added by a directive, not one of the agent's samples
            found.append((node, Status("not-executed", "not executed", node.get("language") or "text")))
            continue
        status = agent_status(verdict)
        used[status.anchor] = used.get(status.anchor, 0) + 1
        if used[status.anchor] > 1:  # the same code twice on one page
            status = Status(status.kind, status.text, status.detail, status.corrected,
                            f"{status.anchor}-{used[status.anchor]}")
        found.append((node, status))
    return found


#: docname -> the ids in its doctree, for checking links to anchors; reset per build.
_anchors: dict[str, set[str]] = {}


def verdicts_for(env: BuildEnvironment, slug: str) -> list[Verdict]:
    """An agent's verdicts, classified when first needed (once per build and process)."""
    state = build_state(env)
    if slug not in state.verdicts:
        agent = catalog(env).by_slug(slug)
        if agent is None:
            return []
        try:
            state.verdicts[slug] = classify(agent.definition)
        except SidecarError as exc:
            state.sidecar_errors[slug] = exc
            state.verdicts[slug] = []
    return state.verdicts[slug]


def on_builder_inited(app: Sphinx) -> None:
    _anchors.clear()


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    agent = catalog(app.env).by_docname(app.env.docname)
    if agent is not None:
        if (sidecar := sidecar_path(agent.definition.path)).exists():
            app.env.note_dependency(str(sidecar))
        verdicts = verdicts_for(app.env, agent.slug)
        # Reported with the page that shows the samples, so once per build whatever reads it.
        if exc := build_state(app.env).sidecar_errors.get(agent.slug):
            logger.warning("%s", exc.message, location=f"{exc.path}:{exc.line}",
                           type="agentkb", subtype="sidecar")
        blocks = _agent_blocks(doctree, verdicts)
    else:
        blocks = _handwritten(doctree)
    for node, status in blocks:
        node.parent.insert(node.parent.index(node), _status_node(status))


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for reference in doctree.findall(nodes.reference):
        target = reference.get("kb_target")
        if target is None:
            continue
        anchor = reference["kb_anchor"]
        if target not in app.env.all_docs:
            logger.warning("link to a missing page %r", target, location=reference,
                           type="agentkb", subtype="verification")
            continue
        if anchor and not _has_anchor(app, target, anchor):
            logger.warning("link to a missing anchor %r on %r", anchor, target, location=reference,
                           type="agentkb", subtype="verification")
        uri = app.builder.get_relative_uri(docname, target)
        reference["refuri"] = f"{uri}#{anchor}" if anchor else uri


def _has_anchor(app: Sphinx, docname: str, anchor: str) -> bool:
    if docname not in _anchors:
        tree = app.env.get_doctree(docname)
        _anchors[docname] = {i for node in tree.findall(nodes.Element) for i in node["ids"]}
    return anchor in _anchors[docname]


# --- The report ------------------------------------------------------------------

def _table(header: list[str], rows: list[list[Any]]) -> nodes.table:
    return tables.table(header, (tables.row(cells) for cells in rows), classes=["kb-verification-table"])


def _counts(verdicts: list[Verdict]) -> list[int]:
    counts = [sum(1 for v in verdicts if v.status == status) for status in STATUSES]
    return [*counts, len(verdicts)]


class AgentVerificationDirective(SphinxDirective):
    """Part of the verification report, from the sidecars and the classification.

    ``agents`` and ``languages`` count samples per status; ``does-not-run`` lists
    the samples that fail, with the reason and the corrected version.
    """

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        part = self.arguments[0]
        agents = catalog(self.env).agents
        for agent in agents:
            self.env.note_dependency(str(agent.definition.path))
            if (sidecar := sidecar_path(agent.definition.path)).exists():
                self.env.note_dependency(str(sidecar))
        every = [v for agent in agents for v in verdicts_for(self.env, agent.slug)]
        header = [STATUS_TITLES[s] for s in STATUSES] + ["total"]
        if part == "agents":
            rows: list[list[Any]] = [
                [[_link(agent.title, agent.docname)], *_counts(verdicts_for(self.env, agent.slug))]
                for agent in agents
            ]
            return [_table(["agent", *header], [*rows, ["all agents", *_counts(every)]])]
        if part == "languages":
            languages = sorted({v.language for v in every})
            rows = [[lang, *_counts([v for v in every if v.language == lang])] for lang in languages]
            return [_table(["language", *header], rows)]
        if part == "does-not-run":
            failing = nodes.bullet_list()
            for agent in agents:
                for verdict in verdicts_for(self.env, agent.slug):
                    if verdict.status == "does-not-run":
                        failing += nodes.list_item("", _failing_item(agent.title, agent.docname, verdict))
            return [failing if failing.children else nodes.paragraph(text="None.")]
        raise self.error(f"the argument must be agents, languages or does-not-run, not {part!r}")


def _failing_item(title: str, docname: str, verdict: Verdict) -> nodes.paragraph:
    item = nodes.paragraph()
    item += _link(f"{title}, line {verdict.line}", f"{docname}#{verdict.anchor}")
    kind = verdict.expected_error[0]
    item += nodes.Text(f" ({verdict.language}, fails with ")
    item += nodes.literal(kind, kind)
    item += nodes.Text("): ")
    item.extend(_inline(verdict.reason))
    item += nodes.Text(" → ")
    item += _link("corrected version", verdict.value("corrected") or "")
    return item


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", on_builder_inited)
    app.connect("doctree-read", on_doctree_read)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.add_directive("agent-verification", AgentVerificationDirective)
    app.add_css_file("verification.css")
