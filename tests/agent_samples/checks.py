"""Sybil over the raw agent files: each sample is checked the way its verdict says.

The verdicts come from ``agentkb.samples.classify``, the classification the
site shows beside each block; this module only enforces it. Sybil's pytest
integration relies on private pytest APIs: both are pinned in requirements/lock.txt.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
import warnings
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate as validate_openapi
from sybil import Document, Example, Region

from agentkb.definitions import load_definition
from agentkb.samples import Verdict, classify

from . import exercises, setups

HERE = Path(__file__).parent
SCHEMAS = HERE / "schemas"
TYPESCRIPT = HERE.parent / "typescript"


class TypeCheckError(Exception):
    """tsc rejected a sample; the message is its diagnostics."""


def parse_agent_file(document: Document) -> Iterable[Region]:
    """A Sybil parser: one region per sample that is checked (not "not-executed")."""
    starts = [0]
    for line in document.text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    for verdict in classify(load_definition(Path(document.path))):
        if verdict.status == "not-executed":
            continue
        closing_fence = verdict.line + verdict.sample.code.count("\n") + 1
        end = starts[min(closing_fence, len(starts) - 1)]
        yield Region(starts[verdict.line - 1], end, verdict, evaluate)


def _named(module: Any, kind: str, name: str | None, verdict: Verdict) -> Any:
    if name is None:
        return None
    function = getattr(module, name, None)
    if not callable(function):
        raise LookupError(f"{verdict.entry.where(kind)}: no {kind} function {name!r} in {module.__name__}")
    return function


def evaluate(example: Example) -> None:
    verdict: Verdict = example.parsed
    setup = _named(setups, "setup", verdict.value("setup"), verdict)
    exercise = _named(exercises, "exercise", verdict.value("exercise"), verdict)
    if verdict.status == "needs-python" and sys.version_info < verdict.min_python:
        pytest.skip(f"needs Python {verdict.value('python')}: {verdict.reason}")
    try:
        # "Runs" means without warnings too: deprecations are how APIs announce removal.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            CHECKERS[verdict.check](verdict, Path(example.path), setup, exercise)
    except Exception as exc:
        if verdict.status != "does-not-run":
            raise
        kind, fragment = verdict.expected_error
        raised = {cls.__name__ for cls in type(exc).__mro__}
        if kind in raised and fragment in str(exc):
            return
        raise AssertionError(
            f"{verdict.entry.where('error')}: the sample should fail with {kind}: {fragment!r}, "
            f"but failed with {type(exc).__name__}: {exc}"
        ) from exc
    if verdict.status == "does-not-run":
        raise AssertionError(
            f"{verdict.entry.where('status')}: the sample no longer fails with "
            f"{verdict.value('error')!r}: update its status and reason"
        )


def run_python(verdict: Verdict, path: Path, setup: Callable | None, exercise: Callable | None) -> None:
    # A namespace of its own: a sample's fate must not depend on the samples before it.
    namespace: dict[str, Any] = {"__name__": f"agent_sample_{verdict.key}"}
    # Padding keeps the traceback's line numbers those of the raw agent file.
    # dont_inherit: this module's "from __future__ import annotations" must not leak into the sample.
    code = compile("\n" * verdict.line + verdict.sample.code, str(path), "exec", dont_inherit=True)
    with setup(namespace) if setup else nullcontext():
        exec(code, namespace)
        if exercise:
            exercise(namespace)


def check_json(verdict: Verdict, path: Path, *_: object) -> None:
    data = json.loads(verdict.sample.code)
    if schema := verdict.value("schema"):
        jsonschema.validate(data, json.loads((SCHEMAS / f"{schema}.json").read_text("utf-8")))


def check_toml(verdict: Verdict, path: Path, *_: object) -> None:
    tomllib.loads(verdict.sample.code)


def check_yaml(verdict: Verdict, path: Path, *_: object) -> None:
    yaml.safe_load(verdict.sample.code)


def check_openapi(verdict: Verdict, path: Path, *_: object) -> None:
    validate_openapi(yaml.safe_load(verdict.sample.code))


@functools.cache
def tsc() -> list[str]:
    """The pinned TypeScript compiler, installed from the lock file on first use."""
    compiler = TYPESCRIPT / "node_modules" / "typescript" / "bin" / "tsc"
    if not compiler.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("type-checking the agents' TypeScript needs Node.js and npm (.ci/system-deps)")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=TYPESCRIPT, check=True, capture_output=True, timeout=300
        )
    return [shutil.which("node") or "node", str(compiler)]


def check_typescript(verdict: Verdict, path: Path, *_: object) -> None:
    suffix = ".ts" if verdict.sample.language.lower() in ("typescript", "ts") else ".js"
    with tempfile.TemporaryDirectory() as folder:
        sample = Path(folder) / f"sample{suffix}"
        sample.write_text(verdict.sample.code, "utf-8")
        config = {"extends": str(TYPESCRIPT / "tsconfig.base.json"), "files": [sample.name]}
        (Path(folder) / "tsconfig.json").write_text(json.dumps(config), "utf-8")
        result = subprocess.run([*tsc(), "-p", folder], capture_output=True, text=True, timeout=120)
    if result.returncode:
        raise TypeCheckError(result.stdout + result.stderr)


CHECKERS: dict[str, Callable[..., None]] = {
    "python": run_python,
    "json": check_json,
    "toml": check_toml,
    "yaml": check_yaml,
    "openapi": check_openapi,
    "tsc": check_typescript,
}
