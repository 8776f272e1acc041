"""A workbook as plain cell values with their positions: what every reader produces.

A grid knows nothing about where it came from (an .xlsx file, a Google Sheet, an open Excel
workbook through xlwings): ``rows[0][0]`` is cell A1 of the sheet, whatever the source.

A sheet's rows may be read lazily: the .xlsx reader lists every sheet but reads a sheet's cells only
when someone asks for them, so validation never pays for the Instructions and Lists sheets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Rows = list[list[Any]]


class SheetGrid:
    """One sheet's values; ``rows[r][c]`` is the cell at row ``r + 1``, column ``c + 1``.

    Give either ``rows`` or ``load``, a function that returns them on first use (it may raise
    :class:`SourceError` when the sheet turns out to be unreadable).
    """

    __slots__ = ("_load", "_reload", "_rows", "hidden", "name")

    def __init__(self, name: str, rows: Rows | None = None, hidden: bool = False, *,
                 load: Callable[[], Rows] | None = None):
        if rows is None and load is None:
            rows = []
        self.name = name
        self.hidden = hidden
        self._rows = rows
        self._load = load if rows is None else None
        self._reload = self._load  # kept, so that a lazily read sheet can let its cells go (see release)

    @property
    def rows(self) -> Rows:
        """The sheet's rows, read on first access when the sheet was listed lazily."""
        if self._rows is None:
            load, self._load = self._load, None
            self._rows = load() if load is not None else []
        return self._rows

    @rows.setter
    def rows(self, rows: Rows) -> None:
        self._rows, self._load, self._reload = rows, None, None

    def release(self) -> None:
        """Let go of the cells of a sheet that was read lazily; they are read again if asked for.

        Validation calls it once a sheet's records are read, so that a sheet of a million rows is not
        held twice (as cells and as records). A sheet built from lists keeps its rows.
        """
        if self._reload is not None:
            self._rows, self._load = None, self._reload

    @property
    def loaded(self) -> bool:
        """True once the sheet's cells have been read (always true for a grid built from lists)."""
        return self._rows is not None

    def value(self, row: int, col: int) -> Any:
        """The value at 1-based (row, col), or None outside the used range."""
        rows = self.rows
        if 0 < row <= len(rows):
            line = rows[row - 1]
            if 0 < col <= len(line):
                return line[col - 1]
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SheetGrid):
            return NotImplemented
        return (self.name, self.hidden, self.rows) == (other.name, other.hidden, other.rows)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        rows = f"{len(self._rows)} rows" if self._rows is not None else "not read yet"
        return f"SheetGrid({self.name!r}, {rows}, hidden={self.hidden})"


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
