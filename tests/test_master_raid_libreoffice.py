"""Template 2.0's rollups recalculated by LibreOffice: the RAID and changes sheet (open items by priority,
overdue items, approved change totals), Portfolio's latest status columns and the Status trend sheet. Cached = recalculated =
pandas, pandas working from the source workbooks themselves; the tables span several sheet parts and
the summaries are text a criterion or a formula would misread."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from portfolio_fixtures import FX, make_portfolio
from soffice import recalculate, recalculation_mismatches, require_soffice
from test_master_libreoffice import plant_wrong_cached_value
from test_master_template2 import tricky_text

from pmo_sheets.master_raid import HEADER_ROW, RAID_SHEET
from pmo_sheets.master_status import FIRST_MONTH_COL, TREND_SHEET
from pmo_sheets.master_status import HEADER_ROW as TREND_HEADER_ROW
from pmo_sheets.rollups import RAG_TREND_MONTHS
from pmo_sheets.sync import run_sync

pytestmark = pytest.mark.soffice


def source_table(folder: Path, sheet: str, key: str) -> pd.DataFrame:
    """One table of every source workbook, read with pandas, with each row's Project ID and currency."""
    frames = []
    for path in sorted(folder.glob("*.xlsx")):
        form = pd.read_excel(path, sheet_name="Project", header=None, usecols=[0, 1], engine="openpyxl")
        info = dict(zip(form[0], form[1], strict=True))
        table = pd.read_excel(path, sheet_name=sheet, engine="openpyxl", converters={"Summary": str, "Title": str})
        table = table.dropna(subset=[key])
        frames.append(table.assign(project_id=info["Project ID"], project_currency=info["Currency"]))
    return pd.concat(frames, ignore_index=True)


def expected_raid_and_changes(folder: Path, as_of: dt.date) -> dict[str, list[float]]:
    """Project ID -> [open, open by priority..., overdue, approved, days, cost in USD], from the sources."""
    raid = source_table(folder, "RAID", "ID")
    changes = source_table(folder, "Changes", "Change ID")
    result = {}
    for pid in sorted(set(raid["project_id"]) | set(changes["project_id"])):
        items = raid[(raid["project_id"] == pid) & (raid["Status"] != "Closed")]
        approved = changes[(changes["project_id"] == pid) & (changes["Decision"] == "Approved")]
        rate = FX.get(approved["project_currency"].iloc[0], 1.0) if len(approved) else 1.0
        result[pid] = [len(items), *((items["Priority"] == p).sum() for p in ("Critical", "High", "Medium", "Low")),
                       (pd.to_datetime(items["Due Date"]) < pd.Timestamp(as_of)).sum(), len(approved),
                       approved["Schedule Impact (days)"].sum(), approved["Cost Impact"].sum() * rate]
    return result


def sheet_figures(book: openpyxl.Workbook) -> dict[str, list[float]]:
    sheet = book[RAID_SHEET]
    rows = sheet.iter_rows(min_row=HEADER_ROW + 2, values_only=True)
    return {row[0]: list(row[2:11]) for row in rows if row[0] and row[0] != "Total"}


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    require_soffice()
    root = tmp_path_factory.mktemp("raid")
    config, _ = make_portfolio(root, count=4, tasks=4, budget_lines=1, months=2, risks=2, edit=tricky_text,
                               extra="max_rows_per_sheet = 10")  # every new table spans several sheets
    assert run_sync(config).exit_code == 0
    return root, config.master


def test_raid_change_and_status_figures_recalculate_to_their_cached_values_and_to_pandas(
        synced: tuple[Path, Path], tmp_path: Path) -> None:
    root, master = synced
    cached = openpyxl.load_workbook(master, data_only=True)
    as_of = cached[RAID_SHEET]["B2"].value.date()
    expected = expected_raid_and_changes(root / "projects", as_of)
    assert sheet_figures(cached) == {pid: pytest.approx(values) for pid, values in expected.items()}
    assert sum(values[5] for values in expected.values()) > 0 and sum(values[6] for values in expected.values()) > 0

    planted = tmp_path / "master.xlsx"
    shutil.copy(master, planted)
    sheets = cached.sheetnames
    plant_wrong_cached_value(planted, sheets.index(RAID_SHEET) + 1, f"K{HEADER_ROW + 2}", "123456789")
    recalculated_path = recalculate(planted, tmp_path / "out")
    recalculated = openpyxl.load_workbook(recalculated_path, data_only=True)

    # LibreOffice really recalculated (the planted cost is gone), and agrees with every cached value.
    mismatches = recalculation_mismatches(master, recalculated_path)
    assert mismatches == []
    assert sheet_figures(recalculated) == {pid: pytest.approx(values) for pid, values in expected.items()}

    # Portfolio's latest status: the newest period's RAG and summary, as typed in the Status sheet.
    status = source_table(root / "projects", "Status", "Period")
    newest = status.sort_values("Period").groupby("project_id").tail(1).set_index("project_id")
    portfolio = recalculated["Portfolio"]
    headers = [c.value for c in portfolio[1]]
    month, rag, summary = (headers.index(h) for h in ("Status Month", "Status RAG", "Status Summary"))
    shown = {row[0]: (row[month], row[rag], row[summary]) for row in portfolio.iter_rows(min_row=2, values_only=True)
             if row[0] and row[0] != "Total"}
    assert shown == {pid: (report["Period"].to_pydatetime(), report["Overall RAG"], report["Summary"])
                     for pid, report in newest.iterrows()}


def test_an_overdue_date_typed_by_finance_moves_the_overdue_counts(synced: tuple[Path, Path], tmp_path: Path) -> None:
    root, master = synced
    book = openpyxl.load_workbook(master)
    early = dt.date(2026, 6, 1)  # before every open item's due date
    book[RAID_SHEET]["B2"].value = early
    edited = tmp_path / "edited.xlsx"
    book.save(edited)

    after = sheet_figures(openpyxl.load_workbook(recalculate(edited, tmp_path / "out"), data_only=True))

    assert {pid: values[5] for pid, values in after.items()} == {
        pid: values[5] for pid, values in expected_raid_and_changes(root / "projects", early).items()}
    assert all(values[5] == 0 for values in after.values())


def expected_trend(folder: Path) -> tuple[list[dt.datetime], dict[str, list[str | None]]]:
    """The last RAG_TREND_MONTHS calendar months up to the newest period any source reports, and per
    project its Overall RAG in each (None for a month without a report), from the sources."""
    status = source_table(folder, "Status", "Period")
    month = pd.to_datetime(status["Period"]).dt.to_period("M")
    latest = month.max()
    months = [latest - back for back in range(RAG_TREND_MONTHS - 1, -1, -1)]
    rags = {(pid, m): rag for pid, m, rag in zip(status["project_id"], month, status["Overall RAG"], strict=True)}
    projects = sorted(status["project_id"].unique())
    return ([m.to_timestamp().to_pydatetime() for m in months],
            {pid: [rags.get((pid, m)) for m in months] for pid in projects})


def trend_figures(book: openpyxl.Workbook) -> tuple[list[dt.datetime], dict[str, list[str | None]]]:
    sheet = book[TREND_SHEET]
    header = [c.value for c in sheet[TREND_HEADER_ROW + 1]][FIRST_MONTH_COL:]
    rows = sheet.iter_rows(min_row=TREND_HEADER_ROW + 2, values_only=True)
    return header, {row[0]: [value or None for value in row[FIRST_MONTH_COL:]] for row in rows if row[0]}


def test_rag_trend_recalculates_to_its_cached_values_and_to_the_sources_and_is_coloured(
        synced: tuple[Path, Path], tmp_path: Path) -> None:
    root, master = synced
    expected = expected_trend(root / "projects")
    cached = openpyxl.load_workbook(master, data_only=True)
    assert trend_figures(cached) == expected
    # Blank months (a project that started later) and all three ratings are in the picture.
    shown = [rag for rags in expected[1].values() for rag in rags]
    assert None in shown and {"Green", "Amber"} <= set(shown)

    planted = tmp_path / "master.xlsx"
    shutil.copy(master, planted)
    first_project_latest = f"{chr(ord('A') + FIRST_MONTH_COL + RAG_TREND_MONTHS - 1)}{TREND_HEADER_ROW + 2}"
    plant_wrong_cached_value(planted, cached.sheetnames.index(TREND_SHEET) + 1, first_project_latest, "Purple")
    recalculated_path = recalculate(planted, tmp_path / "out")

    # LibreOffice really recalculated (Purple is gone) and agrees with the sources.
    assert trend_figures(openpyxl.load_workbook(recalculated_path, data_only=True)) == expected
    assert [m for m in recalculation_mismatches(master, recalculated_path) if m[0] == TREND_SHEET] == []

    # Green, Amber and Red are coloured over the whole grid.
    rules = openpyxl.load_workbook(master)[TREND_SHEET].conditional_formatting
    grid = (f"{chr(ord('A') + FIRST_MONTH_COL)}{TREND_HEADER_ROW + 2}:"
            f"{chr(ord('A') + FIRST_MONTH_COL + RAG_TREND_MONTHS - 1)}{TREND_HEADER_ROW + 1 + len(expected[1])}")
    colours = {rule.formula[0]: rule.dxf.fill.bgColor.rgb for cf in rules for rule in cf.rules if str(cf.sqref) == grid}
    assert colours == {'"Green"': "FFC6EFCE", '"Amber"': "FFFFEB9C", '"Red"': "FFFFC7CE"}
