"""Which test proves that the reference service follows a convention.

The service's conformance tests carry ``@pytest.mark.convention("ID")``; this reads
them from the test file's syntax tree, without importing it, so the test file is the
only place the mapping is written. No Sphinx here.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .definitions import LocatedError


class ConformanceError(LocatedError):
    """A conformance test whose convention marker cannot be read."""


def _convention_marker(decorator: ast.expr) -> ast.Call | None:
    # pytest.mark.convention("ID")
    if (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr == "convention"
        and isinstance(decorator.func.value, ast.Attribute)
        and decorator.func.value.attr == "mark"
    ):
        return decorator
    return None


def conformance_tests(path: Path, label: str | None = None) -> dict[str, str]:
    """Convention ID -> ``label::test_name`` for every marked test function of the file."""
    label = label or path.as_posix()
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    found: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            marker = _convention_marker(decorator)
            if marker is None:
                continue
            if (
                len(marker.args) != 1
                or not isinstance(marker.args[0], ast.Constant)
                or not isinstance(marker.args[0].value, str)
            ):
                raise ConformanceError(path, marker.lineno, "the convention marker takes one ID, as a string")
            conv_id = marker.args[0].value
            if conv_id in found:
                raise ConformanceError(path, marker.lineno, f"{conv_id} is already tested by {found[conv_id]}")
            found[conv_id] = f"{label}::{node.name}"
    return found
