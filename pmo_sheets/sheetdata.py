"""The bulk rows of the master's data sheets, written as OOXML ``<sheetData>`` straight into the file.

XlsxWriter writes every other part of the master (rollups, formats, charts, the data sheets'
headers, widths and filters). It handles about 100,000 cells a second; a 1,000-project master holds
about 7 million data cells, which would take over a minute. These rows are plain values (numbers,
dates as serials, inline strings: what XlsxWriter itself writes in constant-memory mode), so they
are built here column by column, a few rows at a time, and spliced into the data sheets' parts after
XlsxWriter has closed the file: about ten times faster, in constant memory.

Text is stored exactly as XlsxWriter stores it on the other sheets, so that a value reads the same
wherever it appears: OOXML reserves ``_xHHHH_`` for characters XML cannot carry, so control
characters become ``_x0001_`` and a literal ``_x0041_`` is written ``_x005F_x0041_`` (see
:func:`escape_cell_text`); text longer than a cell holds is cut with a visible marker
(:func:`fit_cell_text`).
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pmo_sheets.cells import column_letter

CHUNK_ROWS = 20_000
CELL_TEXT_LIMIT = 32_767  # what Excel holds in one cell, counted in UTF-16 code units
# The same expressions as XlsxWriter's xmlwriter (re_control_chars_1 and _2): a literal escape
# sequence, and the control characters XML 1.0 cannot carry (tab and line feed it can).
_RESERVED_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_LEADING_OR_TRAILING_SPACE = re.compile(r"^\s|\s$")
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')


@dataclass
class DataColumnValues:
    """One column of a data sheet: its values (None for blank) and how to write them."""

    values: Sequence[Any]
    kind: str  # "text" or "number" (dates arrive as serial numbers)
    style: int | None = None  # the xf index of the column's number format


_BLANK = "<c/>"


def escape_cell_text(text: str) -> str:
    """``text`` as a cell's ``<t>`` stores it before XML escaping, exactly as XlsxWriter stores its strings
    (its ``_escape_control_characters``): ``_xHHHH_`` becomes ``_x005F_xHHHH_``, a control character
    ``_x0001_``, and the non-characters U+FFFE / U+FFFF ``_xFFFE_`` / ``_xFFFF_``."""
    text = _RESERVED_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda match: f"_x{ord(match.group(1)):04X}_", text)
    return text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


def _utf16_units(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def fit_cell_text(text: str) -> str:
    """``text`` itself when a cell can hold it, else cut to 32,767 characters ending with a visible marker
    that says how long the text was (a file with a longer cell is one Excel refuses to open)."""
    if len(text) <= CELL_TEXT_LIMIT // 2 or _utf16_units(text) <= CELL_TEXT_LIMIT:
        return text
    marker = f" [... cut: the text is {len(text):,} characters, a cell holds {CELL_TEXT_LIMIT:,}]"
    room, kept = CELL_TEXT_LIMIT - len(marker), 0
    for index, char in enumerate(text):
        kept += 2 if ord(char) > 0xFFFF else 1
        if kept > room:
            return text[:index] + marker
    return text  # not reached: the text is longer than the room


def _text_cell(value: Any) -> str:
    stored = escape_cell_text(fit_cell_text(str(value)))
    # Like XlsxWriter: leading or trailing whitespace survives only with xml:space="preserve".
    space = ' xml:space="preserve"' if _LEADING_OR_TRAILING_SPACE.search(stored) else ""
    return f'<c t="inlineStr"><is><t{space}>{escape(stored)}</t></is></c>'


def _column_cells(values: Sequence[Any], kind: str, style: int | None) -> list[str]:
    """Each value's ``<c>`` element. Cells carry no ``r`` reference (it is optional in OOXML: a cell is the
    next column of its row, and a blank keeps its place with ``<c/>``), so one element serves every repeat
    of a value and is built once per distinct value."""
    made: dict[Any, str] = {None: _BLANK}
    number_head = f'<c s="{style}"><v>' if style else "<c><v>"
    cells = []
    append = cells.append
    for value in values:
        cell = made.get(value)
        if cell is None:
            if isinstance(value, float) and math.isnan(value):
                cell = _BLANK
            elif kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
                cell = f"{number_head}{value!r}</v></c>"
            else:
                cell = _text_cell(value)
            made[value] = cell
        append(cell)
    return cells


def rows_xml(columns: Sequence[DataColumnValues], first_row: int, count: int) -> Iterator[bytes]:
    """``<row>`` elements for ``count`` rows starting at sheet row ``first_row``, in chunks of bytes."""
    for start in range(0, count, CHUNK_ROWS):
        stop = min(count, start + CHUNK_ROWS)
        built = [_column_cells(column.values[start:stop], column.kind, column.style) for column in columns]
        yield "".join([f'<row r="{n}">{"".join(cells)}</row>'
                       for n, cells in enumerate(zip(*built, strict=True), start=first_row + start)]).encode()


@dataclass
class SheetBody:
    """The rows to splice into one worksheet part, below its header row."""

    part: str  # e.g. "xl/worksheets/sheet9.xml"
    columns: Sequence[DataColumnValues]
    count: int


def splice(path: Path, bodies: Sequence[SheetBody]) -> None:
    """Rewrite the xlsx at ``path`` with each body's rows appended to its sheet's ``<sheetData>``."""
    by_part = {body.part: body for body in bodies}
    temp = path.with_name(path.name + ".splice")
    try:
        with zipfile.ZipFile(path) as source, \
                zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
            for item in source.infolist():
                data = source.read(item.filename)
                body = by_part.get(item.filename)
                if body is None:
                    target.writestr(item, data)
                    continue
                head, _, tail = data.partition(b"</sheetData>")
                last = column_letter(max(len(body.columns), 1))
                head = _DIMENSION.sub(f'<dimension ref="A1:{last}{body.count + 1}"/>'.encode(), head, count=1)
                with target.open(item.filename, "w", force_zip64=True) as stream:
                    stream.write(head)
                    for chunk in rows_xml(body.columns, 2, body.count):
                        stream.write(chunk)
                    stream.write(b"</sheetData>")
                    stream.write(tail)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
