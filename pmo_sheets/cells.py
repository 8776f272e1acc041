"""A1 cell references: the one place that turns (row, column) into what a spreadsheet user clicks."""

from __future__ import annotations

import re
from functools import lru_cache

_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


@lru_cache(maxsize=1024)
def column_letter(col: int) -> str:
    """1 -> 'A', 27 -> 'AA'."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    """(12, 5) -> 'E12' (both 1-based)."""
    return f"{column_letter(col)}{row}"


def parse_cell(ref: str) -> tuple[int, int]:
    """'E12' -> (12, 5)."""
    match = _A1.match(ref)
    if not match:
        raise ValueError(f"not an A1 cell reference: {ref!r}")
    letters, digits = match.groups()
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return int(digits), col


def quote_sheet(sheet: str) -> str:
    """Sheet name as it must appear in a formula or hyperlink: quoted when it needs to be."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", sheet):
        return sheet
    return "'" + sheet.replace("'", "''") + "'"
