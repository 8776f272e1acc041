"""A workbook as plain cell values with their positions: what every reader produces.

A grid knows nothing about where it came from (an .xlsx file, a Google Sheet, an open Excel
workbook through xlwings): ``rows[0][0]`` is cell A1 of the sheet, whatever the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SheetGrid:
    """One sheet's values; ``rows[r][c]`` is the cell at row ``r + 1``, column ``c + 1``."""

    name: str
    rows: list[list[Any]]
    hidden: bool = False

    def value(self, row: int, col: int) -> Any:
        """The value at 1-based (row, col), or None outside the used range."""
        if 0 < row <= len(self.rows):
            line = self.rows[row - 1]
            if 0 < col <= len(line):
                return line[col - 1]
        return None


@dataclass
class Grid:
    """All sheets of one workbook, by name, in workbook order."""

    source: str
    sheets: dict[str, SheetGrid] = field(default_factory=dict)

    def sheet(self, name: str) -> SheetGrid | None:
        """The sheet with this name, matched case-insensitively as spreadsheet programs do."""
        if name in self.sheets:
            return self.sheets[name]
        lowered = name.casefold()
        for sheet_name, sheet in self.sheets.items():
            if sheet_name.casefold() == lowered:
                return sheet
        return None


class SourceError(Exception):
    """A source that cannot be read at all; carries the catalogue code of the file-level finding."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
