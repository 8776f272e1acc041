"""Ratings shared by the templates' formulas, the validator's rules and the add-in's UDFs.

One definition per rating: the Python function that the validator and the UDFs call, and the Excel
formula that the templates carry are both built from the same thresholds, so the workbook and the
validator can never disagree about a rating.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

RISK_HIGH_FROM = 15
RISK_MEDIUM_FROM = 8
SCHEDULE_AMBER_MAX_SLIP_DAYS = 10
BUDGET_AMBER_MAX_OVERRUN = 0.10


def risk_score(probability: int | float | None, impact: int | float | None) -> int | None:
    """Probability (1-5) times impact (1-5); None when either is missing."""
    if probability in (None, "") or impact in (None, ""):
        return None
    return int(probability) * int(impact)  # type: ignore[arg-type]


def risk_rating(score: int | float | None) -> str:
    """High from a score of 15, Medium from 8, else Low; blank when there is no score."""
    if score in (None, ""):
        return ""
    if score >= RISK_HIGH_FROM:  # type: ignore[operator]
        return "High"
    if score >= RISK_MEDIUM_FROM:  # type: ignore[operator]
        return "Medium"
    return "Low"


def schedule_rag(finish: dt.date | None, baseline_finish: dt.date | None) -> str:
    """Green on or before the baseline finish, Amber up to 10 days late, Red beyond."""
    if finish in (None, "") or baseline_finish in (None, ""):
        return ""
    slip = (finish - baseline_finish).days  # type: ignore[operator]
    if slip <= 0:
        return "Green"
    return "Amber" if slip <= SCHEDULE_AMBER_MAX_SLIP_DAYS else "Red"


def budget_rag(budget: float | None, eac: float | None) -> str:
    """Green when EAC is within budget, Amber up to 10% over, Red beyond."""
    if budget in (None, "") or eac in (None, ""):
        return ""
    if eac <= budget:  # type: ignore[operator]
        return "Green"
    return "Amber" if eac <= budget * (1 + BUDGET_AMBER_MAX_OVERRUN) else "Red"  # type: ignore[operator]


@dataclass(frozen=True)
class Rating:
    """A rating as both a Python function and an Excel formula over named columns."""

    name: str
    inputs: tuple[str, ...]
    function: Callable[..., str]
    formula: str  # placeholders {field} are replaced by the cell of that field in the same row


RATINGS: dict[str, Rating] = {
    "risk_rating": Rating(
        "risk_rating",
        ("score",),
        risk_rating,
        f'IF({{score}}="","",IF({{score}}>={RISK_HIGH_FROM},"High",'
        f'IF({{score}}>={RISK_MEDIUM_FROM},"Medium","Low")))',
    ),
    "schedule_rag": Rating(
        "schedule_rag",
        ("finish", "baseline_finish"),
        schedule_rag,
        f'IF(OR({{finish}}="",{{baseline_finish}}=""),"",IF({{finish}}-{{baseline_finish}}<=0,"Green",'
        f'IF({{finish}}-{{baseline_finish}}<={SCHEDULE_AMBER_MAX_SLIP_DAYS},"Amber","Red")))',
    ),
    "budget_rag": Rating(
        "budget_rag",
        ("budget", "eac"),
        budget_rag,
        f'IF(OR({{budget}}="",{{eac}}=""),"",IF({{eac}}<={{budget}},"Green",'
        f'IF({{eac}}<={{budget}}*{1 + BUDGET_AMBER_MAX_OVERRUN},"Amber","Red")))',
    ),
}
