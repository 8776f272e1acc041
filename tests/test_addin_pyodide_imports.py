"""The add-in runs where xlwings Lite runs it: without python-calamine, gspread, requests or watchdog.

Pyodide has openpyxl, jsonschema and pandas but none of those four. A fresh interpreter in which
importing them fails (a ``sys.meta_path`` blocker) loads a Lite ``main.py`` and validates a workbook
with its Validate script, twice over:

- the package's ``pmo_sheets/addin/lite/main.py``, which imports pmo-sheets as an installed package;
- the self-contained ``main.py`` that the add-in templates carry (taken out of one) and ``pmo lite``
  writes. Here the installed pmo-sheets is taken off ``sys.path`` and pandas and fastjsonschema are
  blocked too (Lite installs only what its requirements.txt names), so a module missing from the
  bundle fails the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pmo_sheets.addin.bundle import LITE_REQUIREMENTS, OPTIONAL_IMPORTS, lite_requirements, outside_imports
from pmo_sheets.samples import plant_mistakes, sample_project, write_workbook
from pmo_sheets.sources import validate_source
from pmo_sheets.templates import template_path
from pmo_sheets.webextension import read_addin_settings

NOT_IN_PYODIDE = ("python_calamine", "gspread", "requests", "watchdog")
NOT_IN_REQUIREMENTS = ("pandas", "fastjsonschema")

SCRIPT = """
import asyncio, io, json, runpy, sys
from contextlib import redirect_stdout
from pathlib import Path

tests, workbook, blocked, main = sys.argv[1:5]
BLOCKED = set(blocked.split(","))

class NotInPyodide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (not available in Pyodide)", name=name)
        return None

sys.meta_path.insert(0, NotInPyodide())
if main != "package":  # the bundled main.py must bring pmo-sheets itself
    sys.path[:] = [p for p in sys.path if not (Path(p or ".") / "pmo_sheets" / "__init__.py").exists()]
sys.path.insert(0, tests)
lite = runpy.run_path(main) if main != "package" else vars(__import__("pmo_sheets.addin.lite.main").addin.lite.main)
from xlwings_adapter import AdapterBook
import pmo_sheets

book = AdapterBook(workbook)
printed = io.StringIO()
with redirect_stdout(printed):
    asyncio.run(lite["validate"](book))
book.save()
issues = book.sheets["Issues"].used_range.options(ndim=2).value
print(json.dumps({
    "printed": printed.getvalue().strip(),
    "locations": [row[1] for row in issues[3:]],
    "loaded": sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED),
    "pmo_sheets_from_bundle": Path(pmo_sheets.__file__).parent.parent.name.startswith("pmo-sheets-"),
}))
"""


def _run(tmp_path: Path, main: str, blocked: tuple[str, ...]) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    sample = sample_project(1, tasks=12, budget_lines=2, months=3, risks=5)
    plant_mistakes(sample)
    path = write_workbook(sample, tmp_path / "project.xlsx")
    expected = [f.location for f in validate_source(str(path)).findings]
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(Path(__file__).parent), str(path), ",".join(blocked), main],
                            capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    return result, expected


@pytest.mark.parametrize("main", ["package", "bundled"])
def test_lite_main_validates_without_the_packages_pyodide_lacks(tmp_path: Path, main: str) -> None:
    blocked = NOT_IN_PYODIDE
    if main == "bundled":
        blocked += NOT_IN_REQUIREMENTS
        main = str(tmp_path / "main.py")
        settings = read_addin_settings(template_path("project", addin=True).read_bytes())
        assert settings is not None
        Path(main).write_text(settings["main.py"], encoding="utf-8")

    result, expected = _run(tmp_path, main, blocked)

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["loaded"] == []
    assert seen["printed"] == "Project PRJ-0001: 5 errors; 5 cells highlighted."
    assert seen["locations"] == expected
    assert seen["pmo_sheets_from_bundle"] == (main != "package")


def test_the_bundled_requirements_name_everything_the_bundle_imports() -> None:
    assert outside_imports() - OPTIONAL_IMPORTS <= set(LITE_REQUIREMENTS)
    assert "xlwings" in outside_imports()
    listed = [line for line in lite_requirements().splitlines() if line and not line.startswith("#")]
    assert listed == [LITE_REQUIREMENTS[name] for name in sorted(LITE_REQUIREMENTS)]
    # the copy beside lite/main.py, for whoever reads the repository rather than running `pmo lite`
    assert (Path(__file__).parent.parent / "pmo_sheets/addin/lite/requirements.txt").read_text() == lite_requirements()


def test_the_blocker_really_blocks(tmp_path: Path) -> None:
    probe = SCRIPT.split("sys.path.insert")[0] + "import python_calamine\n"
    result = subprocess.run([sys.executable, "-c", probe, str(tmp_path), "", ",".join(NOT_IN_PYODIDE), "package"],
                            capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode != 0
    assert "not available in Pyodide" in result.stderr
