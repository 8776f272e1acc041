"""The README's examples are real: the validate example's output is produced here and compared."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmo_sheets.cli import app
from pmo_sheets.samples import plant_mistakes, sample_project, write_workbook

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example(name: str) -> tuple[str, str]:
    """(command, expected output) of a marked example block in the README."""
    block = re.search(rf"<!-- README-EXAMPLE: {name} -->\n```\n(.*?)```\n<!-- /README-EXAMPLE -->", README.read_text(), re.S)
    assert block, f"README example {name!r} not found"
    command, _, output = block.group(1).partition("\n")
    return command.removeprefix("$ "), output


def test_readme_validate_example_is_what_pmo_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command, expected = readme_example("validate")
    sample = sample_project(42)
    sample.project["project_name"] = "New CRM"
    plant_mistakes(sample)
    monkeypatch.chdir(tmp_path)
    write_workbook(sample, Path("PRJ-0042.xlsx"))

    result = CliRunner().invoke(app, command.split()[1:])

    assert result.exit_code == 1
    assert result.output == expected
