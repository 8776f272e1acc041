"""The master's figures computed with pandas: the cached values written beside every rollup formula.

Each function mirrors one formula of :mod:`pmo_sheets.master` exactly (same filters, same
conversions), so that Protected View, previewers and pandas see the right numbers before any
recalculation; a LibreOffice test recalculates the master and compares.

Groups are exact: pandas groups by the value itself, case-sensitively, and the formulas are written
to do the same (a group key per budget line for the Finance sheet, EXACT() for the Programs sheet),
so that ``R&D*`` and ``r&d*``, or ``2026`` and ``2026.0``, are distinct groups everywhere.

The ``*_figures`` / ``*_counts`` functions take one table (or one part of it, as the master splits a
table over several sheets): the master also needs each part's subtotal when a figure is gathered
from many parts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pmo_sheets.coerce import EXCEL_EPOCH as SERIAL_EPOCH
from pmo_sheets.consolidate import Portfolio

MONEY = ("budget", "actual", "forecast")
#: Day 0 of spreadsheet date serials, as a timestamp (vectorised date arithmetic).
EXCEL_EPOCH = pd.Timestamp(SERIAL_EPOCH)
# Finance's groupings: the budget column each groups by, and the column of Budget data holding its key.
GROUPINGS = {"program": "program_key", "cost_center": "cost_center_key", "category": "category_key",
             "fiscal_period": "fiscal_period_key"}


#: RAID priorities, each counted among a project's open items on the RAID and changes sheet.
PRIORITIES = ("Critical", "High", "Medium", "Low")


def table_figures(table: str, frame: pd.DataFrame, by: Sequence[str] = ("project_id",), *,
                  as_of: dt.date | None = None) -> pd.DataFrame:
    """Per project, what the Portfolio sheet's formulas take from one data table, before any conversion.

    tasks: ``progress_count`` (tasks with a % complete) and ``progress_sum``; budget: ``budget``,
    ``actual``, ``forecast``; risks: ``open_risks``, ``high_risks`` (open ones rated High) and
    ``max_score`` (of the open ones); status: ``latest_period`` (a date serial); raid: ``open_items``,
    ``open_critical`` ... ``open_low`` and ``overdue`` (open, due before ``as_of``); changes (approved
    ones): ``approved_changes``, ``schedule_impact`` (days) and ``cost_impact`` (in the project's
    currency). ``by`` may add columns to group by before the project (the master's sheet part of each
    row, for per-part subtotals).
    """
    by = list(by)
    if table == "tasks":
        done = frame.dropna(subset=["percent_complete"]).groupby(by)["percent_complete"]
        return pd.DataFrame({"progress_count": done.count(), "progress_sum": done.sum()})
    if table == "budget":
        return frame.groupby(by)[list(MONEY)].sum()
    if table == "risks":
        open_risks = frame[frame["status"] != "Closed"]
        grouped = open_risks.groupby(by)
        return pd.DataFrame({
            "open_risks": grouped.size(),
            "high_risks": open_risks[open_risks["rating"] == "High"].groupby(by).size(),
            "max_score": grouped["score"].max(),
        }).fillna(0)
    if table == "raid":
        open_items = frame[frame["status"] != "Closed"]
        due = pd.to_datetime(open_items["due"])
        columns = {"open_items": open_items.groupby(by).size()}
        for priority in PRIORITIES:
            columns[f"open_{priority.lower()}"] = open_items[open_items["priority"] == priority].groupby(by).size()
        overdue = open_items[due < pd.Timestamp(as_of)] if as_of is not None else open_items.iloc[:0]
        columns["overdue"] = overdue.groupby(by).size()
        return pd.DataFrame(columns).fillna(0).astype("int64")
    if table == "changes":
        approved = frame[frame["decision"] == "Approved"].groupby(by)
        return pd.DataFrame({"approved_changes": approved.size(),
                             "schedule_impact": approved["schedule_impact_days"].sum(),
                             "cost_impact": approved["cost_impact"].sum()}).fillna(0)
    if table == "status":  # the latest month reported, as a date serial (MAXIFS over the Period column)
        serials = (pd.to_datetime(frame["period"]) - EXCEL_EPOCH).dt.days
        return frame.assign(_serial=serials).groupby(by)["_serial"].max().to_frame("latest_period")
    raise ValueError(f"no per-project figures from the {table} table")


def project_rollup(portfolio: Portfolio, fx: dict[str, float]) -> pd.DataFrame:
    """One row per project: its figures in the reporting currency, and its risk counts.

    Arithmetic never raises here: a sum too large for a float is inf, which
    :func:`overflowing_projects` finds so that the sync can refuse it in one clear line.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _project_rollup(portfolio, fx)


def _project_rollup(portfolio: Portfolio, fx: dict[str, float]) -> pd.DataFrame:
    projects = portfolio.projects.set_index("project_id")
    result = pd.DataFrame(index=projects.index)
    result["fx_rate"] = projects["currency"].map(fx)
    progress = table_figures("tasks", portfolio.tables["tasks"]).reindex(result.index)
    result["percent_complete"] = progress["progress_sum"] / progress["progress_count"]
    result["approved_budget"] = projects["approved_budget"].fillna(0) * result["fx_rate"]
    sums = table_figures("budget", portfolio.tables["budget"]).reindex(result.index).fillna(0)
    for column in MONEY:
        result[column] = sums[column] * result["fx_rate"]
    result["eac"] = result["actual"] + result["forecast"]
    result["variance"] = result["budget"] - result["eac"]
    result["variance_pct"] = (result["variance"] / result["budget"]).where(result["budget"] != 0)
    risks = table_figures("risks", portfolio.tables["risks"]).reindex(result.index).fillna(0)
    result["open_risks"] = risks["open_risks"].astype(int)
    result["high_risks"] = risks["high_risks"].astype(int)
    result["max_score"] = risks["max_score"]
    return result


#: Excel stores numbers up to 9.99999999999999E+307; a figure anywhere near that is no real amount.
LARGEST_FIGURE = 1e300


def overflowing_projects(rollup: pd.DataFrame) -> list[str]:
    """Projects whose rolled-up figures are not finite numbers a spreadsheet can hold (empty when all are)."""
    money = rollup[["approved_budget", *MONEY, "eac", "variance"]].astype(float)
    bad = ~((money.abs() < LARGEST_FIGURE) | money.isna()).all(axis=1)
    return [str(project) for project in rollup.index[bad]]


def group_keys(budget: pd.DataFrame, by: str) -> pd.Series:
    """Each budget line's group number for the Finance sheet's ``by`` section: 1, 2, ... in the order
    of the sorted group labels, a blank label being a group of its own (the last).

    The master writes these numbers beside the lines on Budget data and sums by them: a number as a
    SUMIFS criterion matches only that number, whatever the label says.
    """
    if budget.empty:
        return pd.Series([], index=budget.index, dtype="int64")
    return budget.groupby(by, dropna=False, sort=True).ngroup().astype("int64") + 1


def converted_by_key(budget: pd.DataFrame, fx: dict[str, float], keys: pd.Series | list[pd.Series]) -> pd.DataFrame:
    """Budget, actual and forecast in the reporting currency, summed by group key (``keys``, aligned with
    ``budget``; or a list of series to group by, such as each line's sheet part and key). A currency
    without a rate counts as 0, as the FX sheet's lookup does."""
    rates = budget["currency"].map(fx).fillna(0)
    converted = budget[list(MONEY)].fillna(0).mul(rates, axis=0)
    return converted.groupby(keys).sum()


def group_rollup(portfolio: Portfolio, fx: dict[str, float], by: str) -> pd.DataFrame:
    """Budget, actual, forecast, EAC and variance in the reporting currency, by one budget column.

    Indexed by the group key (see :func:`group_keys`); ``label`` is the group's value (None when blank).
    """
    budget = portfolio.tables["budget"]
    keys = group_keys(budget, by)
    result = converted_by_key(budget, fx, keys).reindex(columns=list(MONEY), fill_value=0.0)
    labels = budget[by].groupby(keys).first()
    result.insert(0, "label", labels.astype(object).where(labels.notna(), None))
    result["eac"] = result["actual"] + result["forecast"]
    result["variance"] = result["budget"] - result["eac"]
    return result


def program_rollup(projects: pd.DataFrame, rollup: pd.DataFrame) -> pd.DataFrame:
    """Per program, from the per-project rollup (as the Programs sheet sums the Portfolio sheet).

    A project without a program is in the program "" (the Programs sheet's blank label, which EXACT()
    matches with the blank Program cells).
    """
    frame = rollup.join(projects.set_index("project_id")["program"])
    frame["program"] = frame["program"].fillna("").astype(str)
    grouped = frame.groupby("program")
    result = pd.DataFrame({
        "projects": grouped.size(),
        **{column: grouped[column].sum() for column in ("budget", "actual", "forecast", "eac", "variance",
                                                          "open_risks", "high_risks")},
    })
    result["variance_pct"] = (result["variance"] / result["budget"]).where(result["budget"] != 0)
    return result.sort_index()


def heat_counts(risks: pd.DataFrame) -> dict[tuple[int, int], int]:
    """(probability, impact) -> number of open risks in ``risks`` (a table, or one part of it)."""
    open_risks = risks[risks["status"] != "Closed"]
    counts = open_risks.groupby(["probability", "impact"]).size()
    return {(p, i): int(counts.get((p, i), 0)) for p in range(1, 6) for i in range(1, 6)}


def heat_map(portfolio: Portfolio) -> dict[tuple[int, int], int]:
    """(probability, impact) -> number of open risks."""
    return heat_counts(portfolio.tables["risks"])


def raid_and_changes(portfolio: Portfolio, fx: dict[str, float], as_of: dt.date) -> pd.DataFrame:
    """One row per project (as on Portfolio): its open RAID items by priority, those overdue on
    ``as_of``, and its approved change requests: their number, schedule impact in days and cost impact
    in the reporting currency (at the project's rate: a change is in the project's currency, which the
    currency-mismatch rule makes sure of, or blank)."""
    projects = portfolio.projects.set_index("project_id")
    raid = table_figures("raid", portfolio.tables["raid"], as_of=as_of).reindex(projects.index).fillna(0)
    changes = table_figures("changes", portfolio.tables["changes"]).reindex(projects.index).fillna(0)
    result = pd.concat([raid.astype("int64"), changes], axis=1)
    result["approved_changes"] = result["approved_changes"].astype("int64")
    # A currency without a rate counts as 0, as on Portfolio (a sync refuses one before writing anything).
    result["cost_impact"] = (result["cost_impact"] * projects["currency"].map(fx)).fillna(0.0)
    return result


#: A month's allocation counts as over capacity only past this margin: sums of typed percentages such
#: as 0.2 + 0.4 + 0.4 come out a hair above 1 in binary floating point, and 100% is not over-allocated.
OVER_CAPACITY_MARGIN = 1e-6


def allocations(resources: pd.DataFrame, by: Sequence[str] = ()) -> pd.Series:
    """Allocation summed by person key and month serial (``by`` first: the master's sheet part of each
    row), as the Resources sheet's SUMIFS add it up. ``resources`` carries ``person_key``
    (:func:`group_keys` of ``person``): one key per name exactly as typed, capitals and all."""
    months = (pd.to_datetime(resources["month"]) - EXCEL_EPOCH).dt.days
    frame = resources.assign(_month=months).dropna(subset=["_month"])
    frame = frame.assign(_month=frame["_month"].astype("int64"))
    return frame.groupby([*by, "person_key", "_month"])["allocation"].sum()


def latest_status(status: pd.DataFrame) -> pd.DataFrame:
    """Per project, its latest status report: ``position`` (its row in ``status``, 0-based), ``period``,
    ``overall_rag`` and ``summary``, as the Portfolio sheet's status columns look them up (MAXIFS of
    the period, then the row of that project and period). A project without a dated report is absent."""
    frame = status.reset_index(drop=True)
    dated = frame.dropna(subset=["period"])
    if dated.empty:
        return pd.DataFrame(columns=["position", "period", "overall_rag", "summary"], index=pd.Index([], name="project_id"))
    # One row per period and project (the duplicate-id rule); were there two, the formula takes the last.
    latest = dated.groupby("project_id")["period"].transform("max") == dated["period"]
    rows = dated[latest].groupby("project_id").tail(1)
    result = rows[["project_id", "period", "overall_rag", "summary"]].assign(position=rows.index)
    return result.set_index("project_id")


#: How many reporting months the Status trend sheet shows: the six calendar months ending with the
#: latest month any project reported (half a year of monthly reports; a project's gaps stay visible).
RAG_TREND_MONTHS = 6


def trend_months(status: pd.DataFrame, count: int = RAG_TREND_MONTHS) -> list[int]:
    """The date serials of the ``count`` calendar months ending with the latest period in ``status``
    (periods are stored as the first of their month), oldest first; empty without a dated report."""
    periods = pd.to_datetime(status["period"]).dropna()
    if periods.empty:
        return []
    latest = periods.max().to_period("M")
    return [int(((latest - back).to_timestamp() - EXCEL_EPOCH).days) for back in range(count - 1, -1, -1)]


def rag_trend(status: pd.DataFrame, months: Sequence[int]) -> dict[tuple[str, int], tuple[int, str]]:
    """(project ID, month serial) -> (its row in ``status``, 0-based; the overall RAG as typed) for each
    report in one of ``months``, as the Status trend sheet looks them up (the row of that project and
    month; were there two, the last, as on Portfolio). A blank RAG is ""."""
    frame = status.reset_index(drop=True)
    serials = (pd.to_datetime(frame["period"]) - EXCEL_EPOCH).dt.days
    result: dict[tuple[str, int], tuple[int, str]] = {}
    wanted = set(months)
    for position, (project_id, serial, rag) in enumerate(zip(frame["project_id"], serials, frame["overall_rag"],
                                                             strict=True)):
        if pd.notna(serial) and int(serial) in wanted:
            result[(str(project_id), int(serial))] = (position, "" if pd.isna(rag) else str(rag))
    return result


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
