"""The add-in runs where xlwings Lite runs it: without python-calamine, gspread, requests or watchdog.

Pyodide has openpyxl, jsonschema and pandas but none of those four; a fresh interpreter in which
importing them fails (a ``sys.meta_path`` blocker) loads the Lite ``main.py`` and validates a
workbook with its Validate script.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pmo_sheets.samples import plant_mistakes, sample_project, write_workbook
from pmo_sheets.sources import validate_source

BLOCKED = ("python_calamine", "gspread", "requests", "watchdog")

SCRIPT = """
import asyncio, io, json, sys
from contextlib import redirect_stdout

BLOCKED = set(sys.argv[3].split(","))

class NotInPyodide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (not available in Pyodide)", name=name)
        return None

sys.meta_path.insert(0, NotInPyodide())
sys.path.insert(0, sys.argv[1])
import pmo_sheets.addin.lite.main as lite
from xlwings_adapter import AdapterBook

book = AdapterBook(sys.argv[2])
printed = io.StringIO()
with redirect_stdout(printed):
    asyncio.run(lite.validate(book))
book.save()
issues = book.sheets["Issues"].used_range.options(ndim=2).value
print(json.dumps({
    "printed": printed.getvalue().strip(),
    "locations": [row[1] for row in issues[3:]],
    "loaded": sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED),
}))
"""


def test_lite_main_validates_without_the_packages_pyodide_lacks(tmp_path: Path) -> None:
    sample = sample_project(1, tasks=12, budget_lines=2, months=3, risks=5)
    plant_mistakes(sample)
    path = write_workbook(sample, tmp_path / "project.xlsx")
    expected = validate_source(str(path))

    result = subprocess.run([sys.executable, "-c", SCRIPT, str(Path(__file__).parent), str(path), ",".join(BLOCKED)],
                            capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["loaded"] == []
    assert seen["printed"] == "Project PRJ-0001: 5 errors; 5 cells highlighted."
    assert seen["locations"] == [f.location for f in expected.findings]


def test_the_blocker_really_blocks(tmp_path: Path) -> None:
    probe = SCRIPT.split("sys.path.insert")[0] + "import python_calamine\n"
    result = subprocess.run([sys.executable, "-c", probe, str(tmp_path), "", ",".join(BLOCKED)],
                            capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode != 0
    assert "not available in Pyodide" in result.stderr
