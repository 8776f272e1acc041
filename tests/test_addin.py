"""The Excel add-in as a project manager uses it: Validate, fix, Validate again, Clear; New project.

Each button press goes through the xlwings adapter on a real .xlsx that is saved and reopened
between presses (``press``), so everything the add-in remembers must be in the file itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from functools import cache
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.styles import PatternFill
from portfolio_fixtures import scratch_folder
from xlwings_adapter import AdapterBook, press

from pmo_sheets import annotate
from pmo_sheets.addin import ISSUES_SHEET, STORE_SHEET, clear, new_project, validate, validate_async
from pmo_sheets.addin.commands import ERROR_FILL, ISSUES_FIRST_ROW, ISSUES_HEADERS, WARNING_FILL
from pmo_sheets.cells import cell_ref
from pmo_sheets.samples import SampleProject, plant_mistakes, realistic_project, sample_project, write_workbook
from pmo_sheets.schemas import load_tables
from pmo_sheets.sources import validate_source
from pmo_sheets.templates import template_path

DATA_SHEETS = ("Project", "Tasks", "Budget", "Risks")
HIGHLIGHTS = {ERROR_FILL[1:], WARNING_FILL[1:]}
USER_BLUE = "00B0F0"


def small() -> SampleProject:
    return sample_project(1, tasks=12, budget_lines=2, months=3, risks=5)


def column(table: str, field: str) -> int:
    return load_tables()[table].column(field).position


def with_mistakes(path: Path) -> Path:
    """The sample with the five typical mistakes, a user's own blue fill on one flagged cell, and an
    overwritten (grey, calculated) risk score (written once per session, then copied)."""
    shutil.copyfile(_with_mistakes_once(), path)
    return path


@cache
def _with_mistakes_once() -> Path:
    path = scratch_folder("pmo-addin-") / "project.xlsx"
    sample = small()
    plant_mistakes(sample)
    write_workbook(sample, path)
    workbook = load_workbook(path)
    workbook["Tasks"][cell_ref(5, column("tasks", "finish"))].fill = PatternFill("solid", fgColor="FF" + USER_BLUE)
    risk = sample.tables["risks"][2]  # sheet row 4
    product = risk["probability"] * risk["impact"]
    workbook["Risks"].cell(4, column("risks", "score")).value = product + 1 if product < 25 else product - 1
    workbook.save(path)
    return path


def fills(path: Path) -> dict[tuple[str, str], str | None]:
    """Every cell's direct fill on the data sheets, as the user sees it (None: no fill)."""
    workbook = load_workbook(path)
    seen = {}
    for name in DATA_SHEETS:
        for row in workbook[name].iter_rows():
            for cell in row:
                fill = cell.fill
                # the alpha byte of a fill is ignored by Excel: compare what shows, RRGGBB
                seen[(name, cell.coordinate)] = fill.fgColor.rgb[-6:] if fill.fill_type == "solid" else None
    return seen


def highlighted(path: Path) -> set[tuple[str, str]]:
    return {key for key, rgb in fills(path).items() if rgb in HIGHLIGHTS}


def issues_rows(path: Path) -> list[tuple]:
    sheet = load_workbook(path)[ISSUES_SHEET]
    return [tuple(row[:5]) for row in sheet.iter_rows(min_row=ISSUES_FIRST_ROW, values_only=True)]


def test_validate_lists_the_same_findings_as_pmo_validate_with_links_to_each_cell(tmp_path: Path) -> None:
    path = with_mistakes(tmp_path / "project.xlsx")
    expected = validate_source(str(path))

    summary, _ = press(path, validate)

    workbook = load_workbook(path)
    assert workbook.sheetnames[0] == ISSUES_SHEET and workbook.active.title == ISSUES_SHEET
    issues = workbook[ISSUES_SHEET]
    assert issues["A1"].value == summary.text == "Project PRJ-0001: 6 errors; 6 cells highlighted."
    assert tuple(c.value for c in issues[3][:5]) == ISSUES_HEADERS
    assert issues_rows(path) == annotate.issue_rows(expected)
    links = {issues.cell(row, 2).value: issues.cell(row, 2).hyperlink.location
             for row in range(ISSUES_FIRST_ROW, issues.max_row + 1)}
    assert links == {f.location: f"{f.sheet}!{f.cell}" for f in expected.findings}
    assert ("risk-score-mismatch", "Risks", cell_ref(4, column("risks", "score"))) in {
        (f.rule, f.sheet, f.cell) for f in expected.findings}


def test_validate_colours_exactly_the_flagged_cells(tmp_path: Path) -> None:
    path = with_mistakes(tmp_path / "project.xlsx")
    flagged = {(f.sheet, f.cell) for f in validate_source(str(path)).findings}

    press(path, validate)

    assert highlighted(path) == flagged
    assert load_workbook(path)["Tasks"]["E5"].fill.fgColor.rgb == "FF" + ERROR_FILL[1:]


def test_clear_puts_back_every_original_fill_and_removes_the_issues_sheet(tmp_path: Path) -> None:
    path = with_mistakes(tmp_path / "project.xlsx")
    before = fills(path)
    press(path, validate)
    assert fills(path) != before

    restored, _ = press(path, clear)

    assert restored == 6
    assert fills(path) == before  # the user's blue, the template's grey and the blanks are all back
    assert before[("Tasks", "E5")] == USER_BLUE
    assert ISSUES_SHEET not in load_workbook(path).sheetnames
    assert STORE_SHEET not in load_workbook(path).sheetnames


def test_validate_again_after_a_fix_restores_the_fixed_cell_and_never_stacks_colour(tmp_path: Path) -> None:
    path = with_mistakes(tmp_path / "project.xlsx")
    before = fills(path)
    press(path, validate)
    press(path, validate)  # pressing twice changes nothing
    assert highlighted(path) == {(f.sheet, f.cell) for f in validate_source(str(path)).findings}

    workbook = load_workbook(path)  # the project manager corrects the finish date that was before the start
    tasks = workbook["Tasks"]
    tasks["E5"].value = tasks["D5"].value + dt.timedelta(days=5)
    workbook.save(path)
    summary, _ = press(path, validate)

    assert summary.errors == 5
    assert fills(path)[("Tasks", "E5")] == USER_BLUE
    assert ("Tasks", "E5") not in highlighted(path)
    assert [row[1] for row in issues_rows(path)] == [f.location for f in validate_source(str(path)).findings]
    press(path, clear)
    assert fills(path) == before


def test_the_original_fills_are_kept_in_a_hidden_sheet_of_the_workbook(tmp_path: Path) -> None:
    path = with_mistakes(tmp_path / "project.xlsx")
    press(path, validate)

    store = load_workbook(path)[STORE_SHEET]

    assert store.sheet_state == "hidden"
    rows = {(r[0], r[1]): r[2] for r in store.iter_rows(min_row=3, values_only=True)}
    assert rows[("Tasks", "E5")] == "#" + USER_BLUE
    assert rows[("Risks", cell_ref(4, column("risks", "score")))] == "#F2F2F2"  # the calculated column's grey


def test_async_validate_of_xlwings_lite_does_the_same_as_desktop_validate(tmp_path: Path) -> None:
    desktop = with_mistakes(tmp_path / "desktop.xlsx")
    lite = with_mistakes(tmp_path / "lite.xlsx")

    press(desktop, validate)
    _, book = press(lite, lambda b: asyncio.run(validate_async(b)))

    assert fills(lite) == fills(desktop)
    assert issues_rows(lite) == issues_rows(desktop)
    assert book.reads["colours"] == 3  # one get_colors() for each sheet with flagged cells: Tasks, Budget, Risks


def test_a_valid_workbook_gets_an_issues_sheet_that_says_so(tmp_path: Path) -> None:
    path = write_workbook(small(), tmp_path / "valid.xlsx")
    before = fills(path)

    summary, _ = press(path, validate)

    assert summary.text == "Project PRJ-0001: no problems found."
    assert load_workbook(path)[ISSUES_SHEET]["A1"].value == summary.text
    assert issues_rows(path) == []
    assert fills(path) == before


def test_a_users_own_issues_sheet_is_left_alone(tmp_path: Path) -> None:
    path = with_mistakes(tmp_path / "project.xlsx")
    workbook = load_workbook(path)
    workbook.create_sheet(ISSUES_SHEET)["A1"] = "my own issue log"
    workbook.save(path)

    summary, _ = press(path, validate)
    press(path, validate)

    assert summary.issues_sheet == "PMO Issues"
    assert load_workbook(path)[ISSUES_SHEET]["A1"].value == "my own issue log"
    press(path, clear)
    assert load_workbook(path).sheetnames.count(ISSUES_SHEET) == 1
    assert "PMO Issues" not in load_workbook(path).sheetnames


def test_reads_are_whole_used_ranges_however_big_the_workbook(tmp_path: Path) -> None:
    small_path = with_mistakes(tmp_path / "small.xlsx")
    big_sample = realistic_project(2)
    plant_mistakes(big_sample)
    big_path = write_workbook(big_sample, tmp_path / "big.xlsx")

    _, small_book = press(small_path, validate)
    big_summary, big_book = press(big_path, validate)

    sheets = len(load_workbook(big_path).sheetnames) - 2  # before Validate added Issues and the store
    assert big_book.reads["values"] == sheets  # one read a sheet, 300 tasks or 12
    assert big_book.reads["used_range"] == sheets
    assert big_book.reads["colours"] == big_summary.highlighted  # one a newly highlighted cell
    assert small_book.reads["values"] == big_book.reads["values"]


def test_new_project_fills_a_blank_template_and_stamps_its_version(tmp_path: Path) -> None:
    path = tmp_path / "new.xlsx"
    path.write_bytes(template_path("project").read_bytes())

    message, _ = press(path, new_project, "PRJ-0042", "Warehouse move", dt.date(2026, 3, 2), dt.date(2026, 9, 30))

    assert "PRJ-0042" in message
    project = load_workbook(path)["Project"]
    assert project.cell(column("project", "project_id"), 2).value == "PRJ-0042"
    assert project.cell(column("project", "project_name"), 2).value == "Warehouse move"
    assert project.cell(column("project", "start_date"), 2).value == dt.datetime(2026, 3, 2)
    report = validate_source(str(path))
    assert report.project_id == "PRJ-0042" and report.template_version == "2.0"
    with pytest.raises(ValueError, match="already belongs to project PRJ-0042"):
        press(path, new_project, "PRJ-0043", "Another")


def test_new_project_restores_missing_template_metadata(tmp_path: Path) -> None:
    path = tmp_path / "new.xlsx"
    workbook = load_workbook(template_path("plan"))
    del workbook["_pmo"]
    workbook.save(path)

    press(path, new_project, "PRJ-0007", "Plan only")

    meta = load_workbook(path)["_pmo"]
    assert meta.sheet_state == "hidden"
    assert [meta["A1"].value, meta["B1"].value, meta["A2"].value, meta["B2"].value] == ["template", "plan", "version", "2.0"]


def test_the_add_in_uses_the_annotated_copies_colours() -> None:
    assert (ERROR_FILL[1:], WARNING_FILL[1:]) == (annotate.ERROR_FILL, annotate.WARNING_FILL)
    assert ISSUES_HEADERS == annotate.ISSUES_HEADERS


def test_validate_on_an_open_book_does_not_need_a_saved_file(tmp_path: Path) -> None:
    """The add-in validates what Excel shows, not the file on disk: unsaved edits count."""
    path = with_mistakes(tmp_path / "project.xlsx")
    book = AdapterBook(path)
    book.sheets["Tasks"].range("E5").value = dt.datetime(2026, 12, 31)  # typed, not yet saved

    summary = validate(book)

    assert summary.errors == 5
