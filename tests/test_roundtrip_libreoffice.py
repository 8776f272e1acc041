"""A workbook saved again by a real spreadsheet program validates to the same findings.

LibreOffice Calc opens the file, recalculates every formula (tests/soffice.py sees to that) and saves
it as .xlsx again, as a project manager's Excel or Google Sheets would. The template's name and version
(on the hidden _pmo sheet) must survive, and every finding must stay at the same rule and cell.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from soffice import convert
from workbooks import found, report_of, small_sample, write

from pmo_sheets.templates import new_workbook

pytestmark = pytest.mark.soffice


def rename_header(workbook: Workbook) -> None:
    workbook["Tasks"]["B1"] = "Task Nme"


def test_a_filled_workbook_keeps_its_findings_through_libreoffice(tmp_path: Path) -> None:
    sample = small_sample()
    tasks, budget, risks = (sample.tables[name] for name in ("tasks", "budget", "risks"))
    tasks[5]["predecessors"] = "9.9"  # K7
    tasks[6]["percent_complete"] = "half"  # H8
    tasks[1]["status"] = "Done"  # I3
    budget[2]["currency"] = "EUR"  # F4
    risks[4]["risk_id"] = "R-001"  # A6
    sample.project["pm_email"] = "ana.example.com"  # B6
    source = write(tmp_path / "in" / "filled.xlsx", sample, "project", rename_header)
    before = found(source)
    assert before == [("email-invalid", "Project", "B6"), ("column-renamed", "Tasks", "B1"),
                      ("value-not-in-list", "Tasks", "I3"), ("predecessor-unknown", "Tasks", "K7"),
                      ("type-invalid", "Tasks", "H8"),
                      ("currency-mismatch", "Budget", "F4"), ("duplicate-id", "Risks", "A6")]

    saved = convert(source, tmp_path / "out")

    report = report_of(saved)
    assert [(f.rule, f.sheet, f.cell) for f in report.findings] == before
    assert (report.template, report.template_version, report.project_id) == ("project", "2.0", "PRJ-0001")
    # the formulas now have cached values, and they agree with the validator's own arithmetic
    risk_rows = report.tables["risks"].rows
    assert [row.values.get("score") for row in risk_rows] == [
        row.values["probability"] * row.values["impact"] for row in risk_rows]


@pytest.mark.parametrize("addin", [False, True], ids=["plain", "carrying-the-addin"])
def test_a_new_workbook_keeps_its_template_and_findings_through_libreoffice(tmp_path: Path, addin: bool) -> None:
    (tmp_path / "in").mkdir()
    source = new_workbook("plan", "PRJ-0042", "New CRM", tmp_path / "in" / "PRJ-0042.xlsx", addin=addin)
    before = found(source)

    saved = convert(source, tmp_path / "out")

    report = report_of(saved)
    assert [(f.rule, f.sheet, f.cell) for f in report.findings] == before
    assert (report.template, report.template_version, report.project_id) == ("plan", "2.0", "PRJ-0042")
