"""The package metadata: a wheel holds every module, and the base install is the linter alone."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PROJECT["tool"]["setuptools"]


def python_packages() -> set[str]:
    found = set()
    for package, folder in SETUPTOOLS["package-dir"].items():
        for module in (ROOT / folder).rglob("*.py"):
            parts = module.parent.relative_to(ROOT / folder).parts
            if "__pycache__" not in parts:
                found.add(".".join((package, *parts)))
    return found


def test_every_folder_of_python_modules_is_a_listed_package():
    assert set(SETUPTOOLS["packages"]) == python_packages()


def test_every_data_file_the_code_reads_is_package_data():
    """Every file of the extension that is not Python ships in the wheel (rulebook, spec, scripts)."""
    folder = ROOT / SETUPTOOLS["package-dir"]["agentkb"]
    data = SETUPTOOLS["package-data"]
    missing = []
    for path in folder.rglob("*"):
        if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(folder)
        # The deepest package (a folder with __init__.py) holding the file, and the file's path in it.
        depth = max(
            n for n in range(len(relative.parts)) if (folder.joinpath(*relative.parts[:n]) / "__init__.py").exists()
        )
        package = ".".join(["agentkb", *relative.parts[:depth]])
        inside = Path(*relative.parts[depth:])
        if not any(inside.match(pattern) for pattern in data.get(package, [])):
            missing.append(str(relative))
    assert missing == []


def test_the_base_install_needs_only_pyyaml():
    names = [re.split(r"[<>=\[;]", requirement)[0] for requirement in PROJECT["project"]["dependencies"]]
    assert names == ["pyyaml"]


def test_site_and_service_are_extras():
    extras = PROJECT["project"]["optional-dependencies"]
    assert "sphinx>=9.0" in extras["site"]
    assert "fastapi>=0.115" in extras["service"]
