"""What the demo's master shows of template 2.0, as its cached values (what Excel's Protected View, a
previewer or pandas see): a person over-allocated, overdue RAID issues, approved changes, a RAG trend,
and dependencies on late projects."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from pmo_sheets import master_dependencies, master_raid, master_resources, master_status
from pmo_sheets.demo import DEMO_CURRENCIES, DOUBLE_BOOKED, demo_sample, run_demo
from pmo_sheets.samples import SampleProject


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


def demo_samples() -> list[SampleProject]:
    """The eight projects the demo writes, as the demo makes them."""
    return [demo_sample(n, DEMO_CURRENCIES[n % len(DEMO_CURRENCIES)]) for n in range(1, 9)]


def test_the_double_booked_person_is_over_capacity_in_march_only(book: openpyxl.Workbook) -> None:
    header, rows = table(book[master_resources.RESOURCES_SHEET], master_resources.HEADER_ROW)
    person, month, booked = DOUBLE_BOOKED
    typed = sum(r["allocation"] for s in demo_samples() for r in s.tables["resources"]
                if r["person"] == person and r["month"] == month)
    row = next(r for r in rows if r[0] == person)
    march = row[header.index(dt.datetime.combine(month, dt.time()))]
    assert march == pytest.approx(typed) and typed - booked <= 1 < typed  # over 100% only with the double booking
    assert row[2:5] == (1, march, 1)  # capacity, the peak, one month over capacity
    assert [r[0] for r in rows if r[4] != 0] == [person]  # nobody else: the story is one person


def test_open_raid_items_are_overdue_and_approved_changes_add_up(book: openpyxl.Workbook) -> None:
    header, rows = table(book[master_raid.RAID_SHEET], master_raid.HEADER_ROW)
    total = dict(zip(header, rows[-1], strict=True))
    assert rows[-1][0] == "Total" and len(rows) == 9  # eight projects and the total
    samples = demo_samples()
    open_items = sum(1 for s in samples for item in s.tables["raid"] if item["status"] != "Closed")
    approved = [(c, s.project["currency"]) for s in samples for c in s.tables["changes"] if c["decision"] == "Approved"]
    usd = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}  # the demo's [fx]
    # Open items fell due in June and July 2026: every one is overdue by now.
    assert (total["Open Items"], total["Overdue"], total["Approved Changes"]) == (open_items, open_items, 8)
    assert total["Schedule Impact (days)"] == sum(c["schedule_impact_days"] for c, _ in approved)
    assert total["Cost Impact (USD)"] == pytest.approx(sum(c["cost_impact"] * usd[cur] for c, cur in approved))


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


