"""The master's figures computed with pandas: the cached values written beside every rollup formula.

Each function mirrors one formula of :mod:`pmo_sheets.master` exactly (same filters, same
conversions), so that Protected View, previewers and pandas see the right numbers before any
recalculation; a LibreOffice test recalculates the master and compares.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pmo_sheets.consolidate import Portfolio

MONEY = ("budget", "actual", "forecast")


def project_rollup(portfolio: Portfolio, fx: dict[str, float]) -> pd.DataFrame:
    """One row per project: its figures in the reporting currency, and its risk counts.

    Arithmetic never raises here: a sum too large for a float is inf, which
    :func:`overflowing_projects` finds so that the sync can refuse it in one clear line.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _project_rollup(portfolio, fx)


def _project_rollup(portfolio: Portfolio, fx: dict[str, float]) -> pd.DataFrame:
    projects = portfolio.projects.set_index("project_id")
    tasks, budget, risks = (portfolio.tables[n] for n in ("tasks", "budget", "risks"))
    result = pd.DataFrame(index=projects.index)
    result["fx_rate"] = projects["currency"].map(fx)
    done = tasks.dropna(subset=["percent_complete"]).groupby("project_id")["percent_complete"]
    result["percent_complete"] = done.sum() / done.count()
    result["approved_budget"] = projects["approved_budget"].fillna(0) * result["fx_rate"]
    sums = budget.groupby("project_id")[list(MONEY)].sum()
    for column in MONEY:
        result[column] = sums[column].reindex(result.index).fillna(0) * result["fx_rate"]
    result["eac"] = result["actual"] + result["forecast"]
    result["variance"] = result["budget"] - result["eac"]
    result["variance_pct"] = (result["variance"] / result["budget"]).where(result["budget"] != 0)
    open_risks = risks[risks["status"] != "Closed"]
    result["open_risks"] = open_risks.groupby("project_id").size().reindex(result.index).fillna(0).astype(int)
    high = open_risks[open_risks["rating"] == "High"]
    result["high_risks"] = high.groupby("project_id").size().reindex(result.index).fillna(0).astype(int)
    result["max_score"] = open_risks.groupby("project_id")["score"].max().reindex(result.index).fillna(0)
    return result


#: Excel stores numbers up to 9.99999999999999E+307; a figure anywhere near that is no real amount.
LARGEST_FIGURE = 1e300


def overflowing_projects(rollup: pd.DataFrame) -> list[str]:
    """Projects whose rolled-up figures are not finite numbers a spreadsheet can hold (empty when all are)."""
    money = rollup[["approved_budget", *MONEY, "eac", "variance"]].astype(float)
    bad = ~((money.abs() < LARGEST_FIGURE) | money.isna()).all(axis=1)
    return [str(project) for project in rollup.index[bad]]


def group_rollup(portfolio: Portfolio, fx: dict[str, float], by: str) -> pd.DataFrame:
    """Budget, actual, forecast, EAC and variance in the reporting currency, by one budget column."""
    budget = portfolio.tables["budget"]
    rates = budget["currency"].map(fx).fillna(0)
    converted = budget[list(MONEY)].mul(rates, axis=0)
    converted[by] = budget[by]
    result = converted.groupby(by)[list(MONEY)].sum().sort_index()
    result["eac"] = result["actual"] + result["forecast"]
    result["variance"] = result["budget"] - result["eac"]
    return result


def program_rollup(projects: pd.DataFrame, rollup: pd.DataFrame) -> pd.DataFrame:
    """Per program, from the per-project rollup (as the Programs sheet sums the Portfolio sheet)."""
    frame = rollup.join(projects.set_index("project_id")["program"])
    frame["program"] = frame["program"].fillna("")
    grouped = frame.groupby("program")
    result = pd.DataFrame({
        "projects": grouped.size(),
        **{column: grouped[column].sum() for column in ("budget", "actual", "forecast", "eac", "variance",
                                                          "open_risks", "high_risks")},
    })
    result["variance_pct"] = (result["variance"] / result["budget"]).where(result["budget"] != 0)
    return result.sort_index()


def heat_map(portfolio: Portfolio) -> dict[tuple[int, int], int]:
    """(probability, impact) -> number of open risks."""
    risks = portfolio.tables["risks"]
    open_risks = risks[risks["status"] != "Closed"]
    counts = open_risks.groupby(["probability", "impact"]).size()
    return {(int(p), int(i)): int(counts.get((p, i), 0)) for p in range(1, 6) for i in range(1, 6)}


def key_figures(rollup: pd.DataFrame) -> dict[str, Any]:
    """The portfolio's headline numbers, recorded in History at every sync."""
    return {
        "projects": len(rollup),
        "budget": round(float(rollup["budget"].sum()), 2),
        "actual": round(float(rollup["actual"].sum()), 2),
        "eac": round(float(rollup["eac"].sum()), 2),
        "variance": round(float(rollup["variance"].sum()), 2),
        "open_risks": int(rollup["open_risks"].sum()),
        "high_risks": int(rollup["high_risks"].sum()),
    }
