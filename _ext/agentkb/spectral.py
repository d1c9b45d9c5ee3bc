"""The rulebook's ``openapi`` rules as a Spectral ruleset, and Spectral run over agent files.

:func:`ruleset` turns every active ``openapi`` rule into a Spectral rule named
``<convention-id>-<rule-id>`` (lower case), with the convention's level as severity and its
permalink as ``documentationUrl``; a project can lint its own OpenAPI document with it.
:func:`openapi_documents` finds the OpenAPI documents embedded in an agent file,
:func:`run` lints many documents with one Spectral process, and :func:`detect_openapi`
turns the findings into :class:`~agentkb.detect.Detection` objects.

Spectral (``@stoplight/spectral-cli``) is pinned in ``tools/spectral/package-lock.json``
and installed with ``npm ci`` on first use. This module does not depend on Sphinx.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .definitions import AgentDefinition
from .detect import Detection, _md, _raw_lines
from .rulebook import SITE_URL, Rule, Rulebook, default_rulebook

#: tools/spectral in a source checkout; AGENTKB_SPECTRAL_DIR points elsewhere (an installed package).
SPECTRAL_DIR = Path(os.environ.get("AGENTKB_SPECTRAL_DIR", Path(__file__).resolve().parents[2] / "tools" / "spectral"))
SEVERITIES = {"MUST": "error", "SHOULD": "warn", "MAY": "info"}
#: Keys of a rule's match that are copied into the Spectral rule.
_RULE_KEYS = ("given", "then", "formats", "resolved")
_OPENAPI_YAML = re.compile(r"^openapi\s*:", re.MULTILINE)
_OPENAPI_FENCES = {"yaml": "yaml", "yml": "yaml", "json": "json", "openapi": "yaml"}


class SpectralError(RuntimeError):
    """Spectral is missing or could not run."""


def rule_name(rule: Rule) -> str:
    """The Spectral rule name of a rulebook rule: ``<convention-id>-<rule-id>``, lower case."""
    return f"{rule.convention}-{rule.id}".lower()


def ruleset(
    rulebook: Rulebook | None = None, base_url: str = SITE_URL, *, include_disabled: bool = False
) -> dict[str, Any]:
    """A Spectral ruleset holding every active openapi rule of the rulebook.

    ``include_disabled`` adds the disabled ones too (the tests run their examples).
    """
    rulebook = rulebook or default_rulebook()
    rules: dict[str, Any] = {}
    for conv in rulebook:
        for rule in conv.rules:
            if rule.kind != "openapi" or (rule.disabled and not include_disabled):
                continue
            body = {key: rule.match[key] for key in _RULE_KEYS if key in rule.match}
            rules[rule_name(rule)] = {
                "description": conv.title,
                "message": f"{conv.id}: {rule.message}",
                "severity": SEVERITIES[conv.level],
                "documentationUrl": conv.permalink(base_url),
                **body,
            }
    return {"rules": rules}


def write_ruleset(
    path: Path, rulebook: Rulebook | None = None, base_url: str = SITE_URL, *, include_disabled: bool = False
) -> Path:
    """Write :func:`ruleset` as JSON (Spectral reads JSON and YAML rulesets)."""
    data = ruleset(rulebook, base_url, include_disabled=include_disabled)
    path.write_text(json.dumps(data, indent=2) + "\n", "utf-8")
    return path


@functools.cache
def spectral_command() -> list[str]:
    """The pinned Spectral CLI, installed from the lock file (``npm ci``) on first use."""
    binary = SPECTRAL_DIR / "node_modules" / ".bin" / "spectral"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SpectralError("checking OpenAPI documents needs Node.js and npm to install Spectral (tools/spectral)")
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(SPECTRAL_DIR)],
            cwd=SPECTRAL_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode or not binary.exists():
            raise SpectralError(f"npm ci in {SPECTRAL_DIR} failed:\n{result.stderr[-2000:]}")
    return [str(binary)]


@dataclass(frozen=True)
class OpenApiDocument:
    """An OpenAPI document: its text, its format and where its first line is in a file."""

    text: str
    format: str  # "yaml" or "json"
    first_line: int = 1  # 1-based line, in the file it comes from, of the document's first line
    path: Path | None = None  # the file it comes from


@dataclass(frozen=True)
class Finding:
    """One Spectral result for one document."""

    rule: str  # the Spectral rule name
    document: OpenApiDocument
    line: int  # 1-based line in the document's file (first_line + Spectral's 0-based line)
    text: str  # the matched text, from Spectral's range, on that line
    json_path: tuple[str, ...]
    message: str


def _is_openapi(text: str, fmt: str) -> bool:
    if fmt == "yaml":
        return bool(_OPENAPI_YAML.search(text))
    try:
        data = json.loads(text)
    except ValueError:
        return bool(re.match(r'\s*\{\s*"openapi"\s*:', text))
    return isinstance(data, dict) and "openapi" in data


def openapi_documents(definition: AgentDefinition) -> list[OpenApiDocument]:
    """The OpenAPI documents in an agent's yaml and json fences (a top-level ``openapi`` key)."""
    documents = []
    offset = definition.body_start_line - 1
    for token in _parse_body_tokens(definition.body):
        info = token.info.strip()
        fmt = _OPENAPI_FENCES.get(info.split()[0].lower() if info else "")
        if fmt and _is_openapi(token.content, fmt):
            documents.append(OpenApiDocument(token.content, fmt, offset + token.map[0] + 2, definition.path))
    return documents


def _parse_body_tokens(body: str) -> list[Any]:
    return [token for token in _md.parse(body) if token.type == "fence" and token.map]


def _quote(document: OpenApiDocument, result: dict[str, Any]) -> str:
    start = result.get("range", {}).get("start", {})
    end = result.get("range", {}).get("end", {})
    lines = document.text.split("\n")
    index = start.get("line", 0)
    if not 0 <= index < len(lines):
        return ""
    line = lines[index].rstrip("\r")
    stop = end.get("character") if end.get("line") == index else None
    text = line[start.get("character", 0) : stop].strip()
    return text or line.strip()


def run(ruleset_path: Path, documents: Sequence[OpenApiDocument], timeout: int = 300) -> list[Finding]:
    """Lint the documents with one Spectral process; findings of the ruleset's own rules only."""
    if not documents:
        return []
    names = set((yaml.safe_load(Path(ruleset_path).read_text("utf-8")) or {}).get("rules", {}))  # JSON or YAML
    with tempfile.TemporaryDirectory(prefix="agentkb-spectral-") as folder:
        by_file: dict[str, OpenApiDocument] = {}
        for number, document in enumerate(documents):
            file = Path(folder) / f"document-{number:05d}.{document.format}"
            file.write_text(document.text, "utf-8")
            by_file[str(file.resolve())] = document
        command = [
            *spectral_command(),
            "lint",
            "--ruleset",
            str(ruleset_path),
            "--format",
            "json",
            "--quiet",
            "--fail-severity",
            "error",
            *sorted(by_file),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=folder)
        try:
            results = json.loads(result.stdout) if result.stdout.strip() else []
        except ValueError:
            results = None
        if result.returncode not in (0, 1) or not isinstance(results, list):
            output = (result.stderr or result.stdout)[-2000:]
            raise SpectralError(f"spectral failed (exit {result.returncode}): {output}")
        findings = []
        for item in results:
            document = by_file.get(str(Path(item.get("source", "")).resolve()))
            if document is None or item.get("code") not in names:
                continue
            line = item.get("range", {}).get("start", {}).get("line", 0)
            findings.append(
                Finding(
                    rule=item["code"],
                    document=document,
                    line=document.first_line + line,
                    text=_quote(document, item),
                    json_path=tuple(str(part) for part in item.get("path", ())),
                    message=item.get("message", ""),
                )
            )
    return findings


def detect_openapi(
    definitions: Iterable[AgentDefinition],
    rulebook: Rulebook | None = None,
    rules: Iterable[Rule] | None = None,
) -> dict[Path, list[Detection]]:
    """The openapi rules' detections in each agent file, from one Spectral run for all of them.

    ``rules`` narrows the rulebook's active openapi rules (by default all of them run).
    Files with no detection are absent from the result.
    """
    rulebook = rulebook or default_rulebook()
    wanted = {rule.full_id for rule in rules} if rules is not None else None
    by_name = {
        rule_name(rule): rule
        for rule in rulebook.active_rules
        if rule.kind == "openapi" and (wanted is None or rule.full_id in wanted)
    }
    definitions = list(definitions)
    documents = [document for definition in definitions for document in openapi_documents(definition)]
    if not by_name or not documents:
        return {}
    with tempfile.TemporaryDirectory(prefix="agentkb-ruleset-") as folder:
        path = write_ruleset(Path(folder) / "ruleset.json", rulebook)
        findings = run(path, documents)
    raw = {definition.path: _raw_lines(definition) for definition in definitions}
    detections: dict[Path, list[Detection]] = {}
    seen: set[tuple[Path, str, int]] = set()
    for finding in findings:
        rule = by_name.get(finding.rule)
        path = finding.document.path
        if rule is None or path is None or (path, finding.rule, finding.line) in seen:
            continue
        seen.add((path, finding.rule, finding.line))
        lines = raw[path]
        line_text = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        quote = finding.text if finding.text and finding.text in line_text else line_text.strip()
        detections.setdefault(path, []).append(Detection(rule, finding.line, quote))
    return {path: sorted(found, key=Detection.sort_key) for path, found in detections.items()}


def lint_texts(rulebook: Rulebook, texts: Sequence[str], fmt: str = "yaml") -> list[set[str]]:
    """The Spectral rule names that fire on each text (a document each), from one Spectral run.

    Disabled rules run too, so that their examples stay tested.
    """
    documents = [OpenApiDocument(text, fmt, 1, Path(f"<text {index}>")) for index, text in enumerate(texts)]
    with tempfile.TemporaryDirectory(prefix="agentkb-ruleset-") as folder:
        ruleset_path = write_ruleset(Path(folder) / "ruleset.json", rulebook, include_disabled=True)
        findings = run(ruleset_path, documents)
    fired: list[set[str]] = [set() for _ in texts]
    index = {id(document): number for number, document in enumerate(documents)}
    for finding in findings:
        fired[index[id(finding.document)]].add(finding.rule)
    return fired
