"""A source that claims a project another source owns contributes nothing to the master: not a row, not a field.

The everyday case: a project manager copies last year's workbook and forgets to change its Project ID.
The copy's Project sheet (name, program, dates, approved budget, currency) must not overwrite the
original's, or the original's budget would be converted at the copy's currency's rate.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from portfolio_fixtures import make_portfolio

from pmo_sheets.config import load_config
from pmo_sheets.consolidate import criteria_key
from pmo_sheets.samples import sample_project, write_workbook
from pmo_sheets.sync import run_sync

# Columns that say where data came from or how fresh it is: they differ by design when a conflict is reported.
STATUS_HEADERS = {"Data Status", "Last Good Sync"}
SKIPPED_SHEETS = {"Data quality", "History"}


def master_values(path: Path) -> dict[str, list[list[Any]]]:
    """Every cached value of every sheet but Data quality and History, without the status columns."""
    book = openpyxl.load_workbook(path, data_only=True)
    sheets = {}
    for sheet in book.worksheets:
        if sheet.title in SKIPPED_SHEETS:
            continue
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        drop = {i for i, header in enumerate(rows[0] if rows else []) if header in STATUS_HEADERS}
        sheets[sheet.title] = [[v for i, v in enumerate(row) if i not in drop] for row in rows]
    return sheets


def last_years_copy(project_id: str, path: Path) -> Path:
    """A workbook for another project in another currency and program, that kept the original's Project ID."""
    copy = sample_project(7, currency="GBP", tasks=4, budget_lines=1, months=2, risks=2, people=2, raid=3, changes=2,
                          status=True)  # its 2.0 tables too: none of their rows may reach the master
    copy.project.update(project_id=project_id, project_name="Last year's project", program="Old program",
                        approved_budget=999_999.0, start_date=dt.date(2025, 1, 1))
    return write_workbook(copy, path)


@pytest.mark.parametrize("copied_id", ["PRJ-0001", "prj-0001"], ids=["same-id", "id-in-another-case"])
def test_a_copy_claiming_a_project_changes_no_value_on_any_master_sheet(tmp_path: Path, copied_id: str) -> None:
    config, _ = make_portfolio(tmp_path / "portfolio", count=3)
    run_sync(config)
    without_copy = master_values(config.master)

    last_years_copy(copied_id, tmp_path / "portfolio" / "projects" / "copied.xlsx")
    result = run_sync(config)

    assert result.exit_code == 1
    assert master_values(config.master) == without_copy
    assert [(c["project_id"], c["table"], c["kept"], c["ignored"]) for c in result.conflicts] == [
        ("PRJ-0001", table, "projects/PRJ-0001.xlsx", "projects/copied.xlsx")
        for table in ("tasks", "budget", "risks", "resources", "raid", "changes", "status")]
    quality = {row[0]: row[3] for row in openpyxl.load_workbook(config.master)["Data quality"].iter_rows(
        min_row=2, values_only=True)}
    assert quality["projects/copied.xlsx"] == ("conflict: tasks of PRJ-0001 already comes from projects/PRJ-0001.xlsx; "
                                               "this source contributes nothing")
    assert quality["projects/PRJ-0001.xlsx"] == "ok"


def test_the_source_the_coordinator_pins_owns_the_project(tmp_path: Path) -> None:
    root = tmp_path / "portfolio"
    config, _ = make_portfolio(root, count=2)
    run_sync(config)
    last_years_copy("PRJ-0001", root / "projects" / "copied.xlsx")
    text = (root / "portfolio.toml").read_text(encoding="utf-8")
    (root / "portfolio.toml").write_text(text.replace("[fx]", '[owners]\n"PRJ-0001" = "projects/copied.xlsx"\n\n[fx]'),
                                         encoding="utf-8")

    result = run_sync(load_config(root / "portfolio.toml"))

    assert [c["ignored"] for c in result.conflicts] == ["projects/PRJ-0001.xlsx"] * 7  # each table it would own
    portfolio = openpyxl.load_workbook(config.master, data_only=True)["Portfolio"]
    row = next(r for r in portfolio.iter_rows(min_row=2, values_only=True) if r[0] == "PRJ-0001")
    assert (row[1], row[2], row[8]) == ("Last year's project", "Old program", "GBP")


def test_a_copy_in_its_own_folder_is_still_a_conflict_once_copied_back(tmp_path: Path) -> None:
    """The state store remembers who came first: a later sync does not hand the project to the copy."""
    config, _ = make_portfolio(tmp_path / "portfolio", count=2)
    run_sync(config)
    before = master_values(config.master)
    copy = last_years_copy("PRJ-0001", tmp_path / "copied.xlsx")
    shutil.copyfile(copy, tmp_path / "portfolio" / "projects" / "copied.xlsx")
    run_sync(config)
    result = run_sync(config, full=True)  # read everything again: the order must not change

    assert result.conflicts and master_values(config.master) == before


@pytest.mark.parametrize(("first", "second"), [("PRJ-1", "prj-1"), ("2026", "02026"), ("2026", "2026.0"),
                                               ("1e3", "1000")])
def test_project_ids_a_spreadsheet_criterion_confuses_share_one_key(first: str, second: str) -> None:
    assert criteria_key(first) == criteria_key(second)


def test_project_ids_that_differ_share_no_key() -> None:
    assert len({criteria_key(i) for i in ["PRJ-1", "PRJ-01", "PRJ-1.0", "2026", "2027", "A-2026"]}) == 6


def test_a_budget_workbook_in_another_currency_than_the_plan_is_set_aside(tmp_path: Path) -> None:
    """Separate plan and budget workbooks of one project must agree on its currency, or neither rate is safe."""
    root = tmp_path / "portfolio"
    config, _ = make_portfolio(root, count=1)  # PRJ-0001 in EUR, a combined workbook
    (root / "projects" / "PRJ-0001.xlsx").unlink()
    plan = sample_project(1, currency="USD", tasks=4, budget_lines=1, months=2, risks=2)
    write_workbook(plan, root / "projects" / "a-plan.xlsx", kind="plan")
    budget = sample_project(1, currency="EUR", tasks=4, budget_lines=1, months=2, risks=2)
    write_workbook(budget, root / "projects" / "b-budget.xlsx", kind="budget")

    result = run_sync(config, full=True)

    assert result.exit_code == 1
    assert result.conflicts == [{"project_id": "PRJ-0001", "table": "currency (EUR, not USD)",
                                 "kept": "projects/a-plan.xlsx", "ignored": "projects/b-budget.xlsx"}]
    assert [row[0] for row in openpyxl.load_workbook(config.master)["Budget data"].iter_rows(min_row=2, values_only=True)
            if row[0]] == []


def test_figures_too_large_for_a_spreadsheet_stop_the_sync_in_one_line(tmp_path: Path) -> None:
    """Amounts are capped by the schema, but last good data stored by an older version may not be."""
    import sqlite3

    from typer.testing import CliRunner

    from pmo_sheets.cli import app
    from pmo_sheets.state import pack, unpack

    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    before = config.master.read_bytes()
    with sqlite3.connect(config.state) as db:
        key, blob = db.execute("SELECT key, payload FROM sources WHERE project_id = 'PRJ-0001'").fetchone()
        payload = unpack(blob)
        for line in payload["tables"]["budget"]:
            line["budget"] = 1e308  # two of them add up to inf
        db.execute("UPDATE sources SET payload = ? WHERE key = ?", (pack(payload), key))
    (tmp_path / "projects" / "PRJ-0002.xlsx").touch()  # something changed: the master is rewritten

    result = CliRunner().invoke(app, ["sync", "--config", str(config.path)])

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "the figures of PRJ-0001 add up to more than a spreadsheet can hold" in result.output
    assert config.master.read_bytes() == before
