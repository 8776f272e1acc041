"""How the master prints and reads: page setup per sheet, column widths that fit what the cells show.

A steering committee reads the master on paper or as a PDF. Each sheet gets the page setup a PMO
would choose by hand: landscape when its columns are wider than a portrait page, fitted to one page
wide (never a column stranded on a page of its own), the header row repeated on every page, a print
area that covers the table and its chart, and a header and footer naming the portfolio, the sheet,
the sync time and the page. Column widths follow what the cells *show* (the formatted cached value,
not the raw number), so a total never prints as ``###`` and a name is never cut.

The master writer tells a :class:`SheetLayout` what it writes where; :func:`apply_page_setup` turns
that into XlsxWriter calls when the sheet is complete. Nothing here reads or writes cell values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from xlsxwriter.worksheet import Worksheet

# Column-width units (characters of "0" in the default font) a portrait A4 / Letter page holds at 100%
# (7.5 in between the margins below, a width unit being about 7 px at 96 dpi); a sheet wider prints landscape.
PORTRAIT_WIDTH = 100
# The widest a column grows to fit its text; longer text wraps where the writer asked for wrapping, and
# otherwise overflows into the blank cell beside it or is cut at the cell edge like any spreadsheet.
MAX_FIT_WIDTH = 60
# Text is measured in characters; the factor covers proportional fonts wider than the default one
# (LibreOffice without Calibri's metric twin falls back to DejaVu Sans, about 20% wider) and the padding
# spreadsheet programs keep on either side of a value.
CHAR_FACTOR = 1.2
BOLD_FACTOR = 1.1
PADDING = 2.0
# Excel and LibreOffice refuse a header or footer longer than 255 characters.
HEADER_LIMIT = 255
PORTFOLIO_NAME_LIMIT = 80


@dataclass(frozen=True)
class PrintHeading:
    """What every printed page of the master says about itself: the portfolio and the sync it shows."""

    portfolio: str
    synced_at: str


@dataclass
class SheetLayout:
    """What a sheet holds, as far as printing needs: the widths the writer asked for, the width each
    column's content needs, the used range, and the rows repeated on each page."""

    asked: dict[int, tuple[float, Any]] = field(default_factory=dict)  # col -> (width, column format)
    needed: dict[int, float] = field(default_factory=dict)
    last_row: int = 0
    last_col: int = 0
    repeat_rows: tuple[int, int] | None = (0, 0)  # first and last row repeated on every page, or None
    fixed: set[int] = field(default_factory=set)  # columns whose width the writer fixed (wrapping text)
    charts: list[tuple[int, int, int, int]] = field(default_factory=list)  # (row, col, width px, height px)

    def set_width(self, first: int, last: int, width: float, column_format: Any = None, *, fixed: bool = False) -> None:
        """The width (and format) the writer chose for columns ``first``..``last``; content may widen it
        unless ``fixed`` (a column of wrapped text keeps its width and grows in height instead)."""
        for col in range(first, last + 1):
            self.asked[col] = (width, column_format)
            if fixed:
                self.fixed.add(col)
        self.cover(0, last)

    def cover(self, row: int, col: int) -> None:
        """Make sure the print area reaches (``row``, ``col``): a cell, or the corner of a chart."""
        self.last_row = max(self.last_row, row)
        self.last_col = max(self.last_col, col)

    def note(self, row: int, col: int, shown: str, *, bold: bool = False, wraps: bool = False) -> None:
        """A cell at (``row``, ``col``) that shows ``shown``; ``wraps``: only its longest word must fit."""
        self.cover(row, col)
        if not shown:
            return
        longest = max((len(word) for word in shown.split()), default=0) if wraps else max(map(len, shown.splitlines()))
        self.need(col, longest, bold=bold)

    def need(self, col: int, characters: int, *, bold: bool = False) -> None:
        """Column ``col`` shows up to ``characters`` characters."""
        width = characters * CHAR_FACTOR * (BOLD_FACTOR if bold else 1.0) + PADDING
        self.needed[col] = max(self.needed.get(col, 0.0), min(width, MAX_FIT_WIDTH))

    def width(self, col: int) -> float:
        """The column's final width: the writer's, widened to fit what the column shows."""
        asked = self.asked.get(col, (8.43, None))[0]  # 8.43: the spreadsheet programs' default
        if col in self.fixed:
            return asked
        return round(max(asked, self.needed.get(col, 0.0)), 1)

    def total_width(self) -> float:
        return sum(self.width(col) for col in range(self.last_col + 1))

    def cover_charts(self) -> None:
        """Widen the used range to every chart's bottom-right corner, with the columns' final widths
        (a column of width w is about 7w + 5 pixels wide, a default row 20 pixels high)."""
        for row, col, width, height in self.charts:
            right, pixels = col, 0.0
            while True:
                pixels += self.width(right) * 7 + 5
                if pixels >= width:
                    break
                right += 1
            self.cover(row + math.ceil(height / 20), right)


def shown_text(value: Any, kind: str | None) -> str:
    """The text a cell of format ``kind`` (money, percent, integer, rate, date, or None) shows for ``value``."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        number = float(value)
        if kind in ("money", "total_money"):
            return f"{number:,.2f}"
        if kind in ("percent", "total_pct"):
            return f"{number:.0%}"
        if kind == "rate":
            return f"{number:.4f}"
        if kind == "date":
            return "2026-12-31"  # yyyy-mm-dd: always ten characters
        if kind in ("integer", "total_int"):
            return f"{number:.0f}"
        return f"{number:g}" if number != int(number) else str(int(number))
    return str(value)


def _header_text(text: str) -> str:
    """Header / footer text: '&' doubled so that it prints as itself and not as a code."""
    return text.replace("&", "&&")


def header_footer(heading: PrintHeading) -> tuple[str, str]:
    """The page header (portfolio name left, sheet centre, sync time right) and footer (page x of y)."""
    name = heading.portfolio
    if len(name) > PORTFOLIO_NAME_LIMIT:
        name = name[:PORTFOLIO_NAME_LIMIT - 1] + "…"
    header = f'&L&"-,Bold"{_header_text(name)}&C&A&R{_header_text("synced " + heading.synced_at)}'
    footer = "&Lpmo-sheets master&RPage &P of &N"
    return header[:HEADER_LIMIT], footer


def apply_page_setup(sheet: Worksheet, layout: SheetLayout, heading: PrintHeading, *, fit_to_page: bool = False) -> None:
    """Column widths from ``layout`` and the sheet's page setup: orientation, one page wide (or one page
    altogether with ``fit_to_page``), repeated header rows, print area, header and footer."""
    layout.cover_charts()
    for col in range(layout.last_col + 1):
        if col in layout.asked or col in layout.needed:
            sheet.set_column(col, col, layout.width(col), layout.asked.get(col, (None, None))[1])
    if layout.total_width() > PORTRAIT_WIDTH:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 1 if fit_to_page else 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.6)
    sheet.center_horizontally()
    if layout.repeat_rows is not None and layout.last_row > layout.repeat_rows[1]:
        sheet.repeat_rows(*layout.repeat_rows)
    sheet.print_area(0, 0, layout.last_row, layout.last_col)
    header, footer = header_footer(heading)
    sheet.set_header(header, {"margin": 0.3})
    sheet.set_footer(footer, {"margin": 0.3})


def _format_kind(cell_format: Any) -> tuple[str | None, bool, bool, bool]:
    """(kind for :func:`shown_text`, bold, wraps, overflows) of an XlsxWriter format (or None).

    ``overflows``: a title or an italic note, written to spill over the blank cells to its right;
    it does not widen its column.
    """
    if cell_format is None:
        return None, False, False, False
    number = str(getattr(cell_format, "num_format", "") or "")
    if "#,##0.00" in number:
        kind: str | None = "money"
    elif "%" in number:
        kind = "percent"
    elif number == "0.0000":
        kind = "rate"
    elif "yy" in number:
        kind = "date"
    elif number == "0":
        kind = "integer"
    else:
        kind = None
    overflows = bool(getattr(cell_format, "italic", 0)) or (getattr(cell_format, "font_size", 11) or 11) > 12
    return kind, bool(getattr(cell_format, "bold", 0)), bool(getattr(cell_format, "text_wrap", 0)), overflows


class LaidOutWorksheet(Worksheet):
    """An XlsxWriter worksheet that keeps its :class:`SheetLayout` up to date as cells are written, so
    that the master writer needs no bookkeeping of its own: ``workbook.add_worksheet(name,
    worksheet_class=LaidOutWorksheet)``. Only the public methods the master uses are followed (A1
    strings are not: the master addresses cells by number)."""

    def __init__(self) -> None:
        super().__init__()
        self.layout = SheetLayout()

    def _seen(self, row: int, col: int, value: Any, cell_format: Any) -> None:
        kind, bold, wraps, overflows = _format_kind(cell_format)
        shown = shown_text(value, kind)
        if overflows:  # spills over the blank cells to its right (the PDF test checks titles print whole)
            self.layout.cover(row, col)
        else:
            self.layout.note(row, col, shown, bold=bold, wraps=wraps)

    def write(self, row: int, col: int, *args: Any) -> Any:  # type: ignore[override]
        if args:
            self._seen(row, col, args[0], args[1] if len(args) > 1 else None)
        return super().write(row, col, *args)

    def write_string(self, row: int, col: int, string: str, cell_format: Any = None) -> Any:  # type: ignore[override]
        self._seen(row, col, string, cell_format)
        return super().write_string(row, col, string, cell_format)

    def write_number(self, row: int, col: int, number: Any, cell_format: Any = None) -> Any:  # type: ignore[override]
        self._seen(row, col, number, cell_format)
        return super().write_number(row, col, number, cell_format)

    def write_formula(self, row: int, col: int, formula: str, cell_format: Any = None,  # type: ignore[override]
                      value: Any = 0) -> Any:
        self._seen(row, col, value, cell_format)
        return super().write_formula(row, col, formula, cell_format, value)

    def write_rich_string(self, row: int, col: int, *args: Any) -> Any:  # type: ignore[override]
        text = "".join(part for part in args if isinstance(part, str))
        last = args[-1] if args and not isinstance(args[-1], str) else None
        self._seen(row, col, text, last)
        return super().write_rich_string(row, col, *args)

    def merge_range(self, first_row: int, first_col: int, last_row: int, last_col: int,  # type: ignore[override]
                    data: Any, cell_format: Any = None) -> Any:
        self.layout.cover(last_row, last_col)  # merged text wraps inside the merged cells: no width needed
        return super().merge_range(first_row, first_col, last_row, last_col, data, cell_format)

    def set_column(self, first_col: int, last_col: int, width: float | None = None,  # type: ignore[override]
                   cell_format: Any = None, options: dict[str, Any] | None = None) -> Any:
        _, _, wraps, _ = _format_kind(cell_format)
        self.layout.set_width(first_col, last_col, 8.43 if width is None else width, cell_format, fixed=wraps)
        return super().set_column(first_col, last_col, width, cell_format, options)

    def insert_chart(self, row: int, col: int, chart: Any, options: dict[str, Any] | None = None) -> Any:  # type: ignore[override]
        # Where the chart ends depends on the final column widths: worked out by apply_page_setup.
        self.layout.charts.append((row, col, int(getattr(chart, "width", 480)), int(getattr(chart, "height", 288))))
        return super().insert_chart(row, col, chart, options)



def shown_characters(series: Any, kind: str) -> int:
    """The most characters a data column of ``kind`` (text, date, number, money, percent, integer) shows.

    Measured over the distinct values only, so that a million rows cost one hash pass, not a million
    formatted strings.
    """
    import pandas as pd

    present = series.dropna()
    if present.empty:
        return 0
    if kind == "date":
        return 10
    if kind in ("money", "percent", "integer", "number"):
        numbers = pd.to_numeric(present, errors="coerce").dropna()
        if numbers.empty:
            return 0
        style = {"money": "money", "percent": "percent", "integer": "integer"}.get(kind)
        return max(len(shown_text(float(numbers.max()), style)), len(shown_text(float(numbers.min()), style)))
    return max(len(str(value)) for value in pd.unique(present.astype(object)))
