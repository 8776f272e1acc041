"""Annotated copies: flagged cells filled and commented, and an Issues sheet linking to each cell.

The source workbook is never modified: the copy is written to another folder.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.hyperlink import Hyperlink

from pmo_sheets.cells import quote_sheet
from pmo_sheets.findings import ERROR, RULES
from pmo_sheets.validate import WorkbookReport

ISSUES_SHEET = "Issues"
ERROR_FILL = "FFC7CE"
WARNING_FILL = "FFEB9C"
ISSUES_HEADERS = ("Severity", "Cell", "Rule", "Message", "How to fix")


def issue_rows(report: WorkbookReport) -> list[tuple[str, str, str, str, str]]:
    """One row per finding for an Issues sheet: severity, location, rule, message, how to fix."""
    return [(f.severity, f.location, f.rule, f.message, RULES[f.rule].fix) for f in report.findings]


def annotated_path(source: str, directory: Path) -> Path:
    """Where the annotated copy of ``source`` goes in ``directory``."""
    return directory / Path(source).name


def overwritten_sources(reports: list[WorkbookReport], directory: Path) -> list[str]:
    """The readable sources whose annotated copy in ``directory`` would be the source file itself."""
    return [r.source for r in reports if r.readable and Path(r.source).is_file()
            and annotated_path(r.source, directory).resolve() == Path(r.source).resolve()]


def annotate(report: WorkbookReport, directory: Path) -> Path:
    """Write an annotated copy of ``report.source`` into ``directory``; returns the copy's path."""
    source = Path(report.source)
    target = annotated_path(report.source, directory)
    if target.resolve() == source.resolve():
        raise ValueError(f"{target}: the annotated copy would overwrite the source; choose another folder")
    workbook = load_workbook(source, keep_vba=source.suffix.lower() == ".xlsm")
    if ISSUES_SHEET in workbook.sheetnames:
        del workbook[ISSUES_SHEET]
    notes: dict[tuple[str, str], list[str]] = {}
    for item in report.findings:
        if item.sheet and item.cell and item.sheet in workbook.sheetnames:
            notes.setdefault((item.sheet, item.cell), []).append(f"{item.severity}: {item.message} [{item.rule}]")
            cell = workbook[item.sheet][item.cell]
            colour = ERROR_FILL if item.severity == ERROR else WARNING_FILL
            current = cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else None
            if current != "00" + ERROR_FILL:  # an error's red wins over a warning's amber
                cell.fill = PatternFill("solid", fgColor=colour)
    for (sheet, ref), lines in notes.items():
        workbook[sheet][ref].comment = Comment("\n".join(lines), "pmo-sheets", width=320, height=120)
    issues = workbook.create_sheet(ISSUES_SHEET, 0)
    issues.append(ISSUES_HEADERS)
    for cell in issues[1]:
        cell.font = Font(bold=True)
    for row_number, row in enumerate(issue_rows(report), start=2):
        issues.append(row)
        item = report.findings[row_number - 2]
        if item.sheet and item.cell and item.sheet in workbook.sheetnames:
            link = issues.cell(row_number, 2)
            # an internal link (location, no relationship): "#Tasks!E12" as a target would be saved as an
            # external link that LibreOffice resolves to the file's old name, breaking once the copy moves
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{quote_sheet(item.sheet)}!{item.cell}")
            link.font = Font(color="0563C1", underline="single")
        fill = ERROR_FILL if item.severity == ERROR else WARNING_FILL
        issues.cell(row_number, 1).fill = PatternFill("solid", fgColor=fill)
    for letter, width in zip("ABCDE", (9, 14, 24, 80, 60), strict=True):
        issues.column_dimensions[letter].width = width
    issues.freeze_panes = "A2"
    workbook.active = 0
    directory.mkdir(parents=True, exist_ok=True)
    workbook.save(target)
    return target
