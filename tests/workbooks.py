"""Helpers for tests that fill the real templates with openpyxl and plant one mistake.

The sample data comes from :func:`pmo_sheets.samples.sample_project`, small enough to be quick:
12 tasks (IDs 1.1 .. 1.10, 2.1, 2.2), 2 budget lines x 3 months, 5 risks. Row ``i`` of a table
sits on sheet row ``i + 2`` (row 1 is the header).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook
from portfolio_fixtures import written_copy
from typer.testing import CliRunner, Result

from pmo_sheets.cli import app
from pmo_sheets.findings import Finding
from pmo_sheets.samples import SampleProject, fill_workbook, sample_project
from pmo_sheets.settings import DEFAULT_SETTINGS, ValidationSettings
from pmo_sheets.sources import validate_source
from pmo_sheets.validate import WorkbookReport

Located = tuple[str, str | None, str | None]  # (rule, sheet, cell)


def pmo(*args: str) -> Result:
    """Run the ``pmo`` command line in-process; an exception other than an exit fails the test."""
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def small_sample() -> SampleProject:
    """A valid project with few rows: validation finds nothing in it."""
    return sample_project(1, tasks=12, budget_lines=2, months=3, risks=5)


#: The day the template 2.0 samples are validated on (overdue items and status reports are judged on it).
SAMPLE_TODAY = dt.date(2026, 6, 1)
AS_OF_SAMPLE_TODAY = ValidationSettings(today=SAMPLE_TODAY)


def delivery_sample() -> SampleProject:
    """:func:`small_sample` with the template 2.0 tables filled: valid on :data:`SAMPLE_TODAY`.

    Resources: 2 people x 3 months (rows 2-7: Ana Silva... see the sample); RAID: 8 items (I-001,
    A-002, D-003 closed, P-004 a dependency on PRJ-0002, ...); Changes: 3 (CR-001 Approved, CR-002
    Pending, CR-003 Rejected); Status: January to May 2026.
    """
    return sample_project(1, tasks=12, budget_lines=2, months=3, risks=5, people=2, raid=8, changes=3,
                          status=True, today=SAMPLE_TODAY)


def write(path: Path, sample: SampleProject | None = None, kind: str = "project",
          edit: Callable[[Workbook], None] | None = None, version: str | None = None) -> Path:
    """Fill the ``kind`` template with ``sample`` (default: :func:`small_sample`), apply ``edit``, save.

    ``version``: a workbook of that earlier template version (default: the current one).
    """
    if edit is None and version is None:
        return written_copy(sample or small_sample(), path, kind)
    workbook = fill_workbook(sample or small_sample(), kind, **({"version": version} if version else {}))
    if edit is not None:
        edit(workbook)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def report_of(path: Path, settings: ValidationSettings = DEFAULT_SETTINGS) -> WorkbookReport:
    return validate_source(str(path), settings=settings)


def located(findings: list[Finding]) -> list[Located]:
    """What a user sees of each finding: its rule code and the cell it points at."""
    return [(f.rule, f.sheet, f.cell) for f in findings]


def found(path: Path) -> list[Located]:
    return located(report_of(path).findings)
