"""``pmo demo``: a sample portfolio end to end, on local files.

It writes realistic project workbooks (four programs, three currencies), a ``portfolio.toml``, and
syncs them into a master workbook. Then, as happens every week in a real PMO, some project managers
save broken workbooks: the demo plants mistakes, syncs again, and shows that the broken projects keep
their last good figures while their findings are listed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pmo_sheets.config import load_config
from pmo_sheets.samples import plant_mistakes, sample_project, write_workbook
from pmo_sheets.summary import text_summary
from pmo_sheets.sync import run_sync

DEMO_CURRENCIES = ("USD", "EUR", "GBP")
DEMO_CONFIG = """\
# pmo-sheets demo portfolio: see README "For the PMO coordinator"
name = "Demo portfolio"
reporting_currency = "USD"
master = "master.xlsx"
state = "pmo-state.sqlite"
fiscal_year_start_month = 4

[fx]  # US dollars for one unit of each currency
EUR = 1.08
GBP = 1.27

[[sources]]
kind = "excel"
path = "projects/*.xlsx"
"""


def write_sample_portfolio(count: int, directory: Path) -> list[Path]:
    """``count`` valid project workbooks in ``directory/projects`` and a ``portfolio.toml`` beside them."""
    folder = directory / "projects"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(1, count + 1):
        sample = sample_project(number, currency=DEMO_CURRENCIES[number % len(DEMO_CURRENCIES)])
        paths.append(write_workbook(sample, folder / f"{sample.project_id}.xlsx"))
    (directory / "portfolio.toml").write_text(DEMO_CONFIG, encoding="utf-8")
    return paths


def break_some(directory: Path, count: int) -> list[str]:
    """Plant mistakes in one workbook, corrupt another, add a never-valid one; returns what was done."""
    folder = directory / "projects"
    done = []
    if count >= 2:
        sample = sample_project(2, currency=DEMO_CURRENCIES[2 % len(DEMO_CURRENCIES)])
        plant_mistakes(sample)
        write_workbook(sample, folder / f"{sample.project_id}.xlsx")
        done.append(f"{sample.project_id}.xlsx saved with mistakes (its last good data is kept)")
    if count >= 3:
        (folder / "PRJ-0003.xlsx").write_bytes(b"PK\x03\x04 this upload was cut short")
        done.append("PRJ-0003.xlsx truncated by a failed upload (its last good data is kept)")
    newcomer = sample_project(count + 1, currency="EUR")
    plant_mistakes(newcomer)
    write_workbook(newcomer, folder / f"{newcomer.project_id}.xlsx")
    done.append(f"{newcomer.project_id}.xlsx added with mistakes (never valid: contributes nothing yet)")
    return done


def run_demo(count: int, directory: Path, *, echo: Callable[[str], None] = print) -> int:
    """Generate, sync, break, sync again; returns 0 when the demo itself ran as intended."""
    echo(f"1. writing {count} sample project workbooks and portfolio.toml to {directory} ...")
    write_sample_portfolio(count, directory)
    config = load_config(directory / "portfolio.toml")
    first = run_sync(config)
    echo(text_summary(first))
    echo("")
    echo("2. a week later, some workbooks come back broken:")
    for line in break_some(directory, count):
        echo(f"   - {line}")
    second = run_sync(config)
    echo(text_summary(second))
    echo("")
    echo(f"Open {config.master} (Portfolio, Programs, Finance, Risks, Data quality, History, FX).")
    echo(f"Try: pmo validate {directory / 'projects' / '*.xlsx'} --annotate {directory / 'annotated'}")
    echo(f"     pmo new plan --project-id PRJ-0100 --name Pilot --addin -o {directory / 'PRJ-0100.xlsx'}"
         "  (opens the Validate add-in in Excel)")
    return 0 if first.written and second.written and first.exit_code == 0 and second.exit_code == 1 else 1
