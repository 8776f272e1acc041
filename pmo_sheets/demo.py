"""``pmo demo``: a sample portfolio end to end, on local files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pmo_sheets.report import text_report
from pmo_sheets.samples import plant_mistakes, sample_project, write_workbook
from pmo_sheets.sources import validate_sources

DEMO_CURRENCIES = ("USD", "EUR", "GBP")


def write_sample_portfolio(count: int, directory: Path, *, broken_every: int = 4) -> list[Path]:
    """``count`` project workbooks in ``directory/projects``; every ``broken_every``-th has planted mistakes."""
    folder = directory / "projects"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(1, count + 1):
        sample = sample_project(number, currency=DEMO_CURRENCIES[number % len(DEMO_CURRENCIES)])
        if broken_every and number % broken_every == 0:
            plant_mistakes(sample)
        paths.append(write_workbook(sample, folder / f"{sample.project_id}.xlsx"))
    return paths


def run_demo(count: int, directory: Path, *, echo: Callable[[str], None] = print) -> int:
    """Generate, validate and report; returns the exit code (0: the demo itself ran fine)."""
    echo(f"writing {count} sample project workbooks to {directory / 'projects'} ...")
    paths = write_sample_portfolio(count, directory)
    reports = validate_sources([str(p) for p in paths])
    echo(text_report(reports))
    return 0
