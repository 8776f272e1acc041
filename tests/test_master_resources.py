"""The Resources sheet: each person's allocation per month across projects, against capacity.

People are named the way a SUMIFS criterion would misread (``R&D*``, ``<TBD>``, ``=X``, ``2026`` and
``2026.0``, ``Ana Silva`` and ``ana silva``): each total must be exactly that person's, in the cached
values and in what LibreOffice recalculates, and a month over capacity is red.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from portfolio_fixtures import consolidated, project_record, write_hand_master
from soffice import recalculate, recalculation_mismatches, require_soffice

from pmo_sheets.master_resources import FIRST_MONTH_COL, HEADER_ROW, RESOURCES_SHEET

JAN, FEB, MAR = "2026-01-01", "2026-02-01", "2026-03-01"
# (project, person, month, allocation): typed in three projects' Resources sheets.
ALLOCATIONS = [
    ("PRJ-1", "R&D*", JAN, 0.6), ("PRJ-2", "R&D*", JAN, 0.5),  # 110%: over
    ("PRJ-1", "r&d*", JAN, 0.3),  # another person: not added to R&D*
    ("PRJ-1", "<TBD>", FEB, 0.2), ("PRJ-2", "<TBD>", FEB, 0.4), ("PRJ-3", "<TBD>", FEB, 0.4),  # 100% exactly: not over
    ("PRJ-2", "=X", MAR, 1.0),
    ("PRJ-1", "2026", JAN, 0.25), ("PRJ-3", "2026.0", JAN, 0.5),  # two people, whatever a number reads as
    ("PRJ-1", "Ana Silva", FEB, 0.8), ("PRJ-3", "ana silva", FEB, 0.8),  # two people: capitals differ
    ("PRJ-2", "Ana Silva", FEB, 0.3), ("PRJ-2", "Ana Silva", MAR, 0.5),  # Ana Silva: 110% in February
]
# Person -> allocation in January, February, March, as a PMO would add them up by hand.
EXPECTED = {
    "2026": [0.25, 0, 0], "2026.0": [0.5, 0, 0], "<TBD>": [0, 1.0, 0], "=X": [0, 0, 1.0],
    "Ana Silva": [0, 1.1, 0.5], "R&D*": [1.1, 0, 0], "ana silva": [0, 0.8, 0], "r&d*": [0.3, 0, 0],
}
OVER = {("R&D*", 0), ("Ana Silva", 1)}


def grid(book: openpyxl.Workbook) -> dict[str, list[float]]:
    """Person -> [capacity, peak, months over, January, February, March] as the sheet shows them."""
    sheet = book[RESOURCES_SHEET]
    rows = sheet.iter_rows(min_row=HEADER_ROW + 2, values_only=True)
    return {row[0]: [row[2], row[3], row[4], *row[FIRST_MONTH_COL:FIRST_MONTH_COL + 3]] for row in rows if row[0]}


def expected_grid(capacity: float = 1.0) -> dict[str, list[float]]:
    return {person: [capacity, max(months), sum(1 for m in months if m > capacity + 1e-6), *months]
            for person, months in EXPECTED.items()}


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    projects = [project_record(pid, "Ops", resources=[{"person": person, "month": month, "allocation": allocation}
                                                      for p, person, month, allocation in ALLOCATIONS if p == pid])
                for pid in ("PRJ-1", "PRJ-2", "PRJ-3")]
    # 10 rows a sheet: the 13 allocations span two parts of Resource data.
    return write_hand_master(tmp_path_factory.mktemp("resources") / "master.xlsx", consolidated(projects),
                             {"USD": 1.0}, max_rows=10)


def test_each_persons_monthly_total_is_exactly_theirs_whatever_their_name(master: Path) -> None:
    book = openpyxl.load_workbook(master, data_only=True)
    assert "Resource data (2)" in book.sheetnames
    sheet = book[RESOURCES_SHEET]
    months = [sheet.cell(HEADER_ROW + 1, FIRST_MONTH_COL + 1 + i).value.strftime("%Y-%m-%d") for i in range(3)]
    assert months == [JAN, FEB, MAR] and sheet.cell(HEADER_ROW + 1, FIRST_MONTH_COL + 4).value is None
    assert grid(book) == {person: pytest.approx(values) for person, values in expected_grid().items()}
    formula = openpyxl.load_workbook(master)[RESOURCES_SHEET].cell(HEADER_ROW + 2, FIRST_MONTH_COL + 1).value
    assert "SUMIFS('Resource data'!" in formula and "'Resource data (2)'!" in formula and "$B5" in formula


def test_a_month_over_capacity_is_red(master: Path) -> None:
    with zipfile.ZipFile(master) as archive:
        index = openpyxl.load_workbook(master, read_only=True).sheetnames.index(RESOURCES_SHEET) + 1
        xml = archive.read(f"xl/worksheets/sheet{index}.xml").decode()
    rule = re.search(r'<conditionalFormatting sqref="F5:H12"><cfRule type="expression"[^>]*><formula>([^<]*)</formula>',
                     xml)
    assert rule is not None and rule.group(1) == "F5&gt;$C5+0.000001"
    # What the rule colours: the cached months over capacity are exactly the two over-allocated ones.
    book = openpyxl.load_workbook(master, data_only=True)
    shown = grid(book)
    over = {(person, m) for person, values in shown.items() for m in range(3) if values[3 + m] > values[0] + 1e-6}
    assert over == OVER


@pytest.mark.soffice
def test_libreoffice_recalculates_the_same_grid_and_follows_a_typed_capacity(master: Path, tmp_path: Path) -> None:
    require_soffice()
    fresh = recalculate(master, tmp_path / "out")
    assert recalculation_mismatches(master, fresh) == []
    assert grid(openpyxl.load_workbook(fresh, data_only=True)) == {
        person: pytest.approx(values) for person, values in expected_grid().items()}

    edited = tmp_path / "edited.xlsx"
    shutil.copy(master, edited)
    book = openpyxl.load_workbook(edited)
    sheet = book[RESOURCES_SHEET]
    for row in range(HEADER_ROW + 2, HEADER_ROW + 2 + len(EXPECTED)):
        sheet.cell(row, 3).value = 0.5  # everyone part-time
    book.save(edited)
    after = grid(openpyxl.load_workbook(recalculate(edited, tmp_path / "out2"), data_only=True))
    assert after == {person: pytest.approx(values) for person, values in expected_grid(0.5).items()}
