"""The part of the xlwings API that the add-in uses, over real .xlsx files with openpyxl underneath.

Excel cannot run on Linux, so the add-in's tests open an .xlsx through this adapter, press a button
(``validate``, ``clear``, ``new_project``), save, and open the file again for the next step: whatever
the add-in relies on between presses must really be in the file. The adapter mimics what xlwings
hands back: numbers as floats, dates as datetimes, formula cells as their cached values, error
values as text with ``err_to_str``, fills as RGB tuples, and Excel's blue underlined hyperlinks.

It also counts the reads the add-in issues (``book.reads``), the way a call into Excel would be
counted, so tests and the benchmark can show that the add-in reads whole used ranges, not cells.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

T = TypeVar("T")
Coords = tuple[int, int]


class AdapterBooks:
    """``app.books``: only ``open``, which records the file the add-in opened (Upgrade opens its copy)."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    def open(self, fullname: str | None = None) -> AdapterBook:
        assert fullname is not None
        self.opened.append(str(fullname))
        return AdapterBook(fullname)


class AdapterApp:
    """``book.app``: ``alert``, recorded instead of shown, and ``books``."""

    def __init__(self) -> None:
        self.alerts: list[str] = []
        self._books = AdapterBooks()

    def alert(self, prompt: str, title: str | None = None, **_: Any) -> None:
        self.alerts.append(prompt)

    @property
    def books(self) -> AdapterBooks:
        return self._books


class AdapterBook:
    """An .xlsx opened the way ``xw.Book`` would show it; ``save()`` writes it back."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._workbook = load_workbook(self.path)
        # Formula cells show their last calculated value in Excel; openpyxl keeps those apart.
        cached = load_workbook(self.path, data_only=True)
        self._cached: dict[str, Worksheet] = {ws.title: ws for ws in cached.worksheets}
        self.reads: Counter[str] = Counter()
        self.app = AdapterApp()

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def fullname(self) -> str:
        return str(self.path)

    @property
    def sheets(self) -> AdapterSheets:
        return AdapterSheets(self)

    def save(self, path: Path | str | None = None) -> None:
        self._workbook.save(Path(path) if path else self.path)

    def close(self) -> None:
        self._workbook.close()


class AdapterSheets:
    """``book.sheets``: iterate, index by position or name, add."""

    def __init__(self, book: AdapterBook):
        self.book = book

    def _all(self) -> list[Worksheet]:
        return self.book._workbook.worksheets

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[AdapterSheet]:
        return (AdapterSheet(self.book, ws) for ws in list(self._all()))

    def __getitem__(self, key: int | str) -> AdapterSheet:
        if isinstance(key, int):
            return AdapterSheet(self.book, self._all()[key])
        for ws in self._all():
            if ws.title.casefold() == key.casefold():
                return AdapterSheet(self.book, ws)
        raise KeyError(key)

    def __call__(self, key: int | str) -> AdapterSheet:
        return self[key - 1] if isinstance(key, int) else self[key]

    def add(self, name: str | None = None, before: AdapterSheet | None = None,
            after: AdapterSheet | None = None) -> AdapterSheet:
        """A new sheet, placed as Excel places it, and made the active sheet as Excel does."""
        workbook = self.book._workbook
        if before is not None:
            index = workbook.worksheets.index(before.ws)
        elif after is not None:
            index = workbook.worksheets.index(after.ws) + 1
        else:
            index = workbook.worksheets.index(workbook.active) if workbook.active else 0
        ws = workbook.create_sheet(name, index)
        sheet = AdapterSheet(self.book, ws)
        sheet.activate()
        return sheet


class AdapterSheet:
    """One worksheet."""

    def __init__(self, book: AdapterBook, ws: Worksheet):
        self.book = book
        self.ws = ws

    @property
    def name(self) -> str:
        return self.ws.title

    @property
    def index(self) -> int:
        return self.book._workbook.worksheets.index(self.ws) + 1

    @property
    def visible(self) -> bool:
        return self.ws.sheet_state == "visible"

    @visible.setter
    def visible(self, value: bool) -> None:
        self.ws.sheet_state = "visible" if value else "hidden"

    @property
    def used_range(self) -> AdapterRange:
        self.book.reads["used_range"] += 1
        ws = self.ws
        return AdapterRange(self, (ws.min_row, ws.min_column), (ws.max_row, ws.max_column))

    def range(self, first: str | Coords, last: Coords | None = None) -> AdapterRange:
        if isinstance(first, str):
            min_col, min_row, max_col, max_row = range_boundaries(first.replace("$", ""))
            return AdapterRange(self, (min_row, min_col), (max_row, max_col))
        return AdapterRange(self, first, last or first)

    def __getitem__(self, address: str) -> AdapterRange:
        return self.range(address)

    def clear_contents(self) -> None:
        for row in self.ws.iter_rows():
            for cell in row:
                if not isinstance(cell, MergedCell):
                    cell.value = None
                    cell.hyperlink = None

    def delete(self) -> None:
        workbook = self.book._workbook
        was_active = workbook.active is self.ws
        workbook.remove(self.ws)
        self.book._cached.pop(self.ws.title, None)
        if was_active:
            visible = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
            AdapterSheet(self.book, visible[0]).activate()

    def activate(self) -> None:
        workbook = self.book._workbook
        for ws in workbook.worksheets:  # only one tab selected, or Excel opens the sheets grouped
            ws.sheet_view.tabSelected = ws is self.ws
        workbook.active = workbook.worksheets.index(self.ws)


class _FontProxy:
    def __init__(self, rng: AdapterRange):
        self.rng = rng

    @property
    def bold(self) -> bool:
        return bool(self.rng._cell(*self.rng.first).font.b)

    @bold.setter
    def bold(self, value: bool) -> None:
        for cell in self.rng._cells():
            cell.font = Font(**{**_font_args(cell.font), "b": value})


def _font_args(font: Font) -> dict[str, Any]:
    return {"name": font.name, "sz": font.sz, "b": font.b, "i": font.i, "color": font.color, "u": font.u}


class AdapterRange:
    """A rectangle of cells, 1-based and inclusive, as ``xw.Range``."""

    def __init__(self, sheet: AdapterSheet, first: Coords, last: Coords, options: dict[str, Any] | None = None):
        self.sheet = sheet
        self.first = first
        self.last = last
        self._options = options or {}

    @property
    def row(self) -> int:
        return self.first[0]

    @property
    def column(self) -> int:
        return self.first[1]

    @property
    def shape(self) -> Coords:
        return (self.last[0] - self.first[0] + 1, self.last[1] - self.first[1] + 1)

    @property
    def address(self) -> str:
        first = f"${get_column_letter(self.first[1])}${self.first[0]}"
        last = f"${get_column_letter(self.last[1])}${self.last[0]}"
        return first if self.first == self.last else f"{first}:{last}"

    @property
    def font(self) -> _FontProxy:
        return _FontProxy(self)

    def options(self, **options: Any) -> AdapterRange:
        return AdapterRange(self.sheet, self.first, self.last, {**self._options, **options})

    def _cell(self, row: int, col: int) -> Cell:
        return self.sheet.ws.cell(row, col)

    def _cells(self) -> Iterator[Cell]:
        for row in range(self.first[0], self.last[0] + 1):
            for col in range(self.first[1], self.last[1] + 1):
                yield self._cell(row, col)

    # -- values ---------------------------------------------------------------------------------

    @property
    def value(self) -> Any:
        """Values as xlwings returns them: a scalar for one cell, else rows (always rows with ndim=2)."""
        self.sheet.book.reads["values"] += 1
        ws = self.sheet.ws
        cached = self.sheet.book._cached.get(ws.title)
        rows = []
        for r, line in enumerate(ws.iter_rows(min_row=self.first[0], max_row=self.last[0], min_col=self.first[1],
                                              max_col=self.last[1], values_only=True)):
            out = []
            for c, value in enumerate(line):
                if _is_formula(value):
                    value = cached.cell(self.first[0] + r, self.first[1] + c).value if cached is not None else None
                out.append(_as_xlwings(value, self._options))
            rows.append(out)
        if self._options.get("ndim") == 2:
            return rows
        if len(rows) == 1 and len(rows[0]) == 1:
            return rows[0][0]
        if len(rows) == 1:
            return rows[0]
        if all(len(line) == 1 for line in rows):
            return [line[0] for line in rows]
        return rows

    @value.setter
    def value(self, data: Any) -> None:
        if not isinstance(data, (list, tuple)):
            rows = [[data] * self.shape[1]] * self.shape[0]
        elif data and isinstance(data[0], (list, tuple)):
            rows = data
        else:
            rows = [list(data)]
        for r, line in enumerate(rows):
            for c, value in enumerate(line):
                cell = self._cell(self.first[0] + r, self.first[1] + c)
                cell.value = value

    # -- formatting -----------------------------------------------------------------------------

    @property
    def color(self) -> tuple[int, int, int] | None:
        """The fill of the top-left cell as an RGB tuple, None without a fill (as ``Range.color``)."""
        self.sheet.book.reads["colours"] += 1
        return _rgb(self._cell(*self.first))

    @color.setter
    def color(self, value: tuple[int, int, int] | str | None) -> None:
        if value is None:
            fill = PatternFill(fill_type=None)
        else:
            text = value.lstrip("#") if isinstance(value, str) else "{:02X}{:02X}{:02X}".format(*value)
            fill = PatternFill("solid", fgColor="FF" + text.upper())
        for cell in self._cells():
            cell.fill = fill

    async def get_color(self) -> tuple[int, int, int] | None:
        """xlwings Lite's way to read a fill."""
        return self.color

    async def get_colors(self) -> list[list[tuple[int, int, int] | None]]:
        """xlwings Lite's one-read-for-a-block: every cell's fill, row by row."""
        self.sheet.book.reads["colours"] += 1
        return [[_rgb(self._cell(row, col)) for col in range(self.first[1], self.last[1] + 1)]
                for row in range(self.first[0], self.last[0] + 1)]

    @property
    def column_width(self) -> float | None:
        return self.sheet.ws.column_dimensions[get_column_letter(self.first[1])].width

    @column_width.setter
    def column_width(self, width: float) -> None:
        for col in range(self.first[1], self.last[1] + 1):
            self.sheet.ws.column_dimensions[get_column_letter(col)].width = width

    def add_hyperlink(self, address: str, text_to_display: str | None = None, screen_tip: str | None = None) -> None:
        """A link as Excel's ``Hyperlinks.Add``: ``#Sheet!A1`` jumps inside the workbook; the cell shows the text."""
        cell = self._cell(*self.first)
        if address.startswith("#"):
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=address[1:], tooltip=screen_tip,
                                       display=text_to_display)
        else:
            cell.hyperlink = Hyperlink(ref=cell.coordinate, target=address, tooltip=screen_tip, display=text_to_display)
        cell.value = text_to_display or address
        cell.font = Font(color="0563C1", underline="single")  # Excel's Hyperlink cell style


def _rgb(cell: Cell) -> tuple[int, int, int] | None:
    fill = cell.fill
    if fill is None or fill.fill_type != "solid":
        return None
    colour = fill.fgColor
    if colour.type != "rgb" or not isinstance(colour.rgb, str):
        raise NotImplementedError(f"the adapter reads only RGB fills, not {colour.type} colours")
    text = colour.rgb[-6:]
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def _is_formula(value: Any) -> bool:
    return (isinstance(value, str) and value.startswith("=")) or type(value).__name__ in (
        "ArrayFormula", "DataTableFormula")


def _as_xlwings(value: Any, options: dict[str, Any]) -> Any:
    """What xlwings returns for a cell: floats for every number, datetimes for dates."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str) and value.startswith("#") and not options.get("err_to_str"):
        return None if value in _ERRORS else value
    return value


_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!"}


def press(path: Path | str, command: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, AdapterBook]:
    """Open ``path``, run one add-in command on it, save and close: the next press reopens the file."""
    book = AdapterBook(path)
    try:
        result = command(book, *args, **kwargs)
        book.save()
    finally:
        book.close()
    return result, book
