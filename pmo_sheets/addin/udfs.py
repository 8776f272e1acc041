"""Worksheet functions a project manager can type, computed by :mod:`pmo_sheets.ratings`.

The templates' formula columns and the validator's rules use the same thresholds, so a cell typed as
``=PMO_RISK_RATING(C2, D2)`` can never disagree with the Rating column or with Validate.

These are plain functions; the desktop module and the xlwings Lite ``main.py`` register them as
Excel functions with ``@func``. Cells arrive as Excel sends them: numbers as floats, dates as dates,
datetimes or serial numbers (Lite sends serials unless told otherwise), blanks as None.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pmo_sheets import ratings
from pmo_sheets.coerce import is_blank, parse_date


def _number(value: Any) -> float | None:
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("expected a number, found TRUE/FALSE")
    if isinstance(value, (int, float)):
        return float(value)
    return float(str(value).strip().replace(",", ""))


def _date(value: Any) -> dt.date | None:
    if is_blank(value):
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise ValueError(f"expected a date, found {value!r}")
    return parsed


def pmo_risk_score(probability: Any, impact: Any) -> int | str:
    """Probability (1-5) times impact (1-5); blank when either is blank."""
    score = ratings.risk_score(_number(probability), _number(impact))
    return "" if score is None else score


def pmo_risk_rating(probability: Any, impact: Any) -> str:
    """High, Medium or Low from probability and impact, as the Risks sheet's Rating column."""
    score = ratings.risk_score(_number(probability), _number(impact))
    return ratings.risk_rating(score)


def pmo_schedule_rag(finish: Any, baseline_finish: Any) -> str:
    """Green, Amber or Red from a task's finish against its baseline finish, as the Tasks sheet."""
    return ratings.schedule_rag(_date(finish), _date(baseline_finish))


def pmo_budget_rag(budget: Any, eac: Any) -> str:
    """Green, Amber or Red from the estimate at completion against the budget, as the Budget sheet."""
    return ratings.budget_rag(_number(budget), _number(eac))
