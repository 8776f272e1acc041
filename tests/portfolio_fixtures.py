"""Build small sample portfolios on disk for the sync tests."""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from pmo_sheets.config import PortfolioConfig, load_config
from pmo_sheets.consolidate import Contribution, Portfolio, consolidate
from pmo_sheets.master import MasterContent, write_master
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


def scratch_folder(prefix: str) -> Path:
    """A folder for what a test process writes once and copies after; removed when the process ends."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


_CACHE = scratch_folder("pmo-sample-workbooks-")


def _sample(number: int, sizes: tuple[int, int, int, int]) -> SampleProject:
    tasks, budget_lines, months, risks = sizes
    return sample_project(number, currency=CURRENCIES[number % 3], tasks=tasks, budget_lines=budget_lines,
                          months=months, risks=risks)


def written_copy(sample: SampleProject, path: Path, kind: str = "project", *, typed: bool = False) -> Path:
    """:func:`~pmo_sheets.samples.write_workbook` (``typed``: :func:`write_typed_workbook`), but each distinct
    sample is written once per test process and then copied: filling a template and saving it takes about
    0.4 s, a copy a millisecond."""
    # repr(sample) holds every value; the schema folder decides the sheets a template is filled by
    key = hashlib.sha256(repr((sample, kind, typed, os.environ.get("PMO_SCHEMA_DIR"))).encode()).hexdigest()[:24]
    written = _CACHE / f"{key}.xlsx"
    if not written.exists():
        if typed:
            _write_typed_workbook(sample, written)
        else:
            write_workbook(sample, written, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(written, path)
    return path


@cache
def _written_once(number: int, sizes: tuple[int, int, int, int]) -> Path:
    """The workbook of sample ``number`` of the given sizes, written once per test process (copy it)."""
    return written_copy(_sample(number, sizes), _CACHE / f"{number}-{'-'.join(map(str, sizes))}.xlsx")


def write_typed_workbook(sample: SampleProject, path: Path) -> Path:
    """Write a sample as a person types it: a value such as ``=X`` is text, not a formula (openpyxl reads
    every string that starts with "=" as a formula)."""
    return written_copy(sample, path, typed=True)


def _write_typed_workbook(sample: SampleProject, path: Path) -> Path:
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


def consolidated(projects: list[dict[str, Any]], *, fiscal_year_start_month: int = 4) -> Portfolio:
    """A portfolio consolidated from hand-written records, as if each project came valid from its own
    workbook: each dict holds the Project sheet's fields and optional rows of its tables ("tasks", "budget",
    "risks", and template 2.0's "resources", "raid", ...): any list is a table, never a field."""
    payloads, contributions = {}, []
    for number, project in enumerate(projects, start=1):
        fields = {k: v for k, v in project.items() if not isinstance(v, list)}
        tables = {table: [{"_row": row, **values} for row, values in enumerate(project.get(table, []), start=2)]
                  for table in ("tasks", "budget", "risks", *(k for k, v in project.items() if isinstance(v, list)))}
        key = f"file:/projects/{fields['project_id']}.xlsx"
        payloads[key] = {"template": "project", "project": fields, "tables": tables}
        contributions.append(Contribution(key, f"projects/{fields['project_id']}.xlsx", "ok", f"2026-06-01T00:00:{number:02d}",
                                          "2026-06-01T00:00:00", fields["project_id"], "project"))
    return consolidate(contributions, payloads.get, fiscal_year_start_month=fiscal_year_start_month)


def write_hand_master(path: Path, portfolio: Portfolio, fx: dict[str, float], *, max_rows: int = 1_048_576) -> Path:
    """The master of a hand-made portfolio, reporting in USD, with no sources or history to show."""
    write_master(path, MasterContent("Hand portfolio", "USD", fx, portfolio, [], [], "2026-06-01T00:00:00",
                                     max_rows=max_rows))
    return path


def project_record(project_id: str, program: str | None, currency: str = "USD", **fields: Any) -> dict[str, Any]:
    """A valid Project sheet's fields; ``fields`` adds tables ("budget": [...]) or replaces fields."""
    return {"project_id": project_id, "project_name": f"Project {project_id}", "program": program,
            "project_manager": "Ana Silva", "start_date": "2026-01-05", "finish_date": "2026-12-18",
            "status": "In Progress", "currency": currency, "approved_budget": None, **fields}


def _as_record(values: dict[str, Any]) -> dict[str, Any]:
    """A sample row as validation stores it: dates as ISO text."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}


def forty_part_samples() -> list[SampleProject]:
    """Three projects of 120 tasks, 90 budget lines and 60 risks: at 10 rows a sheet (9 data rows and the
    header), tasks span 40 sheets, budget lines 30 and risks 20 (LibreOffice's time grows with sheets)."""
    return [_sample(number, (120, 6, 15, 60)) for number in range(1, 4)]


def consolidated_samples(samples: list[SampleProject]) -> Portfolio:
    """The portfolio of samples consolidated straight from their rows (no workbooks written or read)."""
    return consolidated([{**_as_record(s.project), **{t: [_as_record(r) for r in rows] for t, rows in s.tables.items()}}
                         for s in samples])
