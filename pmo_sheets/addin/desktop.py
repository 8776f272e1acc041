"""Desktop Excel (Windows or macOS) with the open-source xlwings add-in: RunPython macros and UDFs.

In the workbook's VBA (see docs/addin.md)::

    Sub PmoValidate()
        RunPython "import pmo_sheets.addin.desktop as pmo; pmo.validate_caller()"
    End Sub

``Book.caller()`` is the workbook whose button was pressed. The ``@func`` functions below become
worksheet functions on Windows once this module is listed under *UDF Modules* in the xlwings ribbon.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import xlwings as xw

from pmo_sheets.addin import commands, udfs


def _alert(book: Any, text: str, title: str = "pmo-sheets") -> None:
    """Show a message box; a summary that cannot be shown is still written on the Issues sheet."""
    # an engine without alerts must not turn a finished Validate into an error
    with contextlib.suppress(Exception):
        book.app.alert(text, title=title)


def validate_caller() -> commands.Summary:
    """Validate button: check the calling workbook, highlight the problems, list them on Issues."""
    book = xw.Book.caller()
    summary = commands.validate(book)
    _alert(book, f"{summary.text}\n\n{summary.upgrade}" if summary.upgrade else summary.text)
    return summary


def clear_caller() -> int:
    """Clear button: put back every highlighted cell's fill and remove the Issues sheet."""
    return commands.clear(xw.Book.caller())


def new_project_caller(project_id: str, name: str, start: str = "", finish: str = "") -> str:
    """New project button: VBA asks for ID, name and dates (ISO text) and passes them here."""
    book = xw.Book.caller()
    message = commands.new_project(book, project_id.strip(), name.strip(), _iso(start), _iso(finish))
    _alert(book, message)
    return message


def upgrade_caller() -> str:
    """Upgrade button: the calling workbook, as last saved, moved to the current template in a copy beside it.

    The copy (``NAME (template 2.0).xlsx``, see :func:`pmo_sheets.upgrade.upgrade_beside`) opens in
    Excel; the workbook itself is left as it is. A workbook that cannot be upgraded says why.
    """
    from pmo_sheets.upgrade import UpgradeRefused, upgrade_beside

    book = xw.Book.caller()
    try:
        written = upgrade_beside(book.fullname)
    except UpgradeRefused as refused:
        message = f"Not upgraded: {refused}"
        _alert(book, message)
        return message
    message = commands.upgrade_message(written.upgrade.from_version, written.upgrade.to_version, str(written.target),
                                       written.upgrade.dropped)
    _alert(book, message)
    book.app.books.open(str(written.target))
    return message


def _iso(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text.strip()) if text and text.strip() else None


@xw.func
def pmo_risk_score(probability: Any, impact: Any) -> int | str:
    """Risk score: probability (1-5) x impact (1-5)."""
    return udfs.pmo_risk_score(probability, impact)


@xw.func
def pmo_risk_rating(probability: Any, impact: Any) -> str:
    """Risk rating (High, Medium, Low) from probability and impact."""
    return udfs.pmo_risk_rating(probability, impact)


@xw.func
def pmo_schedule_rag(finish: Any, baseline_finish: Any) -> str:
    """Schedule RAG from finish and baseline finish."""
    return udfs.pmo_schedule_rag(finish, baseline_finish)


@xw.func
def pmo_budget_rag(budget: Any, eac: Any) -> str:
    """Budget RAG from budget and estimate at completion."""
    return udfs.pmo_budget_rag(budget, eac)
