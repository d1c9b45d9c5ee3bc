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
    data = SETUPTOOLS["package-data"]
    assert (data["agentkb"], data["agentkb.rulebook"]) == (["*.toml"], ["*.yaml"])


def test_the_base_install_needs_only_pyyaml():
    names = [re.split(r"[<>=\[;]", requirement)[0] for requirement in PROJECT["project"]["dependencies"]]
    assert names == ["pyyaml"]


def test_site_and_service_are_extras():
    extras = PROJECT["project"]["optional-dependencies"]
    assert "sphinx>=9.0" in extras["site"]
    assert "fastapi>=0.115" in extras["service"]
