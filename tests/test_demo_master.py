"""What the demo's master shows of template 2.0, as its cached values (what Excel's Protected View, a
previewer or pandas see): a person over-allocated, overdue RAID issues, approved changes, a RAG trend,
and dependencies on late projects."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from pmo_sheets import master_dependencies, master_raid, master_resources, master_status
from pmo_sheets.demo import DOUBLE_BOOKED, run_demo


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    folder = tmp_path_factory.mktemp("demo") / "demo"
    assert run_demo(8, folder, echo=lambda line: None) == 0
    return openpyxl.load_workbook(folder / "master.xlsx", data_only=True)


def table(sheet: openpyxl.worksheet.worksheet.Worksheet, header_row: int) -> tuple[list, list[tuple]]:
    """The header (0-based row ``header_row``) and the rows under it, up to the first blank one."""
    rows = list(sheet.iter_rows(min_row=header_row + 1, values_only=True))
    body = []
    for row in rows[1:]:
        if row[0] is None:
            break
        body.append(row)
    return list(rows[0]), body


def test_the_double_booked_person_is_over_capacity_in_march(book: openpyxl.Workbook) -> None:
    header, rows = table(book[master_resources.RESOURCES_SHEET], master_resources.HEADER_ROW)
    person, month, _ = DOUBLE_BOOKED
    row = next(r for r in rows if r[0] == person)
    march = row[header.index(dt.datetime.combine(month, dt.time()))]
    assert march > 1 and row[3] == march and row[4] >= 1  # the peak, and months over capacity
    assert all(r[4] == 0 for r in rows if r[0] != person)  # nobody else: the story is one person


def test_open_raid_items_are_overdue_and_approved_changes_add_up(book: openpyxl.Workbook) -> None:
    header, rows = table(book[master_raid.RAID_SHEET], master_raid.HEADER_ROW)
    total = dict(zip(header, rows[-1], strict=True))
    assert rows[-1][0] == "Total" and len(rows) == 9  # eight projects and the total
    assert total["Overdue"] > 0 and total["Approved Changes"] == 8 and total["Cost Impact (USD)"] > 0


def test_the_status_trend_shows_ratings_that_change(book: openpyxl.Workbook) -> None:
    header, rows = table(book[master_status.TREND_SHEET], master_status.HEADER_ROW)
    months = header[master_status.FIRST_MONTH_COL:]
    assert months[-1] == dt.datetime(2026, 5, 1) and len(months) == 6
    trends = {r[0]: r[master_status.FIRST_MONTH_COL:] for r in rows}
    assert len(trends) == 8 and all(rags[-1] in ("Green", "Amber", "Red") for rags in trends.values())
    assert any(len({rag for rag in rags if rag}) == 3 for rags in trends.values())  # Green to Red, or back


def test_dependencies_on_late_projects_are_listed(book: openpyxl.Workbook) -> None:
    _, rows = table(book[master_dependencies.DEPENDENCIES_SHEET], master_dependencies.HEADER_ROW)
    assert any(str(r[6]).startswith("late: schedule Red") for r in rows)
    quality = [r for r in book["Data quality"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert any("dependency-on-late-project" in (r[6] or "") for r in quality)


