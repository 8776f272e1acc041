"""Build small sample portfolios on disk for the sync tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from pmo_sheets.config import PortfolioConfig, load_config
from pmo_sheets.samples import SampleProject, fill_workbook, sample_project, write_workbook

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


def _sample(number: int, sizes: tuple[int, int, int, int]) -> SampleProject:
    tasks, budget_lines, months, risks = sizes
    return sample_project(number, currency=CURRENCIES[number % 3], tasks=tasks, budget_lines=budget_lines,
                          months=months, risks=risks)


@cache
def _written_once(number: int, sizes: tuple[int, int, int, int]) -> Path:
    """Writing a workbook into the template takes ~0.3 s: write each sample once per test session, then copy it."""
    return write_workbook(_sample(number, sizes), _CACHE / f"{number}-{'-'.join(map(str, sizes))}.xlsx")


def write_typed_workbook(sample: SampleProject, path: Path) -> Path:
    """Write a sample as a person types it: a value such as ``=X`` is text, not a formula (openpyxl reads
    every string that starts with "=" as a formula)."""
    workbook = fill_workbook(sample)
    typed: set[Any] = {value for row in [sample.project, *(r for rows in sample.tables.values() for r in rows)]
                       for value in row.values() if isinstance(value, str) and value.startswith("=")}
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" and cell.value in typed:
                    cell.data_type = "s"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def make_portfolio(
    root: Path, count: int = 4, *, extra: str = "", tasks: int = 12, budget_lines: int = 3, months: int = 4,
    risks: int = 6, edit: Callable[[SampleProject], None] | None = None,
) -> tuple[PortfolioConfig, list[SampleProject]]:
    """``count`` valid project workbooks in three currencies and a portfolio.toml, under ``root``.

    ``edit`` changes each sample (names, amounts) before its workbook is written.
    """
    samples = []
    sizes = (tasks, budget_lines, months, risks)
    for number in range(1, count + 1):
        sample = _sample(number, sizes)
        target = root / "projects" / f"{sample.project_id}.xlsx"
        target.parent.mkdir(parents=True, exist_ok=True)
        if edit is None:
            shutil.copyfile(_written_once(number, sizes), target)
        else:
            edit(sample)
            write_typed_workbook(sample, target)
        samples.append(sample)
    (root / "portfolio.toml").write_text(config_text(extra=extra), encoding="utf-8")
    return load_config(root / "portfolio.toml"), samples


# Names a spreadsheet criterion would misread: operators, wildcards, an escape, numbers, capitals.
LOOKALIKE_PROGRAMS = ["R&D*", "r&d*", "<TBD>", ">5", "=X", "Phase ?", "~temp", "2026", "2026.0", "R&D*", None]
LOOKALIKE_COST_CENTERS = ["2026", "2026.0", "02026", "1e3", "1000", "CC-1", "cc-1"]  # within the cost center pattern
LOOKALIKE_PEOPLE = ["<TBD>", ">5", "=X", "R&D*", "Phase ?", "~temp"]


def with_lookalike_names(sample: SampleProject) -> None:
    """Give a sample (one of up to 11) a program, cost centers, a manager and owners from the lookalike names."""
    number = int(sample.project_id.removeprefix("PRJ-"))
    sample.project["program"] = LOOKALIKE_PROGRAMS[number - 1]
    sample.project["project_manager"] = LOOKALIKE_PEOPLE[number % len(LOOKALIKE_PEOPLE)]
    for row in sample.tables["budget"]:
        line = int(row["line_id"].removeprefix("L")) - 1
        row["cost_center"] = LOOKALIKE_COST_CENTERS[(number + line) % len(LOOKALIKE_COST_CENTERS)]
    for table in ("tasks", "risks"):
        for index, row in enumerate(sample.tables[table]):
            row["owner"] = LOOKALIKE_PEOPLE[(number + index) % len(LOOKALIKE_PEOPLE)]


def forty_part_portfolio(root: Path) -> PortfolioConfig:
    """Three projects of 120 tasks, 120 budget lines and 120 risks at 10 rows a sheet: every data table
    but the projects' spans 40 sheets."""
    config, _ = make_portfolio(root, count=3, extra="max_rows_per_sheet = 10", tasks=120, budget_lines=10,
                               months=12, risks=120)
    return config
