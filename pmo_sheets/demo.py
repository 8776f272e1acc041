"""``pmo demo``: a sample portfolio end to end, on local files.

It writes realistic project workbooks (four programs, three currencies; template 2.0's resources, RAID
log, change requests and monthly status reports filled in), a ``portfolio.toml``, and syncs them into a
master workbook. Then, as happens every week in a real PMO, some project managers
save broken workbooks: the demo plants mistakes, syncs again, and shows that the broken projects keep
their last good figures while their findings are listed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

from pmo_sheets.config import load_config
from pmo_sheets.samples import PEOPLE, ROLES, SampleProject, email_of, plant_mistakes, sample_project, write_workbook
from pmo_sheets.sources import UsageError
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
DEMO_MARKER = DEMO_CONFIG.splitlines()[0]  # how a folder an earlier demo wrote is recognised
DEMO_WORKBOOK = re.compile(r"PRJ-\d+\.xlsx")  # the names of the workbooks the demo writes


#: What one person gives one project in a month: people share their time between three or so projects.
DEMO_ALLOCATIONS = (0.1, 0.2, 0.25, 0.3)
#: PRJ-0002 books PRJ-0001's business analyst (10-30% there) at 95% in March 2026: over 100% that month.
DOUBLE_BOOKED = (PEOPLE[3], dt.date(2026, 3, 1), 0.95)


def demo_sample(number: int, currency: str, *, new_tables: bool = True) -> SampleProject:
    """One demo project: plan, budget, risk log, three people's allocations, eight RAID items (two of them
    dependencies on the neighbouring project), three change requests (one approved) and a status report a
    month from its start to May 2026. Open RAID items fell due in June and July 2026: overdue by now, as
    the latest status reports are (warnings for every PM).

    ``new_tables`` False leaves template 2.0's tables empty: plan, budget and risk log only.
    """
    if not new_tables:
        return sample_project(number, currency=currency)
    sample = sample_project(number, currency=currency, people=3, raid=8, changes=3, status=True,
                            allocations=DEMO_ALLOCATIONS)
    person, month, allocation = DOUBLE_BOOKED
    if number == 2:
        sample.tables["resources"].append({"person": person, "email": email_of(person), "role": ROLES[0],
                                           "work_package": "WP1", "month": month, "allocation": allocation,
                                           "cost_rate": 950.0})
    return sample


def write_sample_portfolio(count: int, directory: Path, *, new_tables: bool = True) -> list[Path]:
    """``count`` valid project workbooks in ``directory/projects`` and a ``portfolio.toml`` beside them
    (``new_tables``: see :func:`demo_sample`)."""
    folder = directory / "projects"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(1, count + 1):
        sample = demo_sample(number, DEMO_CURRENCIES[number % len(DEMO_CURRENCIES)], new_tables=new_tables)
        paths.append(write_workbook(sample, folder / f"{sample.project_id}.xlsx"))
    (directory / "portfolio.toml").write_text(DEMO_CONFIG, encoding="utf-8")
    return paths


def prepare_demo_directory(directory: Path) -> None:
    """Make ``directory`` ready for a fresh demo, or raise :class:`~pmo_sheets.sources.UsageError`.

    A missing or empty folder is fine. A folder an earlier demo wrote (its ``portfolio.toml`` is the
    demo's) is reset: the demo's workbooks, master and state store go, so that running the demo again
    tells the same story instead of starting from last week's breakage. Any other folder is refused:
    the demo never deletes files it did not write.
    """
    try:
        if directory.exists() and not directory.is_dir():
            raise UsageError(f"{directory} is not a folder; choose another --dir")
        if not directory.exists() or not any(directory.iterdir()):
            directory.mkdir(parents=True, exist_ok=True)  # now, so that an impossible path fails before any output
            return
        config = directory / "portfolio.toml"
        earlier = config.is_file() and config.read_text(encoding="utf-8", errors="replace").startswith(DEMO_MARKER)
        if not earlier:
            raise UsageError(f"{directory} is not empty and holds no earlier demo; choose another --dir")
        for path in (directory / "master.xlsx", directory / "pmo-state.sqlite", directory / "pmo-state.sqlite-journal"):
            path.unlink(missing_ok=True)
        projects = directory / "projects"
        if projects.is_dir():
            for path in projects.iterdir():
                if DEMO_WORKBOOK.fullmatch(path.name) and path.is_file():
                    path.unlink()
    except OSError as exc:
        raise UsageError(f"cannot prepare {directory} for the demo ({exc.strerror or exc})") from None


def break_some(directory: Path, count: int, *, new_tables: bool = True) -> list[str]:
    """Plant mistakes in one workbook, corrupt another, add a never-valid one; returns what was done
    (``new_tables``: see :func:`demo_sample`)."""
    folder = directory / "projects"
    done = []
    if count >= 2:
        sample = demo_sample(2, DEMO_CURRENCIES[2 % len(DEMO_CURRENCIES)], new_tables=new_tables)
        plant_mistakes(sample)
        write_workbook(sample, folder / f"{sample.project_id}.xlsx")
        done.append(f"{sample.project_id}.xlsx saved with mistakes (its last good data is kept)")
    if count >= 3:
        (folder / "PRJ-0003.xlsx").write_bytes(b"PK\x03\x04 this upload was cut short")
        done.append("PRJ-0003.xlsx truncated by a failed upload (its last good data is kept)")
    newcomer = demo_sample(count + 1, "EUR", new_tables=new_tables)
    plant_mistakes(newcomer)
    write_workbook(newcomer, folder / f"{newcomer.project_id}.xlsx")
    done.append(f"{newcomer.project_id}.xlsx added with mistakes (never valid: contributes nothing yet)")
    return done


def run_demo(count: int, directory: Path, *, echo: Callable[[str], None] = print, new_tables: bool = True) -> int:
    """Generate, sync, break, sync again; returns 0 when the demo itself ran as intended (``new_tables``:
    see :func:`demo_sample`).

    Running it again on the same folder starts afresh (see :func:`prepare_demo_directory`). Raises
    :class:`~pmo_sheets.sources.UsageError` when ``count`` is below 1 or the folder cannot be used.
    """
    if count < 1:
        raise UsageError(f"the demo needs at least 1 project (asked for {count})")
    prepare_demo_directory(directory)
    echo(f"1. writing {count} sample project workbooks and portfolio.toml to {directory} ...")
    try:
        write_sample_portfolio(count, directory, new_tables=new_tables)
    except OSError as exc:
        raise UsageError(f"cannot write the demo into {directory} ({exc.strerror or exc})") from None
    config = load_config(directory / "portfolio.toml")
    first = run_sync(config)
    echo(text_summary(first))
    echo("")
    echo("2. a week later, some workbooks come back broken:")
    for line in break_some(directory, count, new_tables=new_tables):
        echo(f"   - {line}")
    second = run_sync(config)
    echo(text_summary(second))
    echo("")
    echo(f"Open {config.master} (Portfolio, Programs, Finance, Risks, Status trend, RAID and changes, Dependencies, "
         "Resources, Data quality, History, FX).")
    echo(f"Try: pmo validate {directory / 'projects' / '*.xlsx'} --annotate {directory / 'annotated'}")
    echo(f"     pmo new plan --project-id PRJ-0100 --name Pilot --addin -o {directory / 'PRJ-0100.xlsx'}"
         "  (opens the Validate add-in in Excel)")
    echo(f"     pmo serve --config {directory / 'portfolio.toml'}  (syncs by itself; status page on http://127.0.0.1:8750/)")
    return 0 if first.written and second.written and first.exit_code == 0 and second.exit_code == 1 else 1
