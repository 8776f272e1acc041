"""pmo-sheets for xlwings Lite: the scripts and functions the add-in shows.

xlwings Lite (free, from Excel's add-in store) runs Python inside Excel through Pyodide and keeps
main.py and requirements.txt inside the workbook, so a workbook set up once carries its buttons to
everyone who opens it with the add-in installed. The scripts below appear in the add-in's Run
dropdown; the functions can be typed in any cell, for example ``=PMO_RISK_RATING(F2, G2)``.

This file imports pmo-sheets as a package. What goes into a workbook is the self-contained version
that :mod:`pmo_sheets.addin.bundle` makes from it (``pmo lite``, and the templates in
``workbook_templates/with-addin/``): the pmo-sheets modules these scripts use, then this file.
The logic lives in :mod:`pmo_sheets.addin`, the same module the desktop add-in and the tests use.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import xlwings as xw
from xlwings import func, script

from pmo_sheets.addin import commands, udfs


@script
async def validate(book: xw.Book) -> None:
    """Check this workbook: list every problem on the Issues sheet and highlight the cells."""
    # async because xlwings Lite reads a cell's fill only with `await` (to restore it later)
    summary = await commands.validate_async(book)
    print(summary.text)
    if summary.upgrade:  # a workbook of an earlier template version
        print(summary.upgrade)


@script
def clear(book: xw.Book) -> None:
    """Remove the Issues sheet and put every highlighted cell's own fill back."""
    restored = commands.clear(book)
    print(f"Cleared: {restored} cell{'s' * (restored != 1)} restored.")


@script
def new_project(book: xw.Book, project_id: str, name: str, start: dt.date | None = None,
                finish: dt.date | None = None) -> None:
    """Fill in the Project sheet of a blank template (ID, name, dates) and stamp its version."""
    print(commands.new_project(book, project_id.strip(), name.strip(), start, finish))


@func
def pmo_risk_score(probability: Any, impact: Any) -> Any:
    """Risk score: probability (1-5) x impact (1-5)."""
    return udfs.pmo_risk_score(probability, impact)


@func
def pmo_risk_rating(probability: Any, impact: Any) -> str:
    """Risk rating (High, Medium, Low) from probability and impact."""
    return udfs.pmo_risk_rating(probability, impact)


@func
def pmo_schedule_rag(finish: Any, baseline_finish: Any) -> str:
    """Schedule RAG (Green, Amber, Red) from finish and baseline finish."""
    return udfs.pmo_schedule_rag(finish, baseline_finish)


@func
def pmo_budget_rag(budget: Any, eac: Any) -> str:
    """Budget RAG (Green, Amber, Red) from budget and estimate at completion."""
    return udfs.pmo_budget_rag(budget, eac)
