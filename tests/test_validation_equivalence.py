"""Speed work must not change what validation reports: findings frozen cell by cell.

The reader and the validator have fast paths (only the sheets a workbook kind needs, trailing rows of
formulas showing "" never scanned, typed cells coerced without parsing, cheaper rules). These tests
validate sample workbooks full of planted mistakes and compare every finding (severity, rule code,
sheet, cell) with the list that the straightforward implementation gave before any of that work; the
records handed on to consolidation are checked as well. The same file read through openpyxl (the
reader used inside Excel, where calamine does not exist) must give the same findings.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from pmo_sheets.grid import Grid
from pmo_sheets.readers import excel
from pmo_sheets.samples import (
    SampleProject,
    plant_mistakes,
    realistic_project,
    sample_project,
    show_empty_formulas,
    write_workbook,
)
from pmo_sheets.validate import WorkbookReport, validate_grid

Frozen = tuple[str, str, str | None, str | None]  # (severity, rule, sheet, cell)


def frozen(report: WorkbookReport) -> list[Frozen]:
    return [(f.severity, f.rule, f.sheet, f.cell) for f in report.findings]


def many_mistakes(sample: SampleProject) -> None:
    """plant_mistakes, and one of nearly every kind of cell, row, table and workbook finding besides."""
    plant_mistakes(sample)
    tasks, budget, risks, project = sample.tables["tasks"], sample.tables["budget"], sample.tables["risks"], sample.project
    project["pm_email"] = "not an address"
    tasks[10]["task_id"] = tasks[9]["task_id"]                 # duplicate ID
    tasks[20]["start"] = "someday"                             # not a date
    tasks[21]["baseline_start"] = "31/03/2026"                 # a date typed as text: accepted
    tasks[22]["baseline_finish"] = "2026-04-02"                # ISO text: accepted
    tasks[23]["baseline_start"] = 46100                        # an Excel serial: accepted
    tasks[30]["percent_complete"] = "50%"                      # accepted as 0.5
    tasks[40].update(percent_complete=1.0, status="In Progress")  # complete but not closed
    tasks[41].update(percent_complete=0.4, status="Completed")    # closed but not complete
    tasks[50]["status"] = "  in progress "                     # list value, sloppy case and spaces: accepted
    tasks[61]["predecessors"] = tasks[62]["task_id"]           # a loop of two
    tasks[62]["predecessors"] = tasks[61]["task_id"]
    tasks[63]["predecessors"] = tasks[63]["task_id"]           # depends on itself
    tasks[70]["finish"] = dt.date(2031, 1, 1)                  # after the project's finish
    tasks[71]["start"] = dt.date(2020, 1, 1)                   # before the project's start
    tasks[80]["percent_complete"] = 45                         # 4500 %
    tasks[90]["owner"] = "x" * 100                             # too long
    tasks[100]["task_id"] = "1 2"                              # not a WBS code
    tasks[110]["percent_complete"] = "#DIV/0!"                 # a formula error
    tasks[120]["milestone"] = "maybe"                          # not in the list
    tasks[130]["duration_days"] = 999                          # a formula overwritten
    tasks[131]["schedule_rag"] = "Purple"                      # a formula overwritten with junk
    tasks[140]["task_name"] = "   "                            # required, blank
    tasks[141]["finish"] = True                                # a boolean in a date column
    budget[5]["budget"] = "$1,200.50"                          # money typed as text: read, and warned about the $
    budget[6]["actual"] = "lots"                               # not a number
    budget[7]["period"] = "2026-13-01"                         # no such month
    budget[8]["eac"] = 5.0                                     # a formula overwritten
    budget[9]["budget"] = 10_000_000.0                         # over the approved budget
    budget[10]["forecast"] = -3.0                              # below zero
    budget[11]["category"] = "labour"                          # sloppy case: accepted
    risks[4]["score"] = 99                                     # score overwritten and out of range
    risks[5]["score"] = 7                                      # score inconsistent with probability x impact
    risks[6]["impact"] = 2.5                                   # not a whole number
    risks[7]["raised"] = "7 Mar 2026"                          # wordy date: accepted
    risks[8]["title"] = None                                   # required, blank
    risks[9]["rating"] = "Extreme"                             # not in the list
    risks[10]["due_date"] = dt.datetime(2026, 5, 1, 14, 30)    # a date with a time: accepted


REALISTIC_FINDINGS: list[Frozen] = [
    ("error", "email-invalid", "Project", "B6"),
    ("warning", "budget-over-approved", "Project", "B14"),
    ("error", "finish-before-start", "Tasks", "E5"),
    ("error", "type-invalid", "Tasks", "H8"),
    ("error", "duplicate-id", "Tasks", "A12"),
    ("error", "predecessor-unknown", "Tasks", "K13"),
    ("error", "date-invalid", "Tasks", "D22"),
    ("error", "finish-before-start", "Tasks", "G24"),
    ("warning", "complete-not-closed", "Tasks", "I42"),
    ("warning", "closed-not-complete", "Tasks", "H43"),
    ("error", "predecessor-cycle", "Tasks", "K63"),
    ("error", "predecessor-cycle", "Tasks", "K65"),
    ("warning", "task-outside-project", "Tasks", "E72"),
    ("warning", "task-outside-project", "Tasks", "D73"),
    ("error", "value-out-of-range", "Tasks", "H82"),
    ("error", "text-length", "Tasks", "C92"),
    ("error", "pattern-mismatch", "Tasks", "A102"),
    ("error", "predecessor-unknown", "Tasks", "K103"),
    ("error", "formula-error", "Tasks", "H112"),
    ("error", "value-not-in-list", "Tasks", "J122"),
    ("error", "calculated-value-mismatch", "Tasks", "L132"),
    ("error", "value-not-in-list", "Tasks", "N133"),
    ("error", "value-required", "Tasks", "B142"),
    ("error", "date-invalid", "Tasks", "E143"),
    ("error", "currency-mismatch", "Budget", "F4"),
    ("warning", "amount-with-currency", "Budget", "G7"),
    ("error", "type-invalid", "Budget", "H8"),
    ("error", "date-invalid", "Budget", "E9"),
    ("error", "calculated-value-mismatch", "Budget", "J10"),
    ("error", "value-out-of-range", "Budget", "I12"),
    ("error", "value-not-in-list", "Risks", "F3"),
    ("error", "value-out-of-range", "Risks", "H6"),
    ("error", "risk-score-mismatch", "Risks", "H7"),
    ("error", "type-invalid", "Risks", "G8"),
    ("error", "value-required", "Risks", "B10"),
    ("error", "value-not-in-list", "Risks", "I11"),
]
# The same workbook after LibreOffice recalculated it: every formula has a cached value, so the
# overwritten and inconsistent calculated cells are judged too, and 1000 rows of formulas show "".
# A mistake in an input is reported once: the calculated cells it breaks in the same row are left out
# (validate.check_schema), e.g. no negative Duration beside a finish before its start.
RECALCULATED_FINDINGS: list[Frozen] = [
    ("error", "email-invalid", "Project", "B6"),
    ("warning", "budget-over-approved", "Project", "B14"),
    ("error", "finish-before-start", "Tasks", "E5"),
    ("error", "type-invalid", "Tasks", "H8"),
    ("error", "duplicate-id", "Tasks", "A12"),
    ("error", "predecessor-unknown", "Tasks", "K13"),
    ("error", "date-invalid", "Tasks", "D22"),
    ("error", "finish-before-start", "Tasks", "G24"),
    ("warning", "complete-not-closed", "Tasks", "I42"),
    ("warning", "closed-not-complete", "Tasks", "H43"),
    ("error", "predecessor-cycle", "Tasks", "K63"),
    ("error", "predecessor-cycle", "Tasks", "K65"),
    ("warning", "task-outside-project", "Tasks", "E72"),
    ("warning", "task-outside-project", "Tasks", "D73"),
    ("error", "value-out-of-range", "Tasks", "H82"),
    ("error", "text-length", "Tasks", "C92"),
    ("error", "pattern-mismatch", "Tasks", "A102"),
    ("error", "predecessor-unknown", "Tasks", "K103"),
    ("error", "formula-error", "Tasks", "H112"),
    ("error", "value-not-in-list", "Tasks", "J122"),
    ("error", "calculated-value-mismatch", "Tasks", "L132"),
    ("error", "value-not-in-list", "Tasks", "N133"),
    ("error", "value-required", "Tasks", "B142"),
    ("error", "date-implausible", "Tasks", "E143"),  # TRUE saved as the number 1: 1900-01-01
    ("error", "currency-mismatch", "Budget", "F4"),
    ("warning", "amount-with-currency", "Budget", "G7"),
    ("error", "calculated-value-mismatch", "Budget", "K7"),
    ("error", "calculated-value-mismatch", "Budget", "L7"),
    ("error", "type-invalid", "Budget", "H8"),
    ("error", "date-invalid", "Budget", "E9"),
    ("error", "calculated-value-mismatch", "Budget", "J10"),
    ("error", "calculated-value-mismatch", "Budget", "K10"),
    ("error", "value-out-of-range", "Budget", "I12"),
    ("error", "value-not-in-list", "Risks", "F3"),
    ("error", "value-out-of-range", "Risks", "H6"),
    ("error", "calculated-value-mismatch", "Risks", "I6"),
    ("error", "risk-score-mismatch", "Risks", "H7"),
    ("error", "type-invalid", "Risks", "G8"),
    ("error", "value-required", "Risks", "B10"),
    ("error", "value-not-in-list", "Risks", "I11"),
]
STRUCTURE_FINDINGS: list[Frozen] = [
    ("warning", "template-metadata-missing", None, None),
    ("warning", "column-renamed", "Tasks", "C1"),
    ("warning", "column-unknown", "Tasks", "O1"),
    ("error", "finish-before-start", "Tasks", "E6"),
    ("warning", "column-missing", "Risks", None),
    ("warning", "column-unknown", "Risks", "E1"),
]
PLAN_FINDINGS: list[Frozen] = [
    ("error", "date-invalid", "Project", "B8"),
    ("error", "predecessor-unknown", "Tasks", "K4"),
    ("error", "value-out-of-range", "Tasks", "H5"),
    ("warning", "date-ambiguous", "Tasks", "D6"),
    ("error", "finish-before-start", "Tasks", "E6"),
]


@pytest.fixture(scope="module")
def realistic_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sample = realistic_project(7)
    many_mistakes(sample)
    return write_workbook(sample, tmp_path_factory.mktemp("equivalence") / "realistic.xlsx")


def _structure_file(directory: Path) -> Path:
    """A small workbook whose structure users changed: renamed, unknown and moved columns, blank and totals rows."""
    sample = sample_project(3, tasks=25, budget_lines=2, months=3, risks=6)
    sample.tables["tasks"][4]["finish"] = sample.tables["tasks"][4]["start"] - dt.timedelta(days=1)
    path = write_workbook(sample, directory / "structure.xlsx")
    workbook = load_workbook(path)
    tasks = workbook["Tasks"]
    tasks["C1"] = "Ownr"                       # renamed: read as Owner
    tasks["O1"] = "Notes"                      # not part of the template
    tasks["O3"] = "call the supplier"
    tasks.move_range("A10:N27", rows=1)        # a blank row in the middle (row 10)
    tasks["A29"] = "Total"                     # a totals row at the end
    tasks["H29"] = 12.5
    budget = workbook["Budget"]
    budget.move_range("E1:E7", cols=12)        # Period moved to the far right (column Q)
    risks = workbook["Risks"]
    risks["E1"] = "Raised on"                  # renamed beyond recognition: Date Raised missing
    del workbook["_pmo"]                       # metadata lost: kind guessed from the sheets
    workbook.save(path)
    return path


def _plan_file(directory: Path) -> Path:
    sample = sample_project(4, tasks=30)
    tasks = sample.tables["tasks"]
    tasks[2]["predecessors"] = "1.1, 9.9; 1.2"
    tasks[3]["percent_complete"] = 1.5
    tasks[4]["start"] = "03/04/2026"
    sample.project["currency"] = "usd"
    sample.project["start_date"] = "later"
    return write_workbook(sample, directory / "plan.xlsx", kind="plan")


def _records(report: WorkbookReport) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    return {name: [(row.number, row.values) for row in table.rows] for name, table in report.tables.items()}


def _both_readers(path: Path) -> tuple[WorkbookReport, WorkbookReport]:
    """The report through the reader ``read_excel`` picks (calamine here) and through the openpyxl fallback."""
    return validate_grid(excel.read_excel(path)), validate_grid(excel.read_excel(path, engine="openpyxl"))


def _assert_same(first: WorkbookReport, second: WorkbookReport) -> None:
    assert [f.to_dict() for f in first.findings] == [f.to_dict() for f in second.findings]
    assert _records(first) == _records(second)
    assert (first.template, first.template_version, first.project_id) == (
        second.template, second.template_version, second.project_id)


def test_realistic_workbook_findings_are_frozen(realistic_file: Path) -> None:
    fast, fallback = _both_readers(realistic_file)
    assert frozen(fast) == REALISTIC_FINDINGS
    _assert_same(fast, fallback)
    assert len(fast.tables["tasks"].rows) == 300
    assert fast.tables["tasks"].rows[21].values["baseline_start"] == "2026-03-31"
    assert fast.tables["tasks"].rows[23].values["baseline_start"] == "2026-03-19"
    assert fast.tables["tasks"].rows[30].values["percent_complete"] == 0.5
    assert fast.tables["tasks"].rows[50].values["status"] == "In Progress"
    assert fast.tables["budget"].rows[5].values["budget"] == 1200.5
    assert fast.tables["budget"].rows[11].values["category"] == "Labour"
    assert fast.tables["risks"].rows[7].values["raised"] == "2026-03-07"
    assert fast.tables["risks"].rows[10].values["due_date"] == "2026-05-01"


def test_formulas_showing_empty_text_change_nothing(realistic_file: Path) -> None:
    """A saved workbook's 700 trailing rows of formulas showing "" are not rows of the table."""
    shown = show_empty_formulas(realistic_file, realistic_file.with_name("realistic-shown.xlsx"))
    fast, fallback = _both_readers(shown)
    assert frozen(fast) == REALISTIC_FINDINGS
    _assert_same(fast, fallback)
    _assert_same(fast, validate_grid(excel.read_excel(realistic_file)))


@pytest.mark.soffice
def test_recalculated_by_a_spreadsheet_program(realistic_file: Path, tmp_path: Path) -> None:
    from soffice import recalculate

    recalculated = recalculate(realistic_file, tmp_path)
    fast, fallback = _both_readers(recalculated)
    assert frozen(fast) == RECALCULATED_FINDINGS
    _assert_same(fast, fallback)


def test_changed_structure_findings_are_frozen(tmp_path: Path) -> None:
    fast, fallback = _both_readers(_structure_file(tmp_path))
    assert frozen(fast) == STRUCTURE_FINDINGS
    _assert_same(fast, fallback)
    budget = fast.tables["budget"]
    assert budget.positions["period"] == 17
    assert all(row.values["period"].endswith("-01") for row in budget.rows)
    tasks = fast.tables["tasks"]
    assert [row.number for row in tasks.rows][7:10] == [9, 11, 12]  # the blank row 10 is skipped
    assert tasks.rows[-1].number == 27  # the totals row is not a task


def test_plan_workbook_findings_are_frozen(tmp_path: Path) -> None:
    fast, fallback = _both_readers(_plan_file(tmp_path))
    assert fast.template == "plan"
    assert frozen(fast) == PLAN_FINDINGS
    _assert_same(fast, fallback)
    assert fast.tables["tasks"].rows[4].values["start"] == "2026-04-03"


def test_grid_reads_only_the_sheets_validation_needs(realistic_file: Path) -> None:
    grid = excel.read_excel(realistic_file)
    assert list(grid.sheets) == ["Instructions", "Project", "Tasks", "Budget", "Risks", "Resources", "RAID", "Changes",
                                 "Status", "Lists", "_pmo"]  # template 2.0's sheets
    validate_grid(grid)
    assert not grid.sheets["Instructions"].loaded
    assert not grid.sheets["Lists"].loaded
    assert grid.sheets["Lists"].hidden
    assert grid.sheets["Instructions"].rows  # and a sheet is still read when asked for


def test_a_grid_built_by_hand_still_validates() -> None:
    """Readers other than .xlsx (Google Sheets, xlwings) hand over plain lists of rows."""
    grid = excel.read_excel(Path(__file__).parent.parent / "workbook_templates" / "plan.xlsx")
    copy = Grid(grid.source)
    for name, sheet in grid.sheets.items():
        copy.sheets[name] = type(sheet)(name, [list(row) for row in sheet.rows], hidden=sheet.hidden)
    assert [f.to_dict() for f in validate_grid(copy).findings] == [f.to_dict() for f in validate_grid(grid).findings]


def test_cells_without_references_keep_their_columns(tmp_path: Path) -> None:
    """OOXML lets a cell omit its reference (r="F12"): it is then the next column of its row, and a blank
    keeps its place as <c/>. Some writers (our master's data sheets among them) do so; no column may shift."""
    sample = sample_project(3, tasks=25, budget_lines=2, months=3, risks=6)
    plant_mistakes(sample)
    placed = write_workbook(sample, tmp_path / "placed.xlsx")
    unplaced = tmp_path / "unplaced.xlsx"
    with zipfile.ZipFile(placed) as source, zipfile.ZipFile(unplaced, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'(<c\b[^>]*?) r="[A-Z]+[0-9]+"', rb"\1", data)
            target.writestr(item, data)
    tasks_xml = zipfile.ZipFile(unplaced).read("xl/worksheets/sheet3.xml")
    assert re.search(rb'<c\b[^>]*\sr="', tasks_xml) is None and re.search(rb"<c\b[^>]*/>", tasks_xml)  # blanks kept

    for engine in ("calamine", "openpyxl"):
        expected, found = excel.read_excel(placed, engine=engine), excel.read_excel(unplaced, engine=engine)
        for name in ("Project", "Tasks", "Budget", "Risks"):
            assert found.sheets[name].rows == expected.sheets[name].rows, (engine, name)
    assert frozen(validate_grid(excel.read_excel(unplaced))) == frozen(validate_grid(excel.read_excel(placed)))
