"""One planted mistake in a filled template gives one finding: the exact rule code at the exact cell.

Each case fills a real template (from ``workbook_templates/``) with a small valid project, changes one
field of one row (or one thing about the workbook's structure), and expects exactly the listed
findings, nothing more. A last test checks that every rule of the catalogue that a workbook can
produce is planted here or in ``test_bad_files.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from workbooks import (
    AS_OF_SAMPLE_TODAY,
    Located,
    delivery_sample,
    found,
    located,
    report_of,
    small_sample,
    write,
)

from pmo_sheets.findings import ERROR, RULES, WARNING
from pmo_sheets.samples import SampleProject
from pmo_sheets.settings import ValidationSettings

Plant = Callable[[SampleProject], None]
Edit = Callable[[Workbook], None]


@dataclass
class Case:
    """A planted mistake and the findings it must give."""

    id: str
    expected: list[Located]
    plant: Plant | None = None
    edit: Edit | None = None
    kind: str = "project"
    severities: list[str] = field(default_factory=list)
    delivery: bool = False  # on delivery_sample() (template 2.0 tables filled), validated as of SAMPLE_TODAY


def tasks(sample: SampleProject) -> list[dict[str, Any]]:
    return sample.tables["tasks"]


def budget(sample: SampleProject) -> list[dict[str, Any]]:
    return sample.tables["budget"]


def risks(sample: SampleProject) -> list[dict[str, Any]]:
    return sample.tables["risks"]


def setter(table: str, index: int, **values: Any) -> Plant:
    """Set fields of row ``index`` (sheet row ``index + 2``) of a table, or of the project when table is 'project'."""
    def plant(sample: SampleProject) -> None:
        target = sample.project if table == "project" else sample.tables[table][index]
        target.update(values)
    return plant


def cell(sheet: str, ref: str, value: Any) -> Edit:
    def edit(workbook: Workbook) -> None:
        workbook[sheet][ref] = value
    return edit


def shift_task_dates(sample: SampleProject) -> None:
    begin, end = sample.project["start_date"], sample.project["finish_date"]
    tasks(sample)[0]["start"] = begin - dt.timedelta(days=3)
    tasks(sample)[0]["baseline_start"] = begin - dt.timedelta(days=3)
    tasks(sample)[-1]["finish"] = end + dt.timedelta(days=5)
    tasks(sample)[-1]["baseline_finish"] = end + dt.timedelta(days=5)


def duplicate_budget_month(sample: SampleProject) -> None:
    budget(sample)[1]["period"] = budget(sample)[0]["period"]


def empty_plan(sample: SampleProject) -> None:
    sample.tables["tasks"] = []


def delete_sheet(name: str) -> Edit:
    def edit(workbook: Workbook) -> None:
        del workbook[name]
    return edit


def clear_header_row(workbook: Workbook) -> None:
    for header in workbook["Tasks"][1]:
        header.value = None


def clear_column(ref: str) -> Edit:
    """Blank a header cell and every value below it, as if the column had been deleted."""
    def edit(workbook: Workbook) -> None:
        sheet = workbook["Tasks"]
        for row in sheet[f"{ref}1:{ref}{sheet.max_row}"]:
            row[0].value = None
    return edit


def add_column(header: str) -> Edit:
    def edit(workbook: Workbook) -> None:
        sheet = workbook["Tasks"]
        sheet["O1"] = header
        sheet["O2"] = "extra"
    return edit


def not_a_template(workbook: Workbook) -> None:
    for name in list(workbook.sheetnames):
        if name != "Instructions":
            del workbook[name]
    workbook["Instructions"].title = "Data"


CASES = [
    # cell level
    Case("value-required", [("value-required", "Tasks", "B4")], setter("tasks", 2, task_name=None), kind="plan"),
    Case("value-required-project", [("value-required", "Project", "B5")],
         setter("project", 0, project_manager=None), kind="plan"),
    Case("type-invalid", [("type-invalid", "Tasks", "H8")], setter("tasks", 6, percent_complete="half"), kind="plan"),
    Case("type-invalid-money", [("type-invalid", "Budget", "G3")], setter("budget", 1, budget="lots"), kind="budget"),
    Case("type-invalid-before-list", [("type-invalid", "Risks", "F4")],
         setter("risks", 2, probability="high"), kind="risk_log"),
    Case("date-invalid", [("date-invalid", "Tasks", "D3")], setter("tasks", 1, start="next week"), kind="plan"),
    Case("date-invalid-no-such-day", [("date-invalid", "Tasks", "G3")],
         setter("tasks", 1, baseline_finish="2026-02-30"), kind="plan"),
    Case("value-not-in-list", [("value-not-in-list", "Tasks", "I3")], setter("tasks", 1, status="Done"), kind="plan"),
    Case("value-not-in-list-currency", [("value-not-in-list", "Project", "B13")],
         setter("project", 0, currency="US$"), kind="risk_log"),
    Case("value-out-of-range", [("value-out-of-range", "Tasks", "H3")],
         setter("tasks", 1, percent_complete=1.5), kind="plan"),
    Case("value-out-of-range-negative", [("value-out-of-range", "Budget", "H2")],
         setter("budget", 0, actual=-5), kind="budget"),
    Case("pattern-mismatch", [("pattern-mismatch", "Tasks", "A13")], setter("tasks", 11, task_id="2 2"), kind="plan"),
    Case("text-length", [("text-length", "Tasks", "B2")], setter("tasks", 0, task_name="x" * 201), kind="plan"),
    Case("email-invalid", [("email-invalid", "Project", "B6")],
         setter("project", 0, pm_email="ana.example.com"), kind="risk_log"),
    Case("email-invalid-no-domain-dot", [("email-invalid", "Project", "B6")],
         setter("project", 0, pm_email="ana@example"), kind="risk_log"),
    Case("value-out-of-range-amount-too-large", [("value-out-of-range", "Budget", "G3")],
         setter("budget", 1, budget=2e13), kind="budget"),
    Case("number-convention", [("number-convention", "Budget", "G2")], setter("budget", 0, budget="1.200,50"),
         kind="budget"),
    Case("number-convention-with-currency", [("number-convention", "Budget", "H3")],
         setter("budget", 1, actual="€1.200,50"), kind="budget"),
    Case("number-ambiguous", [("number-ambiguous", "Budget", "G2")], setter("budget", 0, budget="1,200"),
         kind="budget", severities=[WARNING]),
    Case("date-implausible", [("date-implausible", "Risks", "L3")], setter("risks", 1, due_date=dt.date(9999, 12, 31)),
         kind="risk_log"),
    Case("date-implausible-too-early", [("date-implausible", "Tasks", "D3")],
         setter("tasks", 1, start=dt.date(1985, 6, 30)), kind="plan"),
    Case("formula-error", [("formula-error", "Budget", "H2")], setter("budget", 0, actual="#DIV/0!"), kind="budget"),
    Case("formula-error-calculated", [("formula-error", "Risks", "H3")], edit=cell("Risks", "H3", "#VALUE!"),
         kind="risk_log"),
    Case("formula-error-in-text-column", [("formula-error", "Tasks", "C4")], edit=cell("Tasks", "C4", "#N/A"), kind="plan"),
    # row level
    Case("finish-before-start", [("finish-before-start", "Tasks", "E5")],
         lambda s: tasks(s)[3].update(finish=tasks(s)[3]["start"] - dt.timedelta(days=2)), kind="plan"),
    Case("finish-before-start-baseline", [("finish-before-start", "Tasks", "G5")],
         lambda s: tasks(s)[3].update(baseline_finish=tasks(s)[3]["baseline_start"] - dt.timedelta(days=1)), kind="plan"),
    Case("finish-before-start-project", [("finish-before-start", "Project", "B9")],
         lambda s: s.project.update(finish_date=s.project["start_date"] - dt.timedelta(days=1)), kind="risk_log"),
    Case("complete-not-closed", [("complete-not-closed", "Tasks", "I6")],
         setter("tasks", 4, percent_complete=1.0, status="In Progress"), kind="plan", severities=[WARNING]),
    Case("closed-not-complete", [("closed-not-complete", "Tasks", "H6")],
         setter("tasks", 4, percent_complete=0.5, status="Completed"), kind="plan", severities=[WARNING]),
    Case("risk-score-mismatch", [("risk-score-mismatch", "Risks", "H2")],
         setter("risks", 0, probability=2, impact=3, score=7), kind="risk_log", severities=[ERROR]),
    Case("calculated-value-mismatch-eac", [("calculated-value-mismatch", "Budget", "J2")],
         setter("budget", 0, actual=100.0, forecast=50.0, eac=1.0), kind="budget"),
    Case("calculated-value-mismatch-duration", [("calculated-value-mismatch", "Tasks", "L2")],
         setter("tasks", 0, duration_days=999), kind="plan"),
    Case("calculated-value-mismatch-rating", [("calculated-value-mismatch", "Risks", "I2")],
         setter("risks", 0, probability=5, impact=5, rating="Low"), kind="risk_log"),
    Case("risk-owner-missing", [("risk-owner-missing", "Risks", "D2")], setter("risks", 0, owner=None, status="Open"),
         kind="risk_log"),
    Case("calculated-value-mismatch-beside-a-warning",
         [("complete-not-closed", "Tasks", "I6"), ("calculated-value-mismatch", "Tasks", "L6")],
         setter("tasks", 4, percent_complete=1.0, status="In Progress", duration_days=999), kind="plan",
         severities=[WARNING, ERROR]),
    Case("calculated-value-mismatch-beside-a-row-rule",
         [("finish-before-start", "Tasks", "E5"), ("calculated-value-mismatch", "Tasks", "L5")],
         lambda s: tasks(s)[3].update(finish=tasks(s)[3]["start"] - dt.timedelta(days=2), duration_days=999),
         kind="plan"),
    # table level
    Case("duplicate-id", [("duplicate-id", "Tasks", "A13")], setter("tasks", 11, task_id="1.1"), kind="plan"),
    Case("duplicate-id-budget-line-and-month", [("duplicate-id", "Budget", "A3")], duplicate_budget_month, kind="budget"),
    Case("duplicate-id-risk", [("duplicate-id", "Risks", "A6")], setter("risks", 4, risk_id="R-001"), kind="risk_log"),
    Case("predecessor-unknown", [("predecessor-unknown", "Tasks", "K7")],
         setter("tasks", 5, predecessors="1.5, 9.9"), kind="plan"),
    Case("predecessor-cycle", [("predecessor-cycle", "Tasks", "K2")], setter("tasks", 0, predecessors="1.3"), kind="plan"),
    Case("predecessor-cycle-self", [("predecessor-cycle", "Tasks", "K2")],
         setter("tasks", 0, predecessors="1.1"), kind="plan"),
    Case("table-empty", [("table-empty", "Tasks", None)], empty_plan, kind="plan", severities=[WARNING]),
    # workbook level
    Case("task-outside-project", [("task-outside-project", "Tasks", "D2"), ("task-outside-project", "Tasks", "E13")],
         shift_task_dates, kind="plan", severities=[WARNING, WARNING]),
    Case("currency-mismatch", [("currency-mismatch", "Budget", "F4")], setter("budget", 2, currency="EUR"), kind="budget"),
    Case("budget-over-approved", [("budget-over-approved", "Project", "B14")],
         setter("project", 0, approved_budget=1000), kind="budget", severities=[WARNING]),
    Case("date-ambiguous", [("date-ambiguous", "Tasks", "D4")], setter("tasks", 2, start="09/02/2026"), kind="plan",
         severities=[WARNING]),
    Case("amount-with-currency", [("amount-with-currency", "Budget", "G3")], setter("budget", 1, budget="€1,500.00"),
         kind="budget", severities=[WARNING]),
    Case("budget-outside-project", [("budget-outside-project", "Budget", "E3")],
         lambda s: s.tables["budget"][1].update(period=s.tables["budget"][1]["period"].replace(year=2024)),
         kind="budget", severities=[WARNING]),
    Case("budget-line-unestimated", [("budget-line-unestimated", "Budget", "I3")],
         setter("budget", 1, actual=None, forecast=None), kind="budget", severities=[WARNING]),
    # structure
    Case("sheet-missing", [("sheet-missing", "Risks", None)], edit=delete_sheet("Risks")),
    Case("header-missing", [("header-missing", "Tasks", None)], edit=clear_header_row, kind="plan"),
    Case("column-missing-required", [("column-missing", "Tasks", None)], edit=clear_column("D"), kind="plan",
         severities=[ERROR]),
    Case("column-missing-optional", [("column-missing", "Tasks", None)], edit=clear_column("C"), kind="plan",
         severities=[WARNING]),
    Case("column-renamed", [("column-renamed", "Tasks", "B1")], edit=cell("Tasks", "B1", "Task Nme"), kind="plan"),
    Case("column-renamed-form", [("column-renamed", "Project", "A5")],
         edit=cell("Project", "A5", "Project Manger"), kind="plan"),
    Case("column-unknown", [("column-unknown", "Tasks", "O1")], edit=add_column("Notes"), kind="plan"),
    Case("column-duplicate", [("column-duplicate", "Tasks", "O1")], edit=add_column("owner"), kind="plan"),
    Case("template-metadata-missing", [("template-metadata-missing", None, None)], edit=delete_sheet("_pmo"),
         kind="plan", severities=[WARNING]),
    Case("template-version-unknown", [("template-version-unknown", "_pmo", "B2")], edit=cell("_pmo", "B2", "9.9")),
    Case("not-a-template", [("not-a-template", None, None)], edit=not_a_template, kind="plan"),
    # template 2.0: Resources (A person, B e-mail, C role, D work package, E month, F allocation, G day rate)
    Case("allocation-outside-project", [("allocation-outside-project", "Resources", "E2")],
         setter("resources", 0, month=dt.date(2025, 12, 1)), severities=[WARNING], delivery=True),
    Case("allocation-outside-project-after", [("allocation-outside-project", "Resources", "E7")],
         setter("resources", 5, month=dt.date(2026, 8, 20)), severities=[WARNING], delivery=True),
    Case("value-out-of-range-allocation", [("value-out-of-range", "Resources", "F3")],
         setter("resources", 1, allocation=1.2), delivery=True),
    Case("person-inconsistent-name", [("person-inconsistent", "Resources", "A3")],
         setter("resources", 1, person="Dev Patel (ext)"), delivery=True),
    Case("person-inconsistent-email", [("person-inconsistent", "Resources", "B6")],
         setter("resources", 4, email="eva@example.org"), delivery=True),
    Case("duplicate-id-person-month", [("duplicate-id", "Resources", "A3")],
         setter("resources", 1, month=dt.date(2026, 1, 20)), delivery=True),
    # RAID (A ID, B type, C title, D owner, E raised, F due, G closed, H priority, I status, J depends on, K linked)
    Case("raid-closed-without-date", [("raid-closed-without-date", "RAID", "G4")],
         setter("raid", 2, closed=None), delivery=True),
    Case("raid-overdue", [("raid-overdue", "RAID", "F2")], setter("raid", 0, due=dt.date(2026, 5, 29)),
         severities=[WARNING], delivery=True),
    Case("raid-closed-is-never-overdue", [], setter("raid", 2, due=dt.date(2026, 1, 30)), delivery=True),
    Case("dependency-project-missing", [("dependency-project-missing", "RAID", "J5")],
         setter("raid", 3, depends_on=None), delivery=True),
    Case("dependency-project-missing-self", [("dependency-project-missing", "RAID", "J9")],
         setter("raid", 7, depends_on="prj-0001"), delivery=True),
    Case("finish-before-start-raid-closed", [("finish-before-start", "RAID", "G4")],
         setter("raid", 2, closed=dt.date(2026, 1, 20)), delivery=True),
    Case("value-not-in-list-raid-type", [("value-not-in-list", "RAID", "B3")], setter("raid", 1, type="Risk"),
         delivery=True),
    # Changes (A ID, B title, C requester, D raised, E decision, F decision date, G days, H cost, I currency)
    Case("change-decision-date-missing", [("change-decision-date", "Changes", "F2")],
         setter("changes", 0, decision_date=None), delivery=True),
    Case("change-decision-date-while-pending", [("change-decision-date", "Changes", "F3")],
         setter("changes", 1, decision_date=dt.date(2026, 3, 1)), delivery=True),
    Case("currency-mismatch-change", [("currency-mismatch", "Changes", "I4")], setter("changes", 2, currency="EUR"),
         delivery=True),
    Case("type-invalid-schedule-impact", [("type-invalid", "Changes", "G2")],
         setter("changes", 0, schedule_impact_days="two weeks"), delivery=True),
    # Status (A period, B overall, C schedule, D budget, E scope RAG, F summary, ...)
    Case("status-overdue", [("status-overdue", "Status", "A4")],
         lambda s: s.tables.update(status=s.tables["status"][:3]), severities=[WARNING], delivery=True),
    Case("duplicate-id-status-period", [("duplicate-id", "Status", "A3")],
         setter("status", 1, period=dt.date(2026, 1, 20)), delivery=True),
    Case("value-not-in-list-rag", [("value-not-in-list", "Status", "B3")], setter("status", 1, overall_rag="Yellow"),
         delivery=True),
    Case("value-required-summary", [("value-required", "Status", "F2")], setter("status", 0, summary=None),
         delivery=True),
    Case("rag-differs-from-status", [("rag-differs-from-status", "Project", "B11")],
         lambda s: s.project.update(rag="Red" if s.tables["status"][-1]["overall_rag"] != "Red" else "Green"),
         severities=[WARNING], delivery=True),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_one_planted_mistake_gives_its_rule_at_its_cell(case: Case, tmp_path: Path) -> None:
    sample = delivery_sample() if case.delivery else small_sample()
    if case.plant is not None:
        case.plant(sample)
    path = write(tmp_path / f"{case.id}.xlsx", sample, case.kind, case.edit)

    report = report_of(path, AS_OF_SAMPLE_TODAY) if case.delivery else report_of(path)

    assert located(report.findings) == case.expected
    expected_severities = case.severities or [RULES[rule].severity for rule, _, _ in case.expected]
    assert [f.severity for f in report.findings] == expected_severities
    assert all(f.message and "\n" not in f.message for f in report.findings)


@pytest.mark.parametrize("kind", ["project", "plan", "budget", "risk_log"])
def test_the_unchanged_sample_is_valid_in_every_kind(kind: str, tmp_path: Path) -> None:
    report = report_of(write(tmp_path / f"{kind}.xlsx", kind=kind))

    assert located(report.findings) == []
    assert (report.template, report.template_version, report.project_id) == (kind, "2.0", "PRJ-0001")


def test_the_filled_template_2_tables_are_valid_and_read(tmp_path: Path) -> None:
    report = report_of(write(tmp_path / "delivery.xlsx", delivery_sample()), AS_OF_SAMPLE_TODAY)

    assert located(report.findings) == []
    assert {name: len(table.rows) for name, table in report.tables.items()} == {
        "project": 1, "tasks": 12, "budget": 6, "risks": 5, "resources": 6, "raid": 8, "changes": 3, "status": 5}
    assert report.tables["resources"].rows[0].values == {
        "person": "Dev Patel", "email": "dev.patel@example.com", "role": "Business analyst", "work_package": "WP1",
        "month": "2026-01-01", "allocation": 0.8, "cost_rate": 650.0}
    assert report.tables["status"].rows[-1].values["period"] == "2026-05-01"


def test_overdue_is_judged_on_the_day_of_validation(tmp_path: Path) -> None:
    path = write(tmp_path / "delivery.xlsx", delivery_sample())
    a_month_later = ValidationSettings(today=dt.date(2026, 6, 30))

    # on 30 June May's report is still the latest due; the items due 15 and 22 June are late
    assert located(report_of(path, a_month_later).findings) == [
        ("raid-overdue", "RAID", "F2"), ("raid-overdue", "RAID", "F3"), ("raid-overdue", "RAID", "F8"),
        ("raid-overdue", "RAID", "F9")]
    in_july = ValidationSettings(today=dt.date(2026, 7, 1))  # June's report is due once June is over
    assert ("status-overdue", "Status", "A6") in located(report_of(path, in_july).findings)
    in_august = ValidationSettings(today=dt.date(2026, 8, 3))
    assert ("status-overdue", "Status", "A6") in located(report_of(path, in_august).findings)
    quarterly = ValidationSettings(today=dt.date(2026, 8, 3), reporting_cycle_months=3)
    assert ("status-overdue", "Status", "A6") not in located(report_of(path, quarterly).findings)


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_a_1x_workbook_validates_with_its_own_sheets(version: str, tmp_path: Path) -> None:
    """No Resources, RAID, Changes or Status sheet in a 1.x workbook, and none reported missing."""
    path = write(tmp_path / f"v{version}.xlsx", version=version)
    report = report_of(path)

    assert located(report.findings) == []
    assert (report.template, report.template_version) == ("project", version)
    assert list(report.tables) == ["project", "tasks", "budget", "risks"]


def test_a_1x_workbook_keeps_its_1x_findings(tmp_path: Path) -> None:
    sample = small_sample()
    tasks(sample)[3]["finish"] = tasks(sample)[3]["start"] - dt.timedelta(days=2)
    old = report_of(write(tmp_path / "old.xlsx", sample, version="1.0"))
    new = report_of(write(tmp_path / "new.xlsx", sample))

    assert located(old.findings) == located(new.findings) == [("finish-before-start", "Tasks", "E5")]


def test_a_2_0_workbook_without_a_new_sheet_reports_it_missing(tmp_path: Path) -> None:
    path = write(tmp_path / "no-raid.xlsx", edit=delete_sheet("RAID"))
    assert found(path) == [("sheet-missing", "RAID", None)]


def test_without_metadata_a_1x_workbook_is_read_by_its_sheets(tmp_path: Path) -> None:
    path = write(tmp_path / "lost.xlsx", version="1.0", edit=delete_sheet("_pmo"))
    report = report_of(path)

    assert located(report.findings) == [("template-metadata-missing", None, None)]
    assert list(report.tables) == ["project", "tasks", "budget", "risks"]


def test_a_rejected_value_is_quoted_in_the_message(tmp_path: Path) -> None:
    sample = small_sample()
    tasks(sample)[6]["percent_complete"] = "half"
    tasks(sample)[1]["percent_complete"] = 50  # typed 50 meaning 50%
    report = report_of(write(tmp_path / "quoted.xlsx", sample, "plan"))

    messages = {f.cell: f.message for f in report.findings}
    assert "'half'" in messages["H8"]
    assert "did you mean 50%?" in messages["H3"]


def test_a_renamed_column_is_read_as_the_expected_one(tmp_path: Path) -> None:
    path = write(tmp_path / "renamed.xlsx", kind="plan", edit=cell("Tasks", "B1", "Task Nme"))
    report = report_of(path)

    assert report.findings[0].expected_header == "Task Name"
    assert [row.values["task_name"] for row in report.tables["tasks"].rows][:2] == ["Deliverable 1", "Deliverable 2"]


def test_a_missing_column_names_the_closest_header_found(tmp_path: Path) -> None:
    path = write(tmp_path / "far.xlsx", kind="plan", edit=cell("Tasks", "I1", "State of play"))
    report = report_of(path)

    assert located(report.findings) == [("column-missing", "Tasks", None), ("column-unknown", "Tasks", "I1")]
    missing = report.findings[0]
    assert missing.expected_header == "Status" and missing.severity == WARNING


def test_a_rejected_value_does_not_reach_the_cross_row_rules(tmp_path: Path) -> None:
    # the finish is not a date: it is reported once, as such, and not again as finish-before-start
    sample = small_sample()
    tasks(sample)[3]["finish"] = "2026-13-45"
    assert found(write(tmp_path / "once.xlsx", sample, "plan")) == [("date-invalid", "Tasks", "E5")]


def test_every_workbook_rule_is_planted_somewhere() -> None:
    from test_bad_files import BAD_FILE_CODES

    planted = {rule for case in CASES for rule, _, _ in case.expected} | set(BAD_FILE_CODES)
    # Google Sheets failures, the fallback for a schema keyword that no current schema uses, and the
    # dependency findings only a sync can make (tests/test_dependencies_sync.py plants them)
    not_from_a_workbook = {"source-unreachable", "source-forbidden", "source-not-found", "schema-violation",
                           "dependency-project-unknown", "dependency-on-late-project"}
    assert set(RULES) - not_from_a_workbook == planted


# --- a reordered column is read by its header, never by its position ---------------------------------------------


def reorder(sheet_name: str, titles: list[str]) -> Edit:
    """Move a sheet's columns (header and every cell below, with its format) into the order of ``titles``."""
    def edit(workbook: Workbook) -> None:
        sheet = workbook[sheet_name]
        headers = [c.value for c in sheet[1]]
        order = [headers.index(title) for title in titles]
        for row in sheet.iter_rows(min_row=1, max_row=sheet.max_row, max_col=len(headers)):
            cells = [(c.value, c.number_format) for c in row]
            for new, old in enumerate(order):
                row[new].value, row[new].number_format = cells[old]
    return edit


def reversed_tasks(workbook: Workbook) -> None:
    titles = [c.value for c in workbook["Tasks"][1]]
    reorder("Tasks", titles[::-1])(workbook)


def reversed_project_form(workbook: Workbook) -> None:
    sheet = workbook["Project"]
    lines = [[(c.value, c.number_format) for c in row] for row in sheet.iter_rows(min_row=1, max_row=14, max_col=3)]
    for row, cells in zip(sheet.iter_rows(min_row=1, max_row=14, max_col=3), lines[::-1], strict=True):
        for target, (value, number_format) in zip(row, cells, strict=True):
            target.value, target.number_format = value, number_format


def test_reordered_columns_are_read_into_the_right_fields(tmp_path: Path) -> None:
    straight = report_of(write(tmp_path / "straight.xlsx", kind="plan"))

    def reorder_both(workbook: Workbook) -> None:
        reversed_tasks(workbook)
        reversed_project_form(workbook)

    shuffled = report_of(write(tmp_path / "shuffled.xlsx", kind="plan", edit=reorder_both))

    assert located(shuffled.findings) == []
    assert shuffled.tables["tasks"].positions["task_id"] == 14
    assert shuffled.tables["project"].positions["project_id"] == 14
    for table in ("project", "tasks"):
        assert [row.values for row in shuffled.tables[table].rows] == [row.values for row in straight.tables[table].rows]


def test_a_mistake_in_a_reordered_column_points_at_where_the_column_now_is(tmp_path: Path) -> None:
    sample = small_sample()
    tasks(sample)[6]["percent_complete"] = "half"  # % Complete: column H, now G
    tasks(sample)[3]["finish"] = tasks(sample)[3]["start"] - dt.timedelta(days=2)  # Finish: column E, now J
    sample.project["pm_email"] = "nobody"  # PM E-mail: row 6, now row 9

    def reorder_both(workbook: Workbook) -> None:
        reversed_tasks(workbook)
        reversed_project_form(workbook)

    path = write(tmp_path / "shuffled.xlsx", sample, "plan", reorder_both)

    assert found(path) == [("email-invalid", "Project", "B9"), ("finish-before-start", "Tasks", "J5"),
                           ("type-invalid", "Tasks", "G8")]


def test_swapped_start_and_finish_headers_swap_the_dates_not_shift_them(tmp_path: Path) -> None:
    """Columns that trade places with their headers keep their meaning: no finish-before-start appears."""
    def swap(workbook: Workbook) -> None:
        titles = [c.value for c in workbook["Tasks"][1]]
        titles[3], titles[4] = titles[4], titles[3]
        reorder("Tasks", titles)(workbook)

    report = report_of(write(tmp_path / "swapped.xlsx", kind="plan", edit=swap))

    assert located(report.findings) == []
    first = report.tables["tasks"].rows[0].values
    assert first["start"] < first["finish"]
    assert report.tables["tasks"].cell(report.tables["tasks"].rows[0], "start") == "E2"


# --- what people really type is accepted -------------------------------------------------------------------------


def typed(sheet: str, ref: str, value: Any, number_format: str | None = None) -> Edit:
    def edit(workbook: Workbook) -> None:
        target = workbook[sheet][ref]
        target.value = value
        if number_format is not None:
            target.number_format = number_format
    return edit


def both(*edits: Edit) -> Edit:
    def edit(workbook: Workbook) -> None:
        for each in edits:
            each(workbook)
    return edit


def insert_blank_task_row(workbook: Workbook) -> None:
    workbook["Tasks"].move_range("A7:K13", rows=1)  # row 7 is now blank, tasks 6.. moved down one row


def add_totals_row(workbook: Workbook) -> None:
    sheet = workbook["Budget"]
    sheet["A8"] = "Total"
    sheet["G8"] = sum(sheet.cell(row, 7).value for row in range(2, 8))
    sheet["H8"] = sum(sheet.cell(row, 8).value for row in range(2, 8))


SAMPLE = small_sample()
T = SAMPLE.tables["tasks"]
# (id, kind, edit, table, row index, field, value read)
TOLERATED: list[tuple[str, str, Edit, str, int, str, Any]] = [
    ("date-as-serial", "plan", typed("Tasks", "D2", (T[0]["start"] - dt.date(1899, 12, 30)).days, "General"),
     "tasks", 0, "start", T[0]["start"].isoformat()),
    ("date-as-iso-text", "plan", typed("Tasks", "D3", T[1]["start"].isoformat(), "@"),
     "tasks", 1, "start", T[1]["start"].isoformat()),
    ("date-as-day-month-year", "plan", typed("Tasks", "E4", T[2]["finish"].strftime("%d/%m/%Y"), "@"),
     "tasks", 2, "finish", T[2]["finish"].isoformat()),
    ("date-as-words", "plan", typed("Tasks", "E5", T[3]["finish"].strftime("%d %b %Y"), "@"),
     "tasks", 3, "finish", T[3]["finish"].isoformat()),
    ("date-with-time", "plan", typed("Tasks", "F6", dt.datetime.combine(T[4]["baseline_start"], dt.time(9, 30))),
     "tasks", 4, "baseline_start", T[4]["baseline_start"].isoformat()),
    ("percent-as-text", "plan", both(typed("Tasks", "H6", "50%"), typed("Tasks", "I6", "In Progress")),
     "tasks", 4, "percent_complete", 0.5),
    ("percent-as-fraction", "plan", both(typed("Tasks", "H6", 0.5), typed("Tasks", "I6", "In Progress")),
     "tasks", 4, "percent_complete", 0.5),
    ("money-without-a-currency-sign", "budget", typed("Budget", "G2", "1,200.50"), "budget", 0, "budget", 1200.5),
    ("stray-spaces-in-a-list-value", "plan", typed("Tasks", "I3", f"  {T[1]['status']}  "),
     "tasks", 1, "status", T[1]["status"]),
    ("list-value-in-another-case", "plan", typed("Tasks", "J11", "yes"), "tasks", 9, "milestone", "Yes"),
    ("stray-spaces-in-text", "plan", typed("Tasks", "C2", "  Ana Silva "), "tasks", 0, "owner", "Ana Silva"),
    ("stray-spaces-in-an-id", "plan", typed("Tasks", "A13", " 2.2 "), "tasks", 11, "task_id", "2.2"),
    ("header-in-another-case", "plan", both(typed("Tasks", "B1", "TASK NAME"), typed("Tasks", "H1", "% complete ")),
     "tasks", 0, "task_name", "Deliverable 1"),
    ("header-with-stray-spaces", "plan", typed("Tasks", "A1", "  Task  ID "), "tasks", 0, "task_id", "1.1"),
    ("blank-row", "plan", insert_blank_task_row, "tasks", 5, "task_id", "1.6"),
    ("totals-row", "budget", add_totals_row, "budget", 5, "line_id", "L02"),
]


@pytest.mark.parametrize(("kind", "edit", "table", "index", "name", "value"), [t[1:] for t in TOLERATED],
                         ids=[t[0] for t in TOLERATED])
def test_what_people_really_type_is_read_without_findings(tmp_path: Path, kind: str, edit: Edit, table: str,
                                                          index: int, name: str, value: Any) -> None:
    report = report_of(write(tmp_path / "typed.xlsx", small_sample(), kind, edit))

    assert located(report.findings) == []
    assert report.tables[table].rows[index].values[name] == value


@pytest.mark.parametrize(("text", "sign"), [("$1,200.50", "$"), ("1 200.50 USD", "USD"), ("€1,200.50", "€")])
def test_an_amount_typed_with_a_currency_is_read_in_the_rows_currency_and_flagged(tmp_path: Path, text: str,
                                                                                  sign: str) -> None:
    report = report_of(write(tmp_path / "typed.xlsx", small_sample(), "budget", typed("Budget", "G2", text)))

    assert [(f.rule, f.sheet, f.cell, f.message) for f in report.findings] == [
        ("amount-with-currency", "Budget", "G2", f"Budget '{text}' was read as 1200.5 in the row's currency: the "
                                                 f"'{sign}' typed with it is not converted; type the number alone (the "
                                                 "Currency column, or the project's currency, says which currency it is)")]
    assert report.tables["budget"].rows[0].values["budget"] == 1200.5


@pytest.mark.parametrize(("text", "message"), [
    ("5%", "Budget should be a number, not a percentage; found '5%'"),
    ("120 HRS", "Budget should be a number; found '120 HRS'"),
    ("2 FTE", "Budget should be a number; found '2 FTE'"),
    ("TBC 5000", "Budget should be a number; found 'TBC 5000'")])
def test_a_percentage_or_a_unit_in_an_amount_is_no_amount(tmp_path: Path, text: str, message: str) -> None:
    report = report_of(write(tmp_path / "typed.xlsx", small_sample(), "budget", typed("Budget", "G2", text)))

    assert [(f.rule, f.sheet, f.cell, f.message) for f in report.findings] == [("type-invalid", "Budget", "G2", message)]


def test_rows_after_a_blank_row_keep_their_own_cell_references(tmp_path: Path) -> None:
    sample = small_sample()
    tasks(sample)[6]["percent_complete"] = "half"  # sheet row 8, moved to row 9 by the blank row

    report = report_of(write(tmp_path / "blank.xlsx", sample, "plan", insert_blank_task_row))

    assert located(report.findings) == [("type-invalid", "Tasks", "H9")]
    assert len(report.tables["tasks"].rows) == 12


def test_a_totals_row_is_not_a_budget_line(tmp_path: Path) -> None:
    report = report_of(write(tmp_path / "totals.xlsx", kind="budget", edit=add_totals_row))

    assert [row.number for row in report.tables["budget"].rows] == [2, 3, 4, 5, 6, 7]


def test_a_whole_line_whose_id_reads_total_is_a_line_not_a_totals_row(tmp_path: Path) -> None:
    def contingency(workbook: Workbook) -> None:
        for col, value in enumerate(["Total", "Other", "CC-1002", "Contingency, whole project",
                                     dt.datetime(2026, 3, 1), "USD", 10000, 0], start=1):
            workbook["Budget"].cell(8, col, value)

    report = report_of(write(tmp_path / "contingency.xlsx", kind="budget", edit=contingency))

    assert [row.number for row in report.tables["budget"].rows] == [2, 3, 4, 5, 6, 7, 8]
    assert report.tables["budget"].rows[-1].values["budget"] == 10000


def test_day_first_dates_are_read_as_day_month(tmp_path: Path) -> None:
    sample = small_sample()
    tasks(sample)[0]["baseline_finish"] = "03/04/2026"  # 3 April (the default); 4 March with --month-first
    path = write(tmp_path / "ambiguous.xlsx", sample, "plan")

    from pmo_sheets.settings import ValidationSettings
    from pmo_sheets.sources import validate_source

    assert validate_source(str(path)).tables["tasks"].rows[0].values["baseline_finish"] == "2026-04-03"
    month_first = ValidationSettings(day_first=False)
    assert validate_source(str(path), settings=month_first).tables["tasks"].rows[0].values["baseline_finish"] == "2026-03-04"
