"""The master's cached values, the numbers Protected View, previewers and pandas see before any
recalculation, against totals pandas works out independently from the source workbooks.

Runs everywhere, without LibreOffice; tests/test_master_libreoffice.py applies the same expectation to
LibreOffice's recalculation.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from portfolio_fixtures import FX, make_portfolio, with_lookalike_names
from test_master_libreoffice import assert_rollups_equal_pandas, source_frames, values

from pmo_sheets.sync import run_sync


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("portfolio")
    config, _ = make_portfolio(root, count=11, extra="max_rows_per_sheet = 40", edit=with_lookalike_names)
    assert run_sync(config).exit_code == 0
    return root, config.master


def test_every_rollup_sheets_cached_values_equal_pandas_totals_from_the_sources(synced: tuple[Path, Path]) -> None:
    root, master = synced
    assert_rollups_equal_pandas(values(master), root / "projects")


def test_a_wrong_cached_budget_is_caught_by_the_pandas_expectation(synced: tuple[Path, Path]) -> None:
    # The expectation is no mirror of the writer: one cached figure off by 1 makes it fail.
    root, master = synced
    book = values(master)
    book["Portfolio"]["M2"].value += 1
    with pytest.raises(AssertionError):
        assert_rollups_equal_pandas(book, root / "projects")


def test_the_history_row_of_a_sync_holds_the_headline_figures_pandas_works_out(synced: tuple[Path, Path]) -> None:
    root, master = synced
    projects, budget, risks = source_frames(root / "projects")
    budget = budget.merge(projects, on="project_id")
    rate = budget["Currency"].map(FX)
    budget_usd = (budget["Budget"].fillna(0) * rate).sum()
    actual_usd = (budget["Actual"].fillna(0) * rate).sum()
    eac_usd = actual_usd + (budget["Forecast"].fillna(0) * rate).sum()
    open_risks = risks[risks["Status"] != "Closed"]
    high = int((open_risks["Probability"] * open_risks["Impact"] >= 15).sum())  # the High rating, as in the template

    history = values(master)["History"]
    header = [cell.value for cell in history[1]]
    [row] = [dict(zip(header, (cell.value for cell in line), strict=True)) for line in history.iter_rows(min_row=2)]

    assert row["Projects"] == len(projects) == 11
    assert (row["Sources OK"], row["Sources Stale"], row["Sources Failed"]) == (11, 0, 0)
    assert row["Budget"] == pytest.approx(round(budget_usd, 2), abs=0.005)
    assert row["Actuals"] == pytest.approx(round(actual_usd, 2), abs=0.005)
    assert row["EAC"] == pytest.approx(round(eac_usd, 2), abs=0.005)
    assert row["Variance"] == pytest.approx(round(budget_usd - eac_usd, 2), abs=0.005)
    assert (row["Open Risks"], row["High Risks"]) == (len(open_risks), high)
