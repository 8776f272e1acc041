"""The master's "Resources" sheet: each person's allocation per month across every project, against
their capacity, with over-allocation in red.

One row per person, one column per month that any project allocates. Each cell is a SUMIFS of
Resource data's Allocation % over every sheet part, for the rows whose Person Key (an integer the
master writes beside each row, :func:`pmo_sheets.rollups.group_keys`) is the row's key in column B and
whose month is the column's month (a date serial in the header row): a name such as ``R&D*``,
``<TBD>``, ``=X`` or ``2026`` is never a criterion, and ``Ana Silva`` and ``ana silva`` are two people,
as they are in pandas. Capacity (column C) starts at 100% for everyone, since the template records
none; a PMO may type a part-timer's 60% there and the red cells and Months Over follow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pmo_sheets.cells import column_letter
from pmo_sheets.rollups import EXCEL_EPOCH, OVER_CAPACITY_MARGIN, allocations

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

    from pmo_sheets.master import MasterWriter

RESOURCES_SHEET = "Resources"
HEADER_ROW = 3  # 0-based: the title, a note, a blank row, then the table
FIRST_MONTH_COL = 5  # 0-based: Person, Person Key, Capacity, Peak, Months Over, then the months
FULL_TIME = 1.0
MARGIN = f"{OVER_CAPACITY_MARGIN:.6f}"  # as a formula writes it: 0.000001, not Python's 1e-06


def write_resources(writer: MasterWriter, sheet: Worksheet) -> None:
    """Write the sheet: one row per person (sorted by name, as their keys are numbered), a column a month."""
    fmt = writer.formats
    frame = writer.frames["resources"]
    refs = writer.refs["resources"]
    sheet.write_string(0, 0, "Allocation per person and month across all projects", fmt["title"])
    sheet.write_string(1, 0, f"Capacity (column C) is {FULL_TIME:.0%} unless you type another; a month over it is red. "
                             "Each month adds up Resource data's Allocation % for the person's key (column B).",
                       fmt["note"])
    months = sorted(int(serial) for serial in
                    (frame["month"].dropna().pipe(lambda s: (s - EXCEL_EPOCH).dt.days)).unique())
    month_header = writer.book.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78",
                                           "border": 1, "border_color": "#BFBFBF", "num_format": "mmm yyyy"})
    writer._header(sheet, HEADER_ROW, ["Person", "Person Key", "Capacity", "Peak", "Months Over"], [24, 9, 10, 8, 9])
    sheet.set_row(HEADER_ROW, 30)
    for offset, serial in enumerate(months):
        sheet.write_number(HEADER_ROW, FIRST_MONTH_COL + offset, serial, month_header)
        sheet.set_column(FIRST_MONTH_COL + offset, FIRST_MONTH_COL + offset, 9)
    if frame.empty:
        sheet.write_string(HEADER_ROW + 1, 0, "No allocations yet: template 2.0's Resources sheets are empty.", fmt["note"])
        return
    totals = allocations(frame)
    labels = frame.groupby("person_key")["person"].first()
    last_col = FIRST_MONTH_COL + len(months) - 1
    first_letter, last_letter = column_letter(FIRST_MONTH_COL + 1), column_letter(last_col + 1)
    last_row = HEADER_ROW + len(labels)
    for r, (key, person) in enumerate(labels.items(), start=HEADER_ROW + 1):
        n = r + 1
        writer._text(sheet, r, 0, str(person))
        sheet.write_number(r, 1, int(key), fmt["integer"])
        sheet.write_number(r, 2, FULL_TIME, fmt["percent"])
        shown = []
        for offset, serial in enumerate(months):
            col = FIRST_MONTH_COL + offset
            figure = refs.sumifs("allocation", ("person_key", f"$B{n}"),
                                 ("month", f"{column_letter(col + 1)}${HEADER_ROW + 1}"))
            formula = writer._gather(figure, home=RESOURCES_SHEET, row=r, col=col,
                                     part_values=_parts(writer, int(key), serial))
            value = float(totals.get((int(key), serial), 0.0))
            shown.append(value)
            writer._formula(sheet, r, col, formula, fmt["percent"], value)
        span = f"{first_letter}{n}:{last_letter}{n}"
        writer._formula(sheet, r, 3, f"MAX({span})", fmt["percent"], max(shown))
        over = sum(1 for value in shown if value > FULL_TIME + OVER_CAPACITY_MARGIN)
        writer._formula(sheet, r, 4, f"SUMPRODUCT(--({span}>$C{n}+{MARGIN}))", fmt["integer"], over)
    grid = f"{first_letter}{HEADER_ROW + 2}:{last_letter}{last_row + 1}"
    sheet.conditional_format(grid, {"type": "formula", "format": fmt["red"],
                                    "criteria": f"={first_letter}{HEADER_ROW + 2}>$C{HEADER_ROW + 2}+{MARGIN}"})
    sheet.conditional_format(f"E{HEADER_ROW + 2}:E{last_row + 1}", {"type": "cell", "criteria": ">", "value": 0,
                                                                     "format": fmt["red"]})
    sheet.freeze_panes(HEADER_ROW + 1, 1)
    sheet.autofilter(HEADER_ROW, 0, last_row, last_col)
    sheet.layout.repeat_rows = (HEADER_ROW, HEADER_ROW)


def _parts(writer: MasterWriter, key: int, serial: int) -> Callable[[int], float]:
    """Part -> the person's allocation in that month on that part of Resource data (per-part subtotals)."""
    def value(part: int) -> float:
        cache = ("resources",)
        if cache not in writer.part_figures:  # every part at once: one groupby
            writer.part_figures[cache] = allocations(writer.frames["resources"].assign(
                _part=writer._parts_of_rows("resources")), by=("_part",)).to_dict()
        return float(writer.part_figures[cache].get((part, key, serial), 0.0))
    return value
