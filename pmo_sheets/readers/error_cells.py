"""Put back the error values (#DIV/0!, #REF!, ...) that python-calamine reads as empty strings.

python-calamine turns a cell whose cached value is a spreadsheet error into "" (dimastbk/python-calamine
issue 105), so a budget cell showing #REF! would look blank: reported as a missing value when the column
is required, silently dropped when it is not. The error cells are marked ``t="e"`` in the worksheet XML;
this module finds them there and writes their error text into the grid, where the validator reports
them as ``formula-error``. Worksheets without an error cell cost one substring search.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from pmo_sheets.cells import parse_cell
from pmo_sheets.grid import Grid

_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\b([^>]*\bt="e"[^>]*)>(.*?)</(?:\w+:)?c>', re.DOTALL)
_REF = re.compile(rb'\br="([A-Za-z]{1,3}\d+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet part (``xl/worksheets/sheet2.xml``), from the workbook and its relationships."""
    targets = {}
    for rel in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels")):
        target = rel.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        targets[rel.get("Id")] = part
    parts = {}
    for element in ElementTree.fromstring(archive.read("xl/workbook.xml")).iter():
        if element.tag.endswith("}sheet"):
            rel_id = next((value for key, value in element.attrib.items() if key.endswith("}id")), None)
            if rel_id in targets:
                parts[element.get("name", "")] = targets[rel_id]
    return parts


def error_cells(path: Path) -> dict[str, dict[str, str]]:
    """Sheet name -> {A1 cell: error text} for every cell whose value is a spreadsheet error."""
    found: dict[str, dict[str, str]] = {}
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        try:
            parts = _sheet_parts(archive)
        except (KeyError, ElementTree.ParseError):
            return found  # calamine read it without these parts; nothing more to learn here
        for sheet, part in parts.items():
            if part not in names:
                continue
            xml = archive.read(part)
            if b't="e"' not in xml:
                continue
            for attributes, body in _ERROR_CELL.findall(xml):
                ref, value = _REF.search(attributes), _VALUE.search(body)
                if ref and value:
                    found.setdefault(sheet, {})[ref[1].decode()] = value[1].decode("utf-8").strip()
    return found


def restore_error_cells(path: Path, grid: Grid) -> None:
    """Write the error text of every error cell of ``path`` into ``grid`` (read by calamine)."""
    for sheet_name, cells in error_cells(path).items():
        sheet = grid.sheets.get(sheet_name)
        if sheet is None:
            continue
        for ref, value in cells.items():
            row, col = parse_cell(ref)
            while len(sheet.rows) < row:
                sheet.rows.append([])
            line = sheet.rows[row - 1]
            if len(line) < col:
                line.extend([""] * (col - len(line)))
            line[col - 1] = value
