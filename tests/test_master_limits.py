"""The master stays within what Excel opens, whatever ``max_rows_per_sheet`` is: no formula over 8,192
characters (a figure over many sheet parts adds up per-part subtotals on the Part subtotals sheet,
which LibreOffice recalculates to the same totals), and a clear configuration error rather than a
workbook of thousands of sheets."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from portfolio_fixtures import FX, consolidated, consolidated_samples, forty_part_samples, project_record, write_hand_master
from soffice import recalculate, recalculation_mismatches, require_soffice

from pmo_sheets.config import ConfigError


@pytest.fixture(scope="module")
def forty_parts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The master of three projects (120 tasks, 90 budget lines, 60 risks each) at 10 rows a sheet."""
    master = tmp_path_factory.mktemp("forty") / "master.xlsx"
    return write_hand_master(master, consolidated_samples(forty_part_samples()), FX, max_rows=10)


def test_no_formula_passes_excels_8192_characters_when_tables_span_forty_sheets(forty_parts: Path) -> None:
    book = openpyxl.load_workbook(forty_parts)
    for table, parts in (("Task data", 40), ("Budget data", 30), ("Risk data", 20)):
        assert f"{table} ({parts})" in book.sheetnames and f"{table} ({parts + 1})" not in book.sheetnames
    lengths = [len(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
               if isinstance(cell.value, str) and cell.value.startswith("=")]
    assert len(lengths) > 300 and max(lengths) <= 8_192

    # PRJ-0001's budget adds up its 30 per-part subtotals, each a SUMIFS over one Budget data sheet.
    subtotals = book["Part subtotals"]
    row = next(r for r in range(2, subtotals.max_row + 1) if subtotals.cell(r, 1).value == "Portfolio!M2")
    assert book["Portfolio"]["M2"].value == f"=(SUM('Part subtotals'!$D${row}:$AG${row}))*$J2"
    assert [subtotals.cell(row, col).value for col in (2, 3)] == ["SUM", "Budget data"]
    assert subtotals.cell(row, 4).value == "=SUMIFS('Budget data'!$J$2:$J$10,'Budget data'!$A$2:$A$10,Portfolio!$A2)"
    assert subtotals.cell(row, 33).value == ("=SUMIFS('Budget data (30)'!$J$2:$J$10,'Budget data (30)'!$A$2:$A$10,"
                                             "Portfolio!$A2)")
    # Every kind of figure that outgrew one formula: % complete, money, high risks, the largest score
    # (MAX of the parts), Finance's converted sums, the heat map.
    feeds = {subtotals.cell(r, 1).value: subtotals.cell(r, 2).value for r in range(2, subtotals.max_row + 1)}
    assert {"Portfolio!K2", "Portfolio!M2", "Portfolio!T2", "Finance!B5", "Risks!B4"} <= set(feeds)
    assert feeds["Portfolio!U2"] == "MAX"


def test_per_part_subtotals_cache_each_parts_own_sum(forty_parts: Path) -> None:
    samples = forty_part_samples()
    budget = [line["budget"] for line in samples[0].tables["budget"]]  # PRJ-0001's 90 lines fill parts 1 to 10
    cached = openpyxl.load_workbook(forty_parts, data_only=True)
    subtotals = cached["Part subtotals"]
    row = next(r for r in range(2, subtotals.max_row + 1) if subtotals.cell(r, 1).value == "Portfolio!M2")
    parts = [subtotals.cell(row, col).value for col in range(4, 34)]
    assert parts == pytest.approx([sum(budget[i:i + 9]) for i in range(0, 90, 9)] + [0] * 20)
    assert cached["Portfolio"]["M2"].value == pytest.approx(sum(budget) * FX["EUR"])  # PRJ-0001 is in EUR


@pytest.mark.soffice
def test_a_master_whose_tables_span_forty_sheets_recalculates_to_the_same_totals(forty_parts: Path,
                                                                                tmp_path: Path) -> None:
    require_soffice()

    out = recalculate(forty_parts, tmp_path / "out")

    assert recalculation_mismatches(forty_parts, out) == []
    recalculated = openpyxl.load_workbook(out, data_only=True)
    samples = forty_part_samples()
    budget_usd = sum(line["budget"] * FX[line["currency"]] for s in samples for line in s.tables["budget"])
    open_risks = sum(risk["status"] != "Closed" for s in samples for risk in s.tables["risks"])
    portfolio = recalculated["Portfolio"]
    assert portfolio["A5"].value == "Total"
    assert portfolio["M5"].value == pytest.approx(budget_usd)
    assert portfolio["S5"].value == open_risks
    finance = recalculated["Finance"]
    assert next(finance.cell(r, 2).value for r in range(1, 30) if finance.cell(r, 1).value == "Total") == \
        pytest.approx(budget_usd)
    heat = recalculated["Risks"]
    assert sum(heat.cell(r, c).value for r in range(4, 9) for c in range(2, 7)) == open_risks


def test_a_table_that_would_need_over_a_thousand_sheets_is_a_configuration_error_and_nothing_is_written(
        tmp_path: Path) -> None:
    tasks = [{"task_id": str(i), "task_name": "Step", "start": "2026-01-05", "finish": "2026-01-09"}
             for i in range(1, 9_010)]  # 9,009 rows at 9 a sheet: 1,001 sheets
    portfolio = consolidated([project_record("PRJ-1", "Ops", tasks=tasks)])
    with pytest.raises(ConfigError, match=r"Task data has 9,009 rows: at max_rows_per_sheet = 10 that is 1,001 "
                                          r"sheets, .* raise max_rows_per_sheet to at least 11 "):
        write_hand_master(tmp_path / "master.xlsx", portfolio, {"USD": 1.0}, max_rows=10)
    assert list(tmp_path.iterdir()) == []
