"""The master's cached values, the numbers Protected View, previewers and pandas see before any
recalculation, against totals pandas works out independently from the source workbooks.

Runs everywhere, without LibreOffice; tests/test_master_libreoffice.py applies the same expectation to
LibreOffice's recalculation.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from portfolio_fixtures import make_portfolio, with_lookalike_names
from test_master_libreoffice import assert_rollups_equal_pandas, values

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
