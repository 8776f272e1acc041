"""The add-in's own memory: which cells it coloured and what fill each had before.

It lives in a hidden sheet of the workbook itself, so it survives save, reopen, e-mail and the
shared folder: a Validate or Clear pressed tomorrow, on another machine, still restores the user's
own fills instead of guessing. Only the add-in writes this sheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pmo_sheets.addin.workbook import find_sheet, read_sheet

STORE_SHEET = "_pmo_addin"
_ISSUES_KEY = "issues_sheet"
_HEADER = ("sheet", "cell", "original_fill", "highlight")

Cell = tuple[str, str]  # (sheet name, A1 reference)


@dataclass
class Highlights:
    """What the add-in has coloured: per cell, its original fill (``#RRGGBB`` or None) and our colour."""

    issues_sheet: str | None = None
    originals: dict[Cell, str | None] = field(default_factory=dict)
    colours: dict[Cell, str] = field(default_factory=dict)


def load_highlights(book: Any) -> Highlights:
    """The highlights recorded by the last Validate, read in one go; empty when there are none."""
    sheet = find_sheet(book, STORE_SHEET)
    if sheet is None:
        return Highlights()
    return parse_rows(read_sheet(sheet))


def parse_rows(rows: list[list[Any]]) -> Highlights:
    """The store sheet's values as :class:`Highlights` (the inverse of :func:`store_rows`)."""
    found = Highlights()
    for row in rows:
        cells = [*row, None, None, None, None][:4]
        key, value = cells[0], cells[1]
        if key == _ISSUES_KEY:
            found.issues_sheet = str(value) if value else None
        elif key and key != _HEADER[0] and value:
            cell = (str(key), str(value))
            found.originals[cell] = str(cells[2]) if cells[2] else None
            if cells[3]:
                found.colours[cell] = str(cells[3])
    return found


def store_rows(highlights: Highlights) -> list[list[Any]]:
    """The rows written to the store sheet."""
    rows: list[list[Any]] = [[_ISSUES_KEY, highlights.issues_sheet, None, None], list(_HEADER)]
    for (sheet, cell), original in highlights.originals.items():
        rows.append([sheet, cell, original, highlights.colours.get((sheet, cell))])
    return rows


def save_highlights(book: Any, highlights: Highlights) -> None:
    """Write the store sheet, creating it hidden at the end of the workbook when it is missing."""
    sheet = find_sheet(book, STORE_SHEET)
    if sheet is None:
        sheet = book.sheets.add(STORE_SHEET, after=book.sheets[len(book.sheets) - 1])
        sheet.visible = False
    else:
        sheet.clear_contents()
    sheet.range("A1").value = store_rows(highlights)


def delete_store(book: Any) -> None:
    """Remove the store sheet (after Clear has put every fill back)."""
    sheet = find_sheet(book, STORE_SHEET)
    if sheet is not None:
        sheet.delete()
