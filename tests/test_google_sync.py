"""``pmo sync`` over a portfolio of Excel files and Google spreadsheets, end to end.

The Google side is the local Sheets/Drive server of :mod:`fake_google`, reached by the real gspread
client through the ``[google] api_base`` setting of ``portfolio.toml``, exactly as a coordinator
would point it at a proxy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fake_google import FakeGoogle, tabs_from_workbook

from pmo_sheets.config import PortfolioConfig, load_config
from pmo_sheets.master import PORTFOLIO_SHEET
from pmo_sheets.readers.excel import read_excel
from pmo_sheets.samples import SampleProject, sample_project, write_workbook
from pmo_sheets.sync import SyncResult, run_sync


def small(number: int) -> SampleProject:
    return sample_project(number, tasks=10, budget_lines=2, months=3, risks=4)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Projects 1-5 as workbooks, written once (filling a template takes about a second)."""
    folder = tmp_path_factory.mktemp("sync-workbooks")
    return {n: write_workbook(small(n), folder / f"project-{n}.xlsx") for n in range(1, 6)}


class Portfolio:
    """Two projects as .xlsx files, two in a shared Drive folder, one spreadsheet listed by URL."""

    def __init__(self, root: Path, server: FakeGoogle, written: dict[int, Path]):
        self.server = server
        self.samples = {n: small(n) for n in range(1, 6)}
        (root / "projects").mkdir()
        for n in (1, 2):
            shutil.copy(written[n], root / "projects" / f"project-{n}.xlsx")
        self.folder = server.add_folder("PMO - project workbooks")
        self.ids: dict[int, str] = {}
        for n in (3, 4, 5):
            tabs, hidden = tabs_from_workbook(written[n])
            self.ids[n] = server.add_spreadsheet(f"Project {n} (Google)", tabs, hidden=hidden,
                                                 folder=self.folder if n != 5 else "root")
        config = root / "portfolio.toml"
        config.write_text(f"""
name = "Mixed portfolio"
reporting_currency = "USD"
master = "master.xlsx"
workers = 1

[[sources]]
kind = "excel"
path = "projects/*.xlsx"

[[sources]]
kind = "google_folder"
id = "https://drive.google.com/drive/folders/{self.folder}"

[[sources]]
kind = "google_sheet"
id = "https://docs.google.com/spreadsheets/d/{self.ids[5]}/edit#gid=0"

[google]
api_base = "{server.url}"
requests_per_minute = 100000
max_retries = 2
retry_base_seconds = 0.001
retry_max_seconds = 0.004
""")
        self.config: PortfolioConfig = load_config(config)

    def total(self, field: str) -> float:
        return round(sum(row[field] for s in self.samples.values() for row in s.tables["budget"]), 2)

    def sync(self) -> SyncResult:
        self.server.reset_log()
        return run_sync(self.config)


@pytest.fixture
def portfolio(tmp_path: Path, google: FakeGoogle, written: dict[int, Path]) -> Portfolio:
    return Portfolio(tmp_path, google, written)


def by_label(result: SyncResult) -> dict[str, tuple[str, bool]]:
    return {o.source.label: (o.state.status, o.read) for o in result.outcomes}


def test_a_mixed_portfolio_consolidates_into_one_master_with_correct_totals(portfolio: Portfolio) -> None:
    result = portfolio.sync()

    assert result.written and result.exit_code == 0, result.to_dict()
    assert by_label(result) == {
        "projects/project-1.xlsx": ("ok", True), "projects/project-2.xlsx": ("ok", True),
        "Project 3 (Google)": ("ok", True), "Project 4 (Google)": ("ok", True), "Project 5 (Google)": ("ok", True)}
    assert result.figures["projects"] == 5
    assert result.figures["budget"] == pytest.approx(portfolio.total("budget"))
    assert result.figures["actual"] == pytest.approx(portfolio.total("actual"))
    master = read_excel(portfolio.config.master).sheet(PORTFOLIO_SHEET)
    assert master is not None
    assert {row[0] for row in master.rows[1:] if row and str(row[0]).startswith("PRJ-")} == {f"PRJ-{n:04d}" for n in range(1, 6)}
    assert portfolio.server.counts() == {"drive": 1, "sheets": 3}  # one listing, one batchGet per spreadsheet


def test_a_resync_where_nothing_changed_makes_no_sheets_request(portfolio: Portfolio) -> None:
    first = portfolio.sync()
    second = portfolio.sync()

    assert second.count("read") == 0 and second.count("unchanged") == 5
    assert portfolio.server.counts() == {"drive": 1}  # the listing only: fingerprints equal, nothing read
    assert second.figures == first.figures


def test_a_resync_after_one_edit_reads_exactly_that_spreadsheet(portfolio: Portfolio) -> None:
    portfolio.sync()
    budget_cell = portfolio.server.sheet(portfolio.ids[4], "Budget").rows[1]
    extra = 1000.0
    portfolio.server.update(portfolio.ids[4], "Budget", 2, 7, budget_cell[6] + extra)  # G2: the first line's budget

    result = portfolio.sync()

    assert [label for label, (_, read) in by_label(result).items() if read] == ["Project 4 (Google)"]
    assert [(r.api, r.path) for r in portfolio.server.requests()] == [
        ("drive", "/drive/v3/files"), ("sheets", f"/v4/spreadsheets/{portfolio.ids[4]}/values:batchGet")]
    assert result.figures["budget"] == pytest.approx(portfolio.total("budget") + extra)


def test_a_persistent_500_marks_the_source_unreachable_and_keeps_its_last_good_data(portfolio: Portfolio) -> None:
    first = portfolio.sync()
    portfolio.server.update(portfolio.ids[3], "Project", 2, 2, "Edited while Google is down")
    portfolio.server.fail(500, times=None)

    result = portfolio.sync()

    assert result.written and result.exit_code == 1
    status, read = by_label(result)["Project 3 (Google)"]
    assert read and status == "unreadable, last good data kept"
    [outcome] = [o for o in result.outcomes if o.source.label == "Project 3 (Google)"]
    assert [f["rule"] for f in outcome.state.findings] == ["source-unreachable"]
    assert result.figures["budget"] == first.figures["budget"] and result.figures["projects"] == 5
    assert portfolio.server.count("sheets") == 3  # the first try and max_retries = 2 more, then it gives up


def test_a_spreadsheet_unreachable_once_is_read_again_when_google_recovers(portfolio: Portfolio) -> None:
    portfolio.sync()
    portfolio.server.update(portfolio.ids[3], "Project", 2, 2, "Edited while Google is down")
    portfolio.server.fail(500, times=None)
    portfolio.sync()
    portfolio.server.heal()

    recovered = portfolio.sync()

    assert by_label(recovered)["Project 3 (Google)"] == ("ok", True) and recovered.exit_code == 0


def test_when_drive_cannot_be_listed_the_google_sources_are_unchecked_not_missing(portfolio: Portfolio) -> None:
    first = portfolio.sync()
    portfolio.server.fail(500, times=None, api="drive")

    result = portfolio.sync()

    assert result.written and result.exit_code == 1
    statuses = by_label(result)
    for n in (3, 4, 5):
        assert statuses[f"Project {n} (Google)"] == ("unreadable, last good data kept", False)
    [outcome] = [o for o in result.outcomes if o.source.label == "Project 4 (Google)"]
    [finding] = outcome.state.findings
    assert finding["rule"] == "source-unreachable"
    assert finding["message"].startswith("Project 4 (Google): not checked, because ")
    assert not any(status.startswith("missing") for status, _ in statuses.values())
    assert result.figures["budget"] == first.figures["budget"] and result.figures["projects"] == 5

    portfolio.server.heal()
    recovered = portfolio.sync()

    assert recovered.exit_code == 0
    assert by_label(recovered)["Project 4 (Google)"][0] == "ok"
