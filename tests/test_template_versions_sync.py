"""A portfolio may mix template versions: 1.0 and 2.0 workbooks consolidate side by side, and Data
quality says which version each source was read as (kept in the state store)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import openpyxl
from portfolio_fixtures import make_portfolio

from pmo_sheets.samples import fill_workbook, sample_project
from pmo_sheets.state import StateStore
from pmo_sheets.sync import run_sync


def data_quality(path: Path) -> dict[str, tuple[str, str | None]]:
    """Source -> (status, template version) as the master's Data quality sheet shows them."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = [tuple(r) for r in book["Data quality"].iter_rows(values_only=True)]
    book.close()
    assert rows[0][9] == "Template Version"
    return {r[0]: (r[3], r[9]) for r in rows[1:]}


def test_a_1_0_workbook_and_2_0_workbooks_sync_together_each_with_its_version(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    old = sample_project(9, tasks=6, budget_lines=1, months=2, risks=2)
    fill_workbook(old, version="1.0").save(tmp_path / "projects" / "PRJ-0009.xlsx")

    result = run_sync(config)

    assert result.exit_code == 0 and result.written
    assert data_quality(config.master) == {
        "projects/PRJ-0001.xlsx": ("ok", "2.0"), "projects/PRJ-0002.xlsx": ("ok", "2.0"),
        "projects/PRJ-0009.xlsx": ("ok", "1.0")}
    with StateStore(config.state) as store:
        assert {s.label: s.template_version for s in store.sources().values()} == {
            "projects/PRJ-0001.xlsx": "2.0", "projects/PRJ-0002.xlsx": "2.0", "projects/PRJ-0009.xlsx": "1.0"}
    # the 1.0 project's tasks are in the master beside the others'
    book = openpyxl.load_workbook(config.master, read_only=True)
    projects = {row[0] for row in book["Task data"].iter_rows(min_row=2, values_only=True)}
    book.close()
    assert "PRJ-0009" in projects


def test_a_state_store_from_before_template_versions_gains_the_column(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=1)
    run_sync(config)
    with sqlite3.connect(config.state) as db:  # as an earlier pmo-sheets left it: no template_version column
        db.execute("ALTER TABLE sources DROP COLUMN template_version")
    result = run_sync(config, full=True)

    assert result.exit_code == 0
    assert data_quality(config.master) == {"projects/PRJ-0001.xlsx": ("ok", "2.0")}
