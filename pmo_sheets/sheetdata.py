"""The bulk rows of the master's data sheets, written as OOXML ``<sheetData>`` straight into the file.

XlsxWriter writes every other part of the master (rollups, formats, charts, the data sheets'
headers, widths and filters). It handles about 100,000 cells a second; a 1,000-project master holds
about 7 million data cells, which would take over a minute. These rows are plain values (numbers,
dates as serials, inline strings: what XlsxWriter itself writes in constant-memory mode), so they
are built here column by column, a few rows at a time, and spliced into the data sheets' parts after
XlsxWriter has closed the file: about ten times faster, in constant memory.
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
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')


@dataclass
class DataColumnValues:
    """One column of a data sheet: its values (None for blank) and how to write them."""

    values: Sequence[Any]
    kind: str  # "text" or "number" (dates arrive as serial numbers)
    style: int | None = None  # the xf index of the column's number format


def _text_cells(values: Sequence[Any], letter: str, first_row: int) -> list[str]:
    escaped: dict[Any, str] = {}
    cells = []
    for row, value in enumerate(values, start=first_row):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            cells.append("")
            continue
        text = escaped.get(value)
        if text is None:
            raw = _ILLEGAL_XML.sub("", str(value))
            space = ' xml:space="preserve"' if raw != raw.strip() else ""
            text = escaped[value] = f'" t="inlineStr"><is><t{space}>{escape(raw)}</t></is></c>'
        cells.append(f'<c r="{letter}{row}{text}')
    return cells


def _number_cells(values: Sequence[Any], letter: str, first_row: int, style: int | None) -> list[str]:
    tail = f'" s="{style}"><v>' if style else '"><v>'
    cells = []
    for row, value in enumerate(values, start=first_row):
        if value is None or value != value or isinstance(value, bool) or not isinstance(value, (int, float)):
            cells.append("" if value is None or value != value else
                         f'<c r="{letter}{row}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
        else:
            cells.append(f'<c r="{letter}{row}{tail}{value!r}</v></c>')
    return cells


def rows_xml(columns: Sequence[DataColumnValues], first_row: int, count: int) -> Iterator[bytes]:
    """``<row>`` elements for ``count`` rows starting at sheet row ``first_row``, in chunks of bytes."""
    letters = [column_letter(i + 1) for i in range(len(columns))]
    for start in range(0, count, CHUNK_ROWS):
        stop = min(count, start + CHUNK_ROWS)
        sheet_row = first_row + start
        built = []
        for column, letter in zip(columns, letters, strict=True):
            values = column.values[start:stop]
            if column.kind == "text":
                built.append(_text_cells(values, letter, sheet_row))
            else:
                built.append(_number_cells(values, letter, sheet_row, column.style))
        yield "".join([f'<row r="{n}">{"".join(cells)}</row>'
                       for n, cells in enumerate(zip(*built, strict=True), start=sheet_row)]).encode()


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
