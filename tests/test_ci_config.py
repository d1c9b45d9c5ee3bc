"""The GitHub workflow and Read the Docs run exactly what the README tells a person to run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from sitebuild import ROOT

README = (ROOT / "README.md").read_text("utf-8")
WORKFLOW = yaml.safe_load((ROOT / ".github/workflows/site.yml").read_text("utf-8"))
RTD = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text("utf-8"))


def _make_variable(name: str) -> list[str]:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    match = re.search(rf"^{name}\s*[:?]?=\s*(.*)$", makefile, re.M)
    assert match, name
    return shlex.split(match.group(1))


def _readme_commands() -> set[str]:
    """Every `make ...` command the README shows, in code blocks and in its table."""
    commands = {m.split("#")[0].strip() for m in re.findall(r"^(make [^\n]+)$", README, re.M)}
    commands |= set(re.findall(r"\| `(make [^`]+)` \|", README))
    return commands


def _runs(job: dict) -> list[str]:
    return [step["run"].strip() for step in job["steps"] if "run" in step]


def _uses(job: dict) -> list[str]:
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


def test_the_workflow_tests_on_the_oldest_and_newest_python_with_the_readme_commands() -> None:
    job = WORKFLOW["jobs"]["test"]
    matrix = job["strategy"]["matrix"]["include"]
    assert {entry["python"] for entry in matrix} == {"3.11", "3.13"}
    readme = _readme_commands()
    for entry in matrix:
        assert entry["command"] in readme, entry["command"]
        assert entry["python"] in job["container"].replace("${{ matrix.python }}", entry["python"])
    assert {e["command"] for e in matrix} == {"make test", "make test PYTHON=python3.13 VENV=.venv-3.13"}
    assert "${{ matrix.command }}" in _runs(job)


def test_the_workflow_builds_with_make_docs_and_deploys_to_pages_from_main() -> None:
    build = WORKFLOW["jobs"]["build"]
    assert "make docs" in _runs(build) and "make docs" in _readme_commands()
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    deploy = WORKFLOW["jobs"]["deploy"]
    assert _uses(deploy) == ["actions/deploy-pages"]
    assert set(deploy["needs"]) == {"test", "build"}
    assert "github.event_name == 'push'" in deploy["if"] and "refs/heads/main" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    triggers = WORKFLOW[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["branches"] == ["main"]


def test_builds_see_the_whole_history_so_pages_show_their_dates() -> None:
    for name in ("test", "build"):
        checkout = next(s for s in WORKFLOW["jobs"][name]["steps"] if s.get("uses", "").startswith("actions/checkout"))
        assert checkout["with"]["fetch-depth"] == 0, name
    assert any("--unshallow" in command for command in RTD["build"]["jobs"]["post_checkout"])


def test_read_the_docs_builds_with_the_strict_options_of_make_docs() -> None:
    assert RTD["sphinx"]["fail_on_warning"] is True
    assert RTD["build"]["apt_packages"] == ["graphviz"]
    assert RTD["build"]["jobs"]["install"] == [
        "python -m pip install -r requirements/lock.txt",
        "python -m pip install --no-deps -e .",
    ]
    (command,) = RTD["build"]["jobs"]["build"]["html"]
    words = [w for w in shlex.split(command) if "=" not in w or w.startswith("-")]
    assert words == [
        "sphinx-build",
        *_make_variable("STRICT"),
        *_make_variable("SPHINXOPTS"),
        "-b",
        "html",
        ".",
        "$READTHEDOCS_OUTPUT/html",
    ]


def test_the_makefile_installs_the_same_way_read_the_docs_does() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert "-m pip install --quiet --disable-pip-version-check -r requirements/lock.txt" in makefile
    assert "-m pip install --quiet --disable-pip-version-check --no-deps --editable ." in makefile


def test_make_docs_asks_only_for_graphviz_and_ci_installs_everything_for_the_tests() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    docs_target = re.search(r"^docs: (.*)$", makefile, re.M).group(1)
    assert "system-deps-docs" in docs_target and "system-deps-tests" not in docs_target
    assert re.search(r"^system-deps-docs:\n\t@sh \.ci/system-deps docs$", makefile, re.M)
    assert "sh .ci/system-deps tests" in Path(ROOT / ".ci/run").read_text("utf-8")
    script = (ROOT / ".ci/system-deps").read_text("utf-8")
    docs_part = "\n".join(
        line for line in script.split('if [ "$group" = tests ]')[0].splitlines() if not line.startswith("#")
    )
    assert "graphviz" in docs_part
    assert not any(name in docs_part for name in ("chromium", "postgresql", "npm"))
