"""The master portfolio workbook, written with XlsxWriter: data sheets with lineage, rollups as live
formulas with correct cached values, data quality, history, FX, and finance's own columns.

Every rollup number is a formula over the data sheets (SUMIFS / COUNTIFS / MAXIFS / INDEX-MATCH,
functions both Excel and LibreOffice know) whose cached value comes from :mod:`pmo_sheets.rollups`.
Amounts are converted to the reporting currency through the FX sheet, so changing a rate there
moves every total. Data sheets continue on "(2)", "(3)"... sheets past ``max_rows`` rows, and the
formulas add up every part; a figure over so many parts that its formula would grow long adds up
per-part subtotals on the "Part subtotals" sheet instead, so no formula passes Excel's 8,192
characters.

No criterion is ever built from free text. SUMIFS and its kin read a criterion as an operator
(``<TBD>``, ``>5``, ``=X``), a pattern (``R&D*``, ``Phase ?``, ``~temp``) or a number (``2026``),
case-insensitively, so the Finance sheet sums by a group key (an integer that Budget data carries
beside each line) and the Programs sheet compares programs with EXACT(). The per-project formulas
key on the Project ID, whose pattern allows no operator or wildcard and which consolidation keeps
apart from any ID a criterion would confuse it with.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.worksheet import Worksheet

from pmo_sheets import __version__
from pmo_sheets.cells import column_letter, quote_sheet
from pmo_sheets.coerce import date_to_serial
from pmo_sheets.config import ConfigError
from pmo_sheets.consolidate import Portfolio
from pmo_sheets.master_dependencies import DEPENDENCIES_SHEET, write_dependencies
from pmo_sheets.master_print import LaidOutWorksheet, PrintHeading, apply_page_setup, shown_characters
from pmo_sheets.master_raid import RAID_SHEET, write_raid_and_changes
from pmo_sheets.master_resources import RESOURCES_SHEET, write_resources
from pmo_sheets.master_status import TREND_SHEET, write_status_trend
from pmo_sheets.masterfile import MASTER_PROPERTY, temp_affixes
from pmo_sheets.ratings import RISK_HIGH_FROM, RISK_MEDIUM_FROM
from pmo_sheets.rollups import (
    EXCEL_EPOCH,
    GROUPINGS,
    converted_by_key,
    group_keys,
    group_rollup,
    heat_counts,
    latest_status,
    program_rollup,
    project_rollup,
    table_figures,
)
from pmo_sheets.schemas import ColumnSpec, load_tables
from pmo_sheets.sheetdata import DataColumnValues, SheetBody, fit_cell_text, splice

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_FORMULA = 8_192  # characters in one formula, Excel's limit
# A figure over many data-sheet parts is written inline while its part terms fit in this many characters
# (the longest formula, % complete, holds three such figures); past it, it adds up per-part subtotals.
INLINE_PARTS_LIMIT = 2_000
# Sheets one data table may be split into. Beyond it the workbook is more sheets than spreadsheet programs
# open comfortably (LibreOffice stops at 10,000 in all), and the Part subtotals rows would outgrow a sheet.
MAX_PARTS = 1_000
FINANCE_COMMENT = "Finance comment"
PORTFOLIO_SHEET = "Portfolio"
ARCHIVE_SHEET = "Comments archive"
PART_SUBTOTALS_SHEET = "Part subtotals"


@dataclass
class SourceStatus:
    """One row of the Data quality sheet."""

    label: str
    kind: str
    project_id: str | None
    status: str
    errors: int
    warnings: int
    first_findings: str
    last_checked: str
    last_good_sync: str | None
    template_version: str | None = None  # as the source was last read: a portfolio may mix versions


@dataclass
class MasterContent:
    """Everything the master shows."""

    name: str
    reporting_currency: str
    fx: dict[str, float]
    portfolio: Portfolio
    sources: list[SourceStatus]
    history: list[tuple[str, dict[str, Any]]]
    synced_at: str
    comment_headers: list[str] = field(default_factory=lambda: [FINANCE_COMMENT])
    comments: dict[str, dict[str, str]] = field(default_factory=dict)
    archived_comments: list[tuple[str, str, str, str]] = field(default_factory=list)
    max_rows: int = EXCEL_MAX_ROWS


@dataclass
class DataColumn:
    field: str
    header: str
    kind: str = "text"  # text, date, number, money, percent, integer
    width: float = 14


#: Where every data row came from, the last columns of each data sheet.
LINEAGE_COLUMNS = (DataColumn("source", "Source", width=30), DataColumn("sheet", "Source Sheet", width=10),
                   DataColumn("row", "Source Row", "integer", 10))
#: The widest a data sheet column starts (a 2,000-character summary would otherwise take the screen).
DATA_WIDTH_LIMIT = 40


def _data_kind(column: ColumnSpec) -> str:
    """How a schema column shows on a data sheet: its kind of value and the template's number format."""
    if column.kind == "date":
        return "date"
    if column.kind == "integer":
        return "integer"
    if column.kind == "number":
        return "percent" if (column.number_format or "").endswith("%") else "money"
    return "text"


def schema_data_columns(table: str) -> list[DataColumn]:
    """A data sheet's columns straight from the table's schema: the Project ID, every column a PM types,
    under the template's own header, then the lineage. (Template 2.0's tables; the first four tables'
    sheets are spelt out below, with the extra columns consolidation adds to them.)"""
    columns = [DataColumn("project_id", "Project ID", width=12)]
    for column in load_tables()[table].input_columns:
        columns.append(DataColumn(column.name, column.title, _data_kind(column), min(column.width, DATA_WIDTH_LIMIT)))
    return [*columns, *LINEAGE_COLUMNS]


DATA_SHEETS: dict[str, tuple[str, list[DataColumn]]] = {
    "projects": ("Project data", [
        DataColumn("project_id", "Project ID", width=12), DataColumn("project_name", "Project Name", width=30),
        DataColumn("program", "Program", width=22), DataColumn("portfolio", "Portfolio"),
        DataColumn("project_manager", "Project Manager", width=18), DataColumn("pm_email", "PM E-mail", width=24),
        DataColumn("sponsor", "Sponsor", width=18), DataColumn("start_date", "Start Date", "date"),
        DataColumn("finish_date", "Finish Date", "date"), DataColumn("status", "Status"), DataColumn("rag", "RAG", width=8),
        DataColumn("priority", "Priority", width=10), DataColumn("currency", "Currency", width=9),
        DataColumn("approved_budget", "Approved Budget", "money"), DataColumn("data_status", "Data Status"),
        DataColumn("last_good_sync", "Last Good Sync", width=20), DataColumn("source", "Source", width=30),
        DataColumn("sheet", "Source Sheet", width=10)]),
    "tasks": ("Task data", [
        DataColumn("project_id", "Project ID", width=12), DataColumn("task_id", "Task ID", width=9),
        DataColumn("task_name", "Task Name", width=30), DataColumn("owner", "Owner", width=16),
        DataColumn("start", "Start", "date"), DataColumn("finish", "Finish", "date"),
        DataColumn("baseline_start", "Baseline Start", "date"), DataColumn("baseline_finish", "Baseline Finish", "date"),
        DataColumn("percent_complete", "% Complete", "percent", 10), DataColumn("status", "Status"),
        DataColumn("milestone", "Milestone", width=9), DataColumn("predecessors", "Predecessors"),
        *LINEAGE_COLUMNS]),
    "budget": ("Budget data", [
        DataColumn("project_id", "Project ID", width=12), DataColumn("program", "Program", width=22),
        DataColumn("fiscal_period", "Fiscal Period", width=12), DataColumn("line_id", "Line ID", width=8),
        DataColumn("category", "Category", width=12), DataColumn("cost_center", "Cost Center", width=11),
        DataColumn("description", "Description", width=30), DataColumn("period", "Period", "date"),
        DataColumn("currency", "Currency", width=9), DataColumn("budget", "Budget", "money"),
        DataColumn("actual", "Actual", "money"), DataColumn("forecast", "Forecast", "money"),
        *LINEAGE_COLUMNS,
        # The Finance sheet's group keys (rollups.group_keys): its rows sum by these, never by the text.
        DataColumn("program_key", "Program Key", "integer", 9),
        DataColumn("cost_center_key", "Cost Center Key", "integer", 9),
        DataColumn("category_key", "Category Key", "integer", 9),
        DataColumn("fiscal_period_key", "Fiscal Period Key", "integer", 9)]),
    "risks": ("Risk data", [
        DataColumn("project_id", "Project ID", width=12), DataColumn("risk_id", "Risk ID", width=9),
        DataColumn("title", "Title", width=36), DataColumn("category", "Category", width=12),
        DataColumn("owner", "Owner", width=16), DataColumn("raised", "Date Raised", "date"),
        DataColumn("probability", "Probability", "integer", 10), DataColumn("impact", "Impact", "integer", 8),
        DataColumn("score", "Score", "integer", 7), DataColumn("rating", "Rating", width=8),
        DataColumn("response", "Response", width=10), DataColumn("mitigation", "Mitigation", width=30),
        DataColumn("due_date", "Due Date", "date"), DataColumn("status", "Status", width=11),
        *LINEAGE_COLUMNS]),
    # The Resources sheet sums by the person key (rollups.group_keys), never by the name.
    "resources": ("Resource data", [*schema_data_columns("resources"), DataColumn("person_key", "Person Key", "integer", 9)]),
    **{table: (sheet_name, schema_data_columns(table)) for table, sheet_name in (
        ("raid", "RAID data"), ("changes", "Change data"), ("status", "Status data"))},
}

_CELL_CRITERION = re.compile(r"\$?[A-Z]{1,3}\$?[0-9]+")


class DataSheetRefs:
    """Where a data table landed: its sheet parts and row counts, to build ranges for formulas."""

    def __init__(self, table: str, parts: list[tuple[str, int]]):
        self.table = table
        self.parts = parts  # (sheet name, number of data rows)
        self.columns = {c.field: i + 1 for i, c in enumerate(DATA_SHEETS[table][1])}
        self.starts = [sum(rows for _, rows in parts[:i]) for i in range(len(parts))]  # first frame row of each part

    def ranges(self, field_name: str) -> list[str]:
        letter = column_letter(self.columns[field_name])
        return [f"{quote_sheet(name)}!${letter}$2:${letter}${max(rows, 1) + 1}" for name, rows in self.parts]

    def part_of(self, frame_row: int) -> int:
        """The part holding the table's ``frame_row``-th row (0-based)."""
        return max(i for i, start in enumerate(self.starts) if start <= frame_row)

    def sumifs(self, value: str, *criteria: tuple[str, str]) -> PartsFigure:
        """SUMIFS over every part of the table, added up."""
        return PartsFigure(self, "SUMIFS", criteria, value)

    def countifs(self, *criteria: tuple[str, str]) -> PartsFigure:
        """COUNTIFS over every part of the table, added up."""
        return PartsFigure(self, "COUNTIFS", criteria)

    def maxifs(self, value: str, *criteria: tuple[str, str]) -> PartsFigure:
        """MAXIFS over every part of the table, the largest of them."""
        return PartsFigure(self, "MAXIFS", criteria, value)


@dataclass(frozen=True)
class PartsFigure:
    """One figure gathered from every part of a data table: a SUMIFS, COUNTIFS or MAXIFS per part, each
    optionally wrapped (``wrap``, with ``{}`` for the term), added up or, for MAXIFS, the largest.

    A criterion is ``(field, expression)``: a literal (``"<>Closed"``, ``3``), a range, or a cell of
    the sheet the formula is written on (``$A5``).
    """

    refs: DataSheetRefs
    function: str  # SUMIFS, COUNTIFS or MAXIFS
    criteria: tuple[tuple[str, str], ...]
    value: str | None = None
    wrap: str = "{}"

    @property
    def largest(self) -> bool:
        return self.function == "MAXIFS"

    def terms(self, home: str | None = None) -> list[str]:
        """One term per part. With ``home``, a criterion that is a cell is named with that sheet, for
        terms written on another sheet."""
        # MAXIFS came with Excel 2019, so the file must name it _xlfn.MAXIFS. Spelt out here rather than
        # through XlsxWriter's use_future_functions, which scans every formula with ~150 regexes.
        name = "_xlfn.MAXIFS" if self.largest else self.function
        criteria = [(self.refs.ranges(f), _qualified(expression, home)) for f, expression in self.criteria]
        values = self.refs.ranges(self.value) if self.value else None
        terms = []
        for part in range(len(self.refs.parts)):
            arguments = ([values[part]] if values else []) + [f"{ranges[part]},{e}" for ranges, e in criteria]
            terms.append(self.wrap.format(f"{name}({','.join(arguments)})"))
        return terms

    def inline(self) -> str:
        """The figure as one expression over every part."""
        terms = self.terms()
        if self.largest:
            return terms[0] if len(terms) == 1 else "MAX(" + ",".join(terms) + ")"
        return "+".join(terms)


def _qualified(expression: str, home: str | None) -> str:
    if home is not None and _CELL_CRITERION.fullmatch(expression):
        return f"{quote_sheet(home)}!{expression}"
    return expression


class PartSubtotals:
    """The "Part subtotals" sheet, made on first use: one row per figure gathered from too many data-sheet
    parts for one formula, its per-part terms side by side; the figure's own cell adds up (or takes the
    largest of) its row."""

    def __init__(self, writer: MasterWriter, parts: int):
        self.writer = writer
        self.parts = parts  # the most parts any table has: the columns to head
        self.sheet: Worksheet | None = None
        self.row = 0

    def _open(self) -> Worksheet:
        writer = self.writer
        sheet = writer._sheet(PART_SUBTOTALS_SHEET)
        headers = ["Feeds", "Combined As", "Data Sheet"] + [f"Part {i}" for i in range(1, self.parts + 1)]
        writer._header(sheet, 0, headers, [14, 11, 14] + [14] * self.parts)
        sheet.freeze_panes(1, 3)
        return sheet

    def add(self, feeds: str, figure: PartsFigure, home: str, part_values: list[float]) -> str:
        """Write ``figure``'s per-part terms (cached values ``part_values``) on a new row; returns the
        expression that combines them, for the cell ``feeds`` (as "Sheet!A1")."""
        if self.sheet is None:
            self.sheet = self._open()
        self.row += 1
        row, sheet, writer = self.row, self.sheet, self.writer
        combine = "MAX" if figure.largest else "SUM"
        writer._text(sheet, row, 0, feeds)
        writer._text(sheet, row, 1, combine)
        writer._text(sheet, row, 2, figure.refs.parts[0][0])
        for col, (term, value) in enumerate(zip(figure.terms(home), part_values, strict=True), start=3):
            writer._formula(sheet, row, col, term, None, value)
        first, last = column_letter(4), column_letter(3 + len(part_values))
        return f"{combine}({quote_sheet(PART_SUBTOTALS_SHEET)}!${first}${row + 1}:${last}${row + 1})"


def _cell_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if kind == "date":
        if isinstance(value, (pd.Timestamp, dt.datetime)):
            return date_to_serial(value.date())
        if isinstance(value, dt.date):
            return date_to_serial(value)
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


class MasterWriter:
    """Writes one master workbook; ``write_master`` is the entry point."""

    def __init__(self, path: Path, content: MasterContent):
        self.content = content
        self.book = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                                    "strings_to_numbers": False, "strings_to_formulas": False,
                                                    "strings_to_urls": False})
        self.book.set_custom_property(MASTER_PROPERTY, f"pmo-sheets {__version__}")  # how a sync knows its master
        add = self.book.add_format
        self.formats = {
            "header": add({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78", "text_wrap": True,
                           "valign": "vcenter", "border": 1, "border_color": "#BFBFBF"}),
            "title": add({"bold": True, "font_size": 14, "font_color": "#1F4E78"}),
            "note": add({"italic": True, "font_color": "#595959"}),
            "wrapped_note": add({"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"}),
            "date": add({"num_format": "yyyy-mm-dd"}),
            "money": add({"num_format": "#,##0.00;[Red]-#,##0.00"}),
            "percent": add({"num_format": "0%"}),
            "integer": add({"num_format": "0"}),
            "rate": add({"num_format": "0.0000", "bg_color": "#FFF2CC", "border": 1}),
            "total_label": add({"bold": True, "top": 1}),
            "total_money": add({"bold": True, "top": 1, "num_format": "#,##0.00;[Red]-#,##0.00"}),
            "total_int": add({"bold": True, "top": 1, "num_format": "0"}),
            "total_pct": add({"bold": True, "top": 1, "num_format": "0%"}),
            "comment": add({"bg_color": "#FFF2CC", "text_wrap": True}),
            "month": add({"num_format": "mmm yyyy"}),
            "wrapped": add({"text_wrap": True, "valign": "top"}),
            "green": add({"bg_color": "#C6EFCE"}), "amber": add({"bg_color": "#FFEB9C"}), "red": add({"bg_color": "#FFC7CE"}),
        }
        self.path = path
        self.pending: list[tuple[str, list[tuple[list[Any], str]], int]] = []
        self.refs: dict[str, DataSheetRefs] = {}
        self.frames: dict[str, pd.DataFrame] = {}  # each data table as its sheets show it
        self.part_figures: dict[tuple[str, ...], Any] = {}  # per-part subtotals, computed on demand, as dicts
        self.subtotals = PartSubtotals(self, 1)
        self.fx_currencies = sorted(content.fx)

    # ----------------------------------------------------------------- helpers
    def _sheet(self, name: str) -> LaidOutWorksheet:
        # A LaidOutWorksheet notes what each cell shows, for the column widths and page setup (master_print).
        return self.book.add_worksheet(name, worksheet_class=LaidOutWorksheet)

    def _text(self, sheet: Worksheet, row: int, col: int, value: Any, cell_format: Any = None) -> None:
        """Write a value; text exactly as given (cut only past what a cell holds).

        XlsxWriter writes a string that starts with ``<r>`` and ends with ``</r>`` as raw rich-text XML
        (a broken cell); written as plain runs ("<", "r", ">...</r>": it wants three), it shows as typed.
        """
        if not isinstance(value, str) or value == "":  # "" is a blank cell, as XlsxWriter's write() makes it
            sheet.write(row, col, value, cell_format)
            return
        text = fit_cell_text(value)
        if text.startswith("<r>") and text.endswith("</r>"):
            runs = [text[:1], text[1:2], text[2:]]
            sheet.write_rich_string(row, col, *runs, *([cell_format] if cell_format is not None else []))
        else:
            sheet.write_string(row, col, text, cell_format)

    def _formula(self, sheet: Worksheet, row: int, col: int, formula: str, cell_format: Any, value: Any) -> None:
        """Write a formula and its cached value; a formula Excel could not hold is a bug, never a file."""
        if len(formula) > EXCEL_MAX_FORMULA:
            raise RuntimeError(f"{sheet.name}!{column_letter(col + 1)}{row + 1}: a formula of {len(formula):,} "
                               f"characters, over Excel's {EXCEL_MAX_FORMULA:,}")
        sheet.write_formula(row, col, formula, cell_format, value)

    def _header(self, sheet: Worksheet, row: int, headers: Sequence[str], widths: Sequence[float] | None = None) -> None:
        for col, header in enumerate(headers):
            self._text(sheet, row, col, header, self.formats["header"])
            if widths:
                sheet.set_column(col, col, widths[col])

    def _fx_range(self, column: str) -> str:
        return f"FX!${column}$2:${column}${len(self.fx_currencies) + 1}"

    def _gather(self, figure: PartsFigure, *, home: str, row: int, col: int,
                part_values: Callable[[int], float]) -> str:
        """``figure`` as an expression for the cell (``row``, ``col``) of sheet ``home``: inline when short,
        else the sum (or largest) of its per-part subtotals (cached values ``part_values(part)``)."""
        inline = figure.inline()
        if len(inline) <= INLINE_PARTS_LIMIT:
            return inline
        values = [part_values(part) for part in range(len(figure.refs.parts))]
        return self.subtotals.add(f"{home}!{column_letter(col + 1)}{row + 1}", figure, home, values)

    def _part_frame(self, table: str, part: int) -> pd.DataFrame:
        refs = self.refs[table]
        start = refs.starts[part]
        return self.frames[table].iloc[start:start + refs.parts[part][1]]

    def _parts_of_rows(self, table: str) -> pd.Series:
        """Each row's sheet part (0-based), aligned with the table's frame."""
        refs, frame = self.refs[table], self.frames[table]
        numbers = [part for part, (_, rows) in enumerate(refs.parts) for _ in range(rows)]
        return pd.Series(numbers, index=frame.index, name="_part", dtype="int64")

    def _project_parts(self, table: str, project_id: str, name: str, *,
                       as_of: dt.date | None = None) -> Callable[[int], float]:
        """Part -> one project's figure ``name`` (of rollups.table_figures, overdue judged on ``as_of``)
        from that part of ``table``."""
        def value(part: int) -> float:
            key = ("project", table)
            if key not in self.part_figures:  # every part's figures at once: one groupby, not one a part
                frame = self.frames[table].assign(_part=self._parts_of_rows(table))
                self.part_figures[key] = table_figures(table, frame, ("_part", "project_id"), as_of=as_of).to_dict()
            return _num(self.part_figures[key].get(name, {}).get((part, project_id), 0.0))
        return value

    def _finance_parts(self, by: str, group: int, name: str) -> Callable[[int], float]:
        """Part -> one Finance group's converted figure ``name`` from that part of Budget data."""
        def value(part: int) -> float:
            key = ("finance", by)
            if key not in self.part_figures:
                budget = self.frames["budget"]
                figures = converted_by_key(budget, self.content.fx, [self._parts_of_rows("budget"),
                                                                     budget[GROUPINGS[by]]])
                self.part_figures[key] = figures.to_dict()
            return _num(self.part_figures[key].get(name, {}).get((part, group), 0.0))
        return value

    def _heat_parts(self, probability: int, impact: int) -> Callable[[int], float]:
        """Part -> open risks of that probability and impact on that part of Risk data."""
        def value(part: int) -> float:
            key = ("heat", str(part))
            if key not in self.part_figures:
                self.part_figures[key] = heat_counts(self._part_frame("risks", part))
            return self.part_figures[key][(probability, impact)]
        return value

    # ------------------------------------------------------------- the sheets
    def write(self, progress: Callable[[int], None] | None = None) -> None:
        """Write every sheet in reading order: rollups first, then data, quality, history, FX."""
        content = self.content
        self.rollup = project_rollup(content.portfolio, content.fx)
        names = ["Portfolio", "Programs", "Finance", "Risks", TREND_SHEET, RAID_SHEET, DEPENDENCIES_SHEET, RESOURCES_SHEET,
                 "Data quality", "History", "FX"]
        sheets = {name: self._sheet(name) for name in names}
        budget = content.portfolio.tables["budget"]
        resources = content.portfolio.tables["resources"]
        self.frames = {"projects": content.portfolio.projects, **content.portfolio.tables,
                       "budget": budget.assign(**{key: group_keys(budget, by) for by, key in GROUPINGS.items()}),
                       "resources": resources.assign(person_key=group_keys(resources, "person"))}
        # Data sheets go after the rollups; their refs are needed by the rollup formulas, so plan them first.
        data_plan = {}
        for table in DATA_SHEETS:
            frame = self.frames[table]
            sheet_name = DATA_SHEETS[table][0]
            rows = len(frame)
            per_sheet = max(1, content.max_rows - 1)
            count = max(1, math.ceil(rows / per_sheet))
            if count > MAX_PARTS:
                raise ConfigError(
                    f"{sheet_name} has {rows:,} rows: at max_rows_per_sheet = {content.max_rows:,} that is {count:,} "
                    f"sheets, more than the {MAX_PARTS:,} one table may take; raise max_rows_per_sheet to at least "
                    f"{math.ceil(rows / MAX_PARTS) + 1:,} in portfolio.toml; nothing was written")
            parts = [(sheet_name if i == 0 else f"{sheet_name} ({i + 1})", min(per_sheet, rows - i * per_sheet))
                     for i in range(count)]
            self.refs[table] = DataSheetRefs(table, parts)
            data_plan[table] = (frame, parts, [self._sheet(name) for name, _ in parts])
        self.subtotals.parts = max(len(refs.parts) for refs in self.refs.values())
        if content.archived_comments:
            self._write_archive(self._sheet(ARCHIVE_SHEET))
        self._write_fx(sheets["FX"])
        self._write_portfolio(sheets["Portfolio"])
        self._write_programs(sheets["Programs"])
        self._write_finance(sheets["Finance"])
        self._write_risks(sheets["Risks"])
        write_status_trend(self, sheets[TREND_SHEET])
        write_raid_and_changes(self, sheets[RAID_SHEET])
        write_dependencies(self, sheets[DEPENDENCIES_SHEET])
        write_resources(self, sheets[RESOURCES_SHEET])
        self._write_quality(sheets["Data quality"])
        self._write_history(sheets["History"])
        for table, (frame, parts, part_sheets) in data_plan.items():
            self._write_data(table, frame, parts, part_sheets, progress)
        heading = PrintHeading(portfolio=content.name, synced_at=content.synced_at)
        for sheet in self.book.worksheets():
            apply_page_setup(sheet, sheet.layout, heading)
        sheets["Portfolio"].activate()

    def _write_fx(self, sheet: Worksheet) -> None:
        content = self.content
        self._header(sheet, 0, ["Currency", f"{content.reporting_currency} per unit", "Note"], [10, 16, 70])
        notes = ["Change a rate here and every converted total in the workbook follows.",
                 "Rates come from portfolio.toml [fx]; the next sync writes them again from there."]
        # Row by row: in constant_memory mode XlsxWriter drops a cell written to a row it has moved past,
        # so the notes go beside the rates as each row is written, not after them.
        for row in range(1, max(len(self.fx_currencies), len(notes)) + 1):
            if row <= len(self.fx_currencies):
                currency = self.fx_currencies[row - 1]
                self._text(sheet, row, 0, currency)
                sheet.write_number(row, 1, content.fx[currency], self.formats["rate"])
            if row <= len(notes):
                sheet.write_string(row, 2, notes[row - 1], self.formats["note"])
        sheet.freeze_panes(1, 0)

    def _fx_rate_formula(self, currency_cell: str) -> str:
        return f"INDEX({self._fx_range('B')},MATCH({currency_cell},{self._fx_range('A')},0))"

    PORTFOLIO_COLUMNS: tuple[tuple[str, str, float], ...] = (
        ("Project ID", "text", 12), ("Project Name", "text", 30), ("Program", "text", 22), ("Project Manager", "text", 18),
        ("Status", "text", 12), ("RAG", "text", 7), ("Start", "date", 11), ("Finish", "date", 11), ("Currency", "text", 9),
        ("FX Rate", "rate", 9), ("% Complete", "percent", 10), ("Approved Budget", "money", 15), ("Budget", "money", 15),
        ("Actuals", "money", 15), ("Forecast", "money", 15), ("EAC", "money", 15), ("Variance", "money", 15),
        ("Variance %", "percent", 10), ("Open Risks", "integer", 8), ("High Risks", "integer", 8),
        ("Highest Risk Score", "integer", 9), ("Data Status", "text", 14), ("Last Good Sync", "text", 20),
        # The latest status report (template 2.0's Status sheet); blank for a project without one.
        ("Status Month", "month", 10), ("Status RAG", "text", 8), ("Status Summary", "wrapped", 40),
    )

    def _write_portfolio(self, sheet: Worksheet) -> None:
        content, fmt = self.content, self.formats
        projects = content.portfolio.projects.reset_index(drop=True)
        rollup = self.rollup
        headers = [c[0] for c in self.PORTFOLIO_COLUMNS] + content.comment_headers
        widths = [c[2] for c in self.PORTFOLIO_COLUMNS] + [40] * len(content.comment_headers)
        self._header(sheet, 0, headers, widths)
        sheet.set_row(0, 45)  # three lines of wrapped header ("Highest Risk Score")
        tasks, budget, risks, project_data = (self.refs[t] for t in ("tasks", "budget", "risks", "projects"))
        statuses = latest_status(self.frames["status"])
        sheet.set_column(25, 25, 40, fmt["wrapped"])  # the summary wraps within its width
        ccy = self.content.reporting_currency
        sheet.write_comment(0, 12, f"SUMIFS over Budget data, converted to {ccy} with the FX sheet's rate.")
        home = PORTFOLIO_SHEET
        for index, project in projects.iterrows():
            r = index + 1
            n = r + 1  # 1-based row number
            pid = project["project_id"]
            figures = rollup.loc[pid]
            key = f"$A{n}"
            values = [pid, project["project_name"], project["program"], project["project_manager"], project["status"],
                      project["rag"]]
            for col, value in enumerate(values):
                self._text(sheet, r, col, _cell_value(value, "text"))
            for col, name in ((6, "start_date"), (7, "finish_date")):
                serial = _cell_value(project[name], "date")
                if serial is not None:
                    sheet.write_number(r, col, serial, fmt["date"])
            self._text(sheet, r, 8, _cell_value(project["currency"], "text"))
            rate = figures["fx_rate"]
            self._formula(sheet, r, 9, self._fx_rate_formula(f"$I{n}"), fmt["rate"], _num(rate))
            pct = figures["percent_complete"]
            counted = self._gather(tasks.countifs(("project_id", key), ("percent_complete", '"<>"')), home=home,
                                   row=r, col=10, part_values=self._project_parts("tasks", pid, "progress_count"))
            summed = self._gather(tasks.sumifs("percent_complete", ("project_id", key)), home=home, row=r, col=10,
                                  part_values=self._project_parts("tasks", pid, "progress_sum"))
            self._formula(sheet, r, 10, f'IF(({counted})=0,"",({summed})/({counted}))', fmt["percent"],
                          "" if pd.isna(pct) else float(pct))
            # The project's own row of Project data: the part it landed on, looked up by ID there.
            holder = project_data.part_of(index)
            approved_range = project_data.ranges("approved_budget")[holder]
            id_range = project_data.ranges("project_id")[holder]
            approved = f"INDEX({approved_range},MATCH({key},{id_range},0))*$J{n}"
            self._formula(sheet, r, 11, approved, fmt["money"], _num(figures["approved_budget"]))
            for col, name in ((12, "budget"), (13, "actual"), (14, "forecast")):
                total = self._gather(budget.sumifs(name, ("project_id", key)), home=home, row=r, col=col,
                                     part_values=self._project_parts("budget", pid, name))
                self._formula(sheet, r, col, f"({total})*$J{n}", fmt["money"], _num(figures[name]))
            self._formula(sheet, r, 15, f"N{n}+O{n}", fmt["money"], _num(figures["eac"]))
            self._formula(sheet, r, 16, f"M{n}-P{n}", fmt["money"], _num(figures["variance"]))
            variance_pct = figures["variance_pct"]
            self._formula(sheet, r, 17, f'IF(M{n}=0,"",Q{n}/M{n})', fmt["percent"],
                          "" if pd.isna(variance_pct) else float(variance_pct))
            open_criteria = (("project_id", key), ("status", '"<>Closed"'))
            for col, figure, name, cached in (
                    (18, risks.countifs(*open_criteria), "open_risks", int(figures["open_risks"])),
                    (19, risks.countifs(*open_criteria, ("rating", '"High"')), "high_risks", int(figures["high_risks"])),
                    (20, risks.maxifs("score", *open_criteria), "max_score", _num(figures["max_score"]))):
                formula = self._gather(figure, home=home, row=r, col=col,
                                       part_values=self._project_parts("risks", pid, name))
                self._formula(sheet, r, col, formula, fmt["integer"], cached)
            self._text(sheet, r, 21, _cell_value(project.get("data_status"), "text"))
            self._text(sheet, r, 22, _cell_value(project.get("last_good_sync"), "text"))
            self._write_latest_status(sheet, r, pid, statuses.loc[pid] if pid in statuses.index else None)
            for offset, header in enumerate(content.comment_headers):
                value = content.comments.get(pid, {}).get(header)
                if value not in (None, ""):
                    self._text(sheet, r, len(self.PORTFOLIO_COLUMNS) + offset, value, fmt["comment"])
        total = len(projects) + 1
        last = total  # last data row (1-based) is `total`
        sheet.write_string(total, 0, "Total", fmt["total_label"])
        for col, kind in ((11, "money"), (12, "money"), (13, "money"), (14, "money"), (15, "money"), (16, "money"),
                          (18, "int"), (19, "int")):
            letter = column_letter(col + 1)
            cached = float(sum(_num(v) for v in rollup[_PORTFOLIO_FIELDS[col]])) if len(rollup) else 0.0
            # With no project the Total is row 2: SUM(M2:M1) would take in itself (a circular reference).
            self._formula(sheet, total, col, f"SUM({letter}2:{letter}{last})" if len(projects) else "0",
                          fmt[f"total_{kind}"], int(cached) if kind == "int" else cached)
        budget_total = float(rollup["budget"].sum()) if len(rollup) else 0.0
        variance_total = float(rollup["variance"].sum()) if len(rollup) else 0.0
        self._formula(sheet, total, 17, f'IF(M{total + 1}=0,"",Q{total + 1}/M{total + 1})', fmt["total_pct"],
                      "" if budget_total == 0 else variance_total / budget_total)
        sheet.freeze_panes(1, 2)
        sheet.autofilter(0, 0, max(total - 1, 1), len(headers) - 1)
        # A project whose figures are last sync's (stale, missing, conflict) stands out for the reviewer.
        sheet.conditional_format(f"V2:V{max(last, 2)}", {"type": "text", "criteria": "not containing", "value": "ok",
                                                         "format": fmt["amber"]})
        for rag in (f"F2:F{max(last, 2)}", f"Y2:Y{max(last, 2)}"):
            for word, style in (("Green", "green"), ("Amber", "amber"), ("Red", "red")):
                sheet.conditional_format(rag, {"type": "cell", "criteria": "==", "value": f'"{word}"',
                                               "format": fmt[style]})

    def _write_latest_status(self, sheet: Worksheet, r: int, pid: str, latest: pd.Series | None) -> None:
        """Portfolio columns X:Z of row ``r``: the month, overall RAG and summary of the project's latest
        status report (``latest``, from rollups.latest_status; None when it has none).

        The month is the MAXIFS of the periods over every part of Status data. RAG and summary are read
        from the row of that project and month, found by position: SUMPRODUCT(MAX(... * ROW())) compares
        the Project ID and the month with "=", never as a criterion, so any text comes back as typed
        (``&""`` keeps a blank a blank). The row is looked up on the part that holds it, as the approved
        budget is on Project data.
        """
        fmt, n = self.formats, r + 1
        status = self.refs["status"]
        month = self._gather(status.maxifs("period", ("project_id", f"$A{n}")), home=PORTFOLIO_SHEET, row=r, col=23,
                             part_values=self._project_parts("status", pid, "latest_period"))
        serial = None if latest is None else _cell_value(latest["period"], "date")
        self._formula(sheet, r, 23, f'IF(({month})=0,"",({month}))', fmt["month"], "" if serial is None else serial)
        holder = 0 if latest is None else status.part_of(int(latest["position"]))
        ids, months = status.ranges("project_id")[holder], status.ranges("period")[holder]
        position = f"SUMPRODUCT(MAX(({ids}=$A{n})*({months}=$X{n})*(ROW({ids})-1)))"
        for col, name, cell_format in ((24, "overall_rag", None), (25, "summary", fmt["wrapped"])):
            shown = "" if latest is None else _cell_value(latest[name], "text") or ""
            lookup = f'IF($X{n}="","",INDEX({status.ranges(name)[holder]},{position})&"")'
            self._formula(sheet, r, col, lookup, cell_format, fit_cell_text(str(shown)))

    def _write_programs(self, sheet: Worksheet) -> None:
        fmt = self.formats
        programs = program_rollup(self.content.portfolio.projects, self.rollup)
        headers = ["Program", "Projects", "Budget", "Actuals", "Forecast", "EAC", "Variance", "Variance %", "Open Risks",
                   "High Risks"]
        self._header(sheet, 0, headers, [26, 9, 16, 16, 16, 16, 16, 10, 10, 10])
        sheet.write_comment(0, 0, "Each figure adds up the Portfolio rows whose Program is exactly this one: "
                                  "EXACT() compares text as written, capitals included.")
        count = len(self.content.portfolio.projects)
        span = f"${max(count, 1) + 1}"

        def portfolio_range(letter: str) -> str:
            return f"Portfolio!${letter}$2:${letter}{span}"

        for r, (program, figures) in enumerate(programs.iterrows(), start=1):
            n = r + 1
            # EXACT() and not SUMIFS: a criterion would read R&D* as a pattern, >5 as a comparison, 2026 as
            # a number, and ignore case. The blank program ("") matches the blank Program cells.
            same = f"--EXACT({portfolio_range('C')},$A{n})"
            self._text(sheet, r, 0, str(program))
            self._formula(sheet, r, 1, f"SUMPRODUCT({same})", fmt["integer"], int(figures["projects"]))
            for col, (letter, name) in enumerate((("M", "budget"), ("N", "actual"), ("O", "forecast"), ("P", "eac"),
                                                  ("Q", "variance")), start=2):
                self._formula(sheet, r, col, f"SUMPRODUCT({same},{portfolio_range(letter)})", fmt["money"],
                              _num(figures[name]))
            self._formula(sheet, r, 7, f'IF(C{n}=0,"",G{n}/C{n})', fmt["percent"],
                          "" if pd.isna(figures["variance_pct"]) else float(figures["variance_pct"]))
            for col, (letter, name) in ((8, ("S", "open_risks")), (9, ("T", "high_risks"))):
                self._formula(sheet, r, col, f"SUMPRODUCT({same},{portfolio_range(letter)})", fmt["integer"],
                              int(figures[name]))
        rows = len(programs)
        if rows:
            chart = self.book.add_chart({"type": "column"})
            for col, colour in ((2, "#1F4E78"), (5, "#ED7D31")):
                chart.add_series({"name": ["Programs", 0, col], "categories": ["Programs", 1, 0, rows, 0],
                                  "values": ["Programs", 1, col, rows, col], "fill": {"color": colour}})
            chart.set_title({"name": f"Budget vs EAC by program ({self.content.reporting_currency})",
                             "name_font": {"size": 12, "bold": True}})
            chart.set_y_axis({"name": self.content.reporting_currency, "num_format": "#,##0",
                              "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
            chart.set_x_axis({"name": "Program"})
            chart.set_legend({"position": "bottom"})
            chart.set_size({"width": 720, "height": 360})
            sheet.insert_chart(rows + 3, 0, chart)
        sheet.freeze_panes(1, 1)

    def _write_finance(self, sheet: Worksheet) -> None:
        fmt, content = self.formats, self.content
        budget = self.refs["budget"]
        self._text(sheet, 0, 0, f"{content.name}: budget, actuals and forecast in {content.reporting_currency}",
                   fmt["title"])
        sheet.set_column(0, 0, 26)
        sheet.set_column(1, 5, 16)
        sheet.set_column(6, 6, 12)
        # Merged over the table's width and wrapped, so that it prints whole on the page.
        sheet.set_row(1, 30)
        sheet.merge_range(1, 0, 1, 6, "Each figure adds every currency's SUMIFS over Budget data times that currency's "
                                      "rate on the FX sheet, for the lines whose key column on Budget data holds the "
                                      "row's key (column G).", self.formats["wrapped_note"])
        row = 3
        for field_name, title in (("program", "Program"), ("cost_center", "Cost Center"), ("category", "Category"),
                                  ("fiscal_period", "Fiscal Period")):
            key_field = GROUPINGS[field_name]
            key_header = next(c.header for c in DATA_SHEETS["budget"][1] if c.field == key_field)
            figures = group_rollup(content.portfolio, content.fx, field_name)
            self._header(sheet, row, [title, "Budget", "Actual", "Forecast", "EAC", "Variance", key_header])
            first = row + 2
            for group, values in figures.iterrows():
                row += 1
                n = row + 1
                label = values["label"]
                if label is None:
                    sheet.write_string(row, 0, "(blank)", fmt["note"])  # lines with no value: the key tells them apart
                else:
                    self._text(sheet, row, 0, str(label))
                # The key, not the label, is the criterion: a number matches only that number.
                sheet.write_number(row, 6, int(group), fmt["integer"])
                for col, name in enumerate(("budget", "actual", "forecast"), start=1):
                    # SUMIFS with the FX sheet's currency list as criterion gives one total per currency;
                    # SUMPRODUCT multiplies each by its rate and adds them up.
                    figure = PartsFigure(budget, "SUMIFS", ((key_field, f"$G{n}"), ("currency", self._fx_range("A"))),
                                         name, f"SUMPRODUCT({{}},{self._fx_range('B')})")
                    formula = self._gather(figure, home="Finance", row=row, col=col,
                                           part_values=self._finance_parts(field_name, int(group), name))
                    self._formula(sheet, row, col, formula, fmt["money"], _num(values[name]))
                self._formula(sheet, row, 4, f"C{n}+D{n}", fmt["money"], _num(values["eac"]))
                self._formula(sheet, row, 5, f"B{n}-E{n}", fmt["money"], _num(values["variance"]))
            row += 1
            sheet.write_string(row, 0, "Total", fmt["total_label"])
            for col in range(1, 6):
                letter = column_letter(col + 1)
                name = ("budget", "actual", "forecast", "eac", "variance")[col - 1]
                # With no budget line there is no group row: SUM(B5:B4) would take in the header, which
                # LibreOffice answers with #VALUE!.
                total = f"SUM({letter}{first}:{letter}{row})" if len(figures) else "0"
                self._formula(sheet, row, col, total, fmt["total_money"],
                              float(figures[name].sum()) if len(figures) else 0.0)
            row += 3

    def _write_risks(self, sheet: Worksheet) -> None:
        fmt = self.formats
        risks = self.refs["risks"]
        counts = heat_counts(self.content.portfolio.tables["risks"])
        sheet.write_string(0, 0, "Open risks by probability and impact", fmt["title"])
        sheet.write_string(2, 0, "Impact \\ Probability", fmt["header"])
        sheet.set_column(0, 0, 20)
        sheet.set_column(1, 5, 9)
        zone = {}
        for name, colour in (("green", "#C6EFCE"), ("amber", "#FFEB9C"), ("red", "#FFC7CE")):
            zone[name] = self.book.add_format({"bg_color": colour, "align": "center", "border": 1, "bold": True})
        for p in range(1, 6):
            sheet.write_number(2, p, p, fmt["header"])
        for r, impact in enumerate(range(5, 0, -1), start=3):
            sheet.write_number(r, 0, impact, fmt["header"])
            for p in range(1, 6):
                score = p * impact
                style = "red" if score >= RISK_HIGH_FROM else ("amber" if score >= RISK_MEDIUM_FROM else "green")
                figure = risks.countifs(("probability", str(p)), ("impact", str(impact)), ("status", '"<>Closed"'))
                formula = self._gather(figure, home="Risks", row=r, col=p,
                                       part_values=self._heat_parts(p, impact))
                self._formula(sheet, r, p, formula, zone[style], counts[(p, impact)])
        sheet.write_string(9, 0, "Top open risks (as of this sync; the heat map above is live)", fmt["title"])
        headers = ["Project ID", "Risk ID", "Title", "Probability", "Impact", "Score", "Rating", "Owner", "Due Date", "Source"]
        self._header(sheet, 10, headers)
        sheet.set_column(2, 2, 40)
        frame = self.content.portfolio.tables["risks"]
        top = frame[frame["status"] != "Closed"].sort_values(["score", "project_id", "risk_id"], ascending=[False, True, True])
        for r, (_, risk) in enumerate(top.head(15).iterrows(), start=11):
            for col, name in enumerate(("project_id", "risk_id", "title", "probability", "impact", "score", "rating", "owner")):
                self._text(sheet, r, col, _cell_value(risk[name], "text"))
            serial = _cell_value(risk["due_date"], "date")
            if serial is not None:
                sheet.write_number(r, 8, serial, fmt["date"])
            self._text(sheet, r, 9, f"{risk['source']} {risk['sheet']}!{int(risk['row'])}")

    def _write_quality(self, sheet: Worksheet) -> None:
        headers = ["Source", "Kind", "Project ID", "Status", "Errors", "Warnings", "First Findings", "Last Checked",
                   "Last Good Sync", "Template Version"]
        self._header(sheet, 0, headers, [36, 12, 12, 18, 8, 9, 90, 20, 20, 10])
        # A status starts with its problem: "unreadable, never valid", "invalid, last good data kept",
        # "conflict: ...", "missing", "ok"; the worst come first.
        order = {"unreadable": 0, "invalid": 1, "missing": 2, "conflict": 3, "ok": 9}
        rows = sorted(self.content.sources,
                      key=lambda s: (order.get(re.split(r"[\s,:;]", s.status.strip(), maxsplit=1)[0], 5), s.label))
        wrap = self.book.add_format({"text_wrap": True, "valign": "top"})
        for r, source in enumerate(rows, start=1):
            values = [source.label, source.kind, source.project_id, source.status, source.errors, source.warnings]
            for col, value in enumerate(values):
                self._text(sheet, r, col, value)
            self._text(sheet, r, 6, source.first_findings, wrap)
            self._text(sheet, r, 7, source.last_checked)
            self._text(sheet, r, 8, source.last_good_sync or "never")
            self._text(sheet, r, 9, source.template_version)
        fmt = self.formats
        span = f"D2:D{max(len(rows), 1) + 1}"
        sheet.conditional_format(span, {"type": "text", "criteria": "begins with", "value": "ok", "format": fmt["green"]})
        sheet.conditional_format(span, {"type": "text", "criteria": "not containing", "value": "ok", "format": fmt["red"]})
        sheet.freeze_panes(1, 1)
        sheet.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)

    def _write_history(self, sheet: Worksheet) -> None:
        headers = ["Synced At", "Projects", "Sources OK", "Sources Stale", "Sources Failed", "Budget", "Actuals", "EAC",
                   "Variance", "Open Risks", "High Risks"]
        keys = ["projects", "sources_ok", "sources_stale", "sources_failed", "budget", "actual", "eac", "variance",
                "open_risks", "high_risks"]
        self._header(sheet, 0, headers, [20] + [12] * 4 + [16] * 4 + [10, 10])
        for r, (synced_at, figures) in enumerate(self.content.history, start=1):
            self._text(sheet, r, 0, synced_at)
            for col, key in enumerate(keys, start=1):
                value = figures.get(key)
                if value is not None:
                    sheet.write_number(r, col, value, self.formats["money"] if col >= 5 and col <= 8 else None)
        rows = len(self.content.history)
        if rows >= 2:
            chart = self.book.add_chart({"type": "line"})
            for col in (5, 7):
                chart.add_series({"name": ["History", 0, col], "categories": ["History", 1, 0, rows, 0],
                                  "values": ["History", 1, col, rows, col]})
            chart.set_title({"name": f"Budget and EAC over time ({self.content.reporting_currency})",
                             "name_font": {"size": 12, "bold": True}})
            chart.set_y_axis({"name": self.content.reporting_currency, "num_format": "#,##0"})
            chart.set_x_axis({"name": "Sync"})
            chart.set_legend({"position": "bottom"})
            sheet.insert_chart(rows + 2, 0, chart)
        sheet.freeze_panes(1, 1)

    def _write_archive(self, sheet: Worksheet) -> None:
        self._header(sheet, 0, ["Project ID", "Column", "Comment", "Archived At"], [12, 20, 70, 20])
        sheet.write_string(0, 5, "Comments on projects that are no longer in the portfolio are kept here.", self.formats["note"])
        for r, row in enumerate(self.content.archived_comments, start=1):
            for col, value in enumerate(row):
                self._text(sheet, r, col, str(value))

    def _write_data(self, table: str, frame: pd.DataFrame, parts: list[tuple[str, int]], sheets: list[LaidOutWorksheet],
                    progress: Callable[[int], None] | None) -> None:
        """Headers, widths, formats and filters through XlsxWriter; the rows themselves are spliced in on close."""
        columns = DATA_SHEETS[table][1]
        values = [_column_values(frame, column) for column in columns]
        # The rows bypass XlsxWriter, so their widths are measured here: once per table, every part alike.
        shown = [shown_characters(frame[c.field], c.kind) if c.field in frame.columns else 0 for c in columns]
        offset = 0
        for (_, count), sheet in zip(parts, sheets, strict=True):
            self._header(sheet, 0, [c.header for c in columns])
            for col, column in enumerate(columns):
                sheet.set_column(col, col, column.width, self.formats.get(column.kind) if column.kind != "text" else None)
                sheet.layout.need(col, shown[col])
            sheet.layout.cover(count, len(columns) - 1)
            sheet.freeze_panes(1, 2)
            sheet.autofilter(0, 0, max(count, 1), len(columns) - 1)
            part = f"xl/worksheets/sheet{self.book.worksheets().index(sheet) + 1}.xml"
            self.pending.append((part, [(column_values[offset:offset + count], column.kind)
                                        for column_values, column in zip(values, columns, strict=True)], count))
            offset += count
            if progress:
                progress(count)

    def close(self) -> None:
        """Close the XlsxWriter workbook, then splice the data sheets' rows into it."""
        self.book.close()
        bodies = []
        for part, columns, count in self.pending:
            cells = []
            for column_values, kind in columns:
                text = kind == "text"
                style = None if text else self.formats[kind].xf_index
                cells.append(DataColumnValues(column_values, "text" if text else "number", style))
            bodies.append(SheetBody(part, cells, count))
        splice(self.path, bodies)


def _column_values(frame: pd.DataFrame, column: DataColumn) -> list[Any]:
    """A frame column as plain Python values for a data sheet: dates as serials, blanks as None (vectorised)."""
    if column.field not in frame.columns:
        return [None] * len(frame)
    series = frame[column.field]
    if column.kind == "date":
        days = (pd.to_datetime(series, errors="coerce") - EXCEL_EPOCH).dt.days
        return days.astype(object).where(days.notna(), None).tolist()
    return series.astype(object).where(series.notna(), None).tolist()


_PORTFOLIO_FIELDS = {11: "approved_budget", 12: "budget", 13: "actual", 14: "forecast", 15: "eac", 16: "variance",
                     18: "open_risks", 19: "high_risks"}


def _num(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(number) else number


def write_master(path: Path, content: MasterContent, *, progress: Callable[[int], None] | None = None,
                 before_replace: Callable[[], None] | None = None) -> None:
    """Write the master to a temporary file beside ``path`` and rename it into place.

    Raises OSError when the master cannot be written or replaced (open in Excel on Windows, a
    read-only folder, a full disk); the previous master is then untouched and the temporary file
    removed. ``before_replace`` runs when the new master is complete, just before the rename (a sync
    commits its state store there); if it raises, nothing is replaced. A master that already exists
    keeps its file mode (whoever made it read-only for some, or shared it with a group, meant it); a
    new one is readable and writable by all the umask allows.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix, suffix = temp_affixes(path)
    handle, temp_name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        writer = MasterWriter(temp, content)
        writer.write(progress)
        writer.close()
        with open(temp, "rb") as written:
            os.fsync(written.fileno())
        # mkstemp makes it private; the master is meant to be shared. Set last: a read-only mode
        # kept from the previous master must not stop us writing the new one.
        os.chmod(temp, _master_mode(path))
        if before_replace is not None:
            before_replace()
        os.replace(temp, path)
    except FileCreateError as exc:  # XlsxWriter's wrapper of the OSError of its final write (a full disk)
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
        _close_abandoned_zips(cause)
        temp.unlink(missing_ok=True)
        raise (cause or OSError(str(exc))) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _close_abandoned_zips(error: BaseException | None) -> None:
    """Close the ZipFile XlsxWriter was writing when ``error`` struck. XlsxWriter does not close it, so
    Python would close it at garbage collection, fail on the same full disk, and print that to stderr."""
    trace = error.__traceback__ if error is not None else None
    while trace is not None:
        for value in list(trace.tb_frame.f_locals.values()):
            if isinstance(value, zipfile.ZipFile) and value.fp is not None:
                with contextlib.suppress(OSError, ValueError):
                    value.close()  # fails again, but lets go of the file either way
        trace = trace.tb_next


def _master_mode(path: Path) -> int:
    """The existing master's permission bits, or 0666 less the umask for a new one."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
