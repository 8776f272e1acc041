"""Reading an open workbook through the xlwings object model: whole used ranges, one read a sheet.

Everything here takes an xlwings ``Book`` (or anything with the same shape: the Linux test adapter,
xlwings' remote engine, xlwings Lite) and never imports xlwings itself, so the add-in's logic costs
nothing to import and runs wherever a ``Book`` comes from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pmo_sheets.grid import Grid, SheetGrid

RGB = tuple[int, int, int]


def sheet_names(book: Any) -> list[str]:
    """The names of the book's sheets, in workbook order."""
    return [sheet.name for sheet in book.sheets]


def find_sheet(book: Any, name: str) -> Any | None:
    """The sheet called ``name`` (case-insensitive, as Excel matches names), or None."""
    wanted = name.casefold()
    for sheet in book.sheets:
        if sheet.name.casefold() == wanted:
            return sheet
    return None


def read_sheet(sheet: Any) -> list[list[Any]]:
    """Every value of the sheet's used range in one read, padded so that ``rows[0][0]`` is A1.

    Excel's used range starts at the first used cell, not always at A1; the validator counts rows and
    columns from A1, so the rows and columns before the used range are filled with None.
    ``err_to_str`` keeps ``#DIV/0!`` and friends as text, so that the validator can report them.
    """
    used = sheet.used_range
    values = used.options(ndim=2, err_to_str=True).value or [[None]]
    top, left = used.row, used.column
    pad = [None] * (left - 1)
    rows = [pad + list(row) for row in values] if left > 1 else [list(row) for row in values]
    return [[] for _ in range(top - 1)] + rows


def read_grid(book: Any, *, skip: Iterable[str] = ()) -> Grid:
    """The whole workbook as a :class:`Grid`, one used-range read per sheet; ``skip`` names sheets to leave out."""
    skipped = {name.casefold() for name in skip}
    grid = Grid(str(book.name))
    for sheet in book.sheets:
        name = sheet.name
        if name.casefold() in skipped:
            continue
        grid.sheets[name] = SheetGrid(name, read_sheet(sheet))
    return grid


def to_hex(colour: Any) -> str | None:
    """An xlwings colour (RGB tuple, ``#RRGGBB`` text or None) as ``#RRGGBB``; None means no fill."""
    if colour is None or colour == "":
        return None
    if isinstance(colour, str):
        text = colour.strip().lstrip("#").upper()
        return f"#{text}" if len(text) == 6 else None
    red, green, blue = colour
    return f"#{int(red):02X}{int(green):02X}{int(blue):02X}"
