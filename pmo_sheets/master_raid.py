"""The master's "RAID and changes" sheet: per project, its open RAID items by priority, the ones overdue,
and its approved change requests (how many, schedule impact in days, cost impact in the reporting
currency).

Every figure is a live formula over RAID data and Change data with its cached value from
:func:`pmo_sheets.rollups.raid_and_changes`, written with the master writer's own helpers (figures
gathered over every sheet part, per-part subtotals when long). The criteria are the Project ID (whose
pattern allows no operator or wildcard), constants in their one validated spelling (``"<>Closed"``,
``"High"``, ``"Approved"``) and the "overdue as of" date in B2, a number: no free text is ever a
criterion. Overdue is judged on that date, the sync's day, not on TODAY(): the cached values stay true
when the file is opened later, and finance can type another date to see what will be overdue then.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pmo_sheets.cells import column_letter, quote_sheet
from pmo_sheets.coerce import date_to_serial
from pmo_sheets.rollups import PRIORITIES, raid_and_changes

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

    from pmo_sheets.master import MasterWriter

RAID_SHEET = "RAID and changes"
HEADER_ROW = 3  # 0-based: the title, the as-of date, a blank row, then the table
AS_OF_CELL = "$B$2"


def as_of_date(synced_at: str) -> dt.date:
    """The day overdue items are judged on: the sync's (its ISO time stamp's date)."""
    return dt.date.fromisoformat(synced_at[:10])


def write_raid_and_changes(writer: MasterWriter, sheet: Worksheet) -> None:
    """Write the sheet: one row per project in the Portfolio sheet's order, and a total row."""
    content, fmt = writer.content, writer.formats
    as_of = as_of_date(content.synced_at)
    figures = raid_and_changes(content.portfolio, content.fx, as_of)
    raid, changes = writer.refs["raid"], writer.refs["changes"]
    home = RAID_SHEET
    currency = content.reporting_currency
    sheet.write_string(0, 0, "Open RAID items and approved changes by project", fmt["title"])
    sheet.write_string(1, 0, "Overdue as of", fmt["total_label"])
    sheet.write_number(1, 1, date_to_serial(as_of), fmt["date"])
    sheet.write_string(1, 2, "The sync's day; type another date to see what is overdue then.", fmt["note"])
    headers = ["Project ID", "Project Name", "Open Items", *(f"Open {p}" for p in PRIORITIES), "Overdue",
               "Approved Changes", "Schedule Impact (days)", f"Cost Impact ({currency})"]
    writer._header(sheet, HEADER_ROW, headers, [12, 30, 8, 8, 8, 8, 8, 9, 9, 10, 16])
    sheet.set_row(HEADER_ROW, 45)
    as_of_criterion = f'"<"&{quote_sheet(home)}!{AS_OF_CELL}'  # named in full: Part subtotals may hold the term
    projects = content.portfolio.projects.reset_index(drop=True)
    for index, project in projects.iterrows():
        r = HEADER_ROW + 1 + index
        n = r + 1
        pid = str(project["project_id"])
        values = figures.loc[pid]
        writer._text(sheet, r, 0, pid)
        writer._text(sheet, r, 1, project["project_name"] if isinstance(project["project_name"], str) else None)
        key = ("project_id", f"$A{n}")
        open_item = ("status", '"<>Closed"')
        counts = [(raid.countifs(key, open_item), "open_items")]
        counts += [(raid.countifs(key, open_item, ("priority", f'"{p}"')), f"open_{p.lower()}") for p in PRIORITIES]
        counts += [(raid.countifs(key, open_item, ("due", as_of_criterion)), "overdue")]
        approved = ("decision", '"Approved"')
        counts += [(changes.countifs(key, approved), "approved_changes")]
        for col, (figure, name) in enumerate(counts, start=2):
            table = figure.refs.table
            formula = writer._gather(figure, home=home, row=r, col=col,
                                     part_values=writer._project_parts(table, pid, name, as_of=as_of))
            writer._formula(sheet, r, col, formula, fmt["integer"], int(values[name]))
        days = writer._gather(changes.sumifs("schedule_impact_days", key, approved), home=home, row=r, col=9,
                              part_values=writer._project_parts("changes", pid, "schedule_impact"))
        writer._formula(sheet, r, 9, days, fmt["integer"], float(values["schedule_impact"]))
        # At the project's rate, Portfolio's column J (FX sheet lookup): a change is in the project's currency.
        cost = writer._gather(changes.sumifs("cost_impact", key, approved), home=home, row=r, col=10,
                              part_values=writer._project_parts("changes", pid, "cost_impact"))
        writer._formula(sheet, r, 10, f"({cost})*{quote_sheet('Portfolio')}!$J{index + 2}", fmt["money"],
                        float(values["cost_impact"]))
    total = HEADER_ROW + 1 + len(projects)
    sheet.write_string(total, 0, "Total", fmt["total_label"])
    for col in range(2, 11):
        letter = column_letter(col + 1)
        name = (["open_items", *(f"open_{p.lower()}" for p in PRIORITIES), "overdue", "approved_changes",
                 "schedule_impact", "cost_impact"])[col - 2]
        cached = float(figures[name].sum()) if len(figures) else 0.0
        column_sum = f"SUM({letter}{HEADER_ROW + 2}:{letter}{total})" if len(projects) else "0"  # not the header
        writer._formula(sheet, total, col, column_sum,
                        fmt["total_money" if col == 10 else "total_int"], cached if col >= 9 else int(cached))
    sheet.freeze_panes(HEADER_ROW + 1, 1)
    sheet.autofilter(HEADER_ROW, 0, max(total - 1, HEADER_ROW + 1), len(headers) - 1)
    if len(projects):  # overdue items stand out
        sheet.conditional_format(HEADER_ROW + 1, 7, total - 1, 7,
                                 {"type": "cell", "criteria": ">", "value": 0, "format": fmt["red"]})
    sheet.layout.repeat_rows = (HEADER_ROW, HEADER_ROW)

