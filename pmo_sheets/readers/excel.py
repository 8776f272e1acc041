"""Read .xlsx/.xlsm files into grids, and recognise the files that are not workbooks at all.

python-calamine (Rust) reads a realistic project workbook in a few milliseconds; openpyxl is the
fallback where calamine is not installed (inside Excel through xlwings Lite, Pyodide has openpyxl
but not calamine). Both give the cached values of formula cells, as the spreadsheet last showed them.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from pmo_sheets.grid import Grid, SheetGrid, SourceError
from pmo_sheets.readers.error_cells import restore_error_cells

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: legacy .xls or an encrypted .xlsx
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def check_workbook_file(path: Path) -> None:
    """Raise :class:`SourceError` with a plain message when ``path`` is not a readable .xlsx/.xlsm."""
    if not path.exists():
        raise SourceError("file-missing", f"{path}: file not found")
    if path.is_dir():
        raise SourceError("file-not-workbook", f"{path}: is a folder, not a workbook")
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            if head == _CFB_MAGIC:
                handle.seek(0)
                content = handle.read()
    except OSError as exc:
        raise SourceError("file-missing", f"{path}: cannot be opened ({exc.strerror})") from None
    if not head:
        raise SourceError("file-empty", f"{path}: the file is empty (0 bytes)")
    if head == _CFB_MAGIC:
        if _ENCRYPTION_INFO in content:
            raise SourceError("file-encrypted", f"{path}: the workbook is password-protected; remove the password and save again")
        raise SourceError("file-legacy-xls", f"{path}: this is a legacy Excel 97-2003 (.xls) file; save it as .xlsx")
    if path.suffix.lower() == ".xls":
        raise SourceError("file-legacy-xls", f"{path}: .xls files are not supported; save it as .xlsx")
    if not head.startswith(b"PK"):
        kind = "a CSV file" if path.suffix.lower() == ".csv" else "not an Excel workbook"
        raise SourceError("file-not-workbook", f"{path}: {kind}; save it as an Excel workbook (.xlsx)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise SourceError("file-corrupt", f"{path}: the workbook is damaged (not a valid .xlsx archive)") from None
    if "xl/workbook.xml" not in names:
        raise SourceError("file-not-workbook", f"{path}: a zip archive but not an Excel workbook")


def read_excel(path: str | Path) -> Grid:
    """Read every sheet's cell values of an .xlsx/.xlsm file into a :class:`Grid`."""
    path = Path(path)
    check_workbook_file(path)
    try:
        return _read_with_calamine(path)
    except ImportError:
        return _read_with_openpyxl(path)
    except SourceError:
        raise
    except Exception as exc:  # calamine raises its own types for broken parts
        raise SourceError("file-corrupt", f"{path}: the workbook is damaged ({_first_line(exc)})") from None


def _read_with_calamine(path: Path) -> Grid:
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    workbook = CalamineWorkbook.from_path(str(path))
    grid = Grid(str(path))
    for meta in workbook.sheets_metadata:
        sheet = workbook.get_sheet_by_name(meta.name)
        rows = sheet.to_python(skip_empty_area=False)
        grid.sheets[meta.name] = SheetGrid(meta.name, rows, hidden=meta.visible != SheetVisibleEnum.Visible)
    workbook.close()
    restore_error_cells(path, grid)  # calamine reads #REF! and the like as ""
    return grid


def _read_with_openpyxl(path: Path) -> Grid:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise SourceError("file-corrupt", f"{path}: the workbook is damaged ({_first_line(exc)})") from None
    grid = Grid(str(path))
    try:
        for worksheet in workbook.worksheets:
            rows: list[list[Any]] = [list(row) for row in worksheet.iter_rows(min_row=1, min_col=1, values_only=True)]
            grid.sheets[worksheet.title] = SheetGrid(worksheet.title, rows, hidden=worksheet.sheet_state != "visible")
    finally:
        workbook.close()
    return grid


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
