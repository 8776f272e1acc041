"""Build small sample portfolios on disk for the sync tests."""

from __future__ import annotations

import shutil
import tempfile
from functools import cache
from pathlib import Path

from pmo_sheets.config import PortfolioConfig, load_config
from pmo_sheets.samples import SampleProject, sample_project, write_workbook

CURRENCIES = ("USD", "EUR", "GBP")
FX = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}


def config_text(*, extra: str = "", sources: str = 'path = "projects/*.xlsx"') -> str:
    return f"""
name = "Test portfolio"
reporting_currency = "USD"
master = "out/master.xlsx"
state = "out/state.sqlite"
fiscal_year_start_month = 4
{extra}
[fx]
EUR = 1.08
GBP = 1.27

[[sources]]
kind = "excel"
{sources}
"""


_CACHE = Path(tempfile.mkdtemp(prefix="pmo-sample-workbooks-"))


@cache
def _written_once(number: int, tasks: int) -> Path:
    """Writing a workbook into the template takes ~0.3 s: write each sample once per test session, then copy it."""
    sample = sample_project(number, currency=CURRENCIES[number % 3], tasks=tasks, budget_lines=3, months=4, risks=6)
    return write_workbook(sample, _CACHE / f"{number}-{tasks}.xlsx")


def make_portfolio(
    root: Path, count: int = 4, *, extra: str = "", tasks: int = 12
) -> tuple[PortfolioConfig, list[SampleProject]]:
    """``count`` valid project workbooks in three currencies and a portfolio.toml, under ``root``."""
    samples = []
    for number in range(1, count + 1):
        sample = sample_project(number, currency=CURRENCIES[number % 3], tasks=tasks, budget_lines=3, months=4, risks=6)
        target = root / "projects" / f"{sample.project_id}.xlsx"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_written_once(number, tasks), target)
        samples.append(sample)
    (root / "portfolio.toml").write_text(config_text(extra=extra), encoding="utf-8")
    return load_config(root / "portfolio.toml"), samples
