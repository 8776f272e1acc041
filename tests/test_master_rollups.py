"""The master's cached rollups for names a spreadsheet criterion would misread, against totals worked
out by hand (no spreadsheet program needed; tests/test_master_libreoffice.py recalculates the same
kind of names in LibreOffice).

SUMIFS reads ``R&D*`` and ``Phase ?`` as patterns, ``<TBD>``, ``>5`` and ``=X`` as comparisons, ``~``
as an escape and ``2026`` / ``2026.0`` as one number, and ignores case. Every one of these names is
its own group here, with its own figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from portfolio_fixtures import consolidated, project_record, write_hand_master

FX = {"USD": 1.0, "EUR": 1.5}


def line(cost_center: str, category: str, period: str, budget: float, actual: float, forecast: float,
         currency: str = "USD") -> dict[str, Any]:
    return {"line_id": "L01", "category": category, "cost_center": cost_center, "period": period,
            "currency": currency, "budget": budget, "actual": actual, "forecast": forecast}


def risk(risk_id: str, probability: int, impact: int, status: str, owner: str) -> dict[str, Any]:
    return {"risk_id": risk_id, "title": "Supplier late", "probability": probability, "impact": impact,
            "status": status, "owner": owner}


PROJECTS = [
    project_record("PRJ-1", "R&D*", budget=[line("2026", "Labour", "2026-04-01", 100, 40, 50),
                                           {**line("2026.0", "Software", "2026-05-01", 200, 0, 210), "line_id": "L02"}],
                   risks=[risk("R-1", 5, 4, "Open", "<TBD>"), risk("R-2", 1, 1, "Closed", ">5")]),
    project_record("PRJ-2", "r&d*", budget=[line("2026", "Hardware", "2026-04-01", 1000, 900, 0)],
                   risks=[risk("R-1", 3, 3, "Monitoring", "=X")]),
    project_record("PRJ-3", "<TBD>", "EUR", budget=[line("1e3", "Software", "2026-04-01", 500, 100, 300, "EUR")]),
    project_record("PRJ-4", ">5", budget=[line("1000", "Travel", "2026-03-01", 10, 10, 0)]),
    project_record("PRJ-5", "=X", budget=[line("CC-1", "Labour", "2026-04-01", 7, 0, 7)]),
    project_record("PRJ-6", "Phase ?", budget=[line("cc-1", "Labour", "2026-04-01", 20, 5, 5)]),
    project_record("PRJ-7", "~temp", budget=[line("CC-1", "Training", "2026-04-01", 30, 0, 30)]),
    project_record("PRJ-8", "R&D*", "EUR", budget=[line("2026", "Labour", "2026-04-01", 40, 0, 40, "EUR")]),
    project_record("PRJ-9", None, budget=[line("02026", "Other", "2026-04-01", 1, 1, 0)]),
]


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hand_master(tmp_path_factory.mktemp("hand") / "master.xlsx", consolidated(PROJECTS), FX)


def rows(sheet: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def finance_section(master: Path, title: str) -> dict[Any, tuple[Any, ...]]:
    """One Finance section: label -> (Budget, Actual, Forecast, EAC, Variance, key), as cached."""
    found: dict[Any, tuple[Any, ...]] = {}
    inside = False
    for row in rows(openpyxl.load_workbook(master, data_only=True)["Finance"]):
        if row[0] == title and row[1] == "Budget":
            inside = True
        elif inside and row[0] == "Total":
            return found
        elif inside:
            found[row[0]] = row[1:7]
    raise AssertionError(f"no {title} section")


def test_programs_that_a_criterion_would_confuse_each_keep_their_own_cached_figures(master: Path) -> None:
    programs = rows(openpyxl.load_workbook(master, data_only=True)["Programs"])
    # Program: (projects, budget, actuals, forecast, EAC, variance, open risks, high risks), in USD (EUR at 1.5)
    assert {row[0]: (row[1], row[2], row[3], row[4], row[5], row[6], row[8], row[9]) for row in programs[1:9]} == {
        "R&D*": (2, 360, 40, 320, 360, 0, 1, 1),
        "r&d*": (1, 1000, 900, 0, 900, 100, 1, 0),
        "<TBD>": (1, 750, 150, 450, 600, 150, 0, 0),
        ">5": (1, 10, 10, 0, 10, 0, 0, 0),
        "=X": (1, 7, 0, 7, 7, 0, 0, 0),
        "Phase ?": (1, 20, 5, 5, 10, 10, 0, 0),
        "~temp": (1, 30, 0, 30, 30, 0, 0, 0),
        None: (1, 1, 1, 0, 1, 0, 0, 0),  # the project without a program: a blank label
    }


def test_programs_compare_names_exactly_with_exact(master: Path) -> None:
    programs = openpyxl.load_workbook(master)["Programs"]
    assert programs["B2"].value == "=SUMPRODUCT(--EXACT(Portfolio!$C$2:$C$10,$A2))"
    assert programs["C2"].value == "=SUMPRODUCT(--EXACT(Portfolio!$C$2:$C$10,$A2),Portfolio!$M$2:$M$10)"


def test_cost_centers_2026_and_2026_0_and_cc_1_and_CC_1_are_distinct_finance_groups(master: Path) -> None:
    # Cost center: (budget, actual, forecast, EAC, variance, key); keys number the sorted names.
    assert finance_section(master, "Cost Center") == {
        "02026": (1, 1, 0, 1, 0, 1),
        "1000": (10, 10, 0, 10, 0, 2),
        "1e3": (750, 150, 450, 600, 150, 3),
        "2026": (1160, 940, 110, 1050, 110, 4),
        "2026.0": (200, 0, 210, 210, -10, 5),
        "CC-1": (37, 0, 37, 37, 0, 6),
        "cc-1": (20, 5, 5, 10, 10, 7),
    }


def test_finance_by_program_category_and_fiscal_period_adds_up_to_the_whole_budget(master: Path) -> None:
    programs = finance_section(master, "Program")
    assert {label: figures[0] for label, figures in programs.items()} == {
        "<TBD>": 750, "=X": 7, ">5": 10, "Phase ?": 20, "R&D*": 360, "r&d*": 1000, "~temp": 30, "(blank)": 1}
    assert programs["(blank)"][5] == 8  # lines without a program are a group of their own, the last
    assert {label: figures[0] for label, figures in finance_section(master, "Category").items()} == {
        "Hardware": 1000, "Labour": 187, "Other": 1, "Software": 950, "Training": 30, "Travel": 10}
    assert {label: figures[0] for label, figures in finance_section(master, "Fiscal Period").items()} == {
        "FY2026-P12": 10, "FY2027-P01": 1968, "FY2027-P02": 200}


def test_finance_formulas_sum_by_the_key_that_budget_data_shows_beside_each_line(master: Path) -> None:
    book = openpyxl.load_workbook(master)
    finance = book["Finance"]
    assert finance["A5"].value == "<TBD>" and finance["G5"].value == 1
    assert finance["B5"].value == ("=SUMPRODUCT(SUMIFS('Budget data'!$J$2:$J$11,'Budget data'!$P$2:$P$11,$G5,"
                                   "'Budget data'!$I$2:$I$11,FX!$A$2:$A$3),FX!$B$2:$B$3)")
    data = rows(book["Budget data"])
    header = data[0]
    assert header[15:] == ("Program Key", "Cost Center Key", "Category Key", "Fiscal Period Key")
    pairs = {(row[header.index("Program")], row[header.index("Program Key")]) for row in data[1:]}
    assert pairs == {("<TBD>", 1), ("=X", 2), (">5", 3), ("Phase ?", 4), ("R&D*", 5), ("r&d*", 6), ("~temp", 7),
                     (None, 8)}
    pairs = {(row[header.index("Cost Center")], row[header.index("Cost Center Key")]) for row in data[1:]}
    assert pairs == {("02026", 1), ("1000", 2), ("1e3", 3), ("2026", 4), ("2026.0", 5), ("CC-1", 6), ("cc-1", 7)}
