"""Consolidation of pmo_sheets.consolidate on hand-written records: which source provides what, every row with
its lineage, the figures each row carries into the master, and each project's data status.

Fast unit tests (no workbook, no sync), so that `make mutate` can run them against every planted bug in
consolidate.py; tests/test_conflicts.py shows the same through whole syncs.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import pytest

from pmo_sheets.consolidate import (
    Conflict,
    Contribution,
    consolidate,
    criteria_key,
    fiscal_period,
    owners_of,
    payload_from_report,
    table_columns,
)
from pmo_sheets.grid import SheetGrid
from pmo_sheets.records import read_records
from pmo_sheets.schemas import load_tables
from pmo_sheets.validate import WorkbookReport


def source(key: str, project_id: str | None, template: str | None = "project", *, status: str = "ok",
           first_seen: str = "2026-06-01T00:00:00", last_good: str | None = "2026-06-02T00:00:00") -> Contribution:
    return Contribution(key, f"projects/{key}.xlsx", status, first_seen, last_good, project_id, template)


def payload(template: str, project: dict[str, Any], **tables: list[dict[str, Any]]) -> dict[str, Any]:
    """What a valid source stored: each row numbered from sheet row 2."""
    return {"template": template, "project": project,
            "tables": {name: [{"_row": number, **row} for number, row in enumerate(rows, start=2)]
                       for name, rows in tables.items()}}


def rows(frame: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row)
            for row in frame[list(columns)].itertuples(index=False)]


# ---- fiscal periods and the columns of each table -------------------------------------------------------

@pytest.mark.parametrize(("month", "start", "label"), [
    (dt.date(2026, 3, 1), 1, "FY2026-P03"),
    (dt.date(2026, 12, 1), 1, "FY2026-P12"),
    (dt.date(2026, 3, 1), 4, "FY2026-P12"),  # the last month of the fiscal year ending in March 2026
    (dt.date(2026, 4, 1), 4, "FY2027-P01"),
    (dt.date(2026, 12, 1), 7, "FY2027-P06"),
    (dt.date(2026, 6, 1), 7, "FY2026-P12"),
    (dt.date(2026, 12, 1), 12, "FY2027-P01"),
    (dt.date(2026, 11, 1), 12, "FY2026-P12"),
])
def test_a_month_is_labelled_with_its_fiscal_year_and_period(month: dt.date, start: int, label: str) -> None:
    assert fiscal_period(month, start) == label


def test_each_consolidated_table_has_its_project_extras_inputs_and_lineage() -> None:
    assert table_columns("budget") == ["project_id", "program", "fiscal_period", "line_id", "category", "cost_center",
                                       "description", "period", "currency", "budget", "actual", "forecast",
                                       "source", "sheet", "row"]
    assert table_columns("risks") == ["project_id", "risk_id", "title", "category", "owner", "raised", "probability",
                                      "impact", "score", "rating", "response", "mitigation", "due_date", "status",
                                      "source", "sheet", "row"]
    assert table_columns("tasks")[:2] == ["project_id", "task_id"]
    assert table_columns("raid")[-4:] == ["source", "sheet", "row", "depends_on_column"]
    assert table_columns("status")[-3:] == ["source", "sheet", "row"]
    assert "duration_days" not in table_columns("tasks")  # the master's rollup formulas work it out
    assert table_columns("project")[:4] == ["data_status", "last_good_sync", "project_id", "project_name"]


# ---- Project IDs as a spreadsheet criterion sees them ---------------------------------------------------

@pytest.mark.parametrize(("project_id", "key"), [
    (" PRJ-1 ", "prj-1"), ("prj-1", "prj-1"), ("2026", "2026.0"), ("02026", "2026.0"), ("2026.0", "2026.0"),
    ("1e3", "1000.0"), ("inf", "inf"), ("NaN", "nan"), ("12a", "12a")])
def test_a_project_id_is_keyed_as_a_spreadsheet_criterion_compares_it(project_id: str, key: str) -> None:
    assert criteria_key(project_id) == key


# ---- who owns what --------------------------------------------------------------------------------------

def test_the_first_source_seen_owns_its_tables_and_a_later_copy_is_a_conflict() -> None:
    original = source("a", "PRJ-1", first_seen="2026-06-01T00:00:00")
    copy = source("b", "prj-1", first_seen="2026-06-03T00:00:00")
    other = source("c", "PRJ-2", first_seen="2026-05-01T00:00:00")
    unknown = source("d", None)
    ownership = owners_of([copy, unknown, original, other])
    assert ownership.owners[("PRJ-1", "tasks")] is original
    assert ("prj-1", "tasks") not in ownership.owners
    assert ownership.owners[("PRJ-2", "status")] is other
    assert ownership.ignored == {"b"}
    assert [(c.project_id, c.table, c.kept, c.ignored) for c in ownership.conflicts] == [
        ("PRJ-1", t, "projects/a.xlsx", "projects/b.xlsx")
        for t in ("tasks", "budget", "risks", "resources", "raid", "changes", "status")]


def test_a_separate_plan_budget_and_risk_log_each_own_their_table() -> None:
    plan, budget, risks = source("p", "PRJ-1", "plan"), source("b", "PRJ-1", "budget"), source("r", "PRJ-1", "risk_log")
    second_plan = source("p2", "PRJ-1", "plan", first_seen="2026-06-05T00:00:00")
    ownership = owners_of([plan, budget, risks, second_plan])
    assert {table: owner.key for (_, table), owner in ownership.owners.items()} == {
        "tasks": "p", "budget": "b", "risks": "r"}
    assert [(c.table, c.kept, c.ignored) for c in ownership.conflicts] == [
        ("tasks", "projects/p.xlsx", "projects/p2.xlsx")]
    assert owners_of([source("x", "PRJ-1", None)]).owners[("PRJ-1", "tasks")].key == "x"  # no template said: a project


def test_a_pinned_source_owns_its_project_whatever_its_age() -> None:
    old, new = source("old", "PRJ-1", first_seen="2026-01-01T00:00:00"), source("new", "PRJ-1", "plan")
    ownership = owners_of([old, new], pinned={"prj-1": "new"})
    assert ownership.owners[("PRJ-1", "tasks")] is new
    assert ownership.ignored == {"old"}
    assert [(c.table, c.kept) for c in ownership.conflicts] == [("tasks", "projects/new.xlsx")]
    same_age = [source("b", "PRJ-1"), source("a", "PRJ-1")]  # same first sight: the key decides, not the order
    assert owners_of(same_age).ignored == {"b"}


# ---- the dataset ----------------------------------------------------------------------------------------

PROJECT = {"project_id": "PRJ-1", "project_name": "Data hub", "program": "Digital", "currency": "EUR",
           "start_date": "2026-03-01", "status": "In Progress"}


def test_rows_keep_their_project_and_the_cell_they_came_from() -> None:
    payloads = {"a": payload("project", PROJECT,
                             tasks=[{"task_id": "1.1", "start": "2026-03-02", "percent_complete": 0.5},
                                    {"task_id": "1.2", "start": "2026-03-09", "percent_complete": "half"}],
                             budget=[{"line_id": "L1", "period": "2026-04-01", "budget": 100},
                                     {"line_id": "L2", "period": "2026-03-01", "budget": 50},
                                     {"line_id": "L3", "period": "2026-04-01", "budget": 10}],
                             risks=[{"risk_id": "R-1", "probability": 3, "impact": 5},
                                    {"risk_id": "R-2", "probability": 2}])}
    portfolio = consolidate([source("a", "PRJ-1")], payloads.get, fiscal_year_start_month=4)
    tasks = portfolio.tables["tasks"]
    assert rows(tasks, "project_id", "task_id", "percent_complete", "source", "sheet", "row") == [
        ("PRJ-1", "1.1", 0.5, "projects/a.xlsx", "Tasks", 2), ("PRJ-1", "1.2", None, "projects/a.xlsx", "Tasks", 3)]
    assert list(tasks["start"]) == [pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-09")]
    assert rows(portfolio.tables["budget"], "line_id", "program", "fiscal_period", "budget", "sheet", "row") == [
        ("L1", "Digital", "FY2027-P01", 100, "Budget", 2), ("L2", "Digital", "FY2026-P12", 50, "Budget", 3),
        ("L3", "Digital", "FY2027-P01", 10, "Budget", 4)]
    assert rows(portfolio.tables["risks"], "risk_id", "score", "rating", "sheet") == [
        ("R-1", 15, "High", "Risks"), ("R-2", None, "", "Risks")]
    assert portfolio.tables["status"].empty
    assert list(portfolio.tables["status"].columns) == table_columns("status")
    projects = portfolio.projects
    assert rows(projects, "project_id", "project_name", "data_status", "last_good_sync", "source", "sheet") == [
        ("PRJ-1", "Data hub", "ok", "2026-06-02T00:00:00", "projects/a.xlsx", "Project")]
    assert list(projects["start_date"]) == [pd.Timestamp("2026-03-01")]
    assert portfolio.conflicts == []


def test_a_budget_line_without_a_period_has_no_fiscal_period() -> None:
    payloads = {"a": payload("project", PROJECT, budget=[{"line_id": "L1", "budget": 1},
                                                         {"line_id": "L2", "period": "2026-01-01", "budget": 2}])}
    budget = consolidate([source("a", "PRJ-1")], payloads.get).tables["budget"]
    assert rows(budget, "line_id", "fiscal_period") == [("L1", None), ("L2", "FY2026-P01")]


def test_tables_are_ordered_by_project_keeping_each_sources_row_order() -> None:
    payloads = {"b": payload("project", {**PROJECT, "project_id": "PRJ-2"}, tasks=[{"task_id": "9"}, {"task_id": "1"}]),
                "a": payload("project", {**PROJECT, "project_id": "PRJ-3"}, tasks=[{"task_id": "5"}]),
                "c": payload("project", {**PROJECT, "project_id": "PRJ-1"}, tasks=[{"task_id": "7"}, {"task_id": "2"}])}
    portfolio = consolidate([source("b", "PRJ-2"), source("a", "PRJ-3"), source("c", "PRJ-1")], payloads.get)
    assert rows(portfolio.tables["tasks"], "project_id", "task_id") == [
        ("PRJ-1", "7"), ("PRJ-1", "2"), ("PRJ-2", "9"), ("PRJ-2", "1"), ("PRJ-3", "5")]
    assert list(portfolio.projects["project_id"]) == ["PRJ-1", "PRJ-2", "PRJ-3"]


def test_separate_workbooks_of_one_project_fill_in_its_fields_the_first_one_first() -> None:
    plan = payload("plan", {"project_id": "PRJ-1", "project_name": "Plan's name", "sponsor": "Bo Chen"},
                   tasks=[{"task_id": "1"}])
    budget = payload("budget", {"project_id": "PRJ-1", "project_name": "Budget's name", "program": "Ops",
                                "currency": "EUR"}, budget=[{"line_id": "L1", "period": "2026-01-01", "budget": 5}])
    payloads = {"p": plan, "b": budget}
    sources = [source("p", "PRJ-1", "plan", first_seen="2026-06-01T00:00:01", last_good="2026-06-03T00:00:00"),
               source("b", "PRJ-1", "budget", first_seen="2026-06-01T00:00:02", status="stale",
                       last_good="2026-05-30T00:00:00")]
    portfolio = consolidate(sources, payloads.get)
    assert rows(portfolio.projects, "project_name", "sponsor", "program", "currency", "data_status",
                "last_good_sync", "source") == [
        ("Plan's name", "Bo Chen", "Ops", "EUR", "stale", "2026-05-30T00:00:00", "projects/p.xlsx")]
    assert rows(portfolio.tables["budget"], "program", "source") == [("Ops", "projects/b.xlsx")]
    combined = payload("project", {**PROJECT, "project_name": "Workbook's name"})
    portfolio = consolidate([source("p", "PRJ-1", "plan"), source("w", "PRJ-1", "budget")],
                            {"p": plan, "w": {**combined, "template": "project"}}.get)
    assert rows(portfolio.projects, "project_name") == [("Plan's name",)]


def test_a_budget_in_another_currency_than_the_plan_is_set_aside_and_both_are_named() -> None:
    plan = payload("plan", {**PROJECT, "currency": "EUR"}, tasks=[{"task_id": "1"}])
    budget = payload("budget", {**PROJECT, "currency": "USD"}, budget=[{"line_id": "L1", "period": "2026-01-01",
                                                                         "budget": 5}])
    no_currency = payload("risk_log", {"project_id": "PRJ-1"}, risks=[{"risk_id": "R-1"}])
    sources = [source("p", "PRJ-1", "plan", first_seen="1"), source("b", "PRJ-1", "budget", first_seen="2"),
               source("r", "PRJ-1", "risk_log", first_seen="3")]
    portfolio = consolidate(sources, {"p": plan, "b": budget, "r": no_currency}.get)
    assert portfolio.conflicts == [Conflict("PRJ-1", "currency (USD, not EUR)", "projects/p.xlsx", "projects/b.xlsx")]
    assert portfolio.tables["budget"].empty
    assert rows(portfolio.tables["risks"], "risk_id") == [("R-1",)]
    assert rows(portfolio.projects, "currency", "data_status") == [("EUR", "conflict")]


@pytest.mark.parametrize(("statuses", "shown"), [
    (("ok",), "ok"), (("stale",), "stale"), (("ok", "stale"), "stale"), (("missing", "stale"), "missing, stale"),
    (("stale", "missing", "ok"), "missing, stale")])
def test_a_projects_data_status_names_every_source_that_is_not_ok(statuses: tuple[str, ...], shown: str) -> None:
    kinds = ["plan", "budget", "risk_log"]
    sources = [source(f"s{n}", "PRJ-1", kinds[n], status=status, first_seen=str(n)) for n, status in enumerate(statuses)]
    payloads = {c.key: payload(c.template or "", {"project_id": "PRJ-1"}) for c in sources}
    assert list(consolidate(sources, payloads.get).projects["data_status"]) == [shown]


def test_a_project_with_a_conflict_says_so_beside_its_other_statuses() -> None:
    sources = [source("a", "PRJ-1", first_seen="1", status="stale"), source("b", "PRJ-1", first_seen="2"),
               source("c", "PRJ-2", first_seen="3"), source("d", "prj-2", first_seen="4")]
    payloads = {c.key: payload("project", {"project_id": c.project_id}) for c in sources}
    portfolio = consolidate(sources, payloads.get)
    assert rows(portfolio.projects, "project_id", "data_status", "last_good_sync") == [
        ("PRJ-1", "stale, conflict", "2026-06-02T00:00:00"), ("PRJ-2", "conflict", "2026-06-02T00:00:00")]


def test_a_source_whose_records_are_gone_contributes_nothing() -> None:
    sources = [source("a", "PRJ-1"), source("gone", "PRJ-2")]
    portfolio = consolidate(sources, {"a": payload("project", PROJECT, tasks=[{"task_id": "1"}])}.get)
    assert list(portfolio.projects["project_id"]) == ["PRJ-1"]
    never_good = [Contribution("a", "projects/a.xlsx", "ok", "1", None, "PRJ-1", "project")]
    portfolio = consolidate(never_good, {"a": payload("project", PROJECT)}.get)
    assert rows(portfolio.projects, "last_good_sync") == [(None,)]


def test_a_valid_reports_records_are_what_the_source_contributes() -> None:
    spec = load_tables()["tasks"]
    grid = SheetGrid("Tasks", [[c.title for c in spec.columns], ["1.1", "Design", None, "2026-03-02"], [None],
                               ["1.2", "Build"]])
    tasks, _ = read_records(spec, grid)
    form = load_tables()["project"]
    project, _ = read_records(form, SheetGrid("Project", [["Project ID", "PRJ-1"], ["Currency", "EUR"]]))
    report = WorkbookReport(source="a.xlsx", template="plan", template_version="2.0",
                            tables={"project": project, "tasks": tasks})
    assert payload_from_report(report) == {
        "template": "plan", "project": {"project_id": "PRJ-1", "currency": "EUR"},
        "tables": {"tasks": [{"_row": 2, "task_id": "1.1", "task_name": "Design", "start": "2026-03-02"},
                             {"_row": 4, "task_id": "1.2", "task_name": "Build"}]},
        "positions": {"tasks": {"task_id": 1, "task_name": 2, "owner": 3, "start": 4, "finish": 5, "baseline_start": 6,
                                "baseline_finish": 7, "percent_complete": 8, "status": 9, "milestone": 10,
                                "predecessors": 11, "duration_days": 12, "finish_slip_days": 13, "schedule_rag": 14}}}
    empty = WorkbookReport(source="b.xlsx", template="plan", template_version="2.0", tables={})
    assert payload_from_report(empty) == {"template": "plan", "project": {}, "tables": {}, "positions": {}}


def test_each_raid_row_keeps_the_column_its_depends_on_project_was_found_in() -> None:
    moved = {**payload("project", PROJECT, raid=[{"raid_id": "D-1", "depends_on": "PRJ-7"}, {"raid_id": "I-1"}]),
             "positions": {"raid": {"raid_id": 1, "depends_on": 12}}}
    stored_before = payload("project", {**PROJECT, "project_id": "PRJ-2"}, raid=[{"raid_id": "D-9"}])
    portfolio = consolidate([source("a", "PRJ-1"), source("b", "PRJ-2")], {"a": moved, "b": stored_before}.get)
    assert rows(portfolio.tables["raid"], "project_id", "raid_id", "depends_on_column") == [
        ("PRJ-1", "D-1", 12), ("PRJ-1", "I-1", 12), ("PRJ-2", "D-9", None)]


def test_a_date_or_number_the_master_cannot_read_becomes_blank_not_an_error() -> None:
    payloads = {"a": payload("project", {**PROJECT, "start_date": "soon"},
                             tasks=[{"task_id": "1", "start": "2026-02-30", "finish": "2026-03-02",
                                     "percent_complete": "#N/A"}])}
    portfolio = consolidate([source("a", "PRJ-1")], payloads.get)
    tasks = portfolio.tables["tasks"]
    assert pd.isna(tasks["start"][0]) and tasks["finish"][0] == pd.Timestamp("2026-03-02")
    assert pd.isna(tasks["percent_complete"][0])
    assert pd.isna(portfolio.projects["start_date"][0])


def test_a_source_of_no_known_kind_claims_its_project_sheet_only() -> None:
    first, second = source("a", "PRJ-1", "notes", first_seen="1"), source("b", "PRJ-1", "notes", first_seen="2")
    ownership = owners_of([first, second])
    assert {key: owner.key for key, owner in ownership.owners.items()} == {("PRJ-1", "project"): "a"}
    assert [(c.table, c.kept, c.ignored) for c in ownership.conflicts] == [("project", "projects/a.xlsx",
                                                                            "projects/b.xlsx")]


def test_a_date_text_is_read_as_iso_or_not_at_all_never_guessed() -> None:
    # "03/04/2026" could be March or April: whatever reaches the master as a date is ISO, the rest is blank
    payloads = {"a": payload("project", PROJECT, tasks=[{"task_id": "1", "start": "03/04/2026"},
                                                        {"task_id": "2", "start": "2026-03-02"}])}
    tasks = consolidate([source("a", "PRJ-1")], payloads.get).tables["tasks"]
    assert pd.isna(tasks["start"][0]) and tasks["start"][1] == pd.Timestamp("2026-03-02")


def test_integer_columns_are_numbers_in_the_dataset() -> None:
    payloads = {"a": payload("project", PROJECT, changes=[{"change_id": "CR-1", "schedule_impact_days": 5},
                                                          {"change_id": "CR-2", "schedule_impact_days": "#N/A"}])}
    changes = consolidate([source("a", "PRJ-1")], payloads.get).tables["changes"]
    assert rows(changes, "change_id", "schedule_impact_days") == [("CR-1", 5.0), ("CR-2", None)]


def test_the_projects_id_is_the_one_its_source_is_known_by() -> None:
    payloads = {"gone": None, "a": payload("plan", {"project_name": "No ID typed"}, tasks=[{"task_id": "1"}]),
                "b": {"template": "budget"}}  # records stored without Project fields or tables
    sources = [source("gone", "PRJ-0", first_seen="0"), source("a", "PRJ-1", "plan", first_seen="1"),
               source("b", "PRJ-2", "budget", first_seen="2")]
    portfolio = consolidate(sources, payloads.get)
    assert rows(portfolio.projects, "project_id", "project_name", "source", "row") == [
        ("PRJ-1", "No ID typed", "projects/a.xlsx", None), ("PRJ-2", None, "projects/b.xlsx", None)]
    assert rows(portfolio.tables["tasks"], "project_id", "task_id") == [("PRJ-1", "1")]


def test_the_source_the_coordinator_pins_provides_the_projects_rows() -> None:
    payloads = {"old": payload("project", PROJECT, tasks=[{"task_id": "old"}]),
                "new": payload("project", PROJECT, tasks=[{"task_id": "new"}])}
    sources = [source("old", "PRJ-1", first_seen="1"), source("new", "PRJ-1", first_seen="2")]
    portfolio = consolidate(sources, payloads.get, pinned={"PRJ-1": "new"})
    assert rows(portfolio.tables["tasks"], "task_id", "source") == [("new", "projects/new.xlsx")]
    assert rows(portfolio.projects, "data_status", "source") == [("conflict", "projects/new.xlsx")]


def test_a_large_portfolio_keeps_each_projects_rows_in_their_sheet_order() -> None:
    # 70 tasks a project: enough rows for an unstable sort to shuffle the rows of one project
    payloads = {f"s{n}": payload("plan", {"project_id": pid}, tasks=[{"task_id": str(t)} for t in range(70)])
                for n, pid in enumerate(["PRJ-2", "PRJ-1", "PRJ-3"])}
    sources = [source(f"s{n}", pid, "plan", first_seen=str(n)) for n, pid in enumerate(["PRJ-2", "PRJ-1", "PRJ-3"])]
    tasks = consolidate(sources, payloads.get).tables["tasks"]
    assert rows(tasks, "project_id", "row") == [(pid, row) for pid in ("PRJ-1", "PRJ-2", "PRJ-3") for row in range(2, 72)]
    assert list(tasks.index) == list(range(210))  # numbered afresh in that order, as the master reads them


@pytest.mark.parametrize(("project_id", "key"), [("Infinity", "infinity"), ("1e999", "1e999"), ("-inf", "-inf")])
def test_a_project_id_too_large_for_a_number_is_keyed_by_its_text(project_id: str, key: str) -> None:
    assert criteria_key(project_id) == key
