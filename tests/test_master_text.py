"""Text reaches the master as typed, the same on every sheet.

The Portfolio sheet is written by XlsxWriter, the data sheets by pmo_sheets.sheetdata; both store a
control character as ``_x0001_`` and a literal ``_x0041_`` as ``_x005F_x0041_`` (OOXML reserves
``_xHHHH_``), which Excel, LibreOffice and calamine read back as typed. openpyxl does not decode these
escapes in inline strings: it shows the stored form, the same from every sheet.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from portfolio_fixtures import consolidated, project_record, write_hand_master
from python_calamine import CalamineWorkbook

NAMES = ["bell\x07here", "_x0041_", "<r>x</r>", "cr\rlf", " leading space"]


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    projects = [project_record(f"PRJ-{i}", "Ops", project_name=name,
                               tasks=[{"task_id": "1", "task_name": name, "start": "2026-01-05", "finish": "2026-01-09"}])
                for i, name in enumerate(NAMES, start=1)]
    return write_hand_master(tmp_path_factory.mktemp("text") / "master.xlsx", consolidated(projects), {"USD": 1.0})


def openpyxl_column(path: Path, sheet: str, column: int) -> list[object]:
    rows = openpyxl.load_workbook(path)[sheet].iter_rows(min_row=2, max_row=1 + len(NAMES), values_only=True)
    return [row[column] for row in rows]


def calamine_column(path: Path, sheet: str, column: int) -> list[object]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return [row[column] for row in rows[1:1 + len(NAMES)]]


def test_calamine_reads_control_characters_and_literal_escapes_as_typed_from_every_sheet(master: Path) -> None:
    assert calamine_column(master, "Portfolio", 1) == NAMES  # Project Name, written by XlsxWriter
    assert calamine_column(master, "Project data", 1) == NAMES  # written by pmo_sheets.sheetdata
    assert calamine_column(master, "Task data", 2) == NAMES  # Task Name


def test_openpyxl_reads_the_same_stored_text_from_the_portfolio_and_the_data_sheets(master: Path) -> None:
    stored = ["bell_x0007_here", "_x005F_x0041_", "<r>x</r>", "cr_x000D_lf", " leading space"]
    assert openpyxl_column(master, "Portfolio", 1) == stored
    assert openpyxl_column(master, "Project data", 1) == stored
    assert openpyxl_column(master, "Task data", 2) == stored


def test_data_sheets_store_text_exactly_as_xlsxwriter_stores_it(master: Path) -> None:
    sheets = openpyxl.load_workbook(master, read_only=True).sheetnames
    with zipfile.ZipFile(master) as archive:
        def texts(sheet: str) -> list[str]:
            xml = archive.read(f"xl/worksheets/sheet{sheets.index(sheet) + 1}.xml").decode()
            return re.findall(r"<t(?: xml:space=\"preserve\")?>([^<]*)</t>", xml)
        portfolio, data = texts("Portfolio"), texts("Project data")
    for stored in ("bell_x0007_here", "_x005F_x0041_", "cr_x000D_lf", " leading space"):
        assert stored in portfolio and stored in data


def test_text_longer_than_a_cell_holds_is_cut_with_a_visible_marker_on_every_sheet(tmp_path: Path) -> None:
    long_name = "x" * 40_000 + "END"
    projects = [project_record("PRJ-1", "Ops", project_name=long_name)]
    master = write_hand_master(tmp_path / "master.xlsx", consolidated(projects), {"USD": 1.0})
    marker = " [... cut: the text is 40,003 characters, a cell holds 32,767]"
    expected = "x" * (32_767 - len(marker)) + marker
    assert calamine_column(master, "Portfolio", 1)[0] == expected
    assert calamine_column(master, "Project data", 1)[0] == expected
    assert len(expected) == 32_767
