"""The master's "Status trend" sheet: each project's overall RAG over the last reporting months, from
template 2.0's status reports (not from sync history), Green / Amber / Red coloured by conditional
formatting.

One row per project in the Portfolio sheet's order, one column per calendar month: the
:data:`~pmo_sheets.rollups.RAG_TREND_MONTHS` months ending with the latest month any project reported
(date serials in the header row, written at sync like the Resources sheet's months). A project that
sent no report for a month shows a blank there: a gap in the reporting is itself news.

Each cell is a live formula with its cached value from :func:`pmo_sheets.rollups.rag_trend`. It finds
the row of that project and month on Status data by position, comparing with "=" (never as a
criterion), and returns the Overall RAG as typed; a COUNTIFS on the Project ID (whose pattern allows no
operator or wildcard) and the month (a number) tells first whether there is such a row at all, since
INDEX at position 0 would return the whole column. The row is looked up on the sheet part holding it,
as Portfolio's latest status is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmo_sheets.cells import column_letter
from pmo_sheets.rollups import RAG_TREND_MONTHS, rag_trend, trend_months

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

    from pmo_sheets.master import MasterWriter

TREND_SHEET = "Status trend"
HEADER_ROW = 3  # 0-based: the title, a note, a blank row, then the table
FIRST_MONTH_COL = 2  # 0-based: Project ID, Project Name, then the months
RAGS = (("Green", "green"), ("Amber", "amber"), ("Red", "red"))


def write_status_trend(writer: MasterWriter, sheet: Worksheet) -> None:
    """Write the sheet: a row per project, a column per month, each cell that month's overall RAG."""
    content, fmt = writer.content, writer.formats
    status = writer.frames["status"]
    refs = writer.refs["status"]
    months = trend_months(status)
    trend = rag_trend(status, months)
    sheet.write_string(0, 0, f"Overall RAG over the last {RAG_TREND_MONTHS} reporting months", fmt["title"])
    sheet.write_string(1, 0, "From each project's status reports (Status data); a blank month is a month "
                             "without a report.", fmt["note"])
    writer._header(sheet, HEADER_ROW, ["Project ID", "Project Name"], [12, 30])
    month_header = writer.book.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78",
                                           "border": 1, "border_color": "#BFBFBF", "num_format": "mmm yyyy",
                                           "align": "center"})
    for offset, serial in enumerate(months):
        sheet.write_number(HEADER_ROW, FIRST_MONTH_COL + offset, serial, month_header)
        sheet.set_column(FIRST_MONTH_COL + offset, FIRST_MONTH_COL + offset, 10)
    projects = content.portfolio.projects.reset_index(drop=True)
    if not months:
        sheet.write_string(HEADER_ROW + 1, 0, "No status reports yet: template 2.0's Status sheets are empty.",
                           fmt["note"])
        return
    centred = writer.book.add_format({"align": "center"})
    for index, project in projects.iterrows():
        r = HEADER_ROW + 1 + index
        n = r + 1
        pid = str(project["project_id"])
        writer._text(sheet, r, 0, pid)
        writer._text(sheet, r, 1, project["project_name"] if isinstance(project["project_name"], str) else None)
        for offset, serial in enumerate(months):
            col = FIRST_MONTH_COL + offset
            month_cell = f"{column_letter(col + 1)}${HEADER_ROW + 1}"
            found = trend.get((pid, serial))
            part = 0 if found is None else refs.part_of(found[0])
            ids, periods, rags = (refs.ranges(name)[part] for name in ("project_id", "period", "overall_rag"))
            position = f"SUMPRODUCT(MAX(({ids}=$A{n})*({periods}={month_cell})*(ROW({ids})-1)))"
            formula = (f'IF(COUNTIFS({ids},$A{n},{periods},{month_cell})=0,"",'
                       f'INDEX({rags},{position})&"")')
            writer._formula(sheet, r, col, formula, centred, "" if found is None else found[1])
    last_row = HEADER_ROW + len(projects)
    if len(projects):
        grid = (f"{column_letter(FIRST_MONTH_COL + 1)}{HEADER_ROW + 2}:"
                f"{column_letter(FIRST_MONTH_COL + len(months))}{last_row + 1}")
        for word, style in RAGS:
            sheet.conditional_format(grid, {"type": "cell", "criteria": "==", "value": f'"{word}"',
                                            "format": fmt[style]})
    sheet.freeze_panes(HEADER_ROW + 1, 1)
    sheet.autofilter(HEADER_ROW, 0, max(last_row, HEADER_ROW + 1), FIRST_MONTH_COL + len(months) - 1)
    sheet.layout.repeat_rows = (HEADER_ROW, HEADER_ROW)
