"""Cross-row and cross-sheet rules: what a per-row schema cannot say.

Each rule is a function of the workbook's tables that yields findings with catalogue codes from
:mod:`pmo_sheets.findings`. Rules only judge values the schema already accepted (a date that is not
a date has been reported once, as such, and is not reported again here).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pmo_sheets import ratings
from pmo_sheets.findings import Finding, finding
from pmo_sheets.records import Row, TableRecords

Tables = dict[str, TableRecords]


@dataclass(frozen=True)
class RuleContext:
    """What some rules judge against besides the workbook: the day, and the portfolio's reporting cycle."""

    today: dt.date = field(default_factory=dt.date.today)
    reporting_cycle_months: int = 1


_TOLERANCE = 0.005


def _date(row: Row, name: str) -> dt.date | None:
    value = row.values.get(name)
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _number(row: Row, name: str) -> float | None:
    value = row.values.get(name)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _project_row(tables: Tables) -> Row | None:
    project = tables.get("project")
    return project.rows[0] if project and project.rows else None


def finish_before_start(tables: Tables) -> Iterator[Finding]:
    pairs = {"project": [("start_date", "finish_date")],
             "tasks": [("start", "finish"), ("baseline_start", "baseline_finish")],
             "raid": [("raised", "closed")], "changes": [("raised", "decision_date")]}
    for table_name, fields in pairs.items():
        table = tables.get(table_name)
        if table is None:
            continue
        for row in table.rows:
            for start_field, finish_field in fields:
                start, finish = _date(row, start_field), _date(row, finish_field)
                if start and finish and finish < start:
                    finish_title = table.spec.column(finish_field).title
                    start_title = table.spec.column(start_field).title
                    yield finding("finish-before-start", table.sheet, table.cell(row, finish_field),
                                  f"{finish_title} {finish} is before {start_title} {start} "
                                  f"({table.cell(row, start_field)})")


def completion_matches_status(tables: Tables) -> Iterator[Finding]:
    tasks = tables.get("tasks")
    if tasks is None:
        return
    for row in tasks.rows:
        done, status = _number(row, "percent_complete"), row.values.get("status")
        if done is None or status is None:
            continue
        if done >= 1 - 1e-9 and status not in ("Completed", "Cancelled"):
            yield finding("complete-not-closed", tasks.sheet, tasks.cell(row, "status"),
                          f"task {row.values.get('task_id', '')} is 100% complete but its status is '{status}'; "
                          "expected 'Completed'")
        elif status == "Completed" and done < 1 - 1e-9:
            yield finding("closed-not-complete", tasks.sheet, tasks.cell(row, "percent_complete"),
                          f"task {row.values.get('task_id', '')} is Completed but only {_short_of_full(done)} complete")


def _short_of_full(done: float) -> str:
    """A fraction under 1 as a percentage that does not round up to 100% (0.999 is 99.9%, not 100%)."""
    whole = f"{done:.0%}"
    return whole if whole != "100%" else f"{math.floor(done * 1000) / 10:.1f}%"


def unique_ids(tables: Tables) -> Iterator[Finding]:
    for table in tables.values():
        key = table.spec.key  # a form (the Project sheet) holds one record: nothing there can repeat
        if not key:
            continue
        required = set(table.spec.required)
        seen: dict[tuple[Any, ...], Row] = {}
        for row in table.rows:
            values = tuple(row.values.get(k) for k in key)
            if any(v is None and k in required for k, v in zip(key, values, strict=True)):
                continue  # a blank required part is reported as such
            # A blank optional part (a Resources row without a work package) is part of the key: the same
            # person and month twice, both without a work package, is a row pasted twice as often as not.
            normalised = tuple("" if v is None else str(v).casefold() for v in values)
            first = seen.setdefault(normalised, row)
            if first is not row:
                label = " / ".join("(blank)" if v is None else str(v) for v in values)
                yield finding("duplicate-id", table.sheet, table.cell(row, key[0]),
                              f"{table.spec.column(key[0]).title} {label} is already used on row {first.number} "
                              f"({table.cell(first, key[0])})")


def split_predecessors(text: Any) -> list[str]:
    """'1.1, 1.2;2' -> ['1.1', '1.2', '2']."""
    if not isinstance(text, str):
        return []
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def predecessors_exist_without_cycles(tables: Tables) -> Iterator[Finding]:
    tasks = tables.get("tasks")
    if tasks is None:
        return
    rows_by_id = {str(row.values["task_id"]): row for row in tasks.rows if "task_id" in row.values}
    graph: dict[str, list[str]] = {}
    for task_id, row in rows_by_id.items():
        graph[task_id] = []
        for predecessor in split_predecessors(row.values.get("predecessors")):
            if predecessor not in rows_by_id:
                yield finding("predecessor-unknown", tasks.sheet, tasks.cell(row, "predecessors"),
                              f"task {task_id} depends on task '{predecessor}', which is not in the plan")
            elif predecessor == task_id:
                yield finding("predecessor-cycle", tasks.sheet, tasks.cell(row, "predecessors"),
                              f"task {task_id} lists itself as a predecessor")
            else:
                graph[task_id].append(predecessor)
    for cycle in _cycles(graph):
        row = rows_by_id[cycle[0]]
        loop = " -> ".join([*cycle, cycle[0]])
        yield finding("predecessor-cycle", tasks.sheet, tasks.cell(row, "predecessors"),
                      f"tasks depend on each other in a loop: {loop}")


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """One representative loop per strongly connected group of tasks (iterative, no recursion limit)."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    found: list[list[str]] = []
    for start in graph:
        if colour[start] != white:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        colour[start] = grey
        path.append(start)
        while stack:
            node, index = stack[-1]
            edges = graph[node]
            if index < len(edges):
                stack[-1] = (node, index + 1)
                nxt = edges[index]
                if colour[nxt] == white:
                    colour[nxt] = grey
                    path.append(nxt)
                    stack.append((nxt, 0))
                elif colour[nxt] == grey:
                    found.append(path[path.index(nxt):])
            else:
                colour[node] = black
                path.pop()
                stack.pop()
    return found


def _networkdays(start: dt.date, finish: dt.date) -> int:
    """Excel's NETWORKDAYS without holidays: weekdays from start to finish, both included."""
    if finish < start:
        return -_networkdays(finish, start)
    days = (finish - start).days + 1
    weeks, extra = divmod(days, 7)
    weekday_count = weeks * 5
    for offset in range(extra):
        if (start.weekday() + offset) % 7 < 5:
            weekday_count += 1
    return weekday_count


def expected_calculated(table: str, row: Row) -> dict[str, Any]:
    """What each calculated column of a row should show, from the row's typed inputs."""
    expected: dict[str, Any] = {}
    if table == "risks":
        p, i = _number(row, "probability"), _number(row, "impact")
        if p is not None and i is not None:
            expected["score"] = ratings.risk_score(p, i)
        score = _number(row, "score")
        expected["rating"] = ratings.risk_rating(score if score is not None else expected.get("score"))
    elif table == "tasks":
        start, finish, baseline = _date(row, "start"), _date(row, "finish"), _date(row, "baseline_finish")
        if start and finish:
            expected["duration_days"] = _networkdays(start, finish)
        if finish and baseline:
            expected["finish_slip_days"] = (finish - baseline).days
            expected["schedule_rag"] = ratings.schedule_rag(finish, baseline)
    elif table == "budget":
        actual, forecast, budget = _number(row, "actual"), _number(row, "forecast"), _number(row, "budget")
        if actual is not None or forecast is not None:
            eac = (actual or 0.0) + (forecast or 0.0)
            expected["eac"] = eac
            expected["variance"] = (budget or 0.0) - eac
            if budget is not None:
                expected["budget_rag"] = ratings.budget_rag(budget, eac)
    return expected


def calculated_columns_match(tables: Tables) -> Iterator[Finding]:
    for name in ("risks", "tasks", "budget"):
        table = tables.get(name)
        if table is None:
            continue
        calculated = [column.name for column in table.spec.columns if column.calculated]
        for row in table.rows:
            values = row.values
            if row.rejected:
                continue  # an input was rejected and reported: the formulas that use it are not reported again
            if not any(field_name in values for field_name in calculated):
                continue  # no cached value to compare (a file whose formulas were never calculated)
            for field_name, want in expected_calculated(name, row).items():
                seen = row.values.get(field_name)
                if seen is None or want in (None, ""):
                    continue  # no cached value (a formula never calculated), or nothing to compare
                if isinstance(want, (int, float)):
                    same = isinstance(seen, (int, float)) and abs(float(seen) - float(want)) <= _TOLERANCE
                else:
                    same = seen == want
                if same:
                    continue
                title = table.spec.column(field_name).title
                if field_name == "score":
                    yield finding("risk-score-mismatch", table.sheet, table.cell(row, field_name),
                                  f"score {seen} is not probability x impact = "
                                  f"{row.values.get('probability')} x {row.values.get('impact')} = {want}")
                else:
                    yield finding("calculated-value-mismatch", table.sheet, table.cell(row, field_name),
                                  f"{title} shows {seen} but its formula gives {want}")


def tasks_inside_project_dates(tables: Tables) -> Iterator[Finding]:
    project, tasks = _project_row(tables), tables.get("tasks")
    if project is None or tasks is None:
        return
    begin, end = _date(project, "start_date"), _date(project, "finish_date")
    for row in tasks.rows:
        start, finish = _date(row, "start"), _date(row, "finish")
        if begin and start and start < begin:
            yield finding("task-outside-project", tasks.sheet, tasks.cell(row, "start"),
                          f"task {row.values.get('task_id', '')} starts {start}, before the project starts ({begin})")
        if end and finish and finish > end:
            yield finding("task-outside-project", tasks.sheet, tasks.cell(row, "finish"),
                          f"task {row.values.get('task_id', '')} finishes {finish}, after the project finishes ({end})")


def _in_project_currency(tables: Tables, table_name: str, id_column: str, noun: str) -> Iterator[Finding]:
    """A currency-mismatch finding for each row of ``table_name`` in a currency other than the project's."""
    project, table = _project_row(tables), tables.get(table_name)
    if project is None or table is None:
        return
    currency = project.values.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        return
    for row in table.rows:
        row_currency = row.values.get("currency")
        if isinstance(row_currency, str) and row_currency != currency:
            yield finding("currency-mismatch", table.sheet, table.cell(row, "currency"),
                          f"{noun} {row.values.get(id_column, '')} is in {row_currency} but the project's currency is "
                          f"{currency}")


def budget_in_project_currency(tables: Tables) -> Iterator[Finding]:
    return _in_project_currency(tables, "budget", "line_id", "line")


def changes_in_project_currency(tables: Tables) -> Iterator[Finding]:
    # The master adds approved cost impacts to the project's budget story at the project's FX rate.
    return _in_project_currency(tables, "changes", "change_id", "change")


def budget_within_approved(tables: Tables) -> Iterator[Finding]:
    project_table, budget = tables.get("project"), tables.get("budget")
    project = _project_row(tables)
    if project is None or budget is None or project_table is None:
        return
    approved = _number(project, "approved_budget")
    if approved is None:
        return
    total = sum(_number(row, "budget") or 0.0 for row in budget.rows)
    if total > approved + _TOLERANCE:
        yield finding("budget-over-approved", project_table.sheet, project_table.cell(project, "approved_budget"),
                      f"budget lines add up to {total:,.2f}, more than the approved budget of {approved:,.2f}")


def _months_outside_project(tables: Tables, table_name: str, month_field: str, code: str,
                            what: Callable[[Row, dt.date], str]) -> Iterator[Finding]:
    """Rows dated in a month the project does not run: their month ends before it starts or begins after it
    finishes. ``what(row, month)`` says what the row books, as in "line L01 is budgeted in March 2026"."""
    project, table = _project_row(tables), tables.get(table_name)
    if project is None or table is None:
        return
    begin, end = _date(project, "start_date"), _date(project, "finish_date")
    for row in table.rows:
        month = _date(row, month_field)  # the first of its month
        if month is None:
            continue
        if begin and month < _month_start(begin):
            yield finding(code, table.sheet, table.cell(row, month_field),
                          f"{what(row, month)}, before the project starts ({begin})")
        elif end and month > end:
            yield finding(code, table.sheet, table.cell(row, month_field),
                          f"{what(row, month)}, after the project finishes ({end})")


def budget_lines_inside_project(tables: Tables) -> Iterator[Finding]:
    """A line in a month the project does not run: a year typed wrong moves it to another fiscal year."""
    return _months_outside_project(
        tables, "budget", "period", "budget-outside-project",
        lambda row, month: f"line {row.values.get('line_id', '')} is budgeted in {month:%B %Y}")


def budget_lines_estimated(tables: Tables) -> Iterator[Finding]:
    """A line with a budget but neither an actual nor a forecast: its EAC is unknown, and the master, which
    adds up actuals and forecasts, would count it as 0 and show its whole budget as under-spend."""
    budget = tables.get("budget")
    if budget is None or not {"actual", "forecast"} <= set(budget.positions):
        return  # a missing column was reported once, as such
    for row in budget.rows:
        amount = _number(row, "budget")
        if row.rejected or not amount or "actual" in row.values or "forecast" in row.values:
            continue
        period = _date(row, "period")
        when = f" ({period:%B %Y})" if period else ""
        yield finding("budget-line-unestimated", budget.sheet, budget.cell(row, "forecast"),
                      f"line {row.values.get('line_id', '')}{when} has a budget of {amount:,.2f} but neither an "
                      "actual nor a forecast: the master counts its EAC as 0, so its whole budget shows as "
                      "under-spend; type the forecast (the budget, if it is on plan)")


def open_risks_have_owners(tables: Tables) -> Iterator[Finding]:
    risks = tables.get("risks")
    if risks is None or "owner" not in risks.positions:
        return  # a missing Owner column was reported once, as such
    for row in risks.rows:
        status = row.values.get("status")
        if status is not None and status != "Closed" and "owner" not in row.values:
            yield finding("risk-owner-missing", risks.sheet, risks.cell(row, "owner"),
                          f"risk {row.values.get('risk_id', '')} is {status} but has no owner; "
                          "name who watches it and acts on it")


# --- template 2.0: resources, RAID log, change requests, status report --------------------------------


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _months_between(earlier: dt.date, later: dt.date) -> int:
    """Whole calendar months from ``earlier``'s month to ``later``'s (2026-10-31 to 2026-12-01: 2)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def allocations_inside_project(tables: Tables) -> Iterator[Finding]:
    return _months_outside_project(
        tables, "resources", "month", "allocation-outside-project",
        lambda row, month: f"{row.values.get('person', '')} is booked in {month:%B %Y}")


def people_named_consistently(tables: Tables) -> Iterator[Finding]:
    resources = tables.get("resources")
    if resources is None or "email" not in resources.positions:
        return
    by_email: dict[str, Row] = {}
    by_name: dict[str, Row] = {}
    for row in resources.rows:
        name, email = row.values.get("person"), row.values.get("email")
        if not isinstance(name, str) or not isinstance(email, str):
            continue
        address = email.strip().casefold()  # addresses are not case-sensitive in practice
        first = by_email.setdefault(address, row)
        if first is not row and first.values["person"] != name:
            yield finding("person-inconsistent", resources.sheet, resources.cell(row, "person"),
                          f"{email} is '{first.values['person']}' on row {first.number} "
                          f"({resources.cell(first, 'person')}) but '{name}' here; use one name per person")
            continue
        first = by_name.setdefault(name, row)
        if first is not row and str(first.values["email"]).strip().casefold() != address:
            yield finding("person-inconsistent", resources.sheet, resources.cell(row, "email"),
                          f"'{name}' has the address {first.values['email']} on row {first.number} "
                          f"({resources.cell(first, 'email')}) but {email} here; use one address per person")


def raid_items_dated_and_linked(tables: Tables, context: RuleContext) -> Iterator[Finding]:
    raid = tables.get("raid")
    if raid is None:
        return
    project = _project_row(tables)
    own_id = str(project.values.get("project_id", "")).casefold() if project is not None else ""
    for row in raid.rows:
        item, status = row.values.get("raid_id", ""), row.values.get("status")
        if status == "Closed" and "closed" not in row.values and "closed" in raid.positions:
            yield finding("raid-closed-without-date", raid.sheet, raid.cell(row, "closed"),
                          f"{row.values.get('type', 'item').lower()} {item} is Closed but has no closed date")
        due = _date(row, "due")
        if status is not None and status != "Closed" and due is not None and due < context.today:
            yield finding("raid-overdue", raid.sheet, raid.cell(row, "due"),
                          f"{row.values.get('type', 'item').lower()} {item} is {status} and was due {due} "
                          f"({(context.today - due).days} days ago)")
        if row.values.get("type") == "Dependency" and "depends_on" in raid.positions:
            other = row.values.get("depends_on")
            if other is None:
                yield finding("dependency-project-missing", raid.sheet, raid.cell(row, "depends_on"),
                              f"dependency {item} does not name the project it depends on")
            elif str(other).casefold() == own_id:
                yield finding("dependency-project-missing", raid.sheet, raid.cell(row, "depends_on"),
                              f"dependency {item} names this project itself ({other}); name the other project")


def change_decisions_dated(tables: Tables) -> Iterator[Finding]:
    changes = tables.get("changes")
    if changes is None or "decision_date" not in changes.positions:
        return
    for row in changes.rows:
        decision, dated = row.values.get("decision"), "decision_date" in row.values
        change = row.values.get("change_id", "")
        if decision in ("Approved", "Rejected") and not dated:
            yield finding("change-decision-date", changes.sheet, changes.cell(row, "decision_date"),
                          f"change {change} is {decision} but has no decision date")
        elif decision == "Pending" and dated:
            yield finding("change-decision-date", changes.sheet, changes.cell(row, "decision_date"),
                          f"change {change} is Pending but has a decision date ({row.values['decision_date']}); "
                          "set the decision, or clear the date")


def status_report_current(tables: Tables, context: RuleContext) -> Iterator[Finding]:
    status, project = tables.get("status"), _project_row(tables)
    if status is None or not status.rows:
        return  # a workbook that does not use the status report yet
    if project is not None and project.values.get("status") in ("Completed", "Cancelled", "Not Started"):
        return
    dated = [(day, row) for row in status.rows if (day := _date(row, "period")) is not None]
    if not dated:
        return
    latest, row = max(dated, key=lambda pair: pair[0])
    behind = _months_between(latest, context.today)
    if behind > context.reporting_cycle_months:
        cycle = "month" if context.reporting_cycle_months == 1 else f"{context.reporting_cycle_months} months"
        yield finding("status-overdue", status.sheet, status.cell(row, "period"),
                      f"status report overdue: the latest period is {latest:%B %Y}, {behind} months before "
                      f"{context.today:%B %Y}; the reporting cycle is one report every {cycle}")


def project_rag_matches_latest_status(tables: Tables) -> Iterator[Finding]:
    """The Project sheet's RAG and the latest status report's overall RAG are two readings of one thing;
    the master's Portfolio sheet shows both, so when they differ a reader cannot tell which is current."""
    project_table, status, project = tables.get("project"), tables.get("status"), _project_row(tables)
    if project_table is None or status is None or project is None:
        return
    stated = project.values.get("rag")
    dated = [(day, row) for row in status.rows if (day := _date(row, "period")) is not None]
    if stated is None or not dated:
        return
    latest, row = max(dated, key=lambda pair: pair[0])
    reported = row.values.get("overall_rag")
    if reported is not None and reported != stated:
        yield finding("rag-differs-from-status", project_table.sheet, project_table.cell(project, "rag"),
                      f"RAG is {stated} here, but the latest status report ({latest:%B %Y}, "
                      f"{status.sheet}!{status.cell(row, 'overall_rag')}) rates the project {reported}; "
                      "make them agree")


# Every rule, in the order its findings are reported. Listed here rather than registered by a decorator:
# one place shows them all, and mutmut (make mutate) leaves decorated functions unmutated.
RULE_FUNCTIONS: list[Callable[..., Iterator[Finding]]] = [
    finish_before_start,
    completion_matches_status,
    unique_ids,
    predecessors_exist_without_cycles,
    calculated_columns_match,
    tasks_inside_project_dates,
    budget_in_project_currency,
    changes_in_project_currency,
    budget_within_approved,
    budget_lines_inside_project,
    budget_lines_estimated,
    open_risks_have_owners,
    allocations_inside_project,
    people_named_consistently,
    raid_items_dated_and_linked,
    change_decisions_dated,
    status_report_current,
    project_rag_matches_latest_status,
]

# The rules that also judge against the day and the portfolio's reporting cycle.
_JUDGED_IN_CONTEXT = frozenset({raid_items_dated_and_linked, status_report_current})


def run_rules(tables: Tables, context: RuleContext | None = None) -> Iterator[Finding]:
    """Every cross-row and cross-sheet finding for one workbook's tables, as they are found.

    ``context``: the day overdue items are judged on and the portfolio's reporting cycle (default: today,
    one month).
    """
    context = context or RuleContext()
    for function in RULE_FUNCTIONS:
        yield from (function(tables, context) if function in _JUDGED_IN_CONTEXT else function(tables))
