"""The master's "Dependencies" sheet: every cross-project dependency of the portfolio (RAID items of
type Dependency), whether the project it names is in the portfolio, and whether that project is late
(its latest status report rates its schedule Red: :mod:`pmo_sheets.dependencies`).

A list as of the sync, like the Risks sheet's top open risks, not a rollup: each row says where the
item was typed (source, sheet and cell), and the sync's findings on Data quality point at the same cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmo_sheets.coerce import date_to_serial
from pmo_sheets.dependencies import LATE_SCHEDULE_RAG, cross_project_dependencies

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

    from pmo_sheets.master import MasterWriter

DEPENDENCIES_SHEET = "Dependencies"
HEADER_ROW = 2  # 0-based: the title, a note, then the table
HEADERS = ("Project ID", "RAID ID", "Title", "Status", "Due", "Depends On", "State", "Typed In")


def write_dependencies(writer: MasterWriter, sheet: Worksheet) -> None:
    """Write the sheet: one row per Dependency item naming another project, in RAID data's order."""
    fmt = writer.formats
    items = cross_project_dependencies(writer.content.portfolio)
    sheet.write_string(0, 0, "Cross-project dependencies (as of this sync)", fmt["title"])
    sheet.write_string(1, 0, f"Late: the latest status report of the project depended on rates its schedule "
                             f"{LATE_SCHEDULE_RAG}. Open dependencies on late or unknown projects are warnings on "
                             "Data quality.", fmt["note"])
    writer._header(sheet, HEADER_ROW, HEADERS, [12, 9, 36, 11, 11, 12, 28, 36])
    if not items:
        sheet.write_string(HEADER_ROW + 1, 0, "No dependencies on other projects.", fmt["note"])
        return
    for r, item in enumerate(items, start=HEADER_ROW + 1):
        for col, value in enumerate((item.project_id, item.raid_id, item.title, item.status)):
            writer._text(sheet, r, col, value)
        if item.due is not None:
            sheet.write_number(r, 4, date_to_serial(item.due), fmt["date"])
        writer._text(sheet, r, 5, item.depends_on)
        writer._text(sheet, r, 6, item.state)
        writer._text(sheet, r, 7, f"{item.source} {item.sheet}!{item.cell}")
    last = HEADER_ROW + len(items)
    states = f"G{HEADER_ROW + 2}:G{last + 1}"
    sheet.conditional_format(states, {"type": "text", "criteria": "begins with", "value": "late",
                                      "format": fmt["red"]})
    sheet.conditional_format(states, {"type": "text", "criteria": "begins with", "value": "not in",
                                      "format": fmt["amber"]})
    sheet.freeze_panes(HEADER_ROW + 1, 1)
    sheet.autofilter(HEADER_ROW, 0, last, len(HEADERS) - 1)
    sheet.layout.repeat_rows = (HEADER_ROW, HEADER_ROW)
