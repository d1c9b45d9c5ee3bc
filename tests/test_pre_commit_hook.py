"""The pre-commit hook other repositories use: what it runs and which files it gets."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
(HOOK,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


def test_hook_runs_the_installed_check_command():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    command, subcommand = HOOK["entry"].split()
    assert (HOOK["id"], HOOK["language"], scripts[command], subcommand) == (
        "agentkb-check",
        "python",
        "agentkb.__main__:main",
        "check",
    )


@pytest.mark.parametrize(
    ("path", "checked"),
    [
        (".claude/agents/reviewer.md", True),
        ("plugins/c4-architecture/agents/c4-code.md", True),
        ("agents/reviewer.md", True),
        ("agents/team/lead.md", True),
        ("docs/reviewer.md", False),
        (".claude/skills/review/SKILL.md", False),
        (".claude/agents/notes.txt", False),
        ("my-agents/reviewer.md", False),
    ],
)
def test_hook_checks_markdown_under_an_agents_folder(path, checked):
    # pre-commit matches `files` with re.search, and `types: [markdown]` keeps *.md.
    assert (re.search(HOOK["files"], path) is not None) is checked
    assert HOOK["types"] == ["markdown"]
