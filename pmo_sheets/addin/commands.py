"""The add-in's buttons: Validate, Clear and New project, over an xlwings ``Book``.

The same validator as ``pmo validate`` runs on values read through xlwings (whole used ranges,
one read a sheet), so the add-in reports the same rules, codes and cells as the command line.

Validate is split in two halves around the one thing engines disagree on, reading a cell's fill:
desktop Excel reads it synchronously (``Range.color``), xlwings Lite only asynchronously
(``await Range.get_colors()``), xlwings' remote engine not at all. :func:`prepare_validation`
reads values and decides; :func:`apply_validation` writes; :func:`validate` and
:func:`validate_async` read the fills in between, each the way its engine can.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pmo_sheets.addin.highlights import STORE_SHEET, Cell, Highlights, delete_store, load_highlights, save_highlights
from pmo_sheets.addin.workbook import find_sheet, read_grid, read_sheet, sheet_names, to_hex
from pmo_sheets.cells import parse_cell, quote_sheet
from pmo_sheets.findings import ERROR, RULES, Finding
from pmo_sheets.grid import Grid, SheetGrid
from pmo_sheets.schemas import (
    KINDS,
    METADATA_SHEET,
    TEMPLATE_VERSION,
    kind_for_sheets,
    load_tables,
    tables_in,
    version_for_sheets,
    version_key,
)
from pmo_sheets.validate import WorkbookReport, read_metadata, validate_grid

ISSUES_SHEET = "Issues"
#: The name used when the user already has a sheet called Issues that the add-in did not make.
FALLBACK_ISSUES_SHEET = "PMO Issues"
# The same colours as the annotated copies of ``pmo validate --annotate`` (pmo_sheets.annotate),
# repeated here so that importing the add-in does not import openpyxl; a test keeps them equal.
ERROR_FILL = "#FFC7CE"
WARNING_FILL = "#FFEB9C"
ISSUES_HEADERS = ("Severity", "Cell", "Rule", "Message", "How to fix")
ISSUES_FIRST_ROW = 4  # row 1: summary, row 2: what to do next, row 3: headers
_ISSUES_WIDTHS = (9, 16, 24, 80, 60)
_LINK_TIP = "Go to the cell"


@dataclass
class Summary:
    """What a Validate found, in the words shown at the top of the Issues sheet."""

    errors: int
    warnings: int
    highlighted: int
    project_id: str | None = None
    issues_sheet: str = ISSUES_SHEET
    upgrade: str | None = None  # for a workbook of an earlier template version: how to upgrade it

    @property
    def text(self) -> str:
        """One line for the Issues sheet, the output pane or an alert."""
        subject = f"Project {self.project_id}" if self.project_id else "This workbook"
        if not self.errors and not self.warnings:
            return f"{subject}: no problems found."
        parts = [f"{self.errors} error{'s' * (self.errors != 1)}"] if self.errors else []
        if self.warnings:
            parts.append(f"{self.warnings} warning{'s' * (self.warnings != 1)}")
        return f"{subject}: {' and '.join(parts)}; {self.highlighted} cell{'s' * (self.highlighted != 1)} highlighted."


@dataclass
class ValidationPlan:
    """Everything Validate decided from the values, before it writes anything."""

    report: WorkbookReport
    previous: Highlights
    issues_sheet: str
    #: cell -> highlight colour (an error's red wins over a warning's amber in the same cell)
    wanted: dict[Cell, str] = field(default_factory=dict)
    #: cells about to be coloured for the first time: their current fill must be read and kept
    to_read: list[Cell] = field(default_factory=list)


def issue_rows(report: WorkbookReport) -> list[tuple[str, str, str, str, str]]:
    """One row per finding: severity, location, rule, message, how to fix (as ``annotate.issue_rows``)."""
    return [(f.severity, f.location, f.rule, f.message, RULES[f.rule].fix) for f in report.findings]


def _issues_sheet_name(previous: Highlights, grid: Grid) -> str:
    """The name of the add-in's Issues sheet, never taking over a user's sheet of the same name."""
    if previous.issues_sheet:
        return previous.issues_sheet
    existing = grid.sheet(ISSUES_SHEET)
    if existing is None:
        return ISSUES_SHEET
    # An Issues sheet made by `pmo validate --annotate` has the same headers: that one is ours too.
    header_rows = existing.rows[:ISSUES_FIRST_ROW]
    if any(tuple(row[:5]) == ISSUES_HEADERS for row in header_rows):
        return existing.name
    return FALLBACK_ISSUES_SHEET


def prepare_validation(book: Any) -> ValidationPlan:
    """Read the workbook (one used-range read a sheet), validate it, and decide what to colour."""
    previous = load_highlights(book)
    grid = read_grid(book, skip=[STORE_SHEET])
    issues_sheet = _issues_sheet_name(previous, grid)
    own = grid.sheet(issues_sheet)
    if own is not None:
        del grid.sheets[own.name]  # the add-in's own output is not part of the project's data
    report = validate_grid(grid)
    names = set(grid.sheets)
    plan = ValidationPlan(report, previous, issues_sheet)
    for item in report.findings:
        if item.sheet in names and item.cell:
            key = (item.sheet, item.cell)
            colour = ERROR_FILL if item.severity == ERROR else WARNING_FILL
            if plan.wanted.get(key) != ERROR_FILL:
                plan.wanted[key] = colour
    plan.to_read = [key for key in plan.wanted if key not in previous.originals]
    return plan


def apply_validation(book: Any, plan: ValidationPlan, fills: dict[Cell, str | None]) -> Summary:
    """Restore, record and colour the cells, and write the Issues sheet; ``fills`` are the cells' current fills."""
    previous = plan.previous
    existing = set(sheet_names(book))
    for (sheet, cell), original in previous.originals.items():
        if (sheet, cell) not in plan.wanted and sheet in existing:
            book.sheets[sheet].range(cell).color = original
    originals = {key: previous.originals[key] if key in previous.originals else fills.get(key) for key in plan.wanted}
    # Recorded before colouring: should Excel stop half-way, the originals are already safe.
    save_highlights(book, Highlights(plan.issues_sheet, originals, dict(plan.wanted)))
    for (sheet, cell), colour in plan.wanted.items():
        if previous.colours.get((sheet, cell)) != colour:
            book.sheets[sheet].range(cell).color = colour
    summary = Summary(plan.report.errors, plan.report.warnings, len(plan.wanted), plan.report.project_id,
                      plan.issues_sheet, upgrade_offer(plan.report))
    write_issues_sheet(book, plan.report, summary, existing)
    return summary


def write_issues_sheet(book: Any, report: WorkbookReport, summary: Summary, existing: set[str]) -> None:
    """A fresh Issues sheet in front: summary, then one row per finding with a link to its cell."""
    old = find_sheet(book, summary.issues_sheet)
    if old is not None:
        old.delete()
    sheet = book.sheets.add(summary.issues_sheet, before=book.sheets[0])
    rows = issue_rows(report)
    offer = summary.upgrade
    sheet.range("A1").value = [
        [summary.text, None, None, None, None],
        ["Click a cell reference to go to it. Fix the highlighted cells, then press Validate again; "
         "Clear removes this sheet and the highlights." + (f" {offer}" if offer else ""), None, None, None, None],
        list(ISSUES_HEADERS),
        *[list(row) for row in rows],
    ]
    sheet.range("A1").font.bold = True
    sheet.range((3, 1), (3, len(ISSUES_HEADERS))).font.bold = True
    for offset, item in enumerate(report.findings):
        row = ISSUES_FIRST_ROW + offset
        target = _link_target(item, existing)
        if target:
            sheet.range((row, 2)).add_hyperlink(target, item.location, _LINK_TIP)
        sheet.range((row, 1)).color = ERROR_FILL if item.severity == ERROR else WARNING_FILL
    for column, width in enumerate(_ISSUES_WIDTHS, start=1):
        sheet.range((1, column)).column_width = width
    sheet.activate()


def _link_target(item: Finding, existing: set[str]) -> str | None:
    """``#'Sheet'!E12`` for a cell finding, the sheet's A1 for a sheet finding, None for the file."""
    if not item.sheet or item.sheet not in existing:
        return None
    return f"#{quote_sheet(item.sheet)}!{item.cell or 'A1'}"


def read_fills(book: Any, cells: list[Cell]) -> dict[Cell, str | None]:
    """The current fill of each cell, one ``Range.color`` read a cell (desktop Excel, the test adapter)."""
    return {(sheet, cell): to_hex(book.sheets[sheet].range(cell).color) for sheet, cell in cells}


async def read_fills_async(book: Any, cells: list[Cell]) -> dict[Cell, str | None]:
    """The current fills in xlwings Lite: one ``get_colors()`` a sheet, over the box around its cells."""
    fills: dict[Cell, str | None] = {}
    by_sheet: dict[str, list[tuple[int, int, str]]] = {}
    for sheet, cell in cells:
        row, col = parse_cell(cell)
        by_sheet.setdefault(sheet, []).append((row, col, cell))
    for sheet, positions in by_sheet.items():
        top, left = min(p[0] for p in positions), min(p[1] for p in positions)
        bottom, right = max(p[0] for p in positions), max(p[1] for p in positions)
        if (bottom - top + 1) * (right - left + 1) > 100_000:  # get_colors' limit: fall back to a read a cell
            for row, col, cell in positions:
                fills[(sheet, cell)] = to_hex(await book.sheets[sheet].range((row, col)).get_color())
            continue
        grid = await book.sheets[sheet].range((top, left), (bottom, right)).get_colors()
        for row, col, cell in positions:
            fills[(sheet, cell)] = to_hex(grid[row - top][col - left])
    return fills


def validate(book: Any, *, fills: Callable[[Any, list[Cell]], dict[Cell, str | None]] = read_fills) -> Summary:
    """The Validate button: Issues sheet, highlighted cells, and a one-line summary.

    Pressing it again first puts back the fills of cells that are no longer flagged, so colour never
    accumulates and the user's own formatting comes back as it was.
    """
    plan = prepare_validation(book)
    return apply_validation(book, plan, fills(book, plan.to_read))


async def validate_async(book: Any) -> Summary:
    """Validate for xlwings Lite, where fills can only be read with ``await``."""
    plan = prepare_validation(book)
    return apply_validation(book, plan, await read_fills_async(book, plan.to_read))


def clear(book: Any) -> int:
    """The Clear button: every highlighted cell gets its original fill back, the Issues sheet goes.

    Returns the number of cells restored.
    """
    highlights = load_highlights(book)
    existing = set(sheet_names(book))
    restored = 0
    for (sheet, cell), original in highlights.originals.items():
        if sheet in existing:
            book.sheets[sheet].range(cell).color = original
            restored += 1
    issues = find_sheet(book, highlights.issues_sheet or ISSUES_SHEET)
    if issues is not None and (highlights.issues_sheet or _looks_like_issues(issues)):
        issues.delete()
    delete_store(book)
    return restored


def _looks_like_issues(sheet: Any) -> bool:
    """An Issues sheet without a store (an annotated copy): ours if it has our headers."""
    return any(tuple(row[:5]) == ISSUES_HEADERS for row in read_sheet(sheet)[:ISSUES_FIRST_ROW])


def new_project(book: Any, project_id: str, name: str, start: dt.date | None = None,
                finish: dt.date | None = None, *, overwrite: bool = False) -> str:
    """The New project button: fill the Project sheet's ID, name and dates, and stamp the template version.

    Refuses to overwrite a different project ID unless ``overwrite`` is set, so that a workbook that
    already belongs to a project is never silently turned into another one.
    """
    spec = load_tables()["project"]
    sheet = find_sheet(book, spec.sheet)
    if sheet is None:
        raise ValueError(f"this workbook has no '{spec.sheet}' sheet; start from a pmo-sheets template")
    id_cell = (spec.column("project_id").position, 2)
    current = sheet.range(id_cell).value
    if current not in (None, "") and str(current).strip() != project_id and not overwrite:
        raise ValueError(f"this workbook already belongs to project {current}; start from a blank template")
    values = {"project_id": project_id, "project_name": name, "start_date": start, "finish_date": finish}
    for field_name, value in values.items():
        if value is not None:
            sheet.range((spec.column(field_name).position, 2)).value = value
    stamp_version(book)
    return f"Project {project_id} ({name}) set up; fill in the remaining fields and press Validate."


def upgrade_offer(report: WorkbookReport) -> str | None:
    """What Validate says about a workbook made from an earlier template version (None: it is current)."""
    version = report.template_version
    if report.template is None or version is None or version_key(version) >= version_key(TEMPLATE_VERSION):
        return None
    return (f"This workbook is template {version}; the current one is {TEMPLATE_VERSION}. Upgrade (desktop Excel) "
            f"makes an upgraded copy beside it, or your PMO runs: pmo upgrade FILE -o FOLDER. Every value you typed "
            "is kept.")


def upgrade_message(old: str, new: str, target: str, dropped: list[str]) -> str:
    """What the Upgrade button says once the upgraded copy is written."""
    lost = f" Not carried over: {', '.join(dropped)} (they stay in this workbook)." if dropped else ""
    return (f"Upgraded from template {old} to {new}: {target} (now open). Every value you typed is in it, and "
            f"Validate finds the same problems there.{lost}")


def stamp_version(book: Any) -> None:
    """Make sure the hidden metadata sheet names the template kind and the newest version its sheets make.

    A workbook with the 2.0 sheets is stamped 2.0; a 1.x workbook stays 1.x (it has no Resources, RAID,
    Changes or Status sheet, and stamping 2.0 would report them missing): moving it is ``pmo upgrade``'s job.
    """
    sheet = find_sheet(book, METADATA_SHEET)
    names = set(sheet_names(book))
    if sheet is None:
        kind = kind_for_sheets(names) or "project"
        version = version_for_sheets(kind, names)
        sheet = book.sheets.add(METADATA_SHEET, after=book.sheets[len(book.sheets) - 1])
        sheet.visible = False
        sheet.range("A1").value = [["template", kind], ["version", version], ["generator", "pmo-sheets"],
                                   ["tables", ", ".join(spec.name for spec in tables_in(kind, version))]]
        return
    rows = read_sheet(sheet)
    metadata = read_metadata(Grid("", {METADATA_SHEET: SheetGrid(METADATA_SHEET, rows)}))
    kind = metadata.get("template") or kind_for_sheets(names) or "project"
    version = version_for_sheets(kind, names) if kind in KINDS else metadata.get("version")
    if version and metadata.get("version") != version:
        for number, row in enumerate(rows, start=1):
            if row and row[0] == "version":
                sheet.range((number, 2)).value = version
                break
        else:
            sheet.range((len(rows) + 1, 1)).value = ["version", version]
