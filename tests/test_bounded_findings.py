"""A workbook with thousands of broken rows is reported in bounded memory: the first findings, exact counts."""

from __future__ import annotations

import json
from pathlib import Path

from workbooks import pmo, small_sample, write

from pmo_sheets.findings import FINDINGS_KEPT
from pmo_sheets.readers.excel import read_excel
from pmo_sheets.report import text_report
from pmo_sheets.validate import validate_grid

BROKEN_ROWS = 2 * FINDINGS_KEPT + 500


def broken_plan(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A plan whose Tasks sheet has BROKEN_ROWS rows with '% Complete' = 'half' (a wrong kind of value)."""
    grid = read_excel(write(tmp_path / "plan.xlsx", small_sample(), "plan"))
    rows = grid.sheets["Tasks"].rows
    template = list(rows[1])
    rows[1:] = []
    for number in range(BROKEN_ROWS):
        row = list(template)
        row[0] = f"9.{number + 1}"
        row[7] = "half"
        row[10] = None  # no predecessors
        rows.append(row)
    return grid


def test_the_first_findings_are_kept_and_every_finding_is_counted(tmp_path: Path) -> None:
    report = validate_grid(broken_plan(tmp_path))

    assert report.errors == BROKEN_ROWS
    assert [f.cell for f in report.findings[:2]] == ["H2", "H3"]
    assert len(report.findings) == FINDINGS_KEPT
    assert report.omitted_by_rule == {"type-invalid": BROKEN_ROWS - FINDINGS_KEPT}
    assert report.to_dict()["findings_omitted"] == {"type-invalid": BROKEN_ROWS - FINDINGS_KEPT}
    assert text_report([report]).splitlines()[-3] == (
        f"  ... and {BROKEN_ROWS - FINDINGS_KEPT:,} more findings not listed (type-invalid {BROKEN_ROWS - FINDINGS_KEPT:,})")


def test_pmo_validate_json_lists_the_kept_findings_and_counts_the_rest(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = write(tmp_path / "plan.xlsx", small_sample(), "plan")
    book = load_workbook(path)
    for number in range(2, 2 + BROKEN_ROWS):
        book["Tasks"][f"H{number}"] = "half"  # sample rows get "half", rows past them start with no ID: required
        book["Tasks"][f"A{number}"] = f"9.{number}"
        book["Tasks"][f"B{number}"] = "Task"
        book["Tasks"][f"D{number}"] = book["Tasks"]["D2"].value
        book["Tasks"][f"E{number}"] = book["Tasks"]["E2"].value
        book["Tasks"][f"I{number}"] = "Not Started"
        book["Tasks"][f"K{number}"] = None
    book.save(path)

    result = pmo("validate", str(path), "--format", "json")

    data = json.loads(result.stdout)["files"][0]
    assert result.exit_code == 1
    assert data["errors"] == BROKEN_ROWS
    assert len(data["findings"]) == FINDINGS_KEPT
    assert data["findings_omitted"] == {"type-invalid": BROKEN_ROWS - FINDINGS_KEPT}


def test_a_sheet_read_lazily_lets_its_cells_go_once_validated_and_reads_them_again(tmp_path: Path) -> None:
    path = write(tmp_path / "plan.xlsx", small_sample(), "plan")
    for engine in ("calamine", "openpyxl"):
        grid = read_excel(path, engine=engine)

        validate_grid(grid)

        assert not grid.sheets["Tasks"].loaded  # not held as cells beside the records
        assert grid.sheets["Tasks"].rows[1][:2] == ["1.1", "Deliverable 1"]
