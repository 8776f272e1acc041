"""Cross-project dependencies checked by pmo sync: a dependency on a Project ID no source provides, and an
open dependency on a project whose latest status report rates its schedule Red, are warnings on the
dependent project's source at the Depends On Project cell (Data quality, pmo sync --format json), and the
Dependencies sheet lists every dependency with its state."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from portfolio_fixtures import make_portfolio

from pmo_sheets.master_dependencies import DEPENDENCIES_SHEET, HEADER_ROW, HEADERS
from pmo_sheets.samples import SampleProject, sample_project
from pmo_sheets.sync import run_sync


def with_dependencies(sample: SampleProject) -> None:
    """Each project's RAID log has two dependencies (rows 5 and 9, on the project before it; PRJ-0001's on
    PRJ-0002); PRJ-0001's latest status report rates its schedule Red, everyone else's schedule is Green;
    PRJ-0002's first dependency names PRJ-0099, which is no project of the portfolio."""
    number = int(sample.project_id.removeprefix("PRJ-"))
    full = sample_project(number, currency=sample.project["currency"], tasks=4, budget_lines=1, months=2, risks=2,
                          raid=8, status=True)
    sample.tables["raid"], sample.tables["status"] = full.tables["raid"], full.tables["status"]
    for row in sample.tables["status"]:
        row["schedule_rag"] = "Green"
    if number == 1:
        sample.tables["status"][-1]["schedule_rag"] = "Red"
    if number == 2:
        sample.tables["raid"][3]["depends_on"] = "PRJ-0099"


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, Path]:
    root = tmp_path_factory.mktemp("dependencies")
    config, _ = make_portfolio(root, count=4, tasks=4, budget_lines=1, months=2, risks=2, edit=with_dependencies)
    result = run_sync(config)
    assert result.exit_code == 0  # warnings: every source's data is in the master
    return result.to_dict(), config.master, root


def sync_findings(report: dict) -> dict[str, list[tuple[str, str, str, str]]]:
    return {s["source"]: [(f["severity"], f["rule"], f"{f['sheet']}!{f['cell']}", f["message"]) for f in s["findings"]
                          if f["rule"].startswith("dependency-")] for s in report["sources"]}


EXPECTED = {
    "projects/PRJ-0001.xlsx": [],
    "projects/PRJ-0002.xlsx": [
        ("warning", "dependency-project-unknown", "RAID!J5", "dependency D-004 names PRJ-0099, which is not a project of "
         "this portfolio: no source provides it (or its source has never been valid)"),
        ("warning", "dependency-on-late-project", "RAID!J9", "dependency D-008 is on PRJ-0001, whose latest status "
         "report (May 2026) rates its schedule Red"),
    ],
    "projects/PRJ-0003.xlsx": [],
    "projects/PRJ-0004.xlsx": [],
}


def test_unknown_and_late_dependencies_are_warnings_at_their_cells_in_the_sync_json(synced: tuple[dict, Path, Path]) -> None:
    report, _, _ = synced
    assert sync_findings(report) == EXPECTED
    source = next(s for s in report["sources"] if s["source"] == "projects/PRJ-0002.xlsx")
    assert source["status"] == "ok" and source["errors"] == 0


def test_data_quality_shows_them_first_and_counts_them(synced: tuple[dict, Path, Path]) -> None:
    report, master, _ = synced
    quality = openpyxl.load_workbook(master, read_only=True)["Data quality"]
    rows = {row[0]: row for row in quality.iter_rows(min_row=2, values_only=True)}
    row = rows["projects/PRJ-0002.xlsx"]
    source = next(s for s in report["sources"] if s["source"] == "projects/PRJ-0002.xlsx")
    assert row[5] == source["warnings"] == len(source["findings"])
    first_two = "; ".join(f"{cell} {rule}: {message}" for _, rule, cell, message in EXPECTED["projects/PRJ-0002.xlsx"])
    assert row[6].startswith(first_two + "; ")
    assert "dependency-" not in rows["projects/PRJ-0003.xlsx"][6]


def test_the_dependencies_sheet_lists_every_dependency_and_its_state(synced: tuple[dict, Path, Path]) -> None:
    _, master, _ = synced
    sheet = openpyxl.load_workbook(master, read_only=True)[DEPENDENCIES_SHEET]
    rows = list(sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    assert rows[0] == HEADERS
    shown = [(r[0], r[1], r[5], r[6], r[7]) for r in rows[1:]]
    assert shown == [
        ("PRJ-0001", "D-004", "PRJ-0002", "not late", "projects/PRJ-0001.xlsx RAID!J5"),
        ("PRJ-0001", "D-008", "PRJ-0002", "not late", "projects/PRJ-0001.xlsx RAID!J9"),
        ("PRJ-0002", "D-004", "PRJ-0099", "not in the portfolio", "projects/PRJ-0002.xlsx RAID!J5"),
        ("PRJ-0002", "D-008", "PRJ-0001", "late: schedule Red in May 2026", "projects/PRJ-0002.xlsx RAID!J9"),
        ("PRJ-0003", "D-004", "PRJ-0002", "not late", "projects/PRJ-0003.xlsx RAID!J5"),
        ("PRJ-0003", "D-008", "PRJ-0002", "not late", "projects/PRJ-0003.xlsx RAID!J9"),
        ("PRJ-0004", "D-004", "PRJ-0003", "not late", "projects/PRJ-0004.xlsx RAID!J5"),
        ("PRJ-0004", "D-008", "PRJ-0003", "not late", "projects/PRJ-0004.xlsx RAID!J9"),
    ]


def test_a_sync_with_nothing_new_keeps_them_once_and_a_fixed_id_clears_them(synced: tuple[dict, Path, Path],
                                                                           tmp_path: Path) -> None:
    _, _, root = synced
    from pmo_sheets.config import load_config

    config = load_config(root / "portfolio.toml")
    again = run_sync(config).to_dict()
    assert sync_findings(again) == EXPECTED  # carried once, not twice

    # PRJ-0002's manager corrects the ID: both of its findings are worked out again; only the late one stays.
    path = root / "projects" / "PRJ-0002.xlsx"
    book = openpyxl.load_workbook(path)
    book["RAID"]["J5"] = "PRJ-0003"
    book.save(path)
    fixed = sync_findings(run_sync(config).to_dict())
    assert fixed == {**EXPECTED, "projects/PRJ-0002.xlsx": [EXPECTED["projects/PRJ-0002.xlsx"][1]]}


def test_a_column_the_pm_inserted_moves_the_findings_to_the_cell_it_moved_to(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=4, tasks=4, budget_lines=1, months=2, risks=2, edit=with_dependencies)
    run_sync(config)
    path = tmp_path / "projects" / "PRJ-0002.xlsx"
    book = openpyxl.load_workbook(path)
    book["RAID"].insert_cols(2)  # a column of the PM's own after ID: Depends On Project is now column K
    book["RAID"]["B1"] = "My notes"
    book.save(path)

    report = run_sync(config).to_dict()

    assert [cell for _, _, cell, _ in sync_findings(report)["projects/PRJ-0002.xlsx"]] == ["RAID!K5", "RAID!K9"]
