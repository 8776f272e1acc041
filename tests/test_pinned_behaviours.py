"""Behaviours that a planted bug once slipped past the whole suite (issue 14), each pinned by its own test.

Expected values here are written by hand: the finding at its cell, the label of a fiscal month, the
comment text finance typed, the Data quality status of a source.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from portfolio_fixtures import make_portfolio
from test_comments import finance_comments, type_comment
from test_sync import quality
from workbooks import found, located, report_of, small_sample, write

from pmo_sheets.consolidate import fiscal_period
from pmo_sheets.findings import catalogue_markdown
from pmo_sheets.samples import plant_mistakes, sample_project, write_workbook
from pmo_sheets.sync import run_sync


def test_a_task_that_starts_and_finishes_on_the_same_day_is_not_flagged(tmp_path: Path) -> None:
    sample = small_sample()
    task = sample.tables["tasks"][3]  # row 5, task 1.4, Completed
    day = dt.date(2026, 2, 23)  # a Monday, inside the project's dates
    task.update(start=day, finish=day, baseline_start=day, baseline_finish=day)

    assert found(write(tmp_path / "one-day.xlsx", sample, "plan")) == []


def test_a_task_finishing_the_day_before_it_starts_is_flagged_at_its_finish(tmp_path: Path) -> None:
    # The other side of the same-day boundary: one day earlier is a finding.
    sample = small_sample()
    task = sample.tables["tasks"][3]
    task.update(start=dt.date(2026, 2, 24), finish=dt.date(2026, 2, 23),
                baseline_start=dt.date(2026, 2, 23), baseline_finish=dt.date(2026, 2, 23))

    assert found(write(tmp_path / "backwards.xlsx", sample, "plan")) == [("finish-before-start", "Tasks", "E5")]


def test_a_cancelled_task_at_100_percent_is_not_asked_to_be_completed(tmp_path: Path) -> None:
    sample = small_sample()
    sample.tables["tasks"][4].update(percent_complete=1.0, status="Cancelled")  # row 6
    sample.tables["tasks"][5].update(percent_complete=0.3, status="Cancelled")  # row 7: cancelled half-way

    assert found(write(tmp_path / "cancelled.xlsx", sample, "plan")) == []


def test_task_ids_that_differ_only_in_letter_case_are_duplicates(tmp_path: Path) -> None:
    # Decided with consolidation (docs/trust.md, "One project, one owner"): IDs a spreadsheet criterion
    # cannot tell apart are the same ID. Within a table that is a duplicate-id at the second one.
    sample = small_sample()
    sample.tables["tasks"][10]["task_id"] = "4.A"  # row 12
    sample.tables["tasks"][11].update(task_id="4.a", predecessors=None)  # row 13
    sample.tables["risks"][4]["risk_id"] = "r-001"  # row 6; R-001 is row 2

    report = report_of(write(tmp_path / "case.xlsx", sample, "project"))

    assert located(report.findings) == [("duplicate-id", "Tasks", "A13"), ("duplicate-id", "Risks", "A6")]
    assert [f.message for f in report.findings] == ["Task ID 4.a is already used on row 12 (A12)",
                                                    "Risk ID r-001 is already used on row 2 (A2)"]


def test_the_rule_catalogue_explains_the_rules_in_these_words() -> None:
    # Hand-written beside tests/test_templates.py's drift checks (docs/rules.md and `pmo rules` equal the
    # generator's output), which would pass whatever the generator wrote.
    lines = catalogue_markdown().splitlines()
    for expected in [
        "| `finish-before-start` | error | Finish before start | A finish (or baseline finish) date is earlier than "
        "its start date; a RAID item closed, or a change request decided, before it was raised. "
        "| Correct one of the two dates. |",
        "| `complete-not-closed` | warning | 100% complete but not completed | A task is 100% complete but its status "
        "is not Completed. | Set the status to Completed, or lower the %. |",
        "| `duplicate-id` | error | Duplicate ID | The same ID (or ID and month for budget lines) appears on more than "
        "one row. | Give each row its own ID. |",
    ]:
        assert expected in lines


@pytest.mark.parametrize(("month", "start_month", "label"), [
    (dt.date(2026, 4, 1), 4, "FY2027-P01"),   # the first month of a fiscal year starting in April
    (dt.date(2026, 3, 1), 4, "FY2026-P12"),   # the last month of the year before
    (dt.date(2026, 12, 1), 4, "FY2027-P09"),
    (dt.date(2027, 1, 1), 4, "FY2027-P10"),   # the calendar year turns, the fiscal year does not
    (dt.date(2026, 1, 1), 1, "FY2026-P01"),   # a calendar fiscal year
    (dt.date(2026, 12, 1), 1, "FY2026-P12"),
    (dt.date(2026, 2, 1), 2, "FY2027-P01"),   # February, the smallest start month that is not January
    (dt.date(2026, 1, 1), 2, "FY2026-P12"),
    (dt.date(2026, 7, 1), 7, "FY2027-P01"),
    (dt.date(2026, 6, 1), 7, "FY2026-P12"),
])
def test_fiscal_period_labels_at_the_fiscal_year_boundary(month: dt.date, start_month: int, label: str) -> None:
    assert fiscal_period(month, start_month) == label


def test_finance_comments_come_back_from_the_state_store_when_the_master_is_deleted(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    assert run_sync(config).exit_code == 0
    type_comment(config.master, "PRJ-0002", "Capex approved 12 May; see CFO memo")
    assert run_sync(config).exit_code == 0  # nothing changed in the sources: the comment is saved all the same

    config.master.unlink()
    assert run_sync(config).exit_code == 0

    assert finance_comments(config.master) == {"PRJ-0001": None, "PRJ-0002": "Capex approved 12 May; see CFO memo"}


def test_an_unchanged_source_that_was_invalid_stays_invalid_on_the_next_sync(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    broken = sample_project(2, currency="GBP", tasks=12, budget_lines=3, months=4, risks=6)
    plant_mistakes(broken)
    write_workbook(broken, tmp_path / "projects" / "PRJ-0002.xlsx")
    first = run_sync(config)
    assert first.exit_code == 1
    assert quality(config.master)["projects/PRJ-0002.xlsx"] == "invalid, never valid"

    again = run_sync(config)  # the file is not touched: it is not even opened again

    assert again.exit_code == 1
    assert again.counts["invalid"] == 1
    assert {o.state.label: o.state.status for o in again.outcomes} == {
        "projects/PRJ-0001.xlsx": "ok", "projects/PRJ-0002.xlsx": "invalid, never valid"}
