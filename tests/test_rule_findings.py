"""Each cross-row rule of pmo_sheets.rules, on tables typed in memory: the exact finding at the exact cell.

Fast unit tests (no workbook file, no sync), so that `make mutate` can run them against every planted
bug in rules.py. The tables are read from in-memory sheets by the real reader (header row of template
titles, then rows of cells), so the cells are where a user would see them: ``Tasks!E3`` is the Finish
of the second task. tests/test_rules.py plants the same kinds of mistakes in real template files.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pmo_sheets.grid import SheetGrid
from pmo_sheets.records import TableRecords, read_records
from pmo_sheets.rules import RULE_FUNCTIONS, RuleContext, expected_calculated, run_rules, split_predecessors
from pmo_sheets.schemas import load_tables

TODAY = dt.date(2026, 6, 15)
Found = tuple[str, str | None, str | None, str]

PROJECT = {"project_id": "PRJ-0042", "project_name": "Data hub", "project_manager": "Ana Silva",
           "start_date": "2026-03-01", "finish_date": "2026-09-30", "status": "In Progress", "currency": "EUR",
           "approved_budget": 1000}


def task(task_id: str, **values: Any) -> dict[str, Any]:
    """A task that breaks no rule, changed by ``values``."""
    return {"task_id": task_id, "task_name": f"Task {task_id}", "owner": "Ana Silva", "start": "2026-03-02",
            "finish": "2026-03-06", "baseline_start": "2026-03-02", "baseline_finish": "2026-03-06",
            "percent_complete": 0.5, "status": "In Progress", **values}


def sheet(name: str, rows: list[dict[str, Any]], *, without: tuple[str, ...] = ()) -> TableRecords:
    """A table as the reader makes it from a sheet: a header of the template's titles, one row per dict."""
    spec = load_tables()[name]
    columns = [c for c in spec.columns if c.name not in without]
    if spec.layout == "form":  # labels in column A, values in column B: Project ID is B1
        grid = SheetGrid(spec.sheet, [[c.title, rows[0].get(c.name)] for c in columns])
    else:
        grid = SheetGrid(spec.sheet, [[c.title for c in columns], *([row.get(c.name) for c in columns] for row in rows)])
    records, findings = read_records(spec, grid)
    assert [f for f in findings if f.rule != "column-missing"] == []
    return records


def found(today: dt.date = TODAY, cycle: int = 1, **tables: TableRecords) -> list[Found]:
    return [(f.rule, f.sheet, f.cell, f.message)
            for f in run_rules(tables, RuleContext(today=today, reporting_cycle_months=cycle))]


def test_tables_without_mistakes_give_no_finding() -> None:
    assert found(project=sheet("project", [PROJECT]), tasks=sheet("tasks", [task("1.1"), task("1.2")])) == []


def test_no_tables_give_no_finding() -> None:
    assert found() == []


# ---- finish before start ------------------------------------------------------------------------------

def test_a_finish_before_its_start_is_flagged_at_the_finish() -> None:
    tasks = sheet("tasks", [task("1.1"), task("1.2", start="2026-03-10", finish="2026-03-09"),
                            task("1.3", baseline_start="2026-03-04", baseline_finish="2026-03-03")])
    assert found(tasks=tasks) == [
        ("finish-before-start", "Tasks", "E3", "Finish 2026-03-09 is before Start 2026-03-10 (D3)"),
        ("finish-before-start", "Tasks", "G4", "Baseline Finish 2026-03-03 is before Baseline Start 2026-03-04 (F4)"),
    ]


def test_a_one_day_task_is_not_backwards() -> None:
    one_day = task("1.1", start="2026-03-05", finish="2026-03-05", baseline_start="2026-03-05",
                   baseline_finish="2026-03-05")
    assert found(tasks=sheet("tasks", [one_day])) == []


def test_backwards_dates_are_flagged_in_the_project_raid_log_and_changes() -> None:
    project = sheet("project", [{**PROJECT, "start_date": "2026-03-01", "finish_date": "2026-02-28"}])
    raid = sheet("raid", [{"raid_id": "I-1", "type": "Issue", "title": "t", "raised": "2026-05-02",
                           "closed": "2026-05-01", "status": "Closed"}])
    changes = sheet("changes", [{"change_id": "CR-1", "title": "t", "raised": "2026-05-02", "decision": "Approved",
                                 "decision_date": "2026-05-01"}])
    assert found(project=project, raid=raid, changes=changes) == [
        ("finish-before-start", "Project", "B9", "Finish Date 2026-02-28 is before Start Date 2026-03-01 (B8)"),
        ("finish-before-start", "RAID", "G2", "Closed Date 2026-05-01 is before Date Raised 2026-05-02 (E2)"),
        ("finish-before-start", "Changes", "F2",
         "Decision Date 2026-05-01 is before Date Raised 2026-05-02 (D2)"),
    ]


def test_a_date_the_schema_rejected_is_not_judged_again() -> None:
    # "2026-02-30" stays text (the schema reports it once); a datetime text is no date for the rules either
    tasks = sheet("tasks", [task("1.1", start="2026-03-10", finish="2026-02-30"),
                            task("1.2", start="2026-03-10T00:00", finish="2026-03-09")])
    tasks.rows[1].values["start"] = "2026-03-10T00:00"  # as a reader that kept the time would hand it over
    assert found(tasks=tasks) == []


# ---- % complete and status ------------------------------------------------------------------------------

def test_a_finished_task_must_be_completed_and_a_completed_task_finished() -> None:
    tasks = sheet("tasks", [task("1.1", percent_complete=1, status="In Progress"),
                            task("1.2", percent_complete=0.999, status="Completed"),
                            task("1.3", percent_complete=1, status="Completed"),
                            task("1.4", percent_complete=1, status="Cancelled"),
                            task("1.5", percent_complete=0.4, status="Cancelled"),
                            task("1.6", percent_complete=0.9999999999, status="On Hold"),
                            task("1.7", percent_complete=0.9999999999, status="Completed")])
    assert found(tasks=tasks) == [
        ("complete-not-closed", "Tasks", "I2", "task 1.1 is 100% complete but its status is 'In Progress'; "
                                               "expected 'Completed'"),
        ("closed-not-complete", "Tasks", "H3", "task 1.2 is Completed but only 99.9% complete"),
        ("complete-not-closed", "Tasks", "I7", "task 1.6 is 100% complete but its status is 'On Hold'; "
                                               "expected 'Completed'"),
    ]


def test_completion_is_judged_only_with_both_a_percentage_and_a_status() -> None:
    tasks = sheet("tasks", [task("1.1", percent_complete=1, status=None), task("1.2", percent_complete=None,
                                                                                status="Completed"),
                            task("1.3", percent_complete=0.25, status="Completed"),
                            task("1.4", percent_complete=True, status="In Progress")])  # TRUE is no 100%
    tasks.rows[0].values.pop("task_id")
    assert found(tasks=tasks) == [("closed-not-complete", "Tasks", "H4", "task 1.3 is Completed but only 25% complete")]


def test_a_completed_task_just_short_of_full_never_reads_as_100_percent() -> None:
    tasks = sheet("tasks", [task("1.1", percent_complete=0.9995, status="Completed"),
                            task("1.2", percent_complete=0.994, status="Completed"),
                            task("1.3", percent_complete=0.99999, status="Completed")])
    assert [message for *_, message in found(tasks=tasks)] == [
        "task 1.1 is Completed but only 99.9% complete",
        "task 1.2 is Completed but only 99% complete",
        "task 1.3 is Completed but only 99.9% complete"]


def test_a_task_without_an_id_is_named_blank_in_the_message() -> None:
    tasks = sheet("tasks", [task("1.1", percent_complete=1, status="Not Started"),
                            task("1.2", percent_complete=0.5, status="Completed")])
    for row in tasks.rows:
        del row.values["task_id"]
    assert [message for *_, message in found(tasks=tasks)] == [
        "task  is 100% complete but its status is 'Not Started'; expected 'Completed'",
        "task  is Completed but only 50% complete"]


# ---- unique IDs -----------------------------------------------------------------------------------------

def test_a_repeated_id_is_flagged_at_the_second_one_whatever_its_letter_case() -> None:
    tasks = sheet("tasks", [task("1.1"), task("1.2"), task("1.1"), task("A.1"), task("a.1"), task("1.1")])
    assert found(tasks=tasks) == [
        ("duplicate-id", "Tasks", "A4", "Task ID 1.1 is already used on row 2 (A2)"),
        ("duplicate-id", "Tasks", "A6", "Task ID a.1 is already used on row 5 (A5)"),
        ("duplicate-id", "Tasks", "A7", "Task ID 1.1 is already used on row 2 (A2)"),
    ]


def test_a_budget_line_is_a_duplicate_only_when_line_and_period_repeat() -> None:
    def line(line_id: str, period: str | None) -> dict[str, Any]:
        return {"line_id": line_id, "category": "Labour", "cost_center": "CC-1", "period": period, "currency": "EUR",
                "budget": 100, "actual": 0}
    budget = sheet("budget", [line("L01", "2026-03-01"), line("L01", "2026-04-01"), line("L02", "2026-03-01"),
                              line("L01", "2026-03-01"), line("L03", None), line("L03", None)])
    assert found(budget=budget) == [
        ("duplicate-id", "Budget", "A5", "Line ID L01 / 2026-03-01 is already used on row 2 (A2)")]


def test_a_form_has_no_duplicate_ids() -> None:
    assert found(project=sheet("project", [PROJECT])) == []


# ---- predecessors ---------------------------------------------------------------------------------------

def test_predecessors_are_split_on_commas_and_semicolons() -> None:
    assert split_predecessors("1.1, 1.2;2 ;; ,") == ["1.1", "1.2", "2"]
    assert split_predecessors(" 3 ") == ["3"]
    assert split_predecessors(12) == []
    assert split_predecessors(None) == []


def test_an_unknown_predecessor_and_a_task_that_waits_for_itself_are_flagged() -> None:
    tasks = sheet("tasks", [task("1.1"), task("1.2", predecessors="1.1; 9.9"), task("1.3", predecessors="1.3")])
    assert found(tasks=tasks) == [
        ("predecessor-unknown", "Tasks", "K3", "task 1.2 depends on task '9.9', which is not in the plan"),
        ("predecessor-cycle", "Tasks", "K4", "task 1.3 lists itself as a predecessor"),
    ]


def test_a_loop_of_tasks_is_flagged_once_at_the_task_that_starts_it() -> None:
    tasks = sheet("tasks", [task("1"), task("2", predecessors="1, 4"), task("3", predecessors="2"),
                            task("4", predecessors="3"), task("5", predecessors="4"), task("6", predecessors="1,5")])
    assert found(tasks=tasks) == [
        ("predecessor-cycle", "Tasks", "K3", "tasks depend on each other in a loop: 2 -> 4 -> 3 -> 2")]


def test_two_separate_loops_are_both_flagged_and_a_diamond_is_no_loop() -> None:
    tasks = sheet("tasks", [task("A", predecessors="B"), task("B", predecessors="A"),
                            task("C"), task("D", predecessors="C"), task("E", predecessors="C"),
                            task("F", predecessors="D, E"), task("G", predecessors="H"), task("H", predecessors="G")])
    assert found(tasks=tasks) == [
        ("predecessor-cycle", "Tasks", "K2", "tasks depend on each other in a loop: A -> B -> A"),
        ("predecessor-cycle", "Tasks", "K8", "tasks depend on each other in a loop: G -> H -> G"),
    ]


def test_a_loop_reached_from_a_task_outside_it_is_flagged_at_its_first_task() -> None:
    tasks = sheet("tasks", [task("A", predecessors="B"), task("B", predecessors="C"), task("C", predecessors="B")])
    assert found(tasks=tasks) == [
        ("predecessor-cycle", "Tasks", "K3", "tasks depend on each other in a loop: B -> C -> B")]


def test_a_long_chain_of_tasks_is_no_loop_and_needs_no_recursion() -> None:
    chain = [task("1")] + [task(str(n), predecessors=str(n - 1)) for n in range(2, 3001)]
    assert found(tasks=sheet("tasks", chain)) == []


# ---- calculated columns ---------------------------------------------------------------------------------

def test_working_days_and_slip_of_a_task_are_what_its_formulas_should_show() -> None:
    tasks = sheet("tasks", [task("1.1", start="2026-03-06", finish="2026-03-16", baseline_finish="2026-03-13")])
    assert expected_calculated("tasks", tasks.rows[0]) == {"duration_days": 7, "finish_slip_days": 3,
                                                           "schedule_rag": "Amber"}
    unplanned = sheet("tasks", [task("1.2", baseline_start=None, baseline_finish=None)]).rows[0]
    assert expected_calculated("tasks", unplanned) == {"duration_days": 5}
    undated = sheet("tasks", [task("1.3", start=None, finish=None)]).rows[0]
    assert expected_calculated("tasks", undated) == {}


@pytest.mark.parametrize(("start", "finish", "days"), [
    ("2026-03-02", "2026-03-02", 1),  # a Monday
    ("2026-03-02", "2026-03-06", 5),
    ("2026-03-02", "2026-03-08", 5),  # through the weekend
    ("2026-03-02", "2026-03-09", 6),
    ("2026-03-07", "2026-03-08", 0),  # a weekend
    ("2026-03-06", "2026-03-09", 2),  # Friday to Monday
    ("2026-03-04", "2026-03-17", 10),
    ("2026-03-01", "2026-03-31", 22),
    ("2026-03-09", "2026-03-02", -6),  # backwards, as NETWORKDAYS counts it
])
def test_a_tasks_duration_counts_weekdays_as_networkdays_does(start: str, finish: str, days: int) -> None:
    row = sheet("tasks", [task("1.1", start=start, finish=finish)]).rows[0]
    assert expected_calculated("tasks", row)["duration_days"] == days


def test_a_risks_score_and_rating_and_a_budget_lines_eac_variance_and_rag() -> None:
    risk = sheet("risks", [{"risk_id": "R-1", "title": "t", "probability": 3, "impact": 5, "status": "Open"},
                           {"risk_id": "R-2", "title": "t", "probability": 3, "score": 9, "status": "Open"},
                           {"risk_id": "R-3", "title": "t", "impact": 2, "status": "Open"}])
    assert expected_calculated("risks", risk.rows[0]) == {"score": 15, "rating": "High"}
    assert expected_calculated("risks", risk.rows[1]) == {"rating": "Medium"}  # from the score shown
    assert expected_calculated("risks", risk.rows[2]) == {"rating": ""}
    budget = sheet("budget", [{"line_id": "L1", "budget": 100, "actual": 60, "forecast": 50},
                              {"line_id": "L2", "actual": 60},
                              {"line_id": "L3", "budget": 100, "forecast": 40},
                              {"line_id": "L4", "budget": 100}])
    assert expected_calculated("budget", budget.rows[0]) == {"eac": 110.0, "variance": -10.0, "budget_rag": "Amber"}
    assert expected_calculated("budget", budget.rows[1]) == {"eac": 60.0, "variance": -60.0}
    assert expected_calculated("budget", budget.rows[2]) == {"eac": 40.0, "variance": 60.0, "budget_rag": "Green"}
    assert expected_calculated("budget", budget.rows[3]) == {}
    assert expected_calculated("project", budget.rows[0]) == {}


def test_a_cached_value_that_is_not_what_the_formula_gives_is_flagged() -> None:
    risks = sheet("risks", [{"risk_id": "R-1", "title": "t", "probability": 3, "impact": 4, "score": 13,
                             "rating": "Medium", "owner": "Ana", "status": "Open"},
                            {"risk_id": "R-2", "title": "t", "probability": 2, "impact": 2, "score": 4,
                             "rating": "Medium", "owner": "Ana", "status": "Open"}])
    tasks = sheet("tasks", [task("1.1", start="2026-03-02", finish="2026-03-06", baseline_finish="2026-03-05",
                                 duration_days=4, finish_slip_days=1, schedule_rag="Amber"),
                            task("1.2", duration_days=5.004, finish_slip_days=0, schedule_rag="Green"),
                            task("1.3", duration_days=5.006)])
    budget = sheet("budget", [{"line_id": "L1", "period": "2026-03-01", "budget": 100, "actual": 60, "forecast": 30,
                               "eac": 90, "variance": 10, "budget_rag": "Red"}])
    assert found(risks=risks, tasks=tasks, budget=budget) == [
        ("risk-score-mismatch", "Risks", "H2", "score 13 is not probability x impact = 3 x 4 = 12"),
        ("calculated-value-mismatch", "Risks", "I3", "Rating shows Medium but its formula gives Low"),
        ("calculated-value-mismatch", "Tasks", "L2", "Duration (days) shows 4 but its formula gives 5"),
        ("calculated-value-mismatch", "Tasks", "L4", "Duration (days) shows 5.006 but its formula gives 5"),
        ("calculated-value-mismatch", "Budget", "L2", "Budget RAG shows Red but its formula gives Green"),
    ]


def test_a_formula_never_calculated_or_a_rejected_row_is_not_compared() -> None:
    tasks = sheet("tasks", [task("1.1", duration_days="#VALUE!"), task("1.2", finish_slip_days=9),
                            task("1.3", start="later", duration_days=3),
                            task("1.4", baseline_finish="2026-03-06", finish_slip_days=0.005, schedule_rag="Green")])
    tasks.rows[1].rejected = True
    risks = sheet("risks", [{"risk_id": "R-1", "title": "t", "impact": 2, "rating": "Low", "owner": "Ana",
                             "status": "Open"}])  # no probability: no score, no rating to compare
    assert found(tasks=tasks, risks=risks) == [
        ("calculated-value-mismatch", "Tasks", "L2", "Duration (days) shows #VALUE! but its formula gives 5")]


# ---- the project's dates and currency -------------------------------------------------------------------

def test_a_task_outside_the_projects_dates_is_flagged_at_the_date_outside() -> None:
    project = sheet("project", [PROJECT])
    tasks = sheet("tasks", [task("1.1", start="2026-02-27", finish="2026-03-01", baseline_start="2026-02-27"),
                            task("1.2", start="2026-03-01", finish="2026-09-30"),
                            task("1.3", start="2026-09-01", finish="2026-10-01", baseline_finish="2026-10-01")])
    assert found(project=project, tasks=tasks) == [
        ("task-outside-project", "Tasks", "D2", "task 1.1 starts 2026-02-27, before the project starts (2026-03-01)"),
        ("task-outside-project", "Tasks", "E4",
         "task 1.3 finishes 2026-10-01, after the project finishes (2026-09-30)"),
    ]


def test_tasks_are_not_judged_against_a_project_without_dates_or_a_missing_project() -> None:
    tasks = sheet("tasks", [task("1.1", start="2020-01-01", finish="2030-01-01", baseline_start="2020-01-01",
                                 baseline_finish="2030-01-01")])
    undated = sheet("project", [{**PROJECT, "start_date": None, "finish_date": None}])
    assert found(project=undated, tasks=tasks) == []
    assert found(tasks=tasks) == []
    empty = sheet("project", [PROJECT])
    empty.rows.clear()
    assert found(project=empty, tasks=tasks) == []


def test_budget_lines_and_changes_in_another_currency_are_flagged() -> None:
    project = sheet("project", [PROJECT])
    budget = sheet("budget", [{"line_id": "L1", "period": "2026-03-01", "currency": "EUR", "budget": 100, "actual": 0},
                              {"line_id": "L2", "period": "2026-03-01", "currency": "USD", "budget": 100, "actual": 0},
                              {"line_id": "L3", "period": "2026-03-01", "budget": 100, "actual": 0}])
    changes = sheet("changes", [{"change_id": "CR-1", "title": "t", "decision": "Pending", "currency": "GBP"},
                                {"change_id": "CR-2", "title": "t", "decision": "Pending", "currency": "EUR"}])
    assert found(project=project, budget=budget, changes=changes) == [
        ("currency-mismatch", "Budget", "F3", "line L2 is in USD but the project's currency is EUR"),
        ("currency-mismatch", "Changes", "I2", "change CR-1 is in GBP but the project's currency is EUR"),
    ]


@pytest.mark.parametrize("currency", [None, "EURO", "EU"])
def test_lines_are_not_judged_against_a_project_currency_that_is_no_code(currency: str | None) -> None:
    project = sheet("project", [{**PROJECT, "currency": currency}])
    budget = sheet("budget", [{"line_id": "L2", "period": "2026-03-01", "currency": "USD", "budget": 100, "actual": 0}])
    changes = sheet("changes", [{"change_id": "CR-1", "title": "t", "decision": "Pending", "currency": "GBP"}])
    assert found(project=project, budget=budget, changes=changes) == []
    assert found(budget=budget, changes=changes) == []


def test_budget_lines_over_the_approved_budget_are_flagged_at_the_approved_budget() -> None:
    def lines(*amounts: float) -> TableRecords:
        return sheet("budget", [{"line_id": f"L{n}", "period": "2026-03-01", "currency": "EUR", "budget": amount,
                                 "actual": 0} for n, amount in enumerate(amounts)])
    project = sheet("project", [{**PROJECT, "approved_budget": 1500.5}])
    assert found(project=project, budget=lines(1000, 500.5)) == []
    assert found(project=project, budget=lines(1000, 500.504)) == []  # within half a cent
    assert found(project=project, budget=lines(1000, 500, 0.506)) == [
        ("budget-over-approved", "Project", "B14",
         "budget lines add up to 1,500.51, more than the approved budget of 1,500.50")]
    no_approval = sheet("project", [{**PROJECT, "approved_budget": None}])
    assert found(project=no_approval, budget=lines(1_000_000)) == []
    assert found(budget=lines(1_000_000)) == []


def test_a_budget_line_without_an_amount_adds_nothing() -> None:
    project = sheet("project", [{**PROJECT, "approved_budget": 100}])
    budget = sheet("budget", [{"line_id": "L1", "period": "2026-03-01", "budget": 60, "actual": 0},
                              {"line_id": "L2", "period": "2026-03-01", "actual": 500},
                              {"line_id": "L3", "period": "2026-03-01", "budget": 41, "forecast": 41}])
    assert found(project=project, budget=budget) == [
        ("budget-over-approved", "Project", "B14",
         "budget lines add up to 101.00, more than the approved budget of 100.00")]


# ---- risks ----------------------------------------------------------------------------------------------

def test_an_open_risk_without_an_owner_is_flagged_at_the_owner_cell() -> None:
    risks = sheet("risks", [{"risk_id": "R-1", "title": "t", "status": "Open"},
                            {"risk_id": "R-2", "title": "t", "status": "Closed"},
                            {"risk_id": "R-3", "title": "t", "status": "Monitoring"},
                            {"risk_id": "R-4", "title": "t", "status": "Open", "owner": "Ana"},
                            {"risk_id": "R-5", "title": "t"}])
    assert found(risks=risks) == [
        ("risk-owner-missing", "Risks", "D2", "risk R-1 is Open but has no owner; name who watches it and acts on it"),
        ("risk-owner-missing", "Risks", "D4",
         "risk R-3 is Monitoring but has no owner; name who watches it and acts on it"),
    ]


def test_a_risk_log_without_an_owner_column_is_not_flagged_row_by_row() -> None:
    risks = sheet("risks", [{"risk_id": "R-1", "title": "t", "status": "Open"}], without=("owner",))
    assert found(risks=risks) == []


# ---- template 2.0: resources ----------------------------------------------------------------------------

def test_an_allocation_outside_the_projects_months_is_flagged_at_its_month() -> None:
    project = sheet("project", [{**PROJECT, "start_date": "2026-03-15", "finish_date": "2026-09-10"}])
    resources = sheet("resources", [
        {"person": "Ana Silva", "email": "ana@example.com", "month": "2026-02-01", "allocation": 0.5},
        {"person": "Ana Silva", "email": "ana@example.com", "month": "2026-03-01", "allocation": 0.5},
        {"person": "Ana Silva", "email": "ana@example.com", "month": "2026-09-01", "allocation": 0.5},
        {"person": "Ana Silva", "email": "ana@example.com", "month": "2026-10-01", "allocation": 0.5},
        {"email": "bo@example.com", "month": "2026-10-01", "allocation": 0.5},
        {"person": "Ana Silva", "email": "ana@example.com", "allocation": 0.5}])
    assert found(project=project, resources=resources) == [
        ("allocation-outside-project", "Resources", "E2",
         "Ana Silva is booked in February 2026, before the project starts (2026-03-15)"),
        ("allocation-outside-project", "Resources", "E5",
         "Ana Silva is booked in October 2026, after the project finishes (2026-09-10)"),
        ("allocation-outside-project", "Resources", "E6",
         " is booked in October 2026, after the project finishes (2026-09-10)"),
    ]


def test_an_allocation_in_the_month_a_project_finishes_on_the_first_is_inside() -> None:
    project = sheet("project", [{**PROJECT, "start_date": "2026-03-01", "finish_date": "2026-10-01"}])
    resources = sheet("resources", [{"person": "Ana", "email": "a@example.com", "month": "2026-10-01"},
                                    {"person": "Ana", "email": "a@example.com", "month": "2026-03-01"}])
    assert found(project=project, resources=resources) == []


def test_allocations_are_not_judged_against_an_undated_or_missing_project() -> None:
    resources = sheet("resources", [{"person": "Ana", "email": "a@example.com", "month": "2020-01-01"}])
    assert found(project=sheet("project", [{**PROJECT, "start_date": None, "finish_date": None}]),
                 resources=resources) == []
    assert found(resources=resources) == []


def test_one_person_one_name_one_address() -> None:
    resources = sheet("resources", [
        {"person": "Ana Silva", "email": "ana@example.com", "month": "2026-03-01"},
        {"person": "Ana Silva", "email": " ANA@example.com", "month": "2026-04-01"},  # same address, any case
        {"person": "A. Silva", "email": "ana@example.com", "month": "2026-05-01"},
        {"person": "Ana Silva", "email": "ana.silva@example.com", "month": "2026-06-01"},
        {"person": "Bo Chen", "email": "bo@example.com", "month": "2026-03-01"},
        {"person": "Bo Chen", "month": "2026-04-01"},
        {"email": "bo@example.com", "month": "2026-05-01"}])
    assert found(resources=resources) == [
        ("person-inconsistent", "Resources", "A4",
         "ana@example.com is 'Ana Silva' on row 2 (A2) but 'A. Silva' here; use one name per person"),
        ("person-inconsistent", "Resources", "B5",
         "'Ana Silva' has the address ana@example.com on row 2 (B2) but ana.silva@example.com here; "
         "use one address per person"),
    ]


def test_people_are_not_compared_without_an_email_column() -> None:
    resources = sheet("resources", [{"person": "Ana", "month": "2026-03-01"},
                                    {"person": "Ana", "month": "2026-04-01"}], without=("email",))
    assert found(resources=resources) == []


# ---- template 2.0: RAID log -----------------------------------------------------------------------------

def raid_item(raid_id: str, **values: Any) -> dict[str, Any]:
    return {"raid_id": raid_id, "type": "Issue", "title": "t", "owner": "Ana", "raised": "2026-05-01",
            "status": "Open", **values}


def test_a_closed_item_needs_its_closed_date() -> None:
    raid = sheet("raid", [raid_item("I-1", status="Closed"), raid_item("I-2", status="Closed", closed="2026-05-02"),
                          raid_item("A-1", type="Assumption", status="Closed"),
                          {"raid_id": "X-1", "title": "t", "status": "Closed"}])
    assert found(raid=raid) == [
        ("raid-closed-without-date", "RAID", "G2", "issue I-1 is Closed but has no closed date"),
        ("raid-closed-without-date", "RAID", "G4", "assumption A-1 is Closed but has no closed date"),
        ("raid-closed-without-date", "RAID", "G5", "item X-1 is Closed but has no closed date"),
    ]
    assert found(raid=sheet("raid", [raid_item("I-1", status="Closed")], without=("closed",))) == []


def test_an_open_item_past_its_due_date_is_overdue_as_of_the_day_judged() -> None:
    raid = sheet("raid", [raid_item("I-1", due="2026-06-14"), raid_item("I-2", due="2026-06-15"),
                          raid_item("I-3", due="2026-06-01", status="In Progress"),
                          raid_item("I-4", due="2026-06-01", status="Closed", closed="2026-06-02"),
                          {"raid_id": "I-5", "title": "t", "due": "2026-06-01"},
                          {"raid_id": "I-6", "title": "t", "due": "2026-06-01", "status": "Open"}])
    assert found(raid=raid) == [
        ("raid-overdue", "RAID", "F2", "issue I-1 is Open and was due 2026-06-14 (1 days ago)"),
        ("raid-overdue", "RAID", "F4", "issue I-3 is In Progress and was due 2026-06-01 (14 days ago)"),
        ("raid-overdue", "RAID", "F7", "item I-6 is Open and was due 2026-06-01 (14 days ago)"),
    ]
    assert found(today=dt.date(2026, 6, 1), raid=raid) == []


def test_a_dependency_must_name_another_project() -> None:
    project = sheet("project", [PROJECT])
    raid = sheet("raid", [raid_item("D-1", type="Dependency"), raid_item("D-2", type="Dependency", depends_on="prj-0042"),
                          raid_item("D-3", type="Dependency", depends_on="PRJ-0007"),
                          raid_item("I-1", type="Issue")])
    assert found(project=project, raid=raid) == [
        ("dependency-project-missing", "RAID", "J2", "dependency D-1 does not name the project it depends on"),
        ("dependency-project-missing", "RAID", "J3",
         "dependency D-2 names this project itself (prj-0042); name the other project"),
    ]
    assert found(raid=sheet("raid", [raid_item("D-1", type="Dependency")], without=("depends_on",))) == []


def test_without_a_project_sheet_any_named_project_will_do() -> None:
    raid = sheet("raid", [raid_item("D-1", type="Dependency", depends_on="PRJ-0042")])
    assert found(raid=raid) == []


# ---- template 2.0: change requests ----------------------------------------------------------------------

def test_a_decided_change_needs_its_date_and_a_pending_one_has_none() -> None:
    changes = sheet("changes", [
        {"change_id": "CR-1", "title": "t", "decision": "Approved"},
        {"change_id": "CR-2", "title": "t", "decision": "Rejected"},
        {"change_id": "CR-3", "title": "t", "decision": "Pending", "decision_date": "2026-05-02"},
        {"change_id": "CR-4", "title": "t", "decision": "Approved", "decision_date": "2026-05-02"},
        {"change_id": "CR-5", "title": "t", "decision": "Pending"},
        {"change_id": "CR-6", "title": "t", "decision_date": "2026-05-02"}])
    assert found(changes=changes) == [
        ("change-decision-date", "Changes", "F2", "change CR-1 is Approved but has no decision date"),
        ("change-decision-date", "Changes", "F3", "change CR-2 is Rejected but has no decision date"),
        ("change-decision-date", "Changes", "F4",
         "change CR-3 is Pending but has a decision date (2026-05-02); set the decision, or clear the date"),
    ]
    assert found(changes=sheet("changes", [{"change_id": "CR-1", "title": "t", "decision": "Approved"}],
                               without=("decision_date",))) == []


# ---- template 2.0: status report ------------------------------------------------------------------------

def reports(*periods: str) -> TableRecords:
    return sheet("status", [{"period": period, "overall_rag": "Green", "summary": "s"} for period in periods])


def test_a_status_report_older_than_the_reporting_cycle_is_overdue() -> None:
    project = sheet("project", [PROJECT])
    assert found(project=project, status=reports("2026-05-01")) == []  # one month behind: due, not late
    assert found(project=project, status=reports("2026-03-01", "2026-04-01", "2026-02-01")) == [
        ("status-overdue", "Status", "A3", "status report overdue: the latest period is April 2026, 2 months before "
                                           "June 2026; the reporting cycle is one report every month")]
    assert found(project=project, status=reports("2026-04-01"), cycle=2) == []
    assert found(project=project, status=reports("2026-03-01"), cycle=2) == [
        ("status-overdue", "Status", "A2", "status report overdue: the latest period is March 2026, 3 months before "
                                           "June 2026; the reporting cycle is one report every 2 months")]
    assert found(today=dt.date(2027, 1, 10), project=project, status=reports("2026-11-01")) == [
        ("status-overdue", "Status", "A2", "status report overdue: the latest period is November 2026, 2 months "
                                           "before January 2027; the reporting cycle is one report every month")]


@pytest.mark.parametrize("status", ["Completed", "Cancelled", "Not Started"])
def test_a_project_that_is_not_running_owes_no_status_report(status: str) -> None:
    project = sheet("project", [{**PROJECT, "status": status}])
    assert found(project=project, status=reports("2025-01-01")) == []


def test_status_reports_without_a_dated_period_or_a_project_sheet() -> None:
    assert found(status=reports("2025-01-01")) == [
        ("status-overdue", "Status", "A2", "status report overdue: the latest period is January 2025, 17 months "
                                           "before June 2026; the reporting cycle is one report every month")]
    assert found(status=reports("someday")) == []
    assert found(status=reports()) == []
    assert found(project=sheet("project", [{**PROJECT, "status": "On Hold"}]), status=reports("2026-01-01")) != []


def rated(*rows: tuple[str, str | None]) -> TableRecords:
    """Status rows of (period, overall RAG), in the order given."""
    return sheet("status", [{"period": period, "overall_rag": rag, "summary": "s"} for period, rag in rows])


def test_a_project_rag_other_than_the_latest_reports_is_flagged_at_the_project_rag() -> None:
    project = sheet("project", [{**PROJECT, "rag": "Green"}])
    # the latest by period, not the last row: May is Red, although April comes after it on the sheet
    status = rated(("2026-03-01", "Green"), ("2026-05-01", "Red"), ("2026-04-01", "Green"))
    assert found(project=project, status=status) == [
        ("rag-differs-from-status", "Project", "B11", "RAG is Green here, but the latest status report (May 2026, "
                                                      "Status!B3) rates the project Red; make them agree")]


def test_two_reports_for_the_latest_period_are_compared_by_the_first_on_the_sheet() -> None:
    # The second May row is a duplicate-id finding of its own; the RAG is judged against the first one.
    status = rated(("2026-04-01", "Red"), ("2026-05-01", "Amber"), ("2026-05-01", "Green"))

    def rag_findings(rag: str) -> list[Found]:
        return [f for f in found(project=sheet("project", [{**PROJECT, "rag": rag}]), status=status)
                if f[0] == "rag-differs-from-status"]

    assert rag_findings("Amber") == []
    assert rag_findings("Green") == [
        ("rag-differs-from-status", "Project", "B11", "RAG is Green here, but the latest status report (May 2026, "
                                                      "Status!B3) rates the project Amber; make them agree")]


def test_a_project_rag_that_agrees_or_has_nothing_to_agree_with_is_not_flagged() -> None:
    green = sheet("project", [{**PROJECT, "rag": "Green"}])
    assert found(project=green, status=rated(("2026-04-01", "Red"), ("2026-05-01", "Green"))) == []
    assert found(project=green, status=rated(("2026-05-01", None))) == []  # the latest report has no rating
    assert found(project=green, status=rated(("someday", "Red"))) == []  # no dated report
    assert found(project=green, status=rated()) == []
    assert found(project=sheet("project", [PROJECT]), status=rated(("2026-05-01", "Red"))) == []  # no RAG typed
    assert found(status=rated(("2026-05-01", "Red"))) == []  # no Project sheet


def test_rules_judge_against_today_unless_told_otherwise() -> None:
    assert RuleContext().today == dt.date.today()
    assert RuleContext().reporting_cycle_months == 1
    raid = sheet("raid", [raid_item("I-1", due="2000-01-03")])
    days = (dt.date.today() - dt.date(2000, 1, 3)).days
    assert [f.message for f in run_rules({"raid": raid})] == [
        f"issue I-1 is Open and was due 2000-01-03 ({days} days ago)"]


def test_every_rule_runs_and_in_the_order_its_findings_are_reported() -> None:
    assert [function.__name__ for function in RULE_FUNCTIONS] == [
        "finish_before_start", "completion_matches_status", "unique_ids", "predecessors_exist_without_cycles",
        "calculated_columns_match", "tasks_inside_project_dates", "budget_in_project_currency",
        "changes_in_project_currency", "budget_within_approved", "budget_lines_inside_project",
        "budget_lines_estimated", "open_risks_have_owners",
        "allocations_inside_project", "people_named_consistently", "raid_items_dated_and_linked",
        "change_decisions_dated", "status_report_current",
        "project_rag_matches_latest_status"]



def test_the_completion_threshold_is_a_billionth_below_100_percent() -> None:
    edge = 1 - 1e-9  # what 99.9999999% typed in a cell reads as
    tasks = sheet("tasks", [task("1.1", percent_complete=edge, status="In Progress"),
                            task("1.2", percent_complete=edge, status="Completed")])
    assert found(tasks=tasks) == [
        ("complete-not-closed", "Tasks", "I2", "task 1.1 is 100% complete but its status is 'In Progress'; "
                                               "expected 'Completed'")]


def test_rows_without_an_id_are_named_blank_in_dates_and_currency_findings() -> None:
    project = sheet("project", [PROJECT])
    tasks = sheet("tasks", [task("1.1", start="2026-02-01", finish="2026-10-30", baseline_start="2026-02-01",
                                 baseline_finish="2026-10-30")])
    del tasks.rows[0].values["task_id"]
    budget = sheet("budget", [{"period": "2026-03-01", "currency": "USD", "budget": 1, "actual": 0}])
    assert [message for *_, message in found(project=project, tasks=tasks, budget=budget)] == [
        "task  starts 2026-02-01, before the project starts (2026-03-01)",
        "task  finishes 2026-10-30, after the project finishes (2026-09-30)",
        "line  is in USD but the project's currency is EUR"]


def test_one_row_left_alone_does_not_stop_the_comparison_of_the_rows_and_fields_after_it() -> None:
    tasks = sheet("tasks", [task("1.1", finish_slip_days=9), task("1.2"), task("1.3", duration_days=9),
                            task("1.4", finish_slip_days=2), task("1.5", duration_days=9)])
    tasks.rows[0].rejected = True
    budget = sheet("budget", [{"line_id": "L1", "period": "2026-03-01", "budget": 100, "actual": 60, "eac": 61}])
    assert found(tasks=tasks, budget=budget) == [  # no risk log: the tasks and the budget are still compared
        ("calculated-value-mismatch", "Tasks", "L4", "Duration (days) shows 9 but its formula gives 5"),
        ("calculated-value-mismatch", "Tasks", "M5", "Finish Slip (days) shows 2 but its formula gives 0"),
        ("calculated-value-mismatch", "Tasks", "L6", "Duration (days) shows 9 but its formula gives 5"),
        ("calculated-value-mismatch", "Budget", "J2", "EAC shows 61 but its formula gives 60.0"),
    ]


def test_a_row_without_its_key_and_a_table_without_one_do_not_stop_the_duplicate_check() -> None:
    import dataclasses

    budget = sheet("budget", [{"line_id": "L1", "budget": 1, "actual": 0},
                              {"line_id": "L2", "period": "2026-03-01", "budget": 1, "actual": 0},
                              {"line_id": "L2", "period": "2026-03-01", "budget": 2, "actual": 0}])
    keyless = sheet("status", [{"period": "2026-03-01", "overall_rag": "Green", "summary": "s"}] * 2)
    keyless.spec = dataclasses.replace(keyless.spec, key=())
    tasks = sheet("tasks", [task("1.1"), task("1.1")])
    assert found(budget=budget, status=keyless, tasks=tasks, today=dt.date(2026, 3, 15)) == [
        ("duplicate-id", "Budget", "A4", "Line ID L2 / 2026-03-01 is already used on row 3 (A3)"),
        ("duplicate-id", "Tasks", "A3", "Task ID 1.1 is already used on row 2 (A2)")]


def test_an_allocation_pasted_twice_without_a_work_package_is_a_duplicate() -> None:
    resources = sheet("resources", [
        {"person": "Dev Patel", "month": "2026-01-01", "allocation": 0.5},
        {"person": "Dev Patel", "work_package": "Build", "month": "2026-01-01", "allocation": 0.5},
        {"person": "dev patel", "month": "2026-01-01", "allocation": 0.5},  # the first row again, another case
        {"person": "Dev Patel", "month": "2026-02-01", "allocation": 0.5},
        {"person": "Dev Patel", "work_package": "None", "month": "2026-01-01", "allocation": 0.5},  # a name, not blank
        {"month": "2026-01-01", "allocation": 0.5}, {"month": "2026-01-01", "allocation": 0.5}])  # no person: reported as such
    assert found(resources=resources) == [
        ("duplicate-id", "Resources", "A4", "Person dev patel / (blank) / 2026-01-01 is already used on row 2 (A2)")]


def test_a_budget_line_in_a_month_the_project_does_not_run_is_flagged_at_its_period() -> None:
    project = sheet("project", [PROJECT])  # March to September 2026
    budget = sheet("budget", [{"line_id": f"L{n}", "period": period, "budget": 10, "actual": 0}
                              for n, period in enumerate(["2026-02-01", "2026-03-01", "2026-09-01", "someday",
                                                          "2026-10-01", "2025-03-01"], start=1)])
    del budget.rows[5].values["line_id"]
    assert found(project=project, budget=budget) == [
        ("budget-outside-project", "Budget", "E2", "line L1 is budgeted in February 2026, before the project starts "
                                                   "(2026-03-01)"),
        ("budget-outside-project", "Budget", "E6", "line L5 is budgeted in October 2026, after the project finishes "
                                                   "(2026-09-30)"),
        ("budget-outside-project", "Budget", "E7", "line  is budgeted in March 2025, before the project starts "
                                                   "(2026-03-01)")]
    first_of_october = sheet("project", [{**PROJECT, "finish_date": "2026-10-01"}])  # October is a month it runs
    assert [f[2] for f in found(project=first_of_october, budget=budget)] == ["E2", "E7"]
    assert found(budget=budget) == []  # no Project sheet: nothing to judge against
    undated = sheet("project", [{**PROJECT, "start_date": None, "finish_date": None}])
    assert found(project=undated, budget=budget) == []


def test_a_budget_line_with_neither_actual_nor_forecast_is_flagged_at_its_forecast() -> None:
    budget = sheet("budget", [
        {"line_id": "L1", "period": "2026-03-01", "budget": 29500},
        {"line_id": "L2", "period": "2026-03-01", "budget": 100, "actual": 0},  # estimated: nothing spent
        {"line_id": "L3", "period": "2026-03-01", "budget": 100, "forecast": 0},
        {"line_id": "L4", "period": "2026-03-01", "budget": 0},  # nothing budgeted: nothing to estimate
        {"line_id": "L5", "period": "2026-03-01"},
        {"line_id": "L6", "budget": 5}, {"period": "2026-04-01", "budget": 7}])
    assert found(budget=budget) == [
        ("budget-line-unestimated", "Budget", "I2", "line L1 (March 2026) has a budget of 29,500.00 but neither an "
                                                    "actual nor a forecast: the master counts its EAC as 0, so its "
                                                    "whole budget shows as under-spend; type the forecast (the budget, "
                                                    "if it is on plan)"),
        ("budget-line-unestimated", "Budget", "I7", "line L6 has a budget of 5.00 but neither an actual nor a forecast: "
                                                    "the master counts its EAC as 0, so its whole budget shows as "
                                                    "under-spend; type the forecast (the budget, if it is on plan)"),
        ("budget-line-unestimated", "Budget", "I8", "line  (April 2026) has a budget of 7.00 but neither an actual "
                                                    "nor a forecast: the master counts its EAC as 0, so its whole "
                                                    "budget shows as under-spend; type the forecast (the budget, if it "
                                                    "is on plan)")]
    rejected = sheet("budget", [{"line_id": "L1", "period": "2026-03-01", "budget": 100}])
    rejected.rows[0].rejected = True  # its actual was typed as text and rejected: reported as such
    assert found(budget=rejected) == []
    assert found(budget=sheet("budget", [{"line_id": "L1", "budget": 100}], without=("forecast",))) == []


def test_lines_adding_up_to_exactly_half_a_cent_over_the_approved_budget_are_within_it() -> None:
    project = sheet("project", [{**PROJECT, "approved_budget": 100}])
    budget = sheet("budget", [{"line_id": "L1", "period": "2026-03-01", "budget": 60, "actual": 0},
                              {"line_id": "L2", "period": "2026-03-01", "budget": 40.005, "actual": 0}])
    assert found(project=project, budget=budget) == []


def test_items_without_an_id_are_named_blank_in_their_findings() -> None:
    project = sheet("project", [PROJECT])
    changes = sheet("changes", [{"title": "t", "decision": "Pending", "currency": "GBP"}])
    risks = sheet("risks", [{"title": "t", "status": "Open"}])
    raid = sheet("raid", [{"type": "Issue", "title": "t", "status": "Closed"},
                          {"type": "Issue", "title": "t", "status": "Open", "due": "2026-06-01"}])
    assert [message for *_, message in found(project=project, changes=changes, risks=risks, raid=raid)] == [
        "change  is in GBP but the project's currency is EUR",
        "risk  is Open but has no owner; name who watches it and acts on it",
        "issue  is Closed but has no closed date",
        "issue  is Open and was due 2026-06-01 (14 days ago)"]


@pytest.mark.parametrize("other", ["NONE", "xxxx", "XXXX"])
def test_a_project_without_an_id_does_not_depend_on_itself(other: str) -> None:
    raid = sheet("raid", [raid_item("D-1", type="Dependency", depends_on=other)])
    no_id = sheet("project", [{**PROJECT, "project_id": None}])
    assert found(project=no_id, raid=raid) == []
    assert found(raid=raid) == []


def test_an_undated_allocation_or_a_person_without_an_address_does_not_stop_the_rows_after_it() -> None:
    project = sheet("project", [PROJECT])
    resources = sheet("resources", [
        {"person": "Ana Silva", "email": "ana@example.com", "allocation": 0.5},
        {"person": "Bo Chen", "month": "2026-04-01"},
        {"person": "Ana Silva", "email": "ana@example.com", "month": "2026-01-01"},
        {"person": "A. Silva", "email": "ana@example.com", "month": "2026-04-01"}])
    assert found(project=project, resources=resources) == [
        ("allocation-outside-project", "Resources", "E4",
         "Ana Silva is booked in January 2026, before the project starts (2026-03-01)"),
        ("person-inconsistent", "Resources", "A5",
         "ana@example.com is 'Ana Silva' on row 2 (A2) but 'A. Silva' here; use one name per person"),
    ]


def test_a_change_without_an_id_is_named_blank() -> None:
    changes = sheet("changes", [{"title": "t", "decision": "Approved"}])
    assert [message for *_, message in found(changes=changes)] == ["change  is Approved but has no decision date"]


def test_two_reports_for_the_latest_month_are_judged_by_the_first() -> None:
    assert found(project=sheet("project", [PROJECT]), status=reports("2026-01-01", "2026-03-01", "2026-03-01")) == [
        ("duplicate-id", "Status", "A4", "Period 2026-03-01 is already used on row 3 (A3)"),
        ("status-overdue", "Status", "A3", "status report overdue: the latest period is March 2026, 3 months before "
                                           "June 2026; the reporting cycle is one report every month")]
