"""The master's cached figures (pmo_sheets.rollups) on a small hand-made portfolio, against figures worked out
by hand: per project, per program, per Finance group, the heat map, RAID and changes, allocations, the
latest status and the RAG trend, and the History row of a sync.

Fast unit tests (consolidate() on in-memory records, no workbook, no sync), so that `make mutate` can run
them against every planted bug in rollups.py; tests/test_master_rollups.py and
tests/test_master_cached_values.py check the same figures in a written master.

The portfolio (reporting currency USD; 1 EUR = 1.5 USD; GBP has no rate):

- PRJ-1, EUR, program Digital: budget lines 100/40/50 and 300/0/270 (budget/actual/forecast) in EUR,
  approved budget 1,000 EUR, four risks (one closed, one without a probability), five RAID items, three
  change requests, three status reports plus one from before the trend window.
- PRJ-2, USD, program Digital: one line 1,000/900/200 and one with every amount blank, one open risk rated
  High at exactly 15 and a closed one scored 25.
- PRJ-3, GBP (no rate), program Ops: one line 500/100/300, only a closed risk, only an undated report.
- PRJ-4, USD, in no program: nothing but its Project sheet.
- PRJ-5, USD, program "digital" (lower case: a program of its own): one line 50/10/45, a Low risk.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pmo_sheets.consolidate import Contribution, Portfolio, consolidate
from pmo_sheets.rollups import (
    allocations,
    converted_by_key,
    group_keys,
    group_rollup,
    heat_counts,
    heat_map,
    key_figures,
    latest_status,
    overflowing_projects,
    program_rollup,
    project_rollup,
    rag_trend,
    raid_and_changes,
    table_figures,
    trend_months,
)

FX = {"USD": 1.0, "EUR": 1.5}  # GBP has no rate
AS_OF = dt.date(2026, 6, 15)

# Spreadsheet date serials of the first of each month (day 0 is 1899-12-30; 2026-01-01 is 46023).
DEC_2025, JAN, FEB, MAR, APR, MAY, JUN = 45992, 46023, 46054, 46082, 46113, 46143, 46174


def budget_line(line_id: str, category: str, cost_center: str | None, period: str | None, currency: str,
                budget: float | None, actual: float | None, forecast: float | None) -> dict[str, Any]:
    return {"line_id": line_id, "category": category, "cost_center": cost_center, "period": period,
            "currency": currency, "budget": budget, "actual": actual, "forecast": forecast}


def risk(risk_id: str, probability: int | None, impact: int | None, status: str) -> dict[str, Any]:
    return {"risk_id": risk_id, "title": "Supplier late", "probability": probability, "impact": impact,
            "status": status}


def raid(raid_id: str, priority: str | None, status: str, due: str | None) -> dict[str, Any]:
    return {"raid_id": raid_id, "type": "Issue", "title": "Open point", "priority": priority, "status": status,
            "due": due}


def change(change_id: str, decision: str, days: int | None, cost: float | None) -> dict[str, Any]:
    return {"change_id": change_id, "title": "Scope change", "decision": decision, "schedule_impact_days": days,
            "cost_impact": cost}


def report(period: str | None, rag: str | None, summary: str | None) -> dict[str, Any]:
    return {"period": period, "overall_rag": rag, "summary": summary}


def allocation(person: str, month: str | None, share: float) -> dict[str, Any]:
    return {"person": person, "role": "Analyst", "month": month, "allocation": share}


RECORDS: dict[str, tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]] = {
    "PRJ-1": ({"program": "Digital", "currency": "EUR", "approved_budget": 1000}, {
        "tasks": [{"task_id": "1", "percent_complete": 0.5}, {"task_id": "2", "percent_complete": 1.0},
                  {"task_id": "3", "percent_complete": None}],
        "budget": [budget_line("L1", "Labour", "CC-1", "2026-04-01", "EUR", 100, 40, 50),
                   budget_line("L2", "Software", "CC-2", "2026-05-01", "EUR", 300, 0, 270)],
        "risks": [risk("R-1", 5, 4, "Open"), risk("R-2", 1, 1, "Closed"), risk("R-3", 2, 4, "Monitoring"),
                  risk("R-4", None, 3, "Open")],
        "raid": [raid("A-1", "Critical", "Open", "2026-06-01"), raid("A-2", "High", "Open", "2026-06-15"),
                 raid("A-3", "High", "Closed", "2026-01-01"), raid("A-4", "Low", "In Progress", None),
                 raid("A-5", "Medium", "Open", "2026-06-14")],
        "changes": [change("C-1", "Approved", 10, 100), change("C-2", "Rejected", 5, 1000),
                    change("C-3", "Approved", 3, None)],
        "status": [report("2026-04-01", "Green", "April"), report("2026-05-01", "Amber", "May"),
                   report("2026-03-01", "Red", "March"), report("2025-12-01", "Green", "December")],
        "resources": [allocation("Ana", "2026-04-01", 0.5), allocation("Ana", "2026-05-01", 0.2),
                      allocation("Bo", "2026-04-01", 1.0)],
    }),
    "PRJ-2": ({"program": "Digital", "currency": "USD", "approved_budget": 2000}, {
        "tasks": [{"task_id": "1", "percent_complete": 0.0}, {"task_id": "2", "percent_complete": 0.3}],
        "budget": [budget_line("L1", "Hardware", "CC-1", "2026-04-01", "USD", 1000, 900, 200),
                   budget_line("L2", "Hardware", None, None, "USD", None, None, None)],
        "risks": [risk("R-1", 3, 5, "Open"), risk("R-2", 5, 5, "Closed")],
        "raid": [raid("B-1", None, "Open", "2026-07-01")],
        "changes": [change("C-1", "Pending", 7, 50)],
        "status": [report("2026-05-01", "Green", "first"), report("2026-05-01", "Red", "second"),
                   report(None, "Amber", "undated")],
        "resources": [allocation("Ana", "2026-04-01", 0.4), allocation("ana", "2026-04-01", 0.3),
                      allocation("Bo", None, 0.5)],
    }),
    "PRJ-3": ({"program": "Ops", "currency": "GBP", "approved_budget": 300}, {
        "tasks": [{"task_id": "1", "percent_complete": None}],
        "budget": [budget_line("L1", "Labour", "CC-1", "2026-04-01", "GBP", 500, 100, 300)],
        "risks": [risk("R-1", 4, 4, "Closed")],
        "changes": [change("C-1", "Approved", 4, 80)],
        "status": [report(None, "Red", "no date")],
    }),
    "PRJ-4": ({"program": None, "currency": "USD", "approved_budget": None}, {}),
    "PRJ-5": ({"program": "digital", "currency": "USD", "approved_budget": 0}, {
        "tasks": [{"task_id": "1", "percent_complete": 0.4}],
        "budget": [budget_line("L1", "Training", "cc-1", "2026-03-01", "USD", 50, 10, 45)],
        "risks": [risk("R-1", 2, 2, "Open")],
        "changes": [change("C-1", "Approved", -2, -20)],
        "status": [report("2026-05-01", None, "blank RAG"), report("2026-06-01", "Green", None)],
    }),
}


def build_portfolio(records: dict[str, tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]]) -> Portfolio:
    payloads = {project_id: {"template": "project", "project": {"project_id": project_id, **fields},
                             "tables": {name: [{"_row": n, **row} for n, row in enumerate(rows, start=2)]
                                        for name, rows in tables.items()}}
                for project_id, (fields, tables) in records.items()}
    sources = [Contribution(project_id, f"projects/{project_id}.xlsx", "ok", f"2026-06-0{n}T00:00:00",
                            "2026-06-10T00:00:00", project_id, "project")
               for n, project_id in enumerate(records, start=1)]
    return consolidate(sources, payloads.get)


PORTFOLIO = build_portfolio(RECORDS)


def plain(value: Any) -> Any:
    """A cell as a reader sees it: NaN is blank (None), numpy numbers are plain numbers."""
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def table(frame: pd.DataFrame) -> dict[Any, tuple[Any, ...]]:
    """Index -> the row's values, in column order."""
    return {plain(index): tuple(plain(v) for v in row) for index, row in zip(frame.index, frame.itertuples(index=False),
                                                                             strict=True)}


# ---- per project, per table ------------------------------------------------------------------------------

def test_task_progress_counts_only_tasks_with_a_percent_complete() -> None:
    figures = table_figures("tasks", PORTFOLIO.tables["tasks"])
    assert list(figures.columns) == ["progress_count", "progress_sum"]
    assert table(figures) == {"PRJ-1": (2, 1.5), "PRJ-2": (2, 0.3), "PRJ-5": (1, 0.4)}  # PRJ-3's only task is blank


def test_budget_sums_each_amount_in_the_lines_own_currency_blank_amounts_adding_nothing() -> None:
    figures = table_figures("budget", PORTFOLIO.tables["budget"])
    assert list(figures.columns) == ["budget", "actual", "forecast"]
    assert table(figures) == {"PRJ-1": (400, 40, 320), "PRJ-2": (1000, 900, 200), "PRJ-3": (500, 100, 300),
                              "PRJ-5": (50, 10, 45)}


def test_risk_counts_take_open_risks_only_and_high_from_a_score_of_15() -> None:
    figures = table_figures("risks", PORTFOLIO.tables["risks"])
    assert list(figures.columns) == ["open_risks", "high_risks", "max_score"]
    # PRJ-1: R-1 (20, High), R-3 (8) and R-4 (no probability, no score) are open; R-2 is closed.
    # PRJ-2: the closed 25 counts nowhere, the open 15 is High. PRJ-3 has no open risk at all.
    assert table(figures) == {"PRJ-1": (3, 1, 20), "PRJ-2": (1, 1, 15), "PRJ-5": (1, 0, 4)}


def test_raid_counts_open_items_by_priority_and_those_due_before_the_day() -> None:
    figures = table_figures("raid", PORTFOLIO.tables["raid"], as_of=AS_OF)
    assert list(figures.columns) == ["open_items", "open_critical", "open_high", "open_medium", "open_low", "overdue"]
    assert figures.dtypes.tolist() == [np.dtype("int64")] * 6
    # A-2 is due on the day itself (not overdue), A-3 is closed, A-4 has no due date; B-1 has no priority.
    assert table(figures) == {"PRJ-1": (4, 1, 1, 1, 1, 2), "PRJ-2": (1, 0, 0, 0, 0, 0)}
    undated = table_figures("raid", PORTFOLIO.tables["raid"])  # no day given: nothing is overdue
    assert table(undated) == {"PRJ-1": (4, 1, 1, 1, 1, 0), "PRJ-2": (1, 0, 0, 0, 0, 0)}


def test_change_figures_add_up_approved_requests_only() -> None:
    figures = table_figures("changes", PORTFOLIO.tables["changes"])
    assert list(figures.columns) == ["approved_changes", "schedule_impact", "cost_impact"]
    # PRJ-1: C-1 (10 days, 100) and C-3 (3 days, blank cost); PRJ-2's only request is pending.
    assert table(figures) == {"PRJ-1": (2, 13, 100), "PRJ-3": (1, 4, 80), "PRJ-5": (1, -2, -20)}


def test_the_latest_status_period_is_a_date_serial_per_project() -> None:
    figures = table_figures("status", PORTFOLIO.tables["status"])
    assert list(figures.columns) == ["latest_period"]
    assert table(figures) == {"PRJ-1": (MAY,), "PRJ-2": (MAY,), "PRJ-3": (None,), "PRJ-5": (JUN,)}  # PRJ-3: undated


def test_figures_can_be_grouped_by_sheet_part_before_the_project() -> None:
    budget = PORTFOLIO.tables["budget"].assign(part=[1, 2, 1, 1, 2, 2])
    figures = table_figures("budget", budget, by=("part", "project_id"))
    assert table(figures) == {(1, "PRJ-1"): (100, 40, 50), (1, "PRJ-2"): (1000, 900, 200),
                              (2, "PRJ-1"): (300, 0, 270), (2, "PRJ-3"): (500, 100, 300), (2, "PRJ-5"): (50, 10, 45)}
    risks = PORTFOLIO.tables["risks"].assign(part=[1, 1, 2, 2, 1, 1, 1, 2])
    assert table(table_figures("risks", risks, by=["part", "project_id"])) == {
        (1, "PRJ-1"): (1, 1, 20), (1, "PRJ-2"): (1, 1, 15), (2, "PRJ-1"): (2, 0, 8), (2, "PRJ-5"): (1, 0, 4)}
    raid_rows = PORTFOLIO.tables["raid"].assign(part=[1, 2, 1, 2, 2, 1])
    assert table(table_figures("raid", raid_rows, by=["part", "project_id"], as_of=AS_OF)) == {
        (1, "PRJ-1"): (1, 1, 0, 0, 0, 1), (1, "PRJ-2"): (1, 0, 0, 0, 0, 0), (2, "PRJ-1"): (3, 0, 1, 1, 1, 1)}
    changes = PORTFOLIO.tables["changes"].assign(part=[1, 1, 2, 1, 2, 2])
    assert table(table_figures("changes", changes, by=["part", "project_id"])) == {
        (1, "PRJ-1"): (1, 10, 100), (2, "PRJ-1"): (1, 3, 0), (2, "PRJ-3"): (1, 4, 80), (2, "PRJ-5"): (1, -2, -20)}
    tasks = PORTFOLIO.tables["tasks"].assign(part=[1, 2, 2, 1, 1, 1, 2])
    assert table(table_figures("tasks", tasks, by=["part", "project_id"])) == {
        (1, "PRJ-1"): (1, 0.5), (1, "PRJ-2"): (2, 0.3), (2, "PRJ-1"): (1, 1.0), (2, "PRJ-5"): (1, 0.4)}
    status = PORTFOLIO.tables["status"].assign(part=[2, 1, 1, 1, 1, 1, 2, 2, 1, 2])
    assert table(table_figures("status", status, by=["part", "project_id"])) == {
        (1, "PRJ-1"): (MAY,), (1, "PRJ-2"): (MAY,), (1, "PRJ-5"): (MAY,), (2, "PRJ-1"): (APR,), (2, "PRJ-2"): (None,),
        (2, "PRJ-3"): (None,), (2, "PRJ-5"): (JUN,)}


def test_a_table_without_per_project_figures_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"^no per-project figures from the resources table$"):
        table_figures("resources", PORTFOLIO.tables["resources"])


# ---- the Portfolio sheet ---------------------------------------------------------------------------------

ROLLUP_COLUMNS = ["fx_rate", "percent_complete", "approved_budget", "budget", "actual", "forecast", "eac", "variance",
                  "variance_pct", "open_risks", "high_risks", "max_score"]


def test_each_project_is_converted_at_its_currencys_rate_and_a_missing_rate_leaves_it_blank() -> None:
    rollup = project_rollup(PORTFOLIO, FX)
    assert list(rollup.columns) == ROLLUP_COLUMNS
    assert rollup.index.name == "project_id"
    assert table(rollup) == {
        # EUR at 1.5: budget 400 -> 600, actual 40 -> 60, forecast 320 -> 480; EAC 540; variance 60 = 10%.
        "PRJ-1": (1.5, 0.75, 1500, 600, 60, 480, 540, 60, 0.1, 3, 1, 20),
        "PRJ-2": (1.0, 0.15, 2000, 1000, 900, 200, 1100, -100, -0.1, 1, 1, 15),
        "PRJ-3": (None, None, None, None, None, None, None, None, None, 0, 0, 0),  # GBP: no rate
        "PRJ-4": (1.0, None, 0, 0, 0, 0, 0, 0, None, 0, 0, 0),  # no lines: zero budget, no variance %
        "PRJ-5": (1.0, 0.4, 0, 50, 10, 45, 55, -5, -0.1, 1, 0, 4),
    }
    assert rollup["open_risks"].dtype.kind == "i" and rollup["high_risks"].dtype.kind == "i"


def test_a_sum_too_large_for_a_float_is_infinite_not_an_error_and_is_named() -> None:
    # In USD at 1.5: an approved budget of 2.25e308, a budget of 3.75e308, a forecast of 1.8e308: all past a float.
    records = {"PRJ-1": ({"currency": "EUR", "approved_budget": 1.5e308}, {
        "budget": [budget_line("L1", "Labour", "CC-1", "2026-04-01", "EUR", 1.5e308, 0, 1.2e308),
                   budget_line("L2", "Labour", "CC-1", "2026-04-01", "EUR", 1e308, 0, 0)]}),
        "PRJ-2": ({"currency": "USD", "approved_budget": 5}, {
            "budget": [budget_line("L1", "Labour", "CC-1", "2026-04-01", "USD", 5, 1, 2)]})}
    with np.errstate(all="raise"):  # project_rollup must not need the caller's leniency
        rollup = project_rollup(build_portfolio(records), FX)
    assert rollup.loc["PRJ-1", "budget"] == math.inf
    assert rollup.loc["PRJ-1", "approved_budget"] == math.inf
    assert math.isnan(rollup.loc["PRJ-1", "variance"])  # inf - inf
    assert overflowing_projects(rollup) == ["PRJ-1"]


def test_figures_a_spreadsheet_cannot_hold_are_named_by_project_blank_ones_are_not() -> None:
    columns = ["approved_budget", "budget", "actual", "forecast", "eac", "variance"]
    ok, nan, inf = 1.0, math.nan, math.inf
    rows = {"fine": [ok, 1e6, -1e6, 0, 9.9e299, -9.9e299],
            "blank": [nan] * 6,  # a currency without a rate
            "approved": [1e300, ok, ok, ok, ok, ok],  # 1E+300 and beyond is no real amount
            "budget": [ok, -inf, ok, ok, ok, ok],
            "actual": [ok, ok, 1e301, ok, ok, ok],
            "forecast": [ok, ok, ok, inf, ok, ok],
            "eac": [ok, ok, ok, ok, -1e300, ok],
            "variance": [ok, ok, ok, ok, ok, inf],
            "just_under": [9.99e299, ok, ok, ok, ok, nan]}
    rollup = pd.DataFrame.from_dict(rows, orient="index", columns=columns).assign(open_risks=0)
    assert overflowing_projects(rollup) == ["approved", "budget", "actual", "forecast", "eac", "variance"]
    assert overflowing_projects(rollup.loc[["fine", "blank", "just_under"]]) == []
    numbered = pd.DataFrame([[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 1e300]], columns=columns, index=[2026, 7])
    assert overflowing_projects(numbered) == ["7"]  # a numeric Project ID is named as text


def test_the_history_row_holds_the_portfolios_headline_figures() -> None:
    figures = key_figures(project_rollup(PORTFOLIO, FX))
    # PRJ-3 (no rate) adds nothing: 600 + 1000 + 0 + 50; 60 + 900 + 0 + 10; 540 + 1100 + 0 + 55; 60 - 100 + 0 - 5.
    assert figures == {"projects": 5, "budget": 1650.0, "actual": 970.0, "eac": 1695.0, "variance": -45.0,
                       "open_risks": 5, "high_risks": 2}
    assert list(figures) == ["projects", "budget", "actual", "eac", "variance", "open_risks", "high_risks"]
    assert [type(v) for v in figures.values()] == [int, float, float, float, float, int, int]


def test_the_history_row_rounds_money_to_the_cent() -> None:
    rollup = pd.DataFrame({"budget": [100.123, 200.456], "actual": [1 / 3, 0.0], "eac": [2 / 3, 1000.0],
                           "variance": [-1 / 3, -1 / 3], "open_risks": [1, 2], "high_risks": [0, 1]})
    assert key_figures(rollup) == {"projects": 2, "budget": 300.58, "actual": 0.33, "eac": 1000.67,
                                   "variance": -0.67, "open_risks": 3, "high_risks": 1}


def test_a_budget_of_exactly_one_still_has_a_variance_percentage() -> None:
    records = {"PRJ-1": ({"program": "Tiny", "currency": "USD"}, {
        "budget": [budget_line("L1", "Labour", "CC-1", "2026-04-01", "USD", 1, 0.5, 1)]})}
    portfolio = build_portfolio(records)
    rollup = project_rollup(portfolio, FX)
    assert rollup.loc["PRJ-1", ["budget", "eac", "variance", "variance_pct"]].tolist() == [1, 1.5, -0.5, -0.5]
    assert program_rollup(portfolio.projects, rollup).loc["Tiny", "variance_pct"] == -0.5


def test_a_portfolio_without_projects_has_empty_rollups_and_zero_headline_figures() -> None:
    portfolio = consolidate([], {}.get)
    rollup = project_rollup(portfolio, FX)
    assert rollup.empty and list(rollup.columns) == ROLLUP_COLUMNS
    assert key_figures(rollup) == {"projects": 0, "budget": 0.0, "actual": 0.0, "eac": 0.0, "variance": 0.0,
                                   "open_risks": 0, "high_risks": 0}
    assert overflowing_projects(rollup) == []
    assert program_rollup(portfolio.projects, rollup).empty
    finance = group_rollup(portfolio, FX, "category")
    assert finance.empty and list(finance.columns) == FINANCE_COLUMNS
    assert raid_and_changes(portfolio, FX, AS_OF).empty
    assert set(heat_map(portfolio).values()) == {0}


# ---- the Programs sheet ----------------------------------------------------------------------------------

def test_programs_sum_their_projects_exactly_by_name_and_a_project_in_none_is_in_the_blank_program() -> None:
    programs = program_rollup(PORTFOLIO.projects, project_rollup(PORTFOLIO, FX))
    assert list(programs.columns) == ["projects", "budget", "actual", "forecast", "eac", "variance", "open_risks",
                                      "high_risks", "variance_pct"]
    assert table(programs) == {
        "": (1, 0, 0, 0, 0, 0, 0, 0, None),  # PRJ-4
        "Digital": (2, 1600, 960, 680, 1640, -40, 4, 2, -0.025),  # PRJ-1 and PRJ-2
        "Ops": (1, 0, 0, 0, 0, 0, 0, 0, None),  # PRJ-3, whose currency has no rate
        "digital": (1, 50, 10, 45, 55, -5, 1, 0, -0.1),  # PRJ-5: not Digital
    }
    assert list(programs.index) == ["", "Digital", "Ops", "digital"]  # sorted as the sheet lists them


# ---- the Finance sheet -----------------------------------------------------------------------------------

def test_group_keys_number_the_sorted_labels_a_blank_label_last() -> None:
    budget = PORTFOLIO.tables["budget"]  # cost centres: CC-1, CC-2, CC-1, blank, CC-1, cc-1
    keys = group_keys(budget, "cost_center")
    assert keys.tolist() == [1, 2, 1, 4, 1, 3]
    assert keys.dtype == np.dtype("int64")
    assert keys.index.equals(budget.index)
    numbers = pd.DataFrame({"code": ["2026", "2026.0", "02026", "2026"]}, index=[5, 6, 7, 8])
    assert group_keys(numbers, "code").to_dict() == {5: 2, 6: 3, 7: 1, 8: 2}  # texts, never numbers
    empty = group_keys(budget.iloc[:0], "cost_center")
    assert empty.tolist() == [] and empty.dtype == np.dtype("int64")


def test_amounts_are_converted_at_each_lines_rate_a_currency_without_one_counting_as_zero() -> None:
    budget = PORTFOLIO.tables["budget"]
    keys = pd.Series([1, 1, 2, 2, 2, 3], index=budget.index)
    assert table(converted_by_key(budget, FX, keys)) == {
        1: (600, 60, 480),  # PRJ-1's two EUR lines at 1.5
        2: (1000, 900, 200),  # PRJ-2's lines (one blank) and PRJ-3's GBP line, which counts as 0
        3: (50, 10, 45)}
    parts = pd.Series([1, 2, 1, 2, 1, 2], index=budget.index)
    assert table(converted_by_key(budget, FX, [parts, keys])) == {
        (1, 1): (150, 60, 75), (1, 2): (1000, 900, 200), (2, 1): (450, 0, 405), (2, 2): (0, 0, 0), (2, 3): (50, 10, 45)}


FINANCE_COLUMNS = ["label", "budget", "actual", "forecast", "eac", "variance"]


@pytest.mark.parametrize(("by", "expected"), [
    ("category", {1: ("Hardware", 1000, 900, 200, 1100, -100), 2: ("Labour", 150, 60, 75, 135, 15),
                  3: ("Software", 450, 0, 405, 405, 45), 4: ("Training", 50, 10, 45, 55, -5)}),
    ("cost_center", {1: ("CC-1", 1150, 960, 275, 1235, -85), 2: ("CC-2", 450, 0, 405, 405, 45),
                     3: ("cc-1", 50, 10, 45, 55, -5), 4: (None, 0, 0, 0, 0, 0)}),
    ("program", {1: ("Digital", 1600, 960, 680, 1640, -40), 2: ("Ops", 0, 0, 0, 0, 0),
                 3: ("digital", 50, 10, 45, 55, -5)}),
    ("fiscal_period", {1: ("FY2026-P03", 50, 10, 45, 55, -5), 2: ("FY2026-P04", 1150, 960, 275, 1235, -85),
                       3: ("FY2026-P05", 450, 0, 405, 405, 45), 4: (None, 0, 0, 0, 0, 0)}),
])
def test_finance_groups_add_up_converted_lines_by_their_exact_label(by: str, expected: dict[int, tuple[Any, ...]]) -> None:
    figures = group_rollup(PORTFOLIO, FX, by)
    assert list(figures.columns) == FINANCE_COLUMNS
    assert table(figures) == expected
    assert list(figures["label"]) == [row[0] for row in expected.values()]  # a blank label is None (a blank cell), not NaN
    assert list(figures.index) == sorted(expected)


def test_a_finance_group_of_lines_in_a_currency_without_a_rate_is_all_zero() -> None:
    records = {"PRJ-1": ({"currency": "GBP"}, {"budget": [budget_line("L1", "Labour", "CC-1", "2026-04-01", "GBP",
                                                                      10, 5, 5)]})}
    figures = group_rollup(build_portfolio(records), FX, "category")
    assert table(figures) == {1: ("Labour", 0, 0, 0, 0, 0)}
    assert figures.dtypes.tolist()[1:] == [np.dtype("float64")] * 5


# ---- the heat map ----------------------------------------------------------------------------------------

def test_the_heat_map_counts_open_risks_by_probability_and_impact_in_every_cell() -> None:
    cells = heat_map(PORTFOLIO)
    assert list(cells) == [(p, i) for p in range(1, 6) for i in range(1, 6)]
    # Open and scored: PRJ-1's R-1 (5, 4) and R-3 (2, 4), PRJ-2's R-1 (3, 5), PRJ-5's R-1 (2, 2). R-4 has no probability.
    assert {cell: count for cell, count in cells.items() if count} == {(5, 4): 1, (2, 4): 1, (3, 5): 1, (2, 2): 1}
    assert all(type(count) is int for count in cells.values())


def test_heat_counts_add_up_risks_in_one_cell_and_leave_closed_ones_out() -> None:
    risks = pd.DataFrame({"probability": [1, 1, 5, 1, 5, 3], "impact": [1, 1, 5, 1, 1, 2],
                          "status": ["Open", "Monitoring", "Open", "Closed", "Open", "Closed"]})
    cells = heat_counts(risks)
    assert len(cells) == 25
    assert {cell: count for cell, count in cells.items() if count} == {(1, 1): 2, (5, 5): 1, (5, 1): 1}


# ---- the RAID and changes sheet --------------------------------------------------------------------------

def test_raid_and_changes_per_project_with_cost_impact_in_the_reporting_currency() -> None:
    figures = raid_and_changes(PORTFOLIO, FX, AS_OF)
    assert list(figures.columns) == ["open_items", "open_critical", "open_high", "open_medium", "open_low", "overdue",
                                     "approved_changes", "schedule_impact", "cost_impact"]
    assert table(figures) == {
        "PRJ-1": (4, 1, 1, 1, 1, 2, 2, 13, 150),  # 100 EUR at 1.5
        "PRJ-2": (1, 0, 0, 0, 0, 0, 0, 0, 0),
        "PRJ-3": (0, 0, 0, 0, 0, 0, 1, 4, 0),  # GBP has no rate: 0, as on Portfolio
        "PRJ-4": (0, 0, 0, 0, 0, 0, 0, 0, 0),
        "PRJ-5": (0, 0, 0, 0, 0, 0, 1, -2, -20),
    }
    assert figures.dtypes.tolist()[:7] == [np.dtype("int64")] * 7
    assert figures["cost_impact"].dtype == np.dtype("float64")
    later = raid_and_changes(PORTFOLIO, FX, dt.date(2026, 6, 16))  # A-2, due on the 15th, is overdue a day later
    assert later.loc["PRJ-1", "overdue"] == 3


# ---- the Resources sheet ---------------------------------------------------------------------------------

def test_allocations_add_up_by_person_key_and_month_serial_leaving_undated_rows_out() -> None:
    resources = PORTFOLIO.tables["resources"]
    resources = resources.assign(person_key=group_keys(resources, "person"))  # Ana 1, Bo 2, ana 3
    totals = allocations(resources)
    assert totals.index.names == ["person_key", "_month"]
    assert totals.index.get_level_values("_month").dtype == np.dtype("int64")
    assert totals.to_dict() == {(1, APR): pytest.approx(0.9), (1, MAY): 0.2, (2, APR): 1.0, (3, APR): 0.3}
    by_project = allocations(resources, by=["project_id"])
    assert by_project.to_dict() == {("PRJ-1", 1, APR): 0.5, ("PRJ-1", 1, MAY): 0.2, ("PRJ-1", 2, APR): 1.0,
                                    ("PRJ-2", 1, APR): 0.4, ("PRJ-2", 3, APR): 0.3}


# ---- status: the latest report and the trend -------------------------------------------------------------

STATUS_ROWS = [  # PORTFOLIO.tables["status"], row by row
    ("PRJ-1", "2026-04-01", "Green"), ("PRJ-1", "2026-05-01", "Amber"), ("PRJ-1", "2026-03-01", "Red"),
    ("PRJ-1", "2025-12-01", "Green"), ("PRJ-2", "2026-05-01", "Green"), ("PRJ-2", "2026-05-01", "Red"),
    ("PRJ-2", None, "Amber"), ("PRJ-3", None, "Red"), ("PRJ-5", "2026-05-01", None), ("PRJ-5", "2026-06-01", "Green")]


def test_the_status_table_is_the_one_these_tests_describe() -> None:
    status = PORTFOLIO.tables["status"]
    assert [(p, None if pd.isna(d) else d.date().isoformat(), plain(r))
            for p, d, r in zip(status["project_id"], status["period"], status["overall_rag"], strict=True)] == STATUS_ROWS


def test_the_latest_report_of_each_project_is_the_last_row_of_its_latest_period() -> None:
    status = PORTFOLIO.tables["status"]
    status = status.set_axis(range(100, 100 + len(status)))  # positions count rows, whatever the frame's index
    latest = latest_status(status)
    assert latest.index.name == "project_id"
    assert {pid: (row["position"], row["period"].date().isoformat(), plain(row["overall_rag"]), plain(row["summary"]))
            for pid, row in latest.iterrows()} == {
        "PRJ-1": (1, "2026-05-01", "Amber", "May"),  # not the last row typed, the latest month
        "PRJ-2": (5, "2026-05-01", "Red", "second"),  # two reports for May: the last one
        "PRJ-5": (9, "2026-06-01", "Green", None)}  # PRJ-3 has no dated report
    assert list(latest.index) == ["PRJ-1", "PRJ-2", "PRJ-5"]


def test_without_a_dated_report_there_is_no_latest_status_and_no_trend() -> None:
    undated = PORTFOLIO.tables["status"].iloc[[6, 7]]
    latest = latest_status(undated)
    assert latest.empty
    assert list(latest.columns) == ["position", "period", "overall_rag", "summary"]
    assert latest.index.name == "project_id"
    assert trend_months(undated) == []
    assert rag_trend(undated, [MAY]) == {}


def test_the_trend_shows_six_calendar_months_ending_with_the_latest_report() -> None:
    assert trend_months(PORTFOLIO.tables["status"]) == [JAN, FEB, MAR, APR, MAY, JUN]


@pytest.mark.parametrize(("periods", "count", "months"), [
    (["2026-02-01", "2025-11-01"], 3, [DEC_2025, JAN, FEB]),  # across a year end
    (["2026-02-17"], 2, [JAN, FEB]),  # a date inside a month stands for the month
    (["2026-03-01", None], 1, [MAR]),
])
def test_trend_months_are_whole_calendar_months_oldest_first(periods: list[str | None], count: int,
                                                             months: list[int]) -> None:
    status = pd.DataFrame({"period": pd.to_datetime(pd.Series(periods))})
    assert trend_months(status, count) == months


def test_the_trend_finds_each_projects_report_per_month_the_last_of_two_and_a_blank_rag_as_blank() -> None:
    status = PORTFOLIO.tables["status"]
    assert rag_trend(status, [JAN, FEB, MAR, APR, MAY, JUN]) == {
        ("PRJ-1", APR): (0, "Green"), ("PRJ-1", MAY): (1, "Amber"), ("PRJ-1", MAR): (2, "Red"),  # not December 2025
        ("PRJ-2", MAY): (5, "Red"),  # two reports for May: the last one
        ("PRJ-5", MAY): (8, ""), ("PRJ-5", JUN): (9, "Green")}
    shifted = status.set_axis(range(50, 50 + len(status)))
    assert rag_trend(shifted, [DEC_2025, JUN]) == {("PRJ-1", DEC_2025): (3, "Green"), ("PRJ-5", JUN): (9, "Green")}
    numbered = pd.DataFrame({"project_id": [2026], "period": [pd.Timestamp("2026-06-01")], "overall_rag": ["Red"]})
    assert rag_trend(numbered, [JUN]) == {("2026", JUN): (0, "Red")}
