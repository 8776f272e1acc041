"""The Excel add-in: validate and fix a workbook without leaving Excel.

Functions here take an xlwings ``Book`` and work only through the xlwings object model (sheets,
ranges, values, colours, hyperlinks, adding and deleting sheets), so the same code runs in desktop
Excel (:mod:`pmo_sheets.addin.desktop`, RunPython), in xlwings Lite (``pmo_sheets/addin/lite/main.py``)
and, in the tests, over .xlsx files through an adapter. This package itself never imports xlwings:
only the two entry modules do, so importing the add-in's logic stays cheap.
"""

from pmo_sheets.addin.commands import (
    ISSUES_SHEET,
    Summary,
    apply_validation,
    clear,
    new_project,
    prepare_validation,
    validate,
    validate_async,
)
from pmo_sheets.addin.highlights import STORE_SHEET
from pmo_sheets.addin.udfs import pmo_budget_rag, pmo_risk_rating, pmo_risk_score, pmo_schedule_rag

__all__ = [
    "ISSUES_SHEET",
    "STORE_SHEET",
    "Summary",
    "apply_validation",
    "clear",
    "new_project",
    "pmo_budget_rag",
    "pmo_risk_rating",
    "pmo_risk_score",
    "pmo_schedule_rag",
    "prepare_validation",
    "validate",
    "validate_async",
]
