"""Finance's comments in the master: what finance types, clears or loses with the file, as finance sees it.

The master is the truth for the comments of the projects it shows; the state store keeps a copy,
saved on every sync, for when the master is deleted. A master that cannot be read stops the sync
rather than being replaced by one without the comments.
"""

from __future__ import annotations

import io
import os
import sqlite3
import zipfile
from pathlib import Path

import msoffcrypto.format.ooxml
import openpyxl
import pytest
from portfolio_fixtures import make_portfolio
from typer.testing import CliRunner

from pmo_sheets.cli import app
from pmo_sheets.config import PortfolioConfig
from pmo_sheets.master import FINANCE_COMMENT
from pmo_sheets.samples import sample_project, write_workbook
from pmo_sheets.sync import MasterUnreadable, run_sync

runner = CliRunner()


def finance_comments(master: Path) -> dict[str, object]:
    """Project ID -> its Finance comment cell, as the master's Portfolio sheet shows it."""
    book = openpyxl.load_workbook(master, read_only=True, data_only=True)
    rows = [tuple(r) for r in book["Portfolio"].iter_rows(values_only=True)]
    book.close()
    column = rows[0].index(FINANCE_COMMENT)
    return {r[0]: r[column] for r in rows[1:] if r[0] and r[0] != "Total"}


def type_comment(master: Path, project_id: str, text: str | None) -> None:
    """What finance does in Excel: type (or clear) a project's Finance comment and save."""
    book = openpyxl.load_workbook(master)
    sheet = book["Portfolio"]
    column = [c.value for c in sheet[1]].index(FINANCE_COMMENT) + 1
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == project_id)
    sheet.cell(row, column).value = text  # cell(row, column, None) would leave the old value
    book.save(master)


def state_snapshot(config: PortfolioConfig) -> list[object]:
    db = sqlite3.connect(config.state)
    try:
        return [db.execute("SELECT key, fingerprint, status, last_checked FROM sources ORDER BY key").fetchall(),
                db.execute("SELECT * FROM history ORDER BY synced_at").fetchall(),
                db.execute("SELECT * FROM comments ORDER BY project_id, header").fetchall()]
    finally:
        db.close()


def test_a_comment_finance_clears_stays_cleared(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    type_comment(config.master, "PRJ-0001", "Capex approved in Q2")
    assert run_sync(config, full=True).written  # the comment is now in the state store too
    type_comment(config.master, "PRJ-0001", None)  # finance changes their mind

    rewritten = run_sync(config, full=True)  # every source read again: the master is written anew

    assert rewritten.written
    assert finance_comments(config.master)["PRJ-0001"] is None
    config.master.unlink()  # and the store forgot it as well: a rebuilt master does not bring it back
    assert run_sync(config).written
    assert finance_comments(config.master) == {"PRJ-0001": None, "PRJ-0002": None}


def test_comments_typed_into_the_master_are_saved_even_when_nothing_changed(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    type_comment(config.master, "PRJ-0002", "Waiting for the revised forecast")

    quiet = run_sync(config)
    assert not quiet.written and quiet.count("read") == 0  # nothing changed: the master is left alone
    config.master.unlink()  # deleted by accident
    rebuilt = run_sync(config)

    assert rebuilt.written
    assert finance_comments(config.master)["PRJ-0002"] == "Waiting for the revised forecast"


def test_a_comment_typed_while_the_sync_reads_the_sources_is_kept(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    typed: list[bool] = []

    def finance_saves_meanwhile(stage: str, done: int, total: int) -> None:
        if not typed:  # the first progress report: the sync is reading the sources
            type_comment(config.master, "PRJ-0001", "Typed during the sync")
            typed.append(True)

    result = run_sync(config, full=True, progress=finance_saves_meanwhile)

    assert result.written and typed
    assert finance_comments(config.master)["PRJ-0001"] == "Typed during the sync"


def test_a_project_that_comes_back_gets_its_comments_back_from_the_state_store(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    type_comment(config.master, "PRJ-0002", "On hold until the merger")
    parked = tmp_path / "PRJ-0002.xlsx"
    (tmp_path / "projects" / "PRJ-0002.xlsx").rename(parked)
    run_sync(config, prune_missing=True)  # it leaves the portfolio: the comment goes to the archive
    assert "PRJ-0002" not in finance_comments(config.master)

    parked.rename(tmp_path / "projects" / "PRJ-0002.xlsx")
    back = run_sync(config)

    assert back.written
    assert finance_comments(config.master)["PRJ-0002"] == "On hold until the merger"


def encrypt(path: Path, password: str) -> None:
    """Protect the workbook with a password, as Excel's File > Info > Protect Workbook does."""
    plain = io.BytesIO(path.read_bytes())
    with path.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt(password, out)


def test_a_password_protected_master_stops_the_sync_and_writes_nothing(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    type_comment(config.master, "PRJ-0001", "Confidential: budget cut coming")
    encrypt(config.master, "finance-only")
    write_workbook(sample_project(2, tasks=4, budget_lines=1, months=1, risks=1), tmp_path / "projects" / "PRJ-0002.xlsx")
    protected, state = config.master.read_bytes(), state_snapshot(config)

    result = runner.invoke(app, ["sync", "--config", str(config.path)])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"pmo: cannot read the master {config.master} (the workbook is password-protected; remove the password and "
        "save again); finance's comments in it would be lost, so nothing was written. To start a new master with "
        "the comments saved at the last sync, move this one away.\n")
    assert config.master.read_bytes() == protected
    assert state_snapshot(config) == state


def test_a_damaged_master_stops_the_sync_and_writes_nothing(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    damaged = config.master.read_bytes()[:4096]  # a copy cut short
    config.master.write_bytes(damaged)
    state = state_snapshot(config)

    result = runner.invoke(app, ["sync", "--config", str(config.path), "--full"])

    assert result.exit_code == 2
    assert result.stderr.startswith(f"pmo: cannot read the master {config.master} (the workbook is damaged")
    assert result.stderr.count("\n") == 1
    assert config.master.read_bytes() == damaged
    assert state_snapshot(config) == state


def test_comments_in_a_master_from_before_the_status_columns_are_kept(tmp_path: Path) -> None:
    """A master written before the Portfolio sheet had its Status Month / RAG / Summary columns holds
    finance's columns where those are now: the next sync still finds and keeps them."""
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    book = openpyxl.load_workbook(config.master)
    sheet = book["Portfolio"]
    status_at = [c.value for c in sheet[1]].index("Status Month") + 1
    sheet.delete_cols(status_at, 3)  # the earlier layout: Last Good Sync, then Finance comment
    assert sheet.cell(1, status_at).value == FINANCE_COMMENT
    sheet.cell(1, status_at + 1).value = "Capex ref"
    sheet.cell(2, status_at).value = "Capex approved in Q2"
    sheet.cell(3, status_at + 1).value = "CX-17"
    book.save(config.master)
    (tmp_path / "projects" / "PRJ-0001.xlsx").touch()  # the workbook changed: the master is written again

    assert run_sync(config, full=True).written

    assert finance_comments(config.master) == {"PRJ-0001": "Capex approved in Q2", "PRJ-0002": None}
    rows = [tuple(r) for r in openpyxl.load_workbook(config.master)["Portfolio"].iter_rows(values_only=True)]
    assert rows[0][-3:] == ("Status Summary", FINANCE_COMMENT, "Capex ref") and rows[2][-1] == "CX-17"


def test_a_master_bigger_than_a_source_may_be_is_still_read_for_finances_comments(tmp_path: Path) -> None:
    """At 1,000 projects the master's Task data sheet unpacks to 165 MB, past the 64 MB a project workbook's
    part may: reading finance's comments back must still work (only zip-bomb packing is refused)."""

    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    type_comment(config.master, "PRJ-0001", "Capex approved in Q2")
    block = os.urandom(8 * 1024).hex().encode()  # 16 KB that packs about 80 times when repeated: no bomb
    with zipfile.ZipFile(config.master, "a", zipfile.ZIP_DEFLATED) as master, \
            master.open("xl/worksheets/sheet90.xml", "w", force_zip64=True) as part:
        for _ in range(65 * 64 + 1):  # 65 MB and a bit: one part past a source's 64 MB
            part.write(block)

    result = run_sync(config, full=True)

    assert result.written
    assert finance_comments(config.master)["PRJ-0001"] == "Capex approved in Q2"


def test_a_master_with_a_zip_bombs_packing_stops_the_sync(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=1)
    run_sync(config)
    with zipfile.ZipFile(config.master, "a", zipfile.ZIP_DEFLATED) as master, \
            master.open("xl/worksheets/sheet90.xml", "w", force_zip64=True) as part:
        for _ in range(8):
            part.write(b"0" * 1024 * 1024)  # 8 MB of zeros: packed about 1,000 times
    before = config.master.read_bytes()

    with pytest.raises(MasterUnreadable, match="refused as a likely zip bomb"):
        run_sync(config, full=True)
    assert config.master.read_bytes() == before
