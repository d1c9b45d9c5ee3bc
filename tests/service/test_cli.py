"""`python -m reference_api export-openapi` writes and checks the committed document."""

from pathlib import Path

import pytest

from reference_api.__main__ import main


def test_export_writes_sorted_indented_json_with_a_final_newline(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"

    assert main(["export-openapi", str(target)]) == 0

    text = target.read_text(encoding="utf-8")
    assert text.startswith('{\n  "components": {')
    assert text.endswith("}\n")


def test_export_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    main(["export-openapi", str(first)])
    main(["export-openapi", str(second)])

    assert first.read_bytes() == second.read_bytes()


def test_check_passes_on_a_current_file(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    main(["export-openapi", str(target)])

    assert main(["export-openapi", str(target), "--check"]) == 0


def test_check_fails_and_says_how_to_regenerate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "openapi.json"
    target.write_text("{}\n", encoding="utf-8")

    assert main(["export-openapi", str(target), "--check"]) == 1
    assert "python -m reference_api export-openapi" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "{}\n"
