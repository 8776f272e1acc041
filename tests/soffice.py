"""LibreOffice Calc headless as the real spreadsheet engine of the tests.

LibreOffice's default for .xlsx files is *never recalculate*: it would hand our own cached values
back and a formula test would check nothing. Each run therefore gets a fresh profile whose
registrymodifications.xcu sets OOXMLRecalcMode to 0 ("always recalculate"); a fresh profile also keeps
parallel runs from colliding. tests/test_soffice_engine.py proves that a wrong cached value comes back
corrected.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl
import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


# How many times a test (or a fixture it uses) asked for LibreOffice; tests/conftest.py checks it
# against the `soffice` marker, so that `-m "not soffice"` deselects exactly the tests that need it.
USES: list[str] = []


def in_ci() -> bool:
    """Whether this is a CI run: CI=true (GitHub Actions, GitLab) or CI=1 (others) alike."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_soffice() -> str:
    """The soffice binary; skips the test without it, except in CI where its absence is a failure."""
    USES.append("soffice")
    if SOFFICE is None:
        if in_ci():
            pytest.fail("LibreOffice (soffice) is required in CI; .ci/run installs libreoffice-calc")
        pytest.skip("LibreOffice (soffice) is not installed; install libreoffice-calc to run this test")
    return SOFFICE


def convert(source: Path, out_dir: Path, to: str = "xlsx", *, timeout: float = 180) -> Path:
    """Open ``source`` in LibreOffice Calc (recalculating every formula) and save it as ``to``."""
    binary = require_soffice()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")
        result = subprocess.run(
            [binary, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", to, "--outdir", str(out_dir), str(source)],
            capture_output=True, text=True, timeout=timeout, check=False)
    target = out_dir / (source.stem + "." + to.split(":")[0])
    if result.returncode != 0 or not target.exists():
        raise RuntimeError(f"soffice failed on {source}: {result.stdout}\n{result.stderr}")
    return target


def recalculate(source: Path, out_dir: Path) -> Path:
    """A copy of ``source`` whose cached formula values LibreOffice has just recalculated."""
    return convert(source, out_dir, "xlsx")


def formula_cells(path: Path) -> dict[tuple[str, str], str]:
    """(sheet, cell) -> formula, for every formula of a workbook."""
    book = openpyxl.load_workbook(path)
    cells = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cells[(sheet.title, cell.coordinate)] = cell.value
    return cells


def same_value(a: object, b: object) -> bool:
    """Whether a cached and a recalculated value agree (numbers to a millionth; "" and blank alike)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)))
    return (a in (None, "") and b in (None, "")) or a == b


def recalculation_mismatches(written: Path, recalculated: Path) -> list[tuple[str, str, object, object]]:
    """Every formula cell whose value as written (cached) differs from LibreOffice's recalculation:
    (sheet, cell, cached, recalculated)."""
    cached = openpyxl.load_workbook(written, data_only=True)
    fresh = openpyxl.load_workbook(recalculated, data_only=True)
    return [(sheet, ref, cached[sheet][ref].value, fresh[sheet][ref].value) for (sheet, ref) in formula_cells(written)
            if not same_value(cached[sheet][ref].value, fresh[sheet][ref].value)]
