"""The master as MasterWriter writes it, on a small hand-made portfolio split over several sheet parts:
every rollup cell's formula text and cached value (the numbers Protected View, previewers and pandas
see before any recalculation), worked out by hand below; the sheets around them (Data quality, History,
Comments archive, FX, the data sheets); and how the file itself is replaced.

Fast (no sync, no workbook read from disk but the master): `make mutate` runs these against every
planted bug in pmo_sheets/master.py. tests/test_master_cached_values.py checks the same kind of figures
on a whole synced portfolio, and tests/test_master_libreoffice.py recalculates them in LibreOffice.

The portfolio (FX: EUR 1.5, GBP 2.0 unused, USD 1; at ``max_rows = 3`` each data sheet holds two rows):

- PRJ-1 "Alpha", USD, approved 1,000: tasks at 50%, 100% and blank; budget lines CC-1/Labour/April
  100 / 40 / 50 and CC-2/Software/May 200 / 0 / 210; risks 5x4 open, 1x1 closed, 2x3 open; status
  reports April (Green, "on track") and May (Amber, "late").
- PRJ-2 "Beta", EUR, approved 500: a task at 25%; budget CC-1/Labour/April EUR 300 / 100 / 100
  (USD 450 / 150 / 150); risk 3x5 open; a March status report (Red, no summary).
- PRJ-3, no program, USD, no approved budget: one budget line with no cost centre, Labour/June
  50 / 0 / 60; nothing else.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook

from pmo_sheets import master as master_module
from pmo_sheets.config import ConfigError
from pmo_sheets.consolidate import Contribution, Portfolio, consolidate
from pmo_sheets.master import (
    DataColumn,
    DataSheetRefs,
    MasterContent,
    MasterWriter,
    PartsFigure,
    SourceStatus,
    _cell_value,
    _column_values,
    _data_kind,
    _num,
    schema_data_columns,
    write_master,
)
from pmo_sheets.schemas import ColumnSpec, load_tables

FX = {"USD": 1.0, "EUR": 1.5, "GBP": 2.0}
MONEY = "#,##0.00;[Red]-#,##0.00"


def task(task_id: str, percent: float | None) -> dict[str, Any]:
    return {"task_id": task_id, "task_name": f"Task {task_id}", "start": "2026-01-05", "finish": "2026-01-09",
            "percent_complete": percent}


def line(line_id: str, cost_center: str | None, category: str, period: str, amounts: tuple[float, float, float],
         currency: str = "USD") -> dict[str, Any]:
    budget, actual, forecast = amounts
    return {"line_id": line_id, "category": category, "cost_center": cost_center, "description": "Work",
            "period": period, "currency": currency, "budget": budget, "actual": actual, "forecast": forecast}


def risk(risk_id: str, probability: int, impact: int, status: str, due: str | None = None) -> dict[str, Any]:
    return {"risk_id": risk_id, "title": f"Risk {risk_id}", "probability": probability, "impact": impact,
            "status": status, "owner": "Bo", "due_date": due}


def report(period: str, rag: str, summary: str) -> dict[str, Any]:
    return {"period": period, "overall_rag": rag, "summary": summary}


def project(project_id: str, program: str | None, currency: str, approved: float | None, rag: str | None,
            **tables: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    fields = {"project_id": project_id, "project_name": f"Project {project_id}", "program": program,
              "project_manager": "Ana Silva", "start_date": "2026-01-05", "finish_date": "2026-12-18",
              "status": "In Progress", "rag": rag, "currency": currency, "approved_budget": approved}
    return fields, tables


PROJECTS = [
    project("PRJ-1", "Alpha", "USD", 1000, "Green",
            tasks=[task("1", 0.5), task("2", 1.0), task("3", None)],
            budget=[line("L01", "CC-1", "Labour", "2026-04-01", (100, 40, 50)),
                    line("L02", "CC-2", "Software", "2026-05-01", (200, 0, 210))],
            risks=[risk("R-1", 5, 4, "Open", "2026-07-01"), risk("R-2", 1, 1, "Closed"), risk("R-3", 2, 3, "Open")],
            status=[report("2026-04-01", "Green", "on track"), report("2026-05-01", "Amber", "late")]),
    project("PRJ-2", "Beta", "EUR", 500, "Red",
            tasks=[task("1", 0.25)],
            budget=[line("L01", "CC-1", "Labour", "2026-04-01", (300, 100, 100), "EUR")],
            risks=[risk("R-1", 3, 5, "Open")],
            status=[report("2026-03-01", "Red", None)]),
    project("PRJ-3", None, "USD", None, None,
            budget=[line("L01", None, "Labour", "2026-06-01", (50, 0, 60))]),
]


def portfolio_of(projects: list[tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]]) -> Portfolio:
    """Consolidated as if each project came valid from its own workbook (fiscal year from April)."""
    payloads, contributions = {}, []
    for number, (fields, tables) in enumerate(projects, start=1):
        key = f"file:/projects/{fields['project_id']}.xlsx"
        payloads[key] = {"template": "project", "project": fields,
                         "tables": {name: [{"_row": row, **values} for row, values in enumerate(rows, start=2)]
                                    for name, rows in tables.items()}}
        contributions.append(Contribution(key, f"projects/{fields['project_id']}.xlsx", "ok",
                                          f"2026-06-01T00:00:{number:02d}", "2026-06-01T00:00:00",
                                          fields["project_id"], "project"))
    return consolidate(contributions, payloads.get, fiscal_year_start_month=4)


SOURCES = [
    SourceStatus("projects/b.xlsx", "excel", "PRJ-2", "ok", 0, 1, "Tasks!C3 dates: finish before start",
                 "2026-06-01T10:00:00", "2026-06-01T10:00:00", "2.0"),
    SourceStatus("projects/a.xlsx", "excel", "PRJ-1", "ok", 0, 0, "", "2026-06-01T10:00:00", "2026-05-01T09:00:00", "1.2"),
    SourceStatus("projects/s.xlsx", "excel", "PRJ-8", "stale", 0, 0, "", "2026-06-01T10:00:00", None),
    SourceStatus("projects/z.xlsx", "excel", None, "unreadable, never valid", 1, 0, "not a workbook",
                 "2026-06-01T10:00:00", None),
    SourceStatus("projects/d.xlsx", "excel", "PRJ-3", "missing", 0, 0, "", "2026-06-01T10:00:00", "2026-04-01T09:00:00"),
    SourceStatus("projects/x.xlsx", "google", "PRJ-4", "conflict: tasks of PRJ-4 already comes from x.xlsx", 0, 0, "",
                 "2026-06-01T10:00:00", "2026-04-01T09:00:00"),
    SourceStatus("projects/j.xlsx", "excel", "PRJ-5", "invalid, last good data kept", 3, 2, "Budget!J4 required: empty",
                 "2026-06-01T10:00:00", "2026-03-01T09:00:00", "2.0"),
    SourceStatus("projects/i.xlsx", "excel", "PRJ-6", "invalid, never valid", 1, 0, "Tasks!B2 required: empty",
                 "2026-06-01T10:00:00", None),
]

HISTORY: list[tuple[str, dict[str, Any]]] = [
    ("2026-05-01T09:00:00", {"projects": 2, "sources_ok": 2, "sources_stale": 0, "sources_failed": 1, "budget": 700.5,
                             "actual": 100.0, "eac": 600.0, "variance": 100.5, "open_risks": 2, "high_risks": 1}),
    ("2026-06-01T10:00:00", {"projects": 3, "sources_ok": 3, "budget": 800.0, "actual": 190.0, "eac": 660.0,
                             "variance": 140.0, "open_risks": 3, "high_risks": 2}),
]


def content(max_rows: int = 3, **changes: Any) -> MasterContent:
    return MasterContent(
        "Hand portfolio", "USD", FX, portfolio_of(PROJECTS), SOURCES, HISTORY, "2026-06-01T10:00:00",
        comment_headers=["Finance comment", "Controller note"],
        comments={"PRJ-1": {"Finance comment": "Check Q3", "Controller note": ""}, "PRJ-2": {"Controller note": "=sum?"}},
        archived_comments=[("PRJ-9", "Finance comment", "Closed out", "2026-05-01T09:00:00")],
        max_rows=max_rows, **changes)


class Master:
    """A written master read back twice: formulas as written, and the cached values beside them."""

    def __init__(self, path: Path):
        self.path = path
        self.formulas: Workbook = openpyxl.load_workbook(path)
        self.values: Workbook = openpyxl.load_workbook(path, data_only=True)

    def formula(self, sheet: str, cell: str) -> Any:
        return self.formulas[sheet][cell].value

    def value(self, sheet: str, cell: str) -> Any:
        return self.values[sheet][cell].value

    def row(self, sheet: str, row: int, first: str = "A", last: str = "Z") -> list[Any]:
        return [cell.value for cell in self.values[sheet][f"{first}{row}:{last}{row}"][0]]

    def xml(self, part: str) -> str:
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(part).decode()


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Master:
    path = tmp_path_factory.mktemp("writer") / "master.xlsx"
    write_master(path, content())
    return Master(path)


@pytest.fixture(scope="module")
def subtotalled(tmp_path_factory: pytest.TempPathFactory) -> Master:
    """The same master with every figure gathered from per-part subtotals (as past 2,000 characters)."""
    path = tmp_path_factory.mktemp("subtotals") / "master.xlsx"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(master_module, "INLINE_PARTS_LIMIT", 0)
        write_master(path, content())
    return Master(path)


@pytest.fixture(autouse=True)
def _each_test_reaches_the_writer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """mutmut runs each mutant against the tests it saw call the mutated function while it collected its
    stats (MUTANT_UNDER_TEST=stats), and it credits a module-scoped fixture's calls to the first test that
    set it up. So that every test reading a shared master meets every mutant of the writer, each one
    writes that master again while mutmut collects; in a mutant's own run the master is written once."""
    if os.environ.get("MUTANT_UNDER_TEST") != "stats":
        return
    if "master" in request.fixturenames:
        write_master(tmp_path_factory.mktemp("stats") / "master.xlsx", content())
    if "subtotalled" in request.fixturenames:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(master_module, "INLINE_PARTS_LIMIT", 0)
            write_master(tmp_path_factory.mktemp("stats") / "master.xlsx", content())


# ---- Portfolio ------------------------------------------------------------------------------------------

def test_portfolio_rows_cache_each_projects_figures_in_usd(master: Master) -> None:
    # A..Z: ID, name, program, manager, status, RAG, start, finish, currency, rate, % complete, approved,
    # budget, actuals, forecast, EAC, variance, variance %, open, high, top score, data status, last good
    # sync, status month, status RAG, status summary; then the comment columns.
    start, finish = dt.datetime(2026, 1, 5), dt.datetime(2026, 12, 18)
    assert master.row("Portfolio", 2, last="AB") == [
        "PRJ-1", "Project PRJ-1", "Alpha", "Ana Silva", "In Progress", "Green", start, finish, "USD", 1.0, 0.75,
        1000, 300, 40, 260, 300, 0, 0, 2, 1, 20, "ok", "2026-06-01T00:00:00", dt.datetime(2026, 5, 1), "Amber", "late",
        "Check Q3", None]
    assert master.row("Portfolio", 3, last="AB") == [
        "PRJ-2", "Project PRJ-2", "Beta", "Ana Silva", "In Progress", "Red", start, finish, "EUR", 1.5, 0.25,
        750, 450, 150, 150, 300, 150, pytest.approx(1 / 3), 1, 1, 15, "ok", "2026-06-01T00:00:00",
        dt.datetime(2026, 3, 1), "Red", None, None, "=sum?"]
    # No tasks: % complete is blank, not 0; no status report: the status columns are blank.
    assert master.row("Portfolio", 4, last="AB") == [
        "PRJ-3", "Project PRJ-3", None, "Ana Silva", "In Progress", None, start, finish, "USD", 1.0, None,
        0, 50, 0, 60, 60, -10, -0.2, 0, 0, 0, "ok", "2026-06-01T00:00:00", None, None, None, None, None]
    assert master.row("Portfolio", 5, last="AB") == [
        "Total", *[None] * 10, 1750, 800, 190, 470, 660, 140, 0.175, 3, 2, *[None] * 8]
    assert master.values["Portfolio"].max_row == 5


def test_portfolio_cached_numbers_have_the_types_a_reader_sees(master: Master) -> None:
    sheet = master.values["Portfolio"]
    assert type(sheet["S2"].value) is int and type(sheet["T2"].value) is int  # counts, not 2.0
    assert type(sheet["S5"].value) is int and type(sheet["T5"].value) is int
    assert type(sheet["M2"].value) is float and type(sheet["M5"].value) is float


def test_portfolio_headers_and_comment_columns(master: Master) -> None:
    assert master.row("Portfolio", 1, last="AC") == [
        "Project ID", "Project Name", "Program", "Project Manager", "Status", "RAG", "Start", "Finish", "Currency",
        "FX Rate", "% Complete", "Approved Budget", "Budget", "Actuals", "Forecast", "EAC", "Variance", "Variance %",
        "Open Risks", "High Risks", "Highest Risk Score", "Data Status", "Last Good Sync", "Status Month",
        "Status RAG", "Status Summary", "Finance comment", "Controller note", None]
    sheet = master.formulas["Portfolio"]
    assert sheet["M1"].comment.text.startswith("SUMIFS over Budget data, converted to USD with the FX sheet's rate.")
    assert sheet["AA2"].number_format == "General" and sheet["AA2"].fill.fgColor.rgb == "FFFFF2CC"
    assert sheet["AA2"].alignment.wrap_text


def test_portfolio_formulas_add_up_every_part_of_each_data_sheet(master: Master) -> None:
    sheet = "Portfolio"
    assert master.formula(sheet, "J2") == "=INDEX(FX!$B$2:$B$4,MATCH($I2,FX!$A$2:$A$4,0))"
    tasks = ("COUNTIFS('Task data'!$A$2:$A$3,$A2,'Task data'!$I$2:$I$3,\"<>\")"
             "+COUNTIFS('Task data (2)'!$A$2:$A$3,$A2,'Task data (2)'!$I$2:$I$3,\"<>\")")
    done = ("SUMIFS('Task data'!$I$2:$I$3,'Task data'!$A$2:$A$3,$A2)"
            "+SUMIFS('Task data (2)'!$I$2:$I$3,'Task data (2)'!$A$2:$A$3,$A2)")
    assert master.formula(sheet, "K2") == f'=IF(({tasks})=0,"",({done})/({tasks}))'
    # The approved budget is looked up on the part that holds the project's row: PRJ-3 is on the second.
    assert master.formula(sheet, "L2") == "=INDEX('Project data'!$N$2:$N$3,MATCH($A2,'Project data'!$A$2:$A$3,0))*$J2"
    assert master.formula(sheet, "L4") == ("=INDEX('Project data (2)'!$N$2:$N$2,MATCH($A4,'Project data (2)'!$A$2:$A$2,0))"
                                           "*$J4")
    assert master.formula(sheet, "M3") == ("=(SUMIFS('Budget data'!$J$2:$J$3,'Budget data'!$A$2:$A$3,$A3)"
                                           "+SUMIFS('Budget data (2)'!$J$2:$J$3,'Budget data (2)'!$A$2:$A$3,$A3))*$J3")
    assert master.formula(sheet, "N2") == ("=(SUMIFS('Budget data'!$K$2:$K$3,'Budget data'!$A$2:$A$3,$A2)"
                                           "+SUMIFS('Budget data (2)'!$K$2:$K$3,'Budget data (2)'!$A$2:$A$3,$A2))*$J2")
    assert master.formula(sheet, "O2") == ("=(SUMIFS('Budget data'!$L$2:$L$3,'Budget data'!$A$2:$A$3,$A2)"
                                           "+SUMIFS('Budget data (2)'!$L$2:$L$3,'Budget data (2)'!$A$2:$A$3,$A2))*$J2")
    assert [master.formula(sheet, c) for c in ("P3", "Q3", "R3")] == ["=N3+O3", "=M3-P3", '=IF(M3=0,"",Q3/M3)']
    assert master.formula(sheet, "S2") == ("=COUNTIFS('Risk data'!$A$2:$A$3,$A2,'Risk data'!$N$2:$N$3,\"<>Closed\")"
                                           "+COUNTIFS('Risk data (2)'!$A$2:$A$3,$A2,'Risk data (2)'!$N$2:$N$3,\"<>Closed\")")
    assert master.formula(sheet, "T2") == (
        "=COUNTIFS('Risk data'!$A$2:$A$3,$A2,'Risk data'!$N$2:$N$3,\"<>Closed\",'Risk data'!$J$2:$J$3,\"High\")"
        "+COUNTIFS('Risk data (2)'!$A$2:$A$3,$A2,'Risk data (2)'!$N$2:$N$3,\"<>Closed\",'Risk data (2)'!$J$2:$J$3,\"High\")")
    assert master.formula(sheet, "U2") == (
        "=MAX(_xlfn.MAXIFS('Risk data'!$I$2:$I$3,'Risk data'!$A$2:$A$3,$A2,'Risk data'!$N$2:$N$3,\"<>Closed\"),"
        "_xlfn.MAXIFS('Risk data (2)'!$I$2:$I$3,'Risk data (2)'!$A$2:$A$3,$A2,'Risk data (2)'!$N$2:$N$3,\"<>Closed\"))")


def test_portfolio_totals_and_latest_status_formulas(master: Master) -> None:
    sheet = "Portfolio"
    assert [master.formula(sheet, f"{c}5") for c in "LMNOPQST"] == [f"=SUM({c}2:{c}4)" for c in "LMNOPQST"]
    assert master.formula(sheet, "R5") == '=IF(M5=0,"",Q5/M5)'
    assert master.formula(sheet, "U5") is None and master.formula(sheet, "K5") is None
    month = ("_xlfn.MAXIFS('Status data'!$B$2:$B$3,'Status data'!$A$2:$A$3,$A3),"
             "_xlfn.MAXIFS('Status data (2)'!$B$2:$B$2,'Status data (2)'!$A$2:$A$2,$A3)")
    assert master.formula(sheet, "X3") == f'=IF((MAX({month}))=0,"",(MAX({month})))'
    # PRJ-2's latest report is on the second part of Status data: RAG and summary are looked up there.
    position = ("SUMPRODUCT(MAX(('Status data (2)'!$A$2:$A$2=$A3)*('Status data (2)'!$B$2:$B$2=$X3)"
                "*(ROW('Status data (2)'!$A$2:$A$2)-1)))")
    assert master.formula(sheet, "Y3") == f'=IF($X3="","",INDEX(\'Status data (2)\'!$C$2:$C$2,{position})&"")'
    assert master.formula(sheet, "Z3") == f'=IF($X3="","",INDEX(\'Status data (2)\'!$G$2:$G$2,{position})&"")'
    # PRJ-3 has no report: looked up on the first part, cached blank.
    assert master.formula(sheet, "Y4").startswith("=IF($X4=\"\",\"\",INDEX('Status data'!$C$2:$C$3,")


def test_portfolio_number_formats_and_layout(master: Master) -> None:
    sheet = master.formulas["Portfolio"]
    formats = {col: sheet[f"{col}2"].number_format for col in "GHJKLMNOPQRSTUX"}
    assert formats == {"G": "yyyy-mm-dd", "H": "yyyy-mm-dd", "J": "0.0000", "K": "0%", "L": MONEY, "M": MONEY,
                       "N": MONEY, "O": MONEY, "P": MONEY, "Q": MONEY, "R": "0%", "S": "0", "T": "0", "U": "0",
                       "X": "mmm yyyy"}
    assert [sheet[f"{col}5"].number_format for col in "LMRST"] == [MONEY, MONEY, "0%", "0", "0"]
    assert sheet["A5"].font.b and sheet["M5"].font.b and sheet["M5"].border.top.style == "thin"
    assert sheet["Z2"].alignment.wrap_text
    # The summary column wraps as a whole (a summary typed below the table too); the comments beside it are
    # formatted cell by cell.
    def column_wraps(col: int) -> bool:  # XlsxWriter stores alike neighbouring columns as one range
        [dimension] = [d for d in sheet.column_dimensions.values() if d.min <= col <= d.max]
        return bool(dimension.alignment.wrap_text)
    assert column_wraps(26) and not column_wraps(27)
    assert sheet["A1"].font.b and sheet["A1"].font.color.rgb == "FFFFFFFF" and sheet["A1"].fill.fgColor.rgb == "FF1F4E78"
    assert sheet.row_dimensions[1].height == 45
    assert sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref == "A1:AB4"
    rules = {(str(rng.sqref), rule.formula[0] if rule.formula else rule.text)
             for rng in sheet.conditional_formatting for rule in rng.rules}
    assert rules == {("V2:V4", 'ISERROR(SEARCH("ok",V2))'), ("F2:F4", '"Green"'), ("F2:F4", '"Amber"'), ("F2:F4", '"Red"'),
                     ("Y2:Y4", '"Green"'), ("Y2:Y4", '"Amber"'), ("Y2:Y4", '"Red"')}
    assert master.formulas.active.title == "Portfolio"


# ---- Programs -------------------------------------------------------------------------------------------

def test_programs_cache_each_programs_sum_of_its_portfolio_rows(master: Master) -> None:
    assert master.row("Programs", 1, last="K") == ["Program", "Projects", "Budget", "Actuals", "Forecast", "EAC",
                                                   "Variance", "Variance %", "Open Risks", "High Risks", None]
    # The blank program (PRJ-3) sorts first; its label cell is blank, as EXACT() compares it with blanks.
    assert master.row("Programs", 2, last="K") == [None, 1, 50, 0, 60, 60, -10, -0.2, 0, 0, None]
    assert master.row("Programs", 3, last="K") == ["Alpha", 1, 300, 40, 260, 300, 0, 0, 2, 1, None]
    assert master.row("Programs", 4, last="K") == ["Beta", 1, 450, 150, 150, 300, 150, pytest.approx(1 / 3), 1, 1, None]
    assert master.values["Programs"].max_row == 4
    sheet = master.values["Programs"]
    assert type(sheet["B3"].value) is int and type(sheet["I3"].value) is int and type(sheet["J4"].value) is int


def test_programs_formulas_compare_programs_exactly(master: Master) -> None:
    same = "--EXACT(Portfolio!$C$2:$C$4,$A3)"
    assert [master.formula("Programs", f"{c}3") for c in "BCDEFGHIJ"] == [
        f"=SUMPRODUCT({same})", *(f"=SUMPRODUCT({same},Portfolio!${c}$2:${c}$4)" for c in "MNOPQ"),
        '=IF(C3=0,"",G3/C3)', f"=SUMPRODUCT({same},Portfolio!$S$2:$S$4)", f"=SUMPRODUCT({same},Portfolio!$T$2:$T$4)"]
    sheet = master.formulas["Programs"]
    assert [sheet[f"{c}3"].number_format for c in "BCGHI"] == ["0", MONEY, MONEY, "0%", "0"]
    assert sheet["A1"].comment.text.startswith("Each figure adds up the Portfolio rows whose Program is exactly this "
                                               "one: EXACT() compares text as written, capitals included.")
    assert sheet.freeze_panes == "B2"


def chart_parts(xml: str) -> list[str]:
    """A chart's titles, series, colours, axes and legend, in order (cached data and boilerplate left out)."""
    xml = re.sub(r"<c:(numCache|strCache)>.*?</c:\1>", "", xml)
    return re.findall(r"<a:t>[^<]*</a:t>|<c:f>[^<]*</c:f>|<c:(?:barChart|lineChart)>|<c:barDir val=\"\w+\"/>"
                      r"|srgbClr val=\"\w+\"|<c:numFmt formatCode=\"[^\"]*\" sourceLinked=\"0\"/>"
                      r"|<c:legendPos val=\"\w+\"/>|<a:rPr lang=\"en-US\" sz=\"\d+\" b=\"1\"", xml)


def test_programs_and_history_charts_plot_budget_against_eac(master: Master) -> None:
    charts = sorted(name for name in zipfile.ZipFile(master.path).namelist() if name.startswith("xl/charts/chart"))
    assert charts == ["xl/charts/chart1.xml", "xl/charts/chart2.xml"]
    assert chart_parts(master.xml(charts[0])) == [
        '<a:rPr lang="en-US" sz="1200" b="1"', "<a:t>Budget vs EAC by program (USD)</a:t>",
        "<c:barChart>", '<c:barDir val="col"/>',
        "<c:f>Programs!$C$1</c:f>", 'srgbClr val="1F4E78"', "<c:f>Programs!$A$2:$A$4</c:f>", "<c:f>Programs!$C$2:$C$4</c:f>",
        "<c:f>Programs!$F$1</c:f>", 'srgbClr val="ED7D31"', "<c:f>Programs!$A$2:$A$4</c:f>", "<c:f>Programs!$F$2:$F$4</c:f>",
        "<a:t>Program</a:t>", 'srgbClr val="D9D9D9"', "<a:t>USD</a:t>", '<c:numFmt formatCode="#,##0" sourceLinked="0"/>',
        '<c:legendPos val="b"/>']
    assert chart_parts(master.xml(charts[1])) == [
        '<a:rPr lang="en-US" sz="1200" b="1"', "<a:t>Budget and EAC over time (USD)</a:t>", "<c:lineChart>",
        "<c:f>History!$F$1</c:f>", "<c:f>History!$A$2:$A$3</c:f>", "<c:f>History!$F$2:$F$3</c:f>",
        "<c:f>History!$H$1</c:f>", "<c:f>History!$A$2:$A$3</c:f>", "<c:f>History!$H$2:$H$3</c:f>",
        "<a:t>Sync</a:t>", "<a:t>USD</a:t>", '<c:numFmt formatCode="#,##0" sourceLinked="0"/>', '<c:legendPos val="b"/>']
    # Programs: 720 x 360 pixels from A7 (below the three program rows and a gap); History: the default
    # 480 x 288 from A5.
    # (column, offset, row, offset) of each chart's corners, offsets in EMU (9,525 a pixel).
    anchors = [[int(n) for n in re.findall(r"<xdr:(?:col|colOff|row|rowOff)>(\d+)<", master.xml(f"xl/drawings/drawing{n}.xml"))]
               for n in (1, 2)]
    assert anchors == [[0, 0, 6, 0, 5, 847725, 24, 0], [0, 0, 4, 0, 4, 285750, 18, 76200]]


def test_one_sync_of_history_has_no_chart_and_no_program_none(tmp_path: Path) -> None:
    path = tmp_path / "master.xlsx"
    empty = portfolio_of([])
    write_master(path, MasterContent("Empty", "USD", FX, empty, [], HISTORY[:1], "2026-06-01T10:00:00"))
    with zipfile.ZipFile(path) as archive:
        assert not [name for name in archive.namelist() if name.startswith("xl/charts/")]
    written = Master(path)
    assert written.row("Portfolio", 2, last="T") == ["Total", *[None] * 10, 0, 0, 0, 0, 0, 0, None, 0, 0]
    assert written.formula("Portfolio", "M2") == "=0"  # not SUM(M2:M1), which would add up itself
    assert written.formulas["Portfolio"].auto_filter.ref == "A1:AA2"
    assert written.values["Programs"].max_row == 1


# ---- Finance --------------------------------------------------------------------------------------------

def finance_rows(master: Master, first: int, last: int) -> list[list[Any]]:
    return [master.row("Finance", row, last="G") for row in range(first, last + 1)]


def test_finance_sections_cache_converted_sums_by_program_cost_center_category_and_period(master: Master) -> None:
    assert master.value("Finance", "A1") == "Hand portfolio: budget, actuals and forecast in USD"
    assert finance_rows(master, 4, 8) == [
        ["Program", "Budget", "Actual", "Forecast", "EAC", "Variance", "Program Key"],
        ["Alpha", 300, 40, 260, 300, 0, 1],
        ["Beta", 450, 150, 150, 300, 150, 2],
        ["(blank)", 50, 0, 60, 60, -10, 3],
        ["Total", 800, 190, 470, 660, 140, None]]
    assert finance_rows(master, 11, 15) == [
        ["Cost Center", "Budget", "Actual", "Forecast", "EAC", "Variance", "Cost Center Key"],
        ["CC-1", 550, 190, 200, 390, 160, 1],
        ["CC-2", 200, 0, 210, 210, -10, 2],
        ["(blank)", 50, 0, 60, 60, -10, 3],
        ["Total", 800, 190, 470, 660, 140, None]]
    assert finance_rows(master, 18, 21) == [
        ["Category", "Budget", "Actual", "Forecast", "EAC", "Variance", "Category Key"],
        ["Labour", 600, 190, 260, 450, 150, 1],
        ["Software", 200, 0, 210, 210, -10, 2],
        ["Total", 800, 190, 470, 660, 140, None]]
    assert finance_rows(master, 24, 29) == [
        ["Fiscal Period", "Budget", "Actual", "Forecast", "EAC", "Variance", "Fiscal Period Key"],
        ["FY2027-P01", 550, 190, 200, 390, 160, 1],
        ["FY2027-P02", 200, 0, 210, 210, -10, 2],
        ["FY2027-P03", 50, 0, 60, 60, -10, 3],
        ["Total", 800, 190, 470, 660, 140, None],
        [None] * 7]


def test_finance_formulas_sum_each_currency_by_key_times_its_rate(master: Master) -> None:
    def term(sheet: str, value: str, key: str, last: int, row: int) -> str:
        return (f"SUMPRODUCT(SUMIFS('{sheet}'!${value}$2:${value}${last},'{sheet}'!${key}$2:${key}${last},$G{row},"
                f"'{sheet}'!$I$2:$I${last},FX!$A$2:$A$4),FX!$B$2:$B$4)")
    def both(value: str, key: str, row: int) -> str:  # the term of each part of Budget data, added up
        return f"={term('Budget data', value, key, 3, row)}+{term('Budget data (2)', value, key, 3, row)}"
    assert master.formula("Finance", "B5") == both("J", "P", 5)
    assert master.formula("Finance", "C13") == both("K", "Q", 13)
    assert master.formula("Finance", "D20") == both("L", "R", 20)
    assert master.formula("Finance", "B27").startswith(f"={term('Budget data', 'J', 'S', 3, 27)}+")
    assert [master.formula("Finance", c) for c in ("E6", "F6", "B8", "F8", "B15", "E29")] == [
        "=C6+D6", "=B6-E6", "=SUM(B5:B7)", "=SUM(F5:F7)", "=SUM(B12:B14)", None]
    sheet = master.formulas["Finance"]
    assert sheet["G5"].value == 1 and sheet["G5"].number_format == "0"
    assert [sheet[c].number_format for c in ("B5", "E5", "F5", "B8", "F8")] == [MONEY] * 5
    assert sheet["A7"].font.i and not sheet["A5"].font.i  # "(blank)" is a note, not a program called so
    assert sheet["A8"].font.b and sheet["B8"].font.b and sheet["A1"].font.b and sheet["A1"].font.sz == 14
    assert "A2:G2" in {str(r) for r in sheet.merged_cells.ranges}
    assert master.value("Finance", "A2") == (
        "Each figure adds every currency's SUMIFS over Budget data times that currency's rate on the FX sheet, for the "
        "lines whose key column on Budget data holds the row's key (column G).")
    # The "Category Key" header (8 bold letters a line, 1.32 units each, plus 2) widens G past the 12 asked:
    # 12.56, stored by XlsxWriter as 13.29.
    assert sheet.column_dimensions["G"].width == pytest.approx(13.285, abs=0.01)
    assert sheet.row_dimensions[2].height == 30


def test_finance_with_no_budget_line_totals_zero(tmp_path: Path) -> None:
    fields, _ = PROJECTS[0]
    path = tmp_path / "master.xlsx"
    write_master(path, MasterContent("Empty", "USD", FX, portfolio_of([(fields, {})]), [], [], "2026-06-01T10:00:00"))
    written = Master(path)
    assert finance_rows(written, 4, 5) == [
        ["Program", "Budget", "Actual", "Forecast", "EAC", "Variance", "Program Key"],
        ["Total", 0, 0, 0, 0, 0, None]]
    assert written.formula("Finance", "B5") == "=0"
    assert written.row("Portfolio", 2, first="M", last="R") == [0, 0, 0, 0, 0, None]
    assert written.row("Portfolio", 3, first="L", last="T") == [1000, 0, 0, 0, 0, 0, None, 0, 0]
    assert written.row("Programs", 2, last="J") == ["Alpha", 1, 0, 0, 0, 0, 0, None, 0, 0]  # no budget: no variance %
    # Each data table on one sheet: ranges reach row 2 even for an empty table.
    assert written.formula("Portfolio", "M2") == "=(SUMIFS('Budget data'!$J$2:$J$2,'Budget data'!$A$2:$A$2,$A2))*$J2"
    assert written.formula("Portfolio", "U2") == ("=_xlfn.MAXIFS('Risk data'!$I$2:$I$2,'Risk data'!$A$2:$A$2,$A2,"
                                                  "'Risk data'!$N$2:$N$2,\"<>Closed\")")
    assert "Programs" in written.formulas.sheetnames and "Comments archive" not in written.formulas.sheetnames
    assert written.formulas["Data quality"].auto_filter.ref == "A1:J2"
    # No source: each column as wide as asked, or as its bold, wrapped header's longest word needs.
    assert widths(written.formulas, "Data quality") == [36, 12, 12, 18, 10, 13, 90, 20, 20, 13]
    assert widths(written.formulas, "History") == [20, 13, 12, 12, 12, 16, 16, 16, 16, 10, 10]
    assert {str(rng.sqref) for rng in written.formulas["Data quality"].conditional_formatting} == {"D2"}


# ---- Risks ----------------------------------------------------------------------------------------------

def test_the_heat_map_counts_open_risks_by_probability_and_impact(master: Master) -> None:
    heat = [master.row("Risks", row, last="G") for row in range(3, 9)]
    assert heat == [["Impact \\ Probability", 1, 2, 3, 4, 5, None],
                    [5, 0, 0, 1, 0, 0, None],
                    [4, 0, 0, 0, 0, 1, None],
                    [3, 0, 1, 0, 0, 0, None],
                    [2, 0, 0, 0, 0, 0, None],
                    [1, 0, 0, 0, 0, 0, None]]
    assert master.formula("Risks", "F5") == (
        "=COUNTIFS('Risk data'!$G$2:$G$3,5,'Risk data'!$H$2:$H$3,4,'Risk data'!$N$2:$N$3,\"<>Closed\")"
        "+COUNTIFS('Risk data (2)'!$G$2:$G$3,5,'Risk data (2)'!$H$2:$H$3,4,'Risk data (2)'!$N$2:$N$3,\"<>Closed\")")
    sheet = master.formulas["Risks"]
    # Red from a score of 15, amber from 8, else green.
    colours = {cell: sheet[cell].fill.fgColor.rgb for cell in ("F4", "D4", "C4", "B4", "E6", "D6", "C5", "B6", "B8")}
    assert colours == {"F4": "FFFFC7CE", "D4": "FFFFC7CE", "C4": "FFFFEB9C", "B4": "FFC6EFCE", "E6": "FFFFEB9C",
                       "D6": "FFFFEB9C", "C5": "FFFFEB9C", "B6": "FFC6EFCE", "B8": "FFC6EFCE"}  # C5: 2 x 4 = 8
    header = style(master.formulas["Portfolio"]["A1"])
    assert style(sheet["B3"]) == header and style(sheet["A4"]) == header and style(sheet["A8"]) == header
    assert sheet["B4"].font.b and sheet["B4"].alignment.horizontal == "center"
    assert master.value("Risks", "A1") == "Open risks by probability and impact"


def test_top_open_risks_list_by_score_with_their_source_cell(master: Master) -> None:
    assert master.value("Risks", "A10") == "Top open risks (as of this sync; the heat map above is live)"
    assert [master.row("Risks", row, last="K") for row in range(11, 15)] == [
        ["Project ID", "Risk ID", "Title", "Probability", "Impact", "Score", "Rating", "Owner", "Due Date", "Source", None],
        ["PRJ-1", "R-1", "Risk R-1", 5, 4, 20, "High", "Bo", dt.datetime(2026, 7, 1), "projects/PRJ-1.xlsx Risks!2", None],
        ["PRJ-2", "R-1", "Risk R-1", 3, 5, 15, "High", "Bo", None, "projects/PRJ-2.xlsx Risks!2", None],
        ["PRJ-1", "R-3", "Risk R-3", 2, 3, 6, "Low", "Bo", None, "projects/PRJ-1.xlsx Risks!4", None]]
    assert master.values["Risks"].max_row == 14
    assert master.formulas["Risks"]["I12"].number_format == "yyyy-mm-dd"


def test_top_open_risks_stop_at_fifteen_in_score_then_id_order(tmp_path: Path) -> None:
    risks = [risk(f"R-{i:02d}", 1 + i % 5, 1 + i // 5 % 5, "Open") for i in range(20)]
    others = [risk("R-00", 4, 4, "Open"), risk("R-99", 5, 4, "Open")]
    path = tmp_path / "master.xlsx"
    portfolio = portfolio_of([(PROJECTS[0][0], {"risks": risks}), (PROJECTS[1][0], {"risks": others})])
    write_master(path, MasterContent("Many", "USD", FX, portfolio, [], [], "2026-06-01T10:00:00"))
    listed = [tuple(master_row[:2]) for master_row in Master(path).values["Risks"].iter_rows(
        min_row=12, values_only=True)]
    by_score = sorted([("PRJ-1", r) for r in risks] + [("PRJ-2", r) for r in others],
                      key=lambda pr: (-pr[1]["probability"] * pr[1]["impact"], pr[0], pr[1]["risk_id"]))
    assert listed == [(project_id, r["risk_id"]) for project_id, r in by_score[:15]]
    # Score 20, then 16, then 15; a tie goes to the first project, then the first risk ID.
    assert listed[:5] == [("PRJ-1", "R-19"), ("PRJ-2", "R-99"), ("PRJ-1", "R-18"), ("PRJ-2", "R-00"), ("PRJ-1", "R-14")]


# ---- per-part subtotals ---------------------------------------------------------------------------------

def test_figures_over_many_parts_add_up_per_part_subtotals_each_cached(subtotalled: Master) -> None:
    sheet = subtotalled.formulas["Part subtotals"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert [cell.value for cell in sheet[1]] == ["Feeds", "Combined As", "Data Sheet", "Part 1", "Part 2"]
    budget = rows["Portfolio!M3"]
    assert budget == ("Portfolio!M3", "SUM", "Budget data",
                      "=SUMIFS('Budget data'!$J$2:$J$3,'Budget data'!$A$2:$A$3,Portfolio!$A3)",
                      "=SUMIFS('Budget data (2)'!$J$2:$J$3,'Budget data (2)'!$A$2:$A$3,Portfolio!$A3)")
    subtotal_row = next(row for row in range(2, sheet.max_row + 1) if sheet.cell(row, 1).value == "Portfolio!M3")
    assert subtotalled.formula("Portfolio", "M3") == f"=(SUM('Part subtotals'!$D${subtotal_row}:$E${subtotal_row}))*$J3"
    assert rows["Portfolio!U2"][1] == "MAX"
    assert subtotalled.formula("Portfolio", "U2").startswith("=MAX('Part subtotals'!$D$")
    assert sheet.freeze_panes == "D2"
    assert None not in [sheet.cell(row, 1).value for row in range(1, sheet.max_row + 1)]  # one row after another

    every = [(row[0], row[3:]) for row in subtotalled.values["Part subtotals"].iter_rows(min_row=2, values_only=True)]
    cached = dict(every)  # % complete has two rows, the count then the sum: the dict keeps the sum
    assert [parts for feeds, parts in every if feeds == "Portfolio!K2"] == [(2, 0), (1.5, 0)]
    # PRJ-1's lines are both on part 1; PRJ-2's and PRJ-3's on part 2. Money per part before the rate.
    assert cached["Portfolio!M2"] == (300, 0) and cached["Portfolio!M3"] == (0, 300) and cached["Portfolio!M4"] == (0, 50)
    assert cached["Portfolio!N3"] == (0, 100) and cached["Portfolio!O2"] == (260, 0)
    # Tasks: PRJ-1 has 50% and 100% on part 1 and a blank on part 2; PRJ-2 25% on part 2.
    assert cached["Portfolio!K3"] == (0, 0.25)
    # Risks: PRJ-1's 5x4 (open, High) and 1x1 (closed) on part 1, its 2x3 on part 2.
    assert cached["Portfolio!S2"] == (1, 1) and cached["Portfolio!T2"] == (1, 0) and cached["Portfolio!U2"] == (20, 6)
    assert cached["Portfolio!U3"] == (0, 15) and cached["Portfolio!X2"] == (46143, 0)  # 2026-05-01
    assert cached["Portfolio!X3"] == (0, 46082)  # 2026-03-01, on Status data (2)
    # Finance in USD per part: CC-1 is PRJ-1's 100 (part 1) and PRJ-2's EUR 300 (part 2).
    assert cached["Finance!B12"] == (100, 450) and cached["Finance!D26"] == (210, 0) and cached["Finance!C6"] == (0, 150)
    assert cached["Risks!F5"] == (1, 0) and cached["Risks!D4"] == (0, 1) and cached["Risks!C6"] == (0, 1)
    assert cached["Risks!B8"] == (0, 0)

    # The cells fed by the subtotals cache the same figures as inline formulas.
    assert subtotalled.row("Portfolio", 2, first="K", last="U") == [0.75, 1000, 300, 40, 260, 300, 0, 0, 2, 1, 20]
    assert subtotalled.row("Finance", 12, last="F") == ["CC-1", 550, 190, 200, 390, 160]


def test_only_the_figures_that_outgrow_a_formula_go_through_part_subtotals(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # One project with its tasks on two sheets: of the two figures of % complete, the count (133
    # characters) outgrows a limit of 119 and the sum (119) just fits; the figures of one-sheet tables
    # (under 100) fit too.
    monkeypatch.setattr(master_module, "INLINE_PARTS_LIMIT", 119)
    fields, tables = PROJECTS[0]
    path = tmp_path / "master.xlsx"
    write_master(path, MasterContent("Tasks", "USD", FX, portfolio_of([(fields, {"tasks": tables["tasks"]})]), [], [],
                                     "2026-06-01T10:00:00", max_rows=3))
    written = Master(path)
    feeds = [row[:3] for row in written.formulas["Part subtotals"].iter_rows(min_row=2, values_only=True)]
    assert feeds == [("Portfolio!K2", "SUM", "Task data")]
    assert written.formula("Portfolio", "K2").startswith("=IF((SUM('Part subtotals'!$D$2:$E$2))=0,\"\",(SUMIFS(")
    assert written.formula("Portfolio", "M2").startswith("=(SUMIFS(")
    assert written.value("Portfolio", "K2") == 0.75
    assert widths(written.formulas, "Part subtotals")[2:] == [14, 14, 14]  # sheet names of nine letters fit in 14


def test_per_part_subtotals_name_cells_of_the_sheet_they_feed(subtotalled: Master) -> None:
    rows = {row[0]: row for row in subtotalled.formulas["Part subtotals"].iter_rows(min_row=2, values_only=True)}
    assert rows["Finance!B5"][3] == ("=SUMPRODUCT(SUMIFS('Budget data'!$J$2:$J$3,'Budget data'!$P$2:$P$3,Finance!$G5,"
                                     "'Budget data'!$I$2:$I$3,FX!$A$2:$A$4),FX!$B$2:$B$4)")
    # A literal criterion (a number, "<>Closed") stays as it is.
    assert rows["Risks!F5"][4] == ("=COUNTIFS('Risk data (2)'!$G$2:$G$3,5,'Risk data (2)'!$H$2:$H$3,4,"
                                   "'Risk data (2)'!$N$2:$N$3,\"<>Closed\")")


# ---- the parts themselves -------------------------------------------------------------------------------

def test_data_tables_continue_on_numbered_sheets_each_with_its_header(master: Master) -> None:
    names = master.formulas.sheetnames
    assert names[:11] == ["Portfolio", "Programs", "Finance", "Risks", "Status trend", "RAID and changes",
                          "Dependencies", "Resources", "Data quality", "History", "FX"]
    assert names[11:] == ["Project data", "Project data (2)", "Task data", "Task data (2)",
                          "Budget data", "Budget data (2)", "Risk data", "Risk data (2)", "Resource data", "RAID data",
                          "Change data", "Status data", "Status data (2)", "Comments archive"]
    projects = [row[0] for name in ("Project data", "Project data (2)")
                for row in master.values[name].iter_rows(min_row=2, values_only=True)]
    assert projects == ["PRJ-1", "PRJ-2", "PRJ-3"]
    budget2 = master.values["Budget data (2)"]
    assert [cell.value for cell in budget2[1]][:4] == ["Project ID", "Program", "Fiscal Period", "Line ID"]
    assert [row[:3] for row in budget2.iter_rows(min_row=2, values_only=True)] == [
        ("PRJ-2", "Beta", "FY2027-P01"), ("PRJ-3", None, "FY2027-P03")]
    assert budget2.freeze_panes == "C2" and budget2.auto_filter.ref == "A1:S3"
    assert master.formulas["Budget data (2)"].print_area == "'Budget data (2)'!$A$1:$S$3"
    # Each column carries its format, for rows typed below the table too.
    columns = master.formulas["Budget data (2)"].column_dimensions
    assert [columns[c].number_format for c in "AHJO"] == ["General", "yyyy-mm-dd", MONEY, "0"]


def test_data_sheet_cells_keep_their_kind_lineage_and_group_keys(master: Master) -> None:
    budget = master.formulas["Budget data"]
    header = [cell.value for cell in budget[1]]
    assert header == ["Project ID", "Program", "Fiscal Period", "Line ID", "Category", "Cost Center", "Description",
                      "Period", "Currency", "Budget", "Actual", "Forecast", "Source", "Source Sheet", "Source Row",
                      "Program Key", "Cost Center Key", "Category Key", "Fiscal Period Key"]
    first = [cell.value for cell in budget[2]]
    assert first == ["PRJ-1", "Alpha", "FY2027-P01", "L01", "Labour", "CC-1", "Work", dt.datetime(2026, 4, 1), "USD",
                     100, 40, 50, "projects/PRJ-1.xlsx", "Budget", 2, 1, 1, 1, 1]
    assert budget["H2"].number_format == "yyyy-mm-dd" and budget["J2"].number_format == MONEY
    assert budget["O2"].number_format == "0" and budget["A2"].number_format == "General"
    blank = [cell.value for cell in master.formulas["Budget data (2)"][3]]
    assert blank[5] is None and blank[16] == 3  # no cost centre: a blank cell, its own group
    tasks = master.formulas["Task data"]
    assert tasks["I2"].value == 0.5 and tasks["I2"].number_format == "0%"
    assert master.formulas["Task data (2)"]["I2"].value is None  # the blank % complete stays blank
    assert master.formulas["Risk data"]["G2"].number_format == "0"
    assert master.formulas["Resource data"].max_row == 1  # an empty table: its header only
    assert master.formulas["Resource data"].auto_filter.ref == "A1:L2"


# ---- the other sheets -----------------------------------------------------------------------------------

def test_data_quality_lists_the_worst_sources_first(master: Master) -> None:
    sheet = master.values["Data quality"]
    assert [cell.value for cell in sheet[1]] == ["Source", "Kind", "Project ID", "Status", "Errors", "Warnings",
                                                "First Findings", "Last Checked", "Last Good Sync", "Template Version"]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "projects/z.xlsx", "projects/i.xlsx", "projects/j.xlsx", "projects/d.xlsx", "projects/x.xlsx",
        "projects/s.xlsx", "projects/a.xlsx", "projects/b.xlsx"]  # by problem, worst first, then by name
    assert [cell.value for cell in sheet[3]] == [
        "projects/i.xlsx", "excel", "PRJ-6", "invalid, never valid", 1, 0, "Tasks!B2 required: empty",
        "2026-06-01T10:00:00", "never", None]
    assert [cell.value for cell in sheet[9]] == [
        "projects/b.xlsx", "excel", "PRJ-2", "ok", 0, 1, "Tasks!C3 dates: finish before start", "2026-06-01T10:00:00",
        "2026-06-01T10:00:00", "2.0"]
    assert sheet["C2"].value is None
    formulas = master.formulas["Data quality"]
    assert formulas["G3"].alignment.wrap_text and formulas["G3"].alignment.vertical == "top"
    assert formulas.freeze_panes == "B2" and formulas.auto_filter.ref == "A1:J9"
    rules = [(str(rng.sqref), rule.operator, rule.text, rule.dxf.fill.fgColor.rgb if rule.dxf.fill.fgColor else None)
             for rng in formulas.conditional_formatting for rule in rng.rules]
    assert [(sqref, operator, text) for sqref, operator, text, _ in rules] == [
        ("D2:D9", "beginsWith", "ok"), ("D2:D9", "notContains", "ok")]


def test_history_rows_hold_each_syncs_headline_figures(master: Master) -> None:
    sheet = master.formulas["History"]
    assert [cell.value for cell in sheet[1]] == ["Synced At", "Projects", "Sources OK", "Sources Stale", "Sources Failed",
                                                "Budget", "Actuals", "EAC", "Variance", "Open Risks", "High Risks"]
    assert [cell.value for cell in sheet[2]] == ["2026-05-01T09:00:00", 2, 2, 0, 1, 700.5, 100, 600, 100.5, 2, 1]
    assert [cell.value for cell in sheet[3]] == ["2026-06-01T10:00:00", 3, 3, None, None, 800, 190, 660, 140, 3, 2]
    assert [sheet[f"{c}2"].number_format for c in "BEFGHIJ"] == ["General", "General", MONEY, MONEY, MONEY, MONEY,
                                                                "General"]
    assert sheet.freeze_panes == "B2"


def test_fx_and_comments_archive(master: Master) -> None:
    fx = master.formulas["FX"]
    assert [[cell.value for cell in row] for row in fx.iter_rows(max_col=2)] == [
        ["Currency", "USD per unit"], ["EUR", 1.5], ["GBP", 2], ["USD", 1]]
    assert fx["C1"].value == "Note" and fx.max_row == 4
    assert fx["B2"].number_format == "0.0000" and fx["B2"].fill.fgColor.rgb == "FFFFF2CC"
    assert fx["C2"].value == "Change a rate here and every converted total in the workbook follows."
    assert fx["C3"].value == "Rates come from portfolio.toml [fx]; the next sync writes them again from there."
    assert fx["C2"].font.i and fx.freeze_panes == "A2"
    archive = master.formulas["Comments archive"]
    assert [[cell.value for cell in row] for row in archive.iter_rows(max_col=6)] == [
        ["Project ID", "Column", "Comment", "Archived At", None,
         "Comments on projects that are no longer in the portfolio are kept here."],
        ["PRJ-9", "Finance comment", "Closed out", "2026-05-01T09:00:00", None, None]]


def test_the_master_is_marked_as_ours_and_prints_with_its_heading(master: Master) -> None:
    properties = master.xml("docProps/custom.xml")
    assert re.search(r"<vt:lpwstr>pmo-sheets [0-9.]+[^<]*</vt:lpwstr>", properties)
    for sheet in ("Portfolio", "Finance", "Budget data (2)"):
        header = master.formulas[sheet].oddHeader
        assert (header.left.text, header.right.text) == ("Hand portfolio", "synced 2026-06-01T10:00:00")


def test_rich_text_lookalikes_are_written_as_typed(tmp_path: Path) -> None:
    fields, tables = PROJECTS[0]
    path = tmp_path / "master.xlsx"
    portfolio = portfolio_of([({**fields, "project_name": "<r>x</r>"}, tables)])
    write_master(path, MasterContent("Odd", "USD", FX, portfolio, [], [], "2026-06-01T10:00:00",
                                     comments={"PRJ-1": {"Finance comment": "<r>y</r>"}}))
    written = Master(path)
    assert written.value("Portfolio", "B2") == "<r>x</r>"
    assert written.value("Portfolio", "AA2") == "<r>y</r>"
    assert written.formulas["Portfolio"]["AA2"].fill.fgColor.rgb == "FFFFF2CC"
    # One project: every range is the one row.
    rules = {str(rng.sqref) for rng in written.formulas["Portfolio"].conditional_formatting}
    assert rules == {"V2", "F2", "Y2"}
    assert written.formula("Programs", "B2") == "=SUMPRODUCT(--EXACT(Portfolio!$C$2:$C$2,$A2))"
    assert written.formulas["Portfolio"].auto_filter.ref == "A1:AA2"


# ---- building blocks ------------------------------------------------------------------------------------

def test_sheet_parts_give_each_rows_part_and_ranges() -> None:
    refs = DataSheetRefs("tasks", [("Task data", 3), ("Task data (2)", 3), ("Task data (3)", 0)])
    assert refs.starts == [0, 3, 6]
    assert [refs.part_of(row) for row in (0, 2, 3, 5, 6)] == [0, 0, 1, 1, 2]
    assert refs.ranges("percent_complete") == ["'Task data'!$I$2:$I$4", "'Task data (2)'!$I$2:$I$4",
                                               "'Task data (3)'!$I$2:$I$2"]
    one = DataSheetRefs("risks", [("Risk data", 5)])
    assert one.maxifs("score", ("project_id", "$A2")).inline() == \
        "_xlfn.MAXIFS('Risk data'!$I$2:$I$6,'Risk data'!$A$2:$A$6,$A2)"
    assert one.sumifs("score", ("status", '"Open"')).terms("Portfolio") == [
        "SUMIFS('Risk data'!$I$2:$I$6,'Risk data'!$N$2:$N$6,\"Open\")"]
    assert one.countifs(("project_id", "$A$2")).terms("My Sheet") == [
        "COUNTIFS('Risk data'!$A$2:$A$6,'My Sheet'!$A$2)"]
    figure = PartsFigure(refs, "SUMIFS", (("project_id", "B7"),), "percent_complete", "ROUND({},2)")
    assert figure.inline() == ("ROUND(SUMIFS('Task data'!$I$2:$I$4,'Task data'!$A$2:$A$4,B7),2)"
                               "+ROUND(SUMIFS('Task data (2)'!$I$2:$I$4,'Task data (2)'!$A$2:$A$4,B7),2)"
                               "+ROUND(SUMIFS('Task data (3)'!$I$2:$I$2,'Task data (3)'!$A$2:$A$2,B7),2)")
    assert not figure.largest and PartsFigure(refs, "MAXIFS", ()).largest


@pytest.mark.parametrize(("value", "kind", "shown"), [
    (None, "text", None), (float("nan"), "text", None), (None, "date", None),
    (dt.date(2026, 3, 1), "date", 46082), (dt.datetime(2026, 3, 1, 15, 0), "date", 46082),
    (pytest.importorskip("pandas").Timestamp("2026-03-01"), "date", 46082), ("2026-03-01", "date", None),
    (dt.datetime(2026, 3, 1, 15, 30), "text", "2026-03-01T15:30:00"), ("Ops", "text", "Ops"), (7, "text", 7),
])
def test_a_value_becomes_what_a_cell_shows(value: Any, kind: str, shown: Any) -> None:
    assert _cell_value(value, kind) == shown


def test_cell_values_are_plain_python_and_blanks_none() -> None:
    import numpy as np
    import pandas as pd
    assert type(_cell_value(np.int64(3), "text")) is int and _cell_value(pd.NaT, "date") is None
    assert _cell_value(pd.NaT, "text") is None
    frame = pd.DataFrame({"when": pd.to_datetime(["2026-03-01", None]), "amount": [1.5, float("nan")]})
    assert _column_values(frame, DataColumn("when", "When", "date")) == [46082, None]
    assert _column_values(frame, DataColumn("amount", "Amount", "money")) == [1.5, None]
    assert _column_values(frame, DataColumn("other", "Other")) == [None, None]
    assert [_num(v) for v in (2, "3.5", None, "x", float("nan"))] == [2.0, 3.5, 0.0, 0.0, 0.0]


def test_schema_columns_show_as_their_kind_on_data_sheets() -> None:
    example = load_tables()["tasks"].columns[0]

    def spec(schema: dict[str, Any], number_format: str | None = None) -> ColumnSpec:
        return replace(example, schema=schema, number_format=number_format)
    assert [_data_kind(spec(schema, fmt)) for schema, fmt in (
        ({"type": "string", "format": "date"}, None), ({"type": "integer"}, None), ({"type": "number"}, "0%"),
        ({"type": "number"}, "#,##0.00"), ({"type": "number"}, None), ({"type": "string"}, None),
        ({"enum": ["a"]}, None))] == ["date", "integer", "percent", "money", "money", "text", "text"]
    columns = schema_data_columns("raid")
    assert (columns[0].field, columns[0].header, columns[0].width) == ("project_id", "Project ID", 12)
    assert [(c.field, c.header, c.kind) for c in columns[-3:]] == [
        ("source", "Source", "text"), ("sheet", "Source Sheet", "text"), ("row", "Source Row", "integer")]
    due = next(c for c in columns if c.field == "due")
    assert (due.header, due.kind) == ("Due Date", "date")
    assert all(c.width <= 40 for c in columns)
    summary = next(c for c in schema_data_columns("status") if c.field == "summary")
    assert (summary.kind, summary.width) == ("text", 40)  # 50 wide on the template: a data sheet starts at 40


# ---- the file -------------------------------------------------------------------------------------------

def test_too_many_parts_is_a_configuration_error_and_nothing_is_written(tmp_path: Path) -> None:
    fields, _ = PROJECTS[0]
    tasks = [task(str(i), None) for i in range(1, 1_002)]  # 1,001 rows at 1 a sheet: 1,001 sheets
    with pytest.raises(ConfigError, match=r"^Task data has 1,001 rows: at max_rows_per_sheet = 2 that is 1,001 sheets, "
                                          r"more than the 1,000 one table may take; raise max_rows_per_sheet to at "
                                          r"least 3 in portfolio.toml; nothing was written$"):
        write_master(tmp_path / "master.xlsx", MasterContent("Big", "USD", FX, portfolio_of([(fields, {"tasks": tasks})]),
                                                             [], [], "2026-06-01T10:00:00", max_rows=2))
    assert list(tmp_path.iterdir()) == []


def test_a_table_may_take_as_many_parts_as_allowed_and_no_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(master_module, "MAX_PARTS", 3)
    fields, _ = PROJECTS[0]
    path = tmp_path / "master.xlsx"
    # One row a sheet: three tasks take three sheets, each with its own row. Task ID 7 is a number in a
    # text column: it stays text.
    tasks = [task("1", 0.5), task("2", None), {**task("3", 1.0), "task_id": 7}]
    write_master(path, MasterContent("Three", "USD", FX, portfolio_of([(fields, {"tasks": tasks})]), [], [],
                                     "2026-06-01T10:00:00", max_rows=2))
    book = openpyxl.load_workbook(path)
    assert [[row[1] for row in book[name].iter_rows(min_row=2, values_only=True)]
            for name in ("Task data", "Task data (2)", "Task data (3)")] == [["1"], ["2"], ["7"]]
    assert "Task data (4)" not in book.sheetnames
    with pytest.raises(ConfigError, match=r"^Task data has 4 rows: at max_rows_per_sheet = 2 that is 4 sheets, more "
                                          r"than the 3 one table may take; raise max_rows_per_sheet to at least 3 "):
        write_master(path, MasterContent("Four", "USD", FX, portfolio_of([(fields, {"tasks": [*tasks, task("4", None)]})]),
                                         [], [], "2026-06-01T10:00:00", max_rows=2))


def test_people_are_keyed_on_resource_data_as_typed(tmp_path: Path) -> None:
    fields, _ = PROJECTS[0]
    resources = [{"person": name, "role": "Dev", "month": "2026-04-01", "allocation": 0.5}
                 for name in ("Bo", "Ann", "Bo", "ann")]
    path = tmp_path / "master.xlsx"
    write_master(path, MasterContent("People", "USD", FX, portfolio_of([(fields, {"resources": resources})]), [], [],
                                     "2026-06-01T10:00:00"))
    sheet = openpyxl.load_workbook(path)["Resource data"]
    header = [cell.value for cell in sheet[1]]
    people = [(row[header.index("Person")], row[header.index("Person Key")])
              for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert people == [("Bo", 2), ("Ann", 1), ("Bo", 2), ("ann", 3)]  # sorted as typed: "Ann" < "Bo" < "ann"


def test_the_temporary_master_is_named_as_a_sync_knows_to_clean_up(previous: Path) -> None:
    names: list[str] = []
    write_master(previous, content(), before_replace=lambda: names.extend(p.name for p in previous.parent.iterdir()))
    [temporary] = [name for name in names if name != "master.xlsx"]
    assert re.fullmatch(r"\.master\.[a-z0-9_]{8}\.xlsx\.tmp", temporary)


@pytest.fixture
def previous(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "out" / "master.xlsx"
    path.parent.mkdir()
    path.write_bytes(b"previous master")
    yield path


def test_a_failure_before_the_rename_leaves_the_previous_master_and_no_temporary_file(previous: Path) -> None:
    def refuse() -> None:
        raise OSError("state store full")
    with pytest.raises(OSError, match="state store full"):
        write_master(previous, content(), before_replace=refuse)
    assert previous.read_bytes() == b"previous master"
    assert sorted(p.name for p in previous.parent.iterdir()) == ["master.xlsx"]


def test_a_full_disk_is_an_oserror_and_leaves_the_previous_master(previous: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import xlsxwriter.workbook
    full = OSError(28, "No space left on device")

    def no_space(self: Any, *args: Any, **kwargs: Any) -> None:
        raise xlsxwriter.workbook.FileCreateError(full)
    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "_store_workbook", no_space)
    with pytest.raises(OSError) as raised:
        write_master(previous, content())
    assert raised.value is full
    assert previous.read_bytes() == b"previous master"
    assert sorted(p.name for p in previous.parent.iterdir()) == ["master.xlsx"]


def test_the_master_keeps_its_file_mode_and_a_new_one_follows_the_umask(previous: Path, tmp_path: Path) -> None:
    os.chmod(previous, 0o640)
    seen: list[int] = []
    write_master(previous, content(), progress=seen.append,
                 before_replace=lambda: seen.append(-1))
    assert stat.S_IMODE(previous.stat().st_mode) == 0o640
    assert zipfile.is_zipfile(previous)
    # Progress counts the rows of each data sheet part as written, then the rename waits for before_replace.
    assert seen == [2, 1, 2, 2, 2, 2, 2, 2, 0, 0, 0, 2, 1, -1]
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "new" / "folder" / "master.xlsx"  # folders made as needed
        write_master(fresh, content())
    finally:
        os.umask(old)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # rw for all, less the umask's write bits; never executable
    assert sorted(p.name for p in fresh.parent.iterdir()) == ["master.xlsx"]


@pytest.mark.parametrize("closing_error", [OSError(28, "No space left on device"), ValueError("closed file")])
def test_a_disk_full_while_zipping_closes_the_half_written_zip_and_removes_it(
        previous: Path, monkeypatch: pytest.MonkeyPatch, closing_error: Exception) -> None:
    import xlsxwriter.workbook
    opened: list[zipfile.ZipFile] = []

    class FullDisk(zipfile.ZipFile):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

        def write(self, *args: Any, **kwargs: Any) -> None:
            raise OSError(28, "No space left on device")

        def _write_end_record(self) -> None:  # closing fails too, on the same full disk
            raise closing_error
    monkeypatch.setattr(xlsxwriter.workbook, "ZipFile", FullDisk)
    with pytest.raises(OSError, match="No space left on device") as raised:
        write_master(previous, content())
    assert raised.value is not closing_error
    # Closed now, not by the garbage collector later (which would fail again and print to stderr).
    assert len(opened) == 1 and opened[0].fp is None
    assert previous.read_bytes() == b"previous master"
    assert sorted(p.name for p in previous.parent.iterdir()) == ["master.xlsx"]


def test_a_file_error_without_an_os_error_is_still_an_os_error(previous: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xlsxwriter.workbook

    def refuse(self: Any) -> None:
        raise xlsxwriter.workbook.FileCreateError("cannot create the file")
    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "_store_workbook", refuse)
    with pytest.raises(OSError, match=r"^cannot create the file$") as raised:
        write_master(previous, content())
    assert type(raised.value) is OSError
    assert isinstance(raised.value.__cause__, xlsxwriter.workbook.FileCreateError)
    assert sorted(p.name for p in previous.parent.iterdir()) == ["master.xlsx"]


def test_a_formula_over_excels_8192_characters_is_refused(tmp_path: Path) -> None:
    writer = MasterWriter(tmp_path / "master.xlsx", content())
    sheet = writer._sheet("Sums")
    longest = "=" + "1+" * 4_095 + "1"  # 8,192 characters: what Excel holds
    assert len(longest) == 8_192
    writer._formula(sheet, 0, 0, longest, None, 4_096)
    with pytest.raises(RuntimeError, match=r"^Sums!C5: a formula of 8,193 characters, over Excel's 8,192$"):
        writer._formula(sheet, 4, 2, longest + "0", None, 0)
    writer.book.close()


def style(cell: Any) -> dict[str, Any]:
    """What a reader sees of a cell's format."""
    font, fill, alignment, border = cell.font, cell.fill, cell.alignment, cell.border

    def rgb(colour: Any) -> str | None:  # a theme colour (the default) is no colour of ours
        return colour.rgb if colour is not None and colour.type == "rgb" else None
    return {"bold": bool(font.b), "italic": bool(font.i), "size": font.sz, "colour": rgb(font.color),
            "fill": fill.fgColor.rgb if fill.fill_type == "solid" else None,
            "wrap": bool(alignment.wrap_text), "vertical": alignment.vertical, "horizontal": alignment.horizontal,
            "borders": tuple(side.style for side in (border.left, border.right, border.top, border.bottom)),
            "border colour": rgb(border.left.color),
            "number": cell.number_format}


PLAIN = {"bold": False, "italic": False, "size": 11, "colour": None, "fill": None, "wrap": False, "vertical": None,
         "horizontal": None, "borders": (None, None, None, None), "border colour": None, "number": "General"}


def test_each_kind_of_cell_looks_as_a_reader_expects(master: Master) -> None:
    portfolio, finance = master.formulas["Portfolio"], master.formulas["Finance"]
    header = {**PLAIN, "bold": True, "colour": "FFFFFFFF", "fill": "FF1F4E78", "wrap": True, "vertical": "center",
              "borders": ("thin",) * 4, "border colour": "FFBFBFBF"}
    assert style(portfolio["A1"]) == header
    assert style(master.formulas["Data quality"]["J1"]) == header
    assert style(finance["A1"]) == {**PLAIN, "bold": True, "size": 14, "colour": "FF1F4E78"}
    assert style(finance["A7"]) == {**PLAIN, "italic": True, "colour": "FF595959"}  # "(blank)"
    assert style(finance["A2"]) == {**PLAIN, "italic": True, "colour": "FF595959", "wrap": True, "vertical": "top"}
    assert style(portfolio["J2"]) == {**PLAIN, "fill": "FFFFF2CC", "borders": ("thin",) * 4, "number": "0.0000"}
    total = {**PLAIN, "bold": True, "borders": (None, None, "thin", None)}
    assert style(portfolio["A5"]) == total
    assert style(portfolio["M5"]) == {**total, "number": MONEY}
    assert style(portfolio["S5"]) == {**total, "number": "0"}
    assert style(portfolio["R5"]) == {**total, "number": "0%"}
    assert style(portfolio["AA2"]) == {**PLAIN, "fill": "FFFFF2CC", "wrap": True}
    assert style(portfolio["AB2"]) == PLAIN and style(portfolio["AA3"]) == PLAIN  # no comment: a plain cell
    assert style(portfolio["Z2"]) == {**PLAIN, "wrap": True, "vertical": "top"}
    assert style(portfolio["X2"]) == {**PLAIN, "number": "mmm yyyy"}
    assert style(portfolio["A2"]) == PLAIN and style(portfolio["B2"]) == PLAIN
    assert style(master.formulas["Risks"]["F4"]) == {**PLAIN, "bold": True, "fill": "FFFFC7CE", "horizontal": "center",
                                                    "borders": ("thin",) * 4}
    assert style(master.formulas["Data quality"]["G2"]) == {**PLAIN, "wrap": True, "vertical": "top"}
    assert style(master.formulas["Data quality"]["G8"]) == {**PLAIN, "wrap": True, "vertical": "top"}  # none yet


def test_highlights_are_green_amber_and_red(master: Master) -> None:
    def fills(sheet: str) -> dict[tuple[str, str], str]:
        return {(str(rng.sqref), rule.formula[0] if rule.formula else rule.text): rule.dxf.fill.bgColor.rgb
                for rng in master.formulas[sheet].conditional_formatting for rule in rng.rules}
    assert fills("Portfolio") == {
        ("V2:V4", 'ISERROR(SEARCH("ok",V2))'): "FFFFEB9C",
        ("F2:F4", '"Green"'): "FFC6EFCE", ("F2:F4", '"Amber"'): "FFFFEB9C", ("F2:F4", '"Red"'): "FFFFC7CE",
        ("Y2:Y4", '"Green"'): "FFC6EFCE", ("Y2:Y4", '"Amber"'): "FFFFEB9C", ("Y2:Y4", '"Red"'): "FFFFC7CE"}
    quality = [(str(rng.sqref), rule.type, rule.operator, rule.text, rule.dxf.fill.bgColor.rgb)
               for rng in master.formulas["Data quality"].conditional_formatting for rule in rng.rules]
    assert quality == [("D2:D9", "beginsWith", "beginsWith", "ok", "FFC6EFCE"),
                       ("D2:D9", "notContainsText", "notContains", "ok", "FFFFC7CE")]


def widths(book: Workbook, sheet: str) -> list[int | None]:
    """Each column's width as the sheet shows it, A onwards (XlsxWriter stores a width w as w + 0.71)."""
    found: dict[int, int] = {}
    for dimension in book[sheet].column_dimensions.values():
        if dimension.width:
            found.update({col: round(dimension.width - 0.71) for col in range(dimension.min, dimension.max + 1)})
    return [found.get(col) for col in range(1, max(found) + 1)]


def test_columns_are_as_wide_as_asked_or_as_their_content_needs(master: Master, subtotalled: Master) -> None:
    # Widened past what the writer asks: text at 1.2 width units a character plus 2 (bold headers 1.32
    # a character, wrapped headers by their longest word): "In Progress" 15, "Currency" 13, "% Complete"
    # 13, "2026-06-01T00:00:00" 25, the longest Data quality status 60 (the most any column is widened).
    book = master.formulas
    assert widths(book, "Portfolio") == [12, 30, 22, 18, 15, 8, 14, 14, 13, 9, 13, 15, 15, 15, 15, 15, 15, 13, 9, 9, 11,
                                         14, 25, 14, 10, 40, 40, 40]
    assert widths(book, "Programs") == [26, 13, 16, 16, 16, 16, 16, 13, 10, 10]
    assert widths(book, "Finance") == [26, 16, 16, 16, 16, 16, 13]
    assert widths(book, "Risks") == [20, 9, 40, 17, 10, 9, 10, 9, 14, 34]
    assert widths(book, "Data quality") == [36, 12, 12, 60, 10, 13, 90, 25, 25, 13]
    assert widths(book, "History") == [25, 13, 12, 12, 12, 16, 16, 16, 16, 10, 10]
    assert widths(book, "FX") == [13, 16, 70]
    assert widths(book, "Comments archive") == [12, 20, 70, 25]
    assert widths(book, "Budget data (2)") == [12, 22, 14, 8, 13, 11, 30, 14, 13, 14, 14, 14, 30, 10, 10, 11, 10, 13, 10]
    assert widths(book, "Status data") == [12, 14, 11, 13, 10, 10, 40, 40, 40, 40, 30, 10, 10]
    assert widths(subtotalled.formulas, "Part subtotals")[3:] == [14, 14]


def test_overdue_raid_items_per_part_are_judged_on_the_sync_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(master_module, "INLINE_PARTS_LIMIT", 0)
    fields, _ = PROJECTS[0]
    raid = [{"raid_id": "I-1", "type": "Issue", "title": "Late", "due": "2026-05-01", "priority": "High", "status": "Open"},
            {"raid_id": "I-2", "type": "Issue", "title": "Soon", "due": "2026-07-01", "priority": "High", "status": "Open"},
            {"raid_id": "I-3", "type": "Issue", "title": "Done", "due": "2026-05-01", "priority": "High",
             "status": "Closed"}]
    path = tmp_path / "master.xlsx"
    write_master(path, MasterContent("RAID", "USD", FX, portfolio_of([(fields, {"raid": raid})]), [], [],
                                     "2026-06-01T10:00:00", max_rows=3))
    written = Master(path)
    overdue = [(row[3:5], cached[3:5]) for row, cached in zip(
        written.formulas["Part subtotals"].iter_rows(min_row=2, values_only=True),
        written.values["Part subtotals"].iter_rows(min_row=2, values_only=True), strict=True)
        if row[2] == "RAID data" and '"<"&' in row[3]]
    # Synced on 1 June: I-1 (due 1 May, open) is overdue, on the first part; I-2 is not yet, I-3 is closed.
    assert [cached for _, cached in overdue] == [(1, 0)]
