"""Read .xlsx/.xlsm files into grids, and recognise the files that are not workbooks at all.

python-calamine (Rust) reads the cells; openpyxl is the fallback where calamine is not installed
(inside Excel through xlwings Lite, Pyodide has openpyxl but not calamine). Both give the cached
values of formula cells, as the spreadsheet last showed them.

Before either parses a sheet, the reader makes an in-memory copy of the workbook that holds only what
cell values need (see :func:`values_only_copy`). A template's table sheets are pre-formatted with
formulas over 1000 rows; a workbook saved by a spreadsheet program stores a cached "" for each, so a
plan of 300 tasks is a sheet of 1000 rows, 700 of them blank. Cutting those rows and the formula text
before parsing makes reading a realistic workbook about twice as fast, and it is where calamine's
blind spot for error cells is mended: a cell showing #REF! is marked ``t="e"``, which calamine reads as
"", so the copy turns it into a text cell holding "#REF!" for the validator to report.

Sheets are read lazily: the grid lists every sheet, but a sheet's cells are parsed the first time
they are asked for, so validation never pays for the Instructions and Lists sheets.

The copy is also what keeps hostile files harmless: the file is checked (a regular file, within the
size limits, a zip directory without a bomb's packing) before anything is inflated, each part of the
copy is inflated under a cap (:mod:`pmo_sheets.readers.zipguard`), and the parsers only ever see the
copy. No file is too big to copy: one past :class:`ReadLimits` is refused instead.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pmo_sheets.grid import Grid, Rows, SheetGrid, SourceError
from pmo_sheets.readers.limits import DEFAULT_LIMITS, ReadLimits
from pmo_sheets.readers.zipguard import check_directory, open_regular_file, read_part

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: legacy .xls or an encrypted .xlsx
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
ENGINES = ("auto", "calamine", "openpyxl")

# Parts that carry no cell value: pictures, macros, comments, tables' headers, printer settings. Leaving them out of
# the copy saves inflating them; an .xlsm's macros or a logo can be larger than all the data.
_NO_VALUES = re.compile(
    r"^(?:docProps/|customXml/|xl/(?:media|embeddings|drawings|printerSettings|theme|threadedComments|persons)/"
    r"|xl/(?:worksheets/_rels|tables)/|xl/vbaProject\.bin$|xl/comments[^/]*\.xml$)")
_WORKSHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$")
# What calamine need not parse (it spends about a microsecond a cell): a formula cell without a value
# (never calculated, or showing ""), an empty cell that only carries a style, and the formula text of
# the other formula cells, whose cached value stays. Formula text may hold &lt; but never <.
# A cell is dropped only when it names its own place (r="F12"): the reference is optional in OOXML,
# and a cell without one is the next column of its row, so dropping a blank <c/> would shift every
# cell after it one column to the left (our own master's data sheets are written that way).
_FORMULA = rb"(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)"
_PLACED_CELL = rb"<c\b(?=[^>]*\sr=\"[^\"]+\")[^>]*"
_NOT_VALUES = re.compile(_PLACED_CELL + rb">" + _FORMULA + rb"(?:<v\s*/>|<v></v>)?</c>|" + _PLACED_CELL + rb"/>|"
                         + _FORMULA)
#: Parts of the values-only copy larger than this are deflated in it (the 1,000-task plan's largest is 2.5 MB).
_PACK_COPY_FROM_BYTES = 8 * 1024 * 1024
_ERROR_TYPE = re.compile(rb'(<(?:\w+:)?c\b[^>]*?\bt=")e(")')


def check_workbook_file(path: Path, *, limits: ReadLimits = DEFAULT_LIMITS) -> None:
    """Raise :class:`SourceError` with a plain message when ``path`` is not a readable .xlsx/.xlsm.

    Reads nothing but the file's first bytes and its zip directory: special files, oversized files
    and zip bombs are refused here (see :mod:`pmo_sheets.readers.zipguard`).
    """
    with _open_workbook(path, limits):
        pass


@contextmanager
def _open_workbook(path: Path, limits: ReadLimits) -> Iterator[zipfile.ZipFile]:
    """The workbook's zip archive, once the file has passed every check that costs no inflating."""
    with open_regular_file(path, limits=limits) as handle:
        try:
            head = handle.read(8)
            if head == _CFB_MAGIC:
                handle.seek(0)
                content = handle.read()  # within max_file_bytes: open_regular_file checked the size
        except OSError as exc:
            raise SourceError("file-missing", f"{path}: cannot be read ({exc.strerror})") from None
        if head == _CFB_MAGIC:
            if _ENCRYPTION_INFO in content:
                raise SourceError("file-encrypted",
                                  f"{path}: the workbook is password-protected; remove the password and save again")
            raise SourceError("file-legacy-xls", f"{path}: this is a legacy Excel 97-2003 (.xls) file; save it as .xlsx")
        if path.suffix.lower() == ".xls":
            raise SourceError("file-legacy-xls", f"{path}: .xls files are not supported; save it as .xlsx")
        if not head.startswith(b"PK"):
            kind = "a CSV file" if path.suffix.lower() == ".csv" else "not an Excel workbook"
            raise SourceError("file-not-workbook", f"{path}: {kind}; save it as an Excel workbook (.xlsx)")
        with check_directory(handle, path, limits=limits) as archive:
            if "xl/workbook.xml" not in set(archive.namelist()):
                raise SourceError("file-not-workbook", f"{path}: a zip archive but not an Excel workbook")
            yield archive


def read_excel(path: str | Path, *, engine: str = "auto", limits: ReadLimits = DEFAULT_LIMITS) -> Grid:
    """The grid of an .xlsx/.xlsm file: every sheet listed, each sheet's cells read when first asked for.

    ``engine`` is ``auto`` (calamine when it is installed, else openpyxl), ``calamine`` or ``openpyxl``.
    ``limits`` bounds what the file may cost (size, parts, unpacked bytes, packing ratio); a file past
    them is refused before any parser sees it. Raises :class:`SourceError` when the file is not a
    readable workbook; a sheet found damaged only when its cells are read raises it then.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    path = Path(path)
    with _open_workbook(path, limits) as archive:
        try:
            copy = _values_only_copy(archive, path)
        except SourceError:
            raise
        except Exception as exc:  # a member that does not inflate: a damaged archive
            raise SourceError("file-corrupt", f"{path}: the workbook is damaged ({_first_line(exc)})") from None
    # From here on, parsers read the in-memory copy only: never the file, whose sizes may lie.
    if engine != "openpyxl":
        try:
            return _read_with_calamine(path, copy)
        except ImportError:
            if engine == "calamine":
                raise
        except SourceError:
            raise
        except Exception as exc:  # calamine raises its own types for broken parts
            raise SourceError("file-corrupt", f"{path}: the workbook is damaged ({_first_line(exc)})") from None
    return _read_with_openpyxl(path, copy)


def values_only_copy(path: Path, *, limits: ReadLimits = DEFAULT_LIMITS) -> bytes:
    """An in-memory copy of the workbook holding only what its cell values need (big sheets deflated).

    Each worksheet loses its trailing rows without a value (empty cells, formulas showing ""), all
    formula text (the cached values stay), and its error cells become text cells showing the error.
    Parts without cell values (pictures, macros, comments) are left out. The file is checked against
    ``limits`` first and no part inflates past its declared size, so the copy is never larger than
    ``limits.max_unpacked_bytes``.
    """
    with _open_workbook(path, limits) as archive:
        return _values_only_copy(archive, path)


def _values_only_copy(archive: zipfile.ZipFile, path: Path) -> bytes:
    members = [info for info in archive.infolist() if not info.is_dir() and not _NO_VALUES.match(info.filename)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as copy:
        for info in members:
            data = read_part(archive, info, path)
            if _WORKSHEET.match(info.filename):
                data = values_only_sheet(data)
            # A big sheet is packed again (quickly) so that the copy does not sit unpacked in memory beside
            # the cells the parser makes of it; small parts, nearly all of them, are stored as they are.
            packed = len(data) > _PACK_COPY_FROM_BYTES
            copy.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED if packed else zipfile.ZIP_STORED,
                          compresslevel=1 if packed else None)
            del data
    return buffer.getvalue()


def values_only_sheet(xml: bytes) -> bytes:
    """A worksheet's XML without trailing valueless rows, empty cells and formulas; error cells as text."""
    end = xml.rfind(b"</sheetData>")
    if end < 0:
        return xml  # an empty sheet (<sheetData/>), or element names with a prefix: read as it is
    cut = _end_of_values(xml, end)
    if cut < 0:
        return xml
    body = _NOT_VALUES.sub(b"", xml[:cut])
    if b't="e"' in body:
        body = _ERROR_TYPE.sub(rb"\1str\2", body)
    return body + xml[end:]


def _end_of_values(xml: bytes, end: int) -> int:
    """Where the last row holding a value ends, before ``end`` (the ``</sheetData>``); -1 when unsure.

    A saved template has hundreds of trailing rows of empty cells and of formulas showing "", stored
    as ``<v></v>``. Searching back from the end for ``</v>`` skips those in a few hundred nanoseconds
    each and stops at the last real value; an inline string (``</is>``) after it counts too.
    """
    last = end
    while True:
        last = xml.rfind(b"</v>", 0, last)
        if last < 0 or xml[last - 1] != 0x3E:  # not preceded by '>': <v>...</v> holds something
            break
    inline = xml.rfind(b"</is>", max(last, 0), end)
    last = max(last, inline)
    if last < 0:  # no value anywhere: an empty table, cut right after <sheetData ...>
        opening = xml.find(b"<sheetData")
        close = xml.find(b">", opening, end)
        return close + 1 if opening >= 0 and close >= 0 else -1
    row_end = xml.find(b"</row>", last, end)
    return row_end + len(b"</row>") if row_end >= 0 else -1


def _read_with_calamine(path: Path, copy: bytes) -> Grid:
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(copy))
    grid = Grid(str(path))
    for meta in workbook.sheets_metadata:
        def load(name: str = meta.name) -> Rows:
            return workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        grid.sheets[meta.name] = SheetGrid(meta.name, hidden=meta.visible != SheetVisibleEnum.Visible,
                                           load=_damage_as_source_error(path, load))
    return grid


def _read_with_openpyxl(path: Path, copy: bytes) -> Grid:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(copy), read_only=True, data_only=True)
    except Exception as exc:
        raise SourceError("file-corrupt", f"{path}: the workbook is damaged ({_first_line(exc)})") from None
    grid = Grid(str(path))
    for worksheet in workbook.worksheets:
        def load(worksheet: Any = worksheet) -> Rows:
            return [list(row) for row in worksheet.iter_rows(min_row=1, min_col=1, values_only=True)]
        grid.sheets[worksheet.title] = SheetGrid(worksheet.title, hidden=worksheet.sheet_state != "visible",
                                                 load=_damage_as_source_error(path, load))
    return grid


def _damage_as_source_error(path: Path, load: Callable[[], Rows]) -> Callable[[], Rows]:
    """``load``, with any failure to parse the sheet reported as a damaged workbook."""
    def guarded() -> Rows:
        try:
            return load()
        except Exception as exc:
            raise SourceError("file-corrupt", f"{path}: the workbook is damaged ({_first_line(exc)})") from None
    return guarded


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
