"""LibreOffice really recalculates: a deliberately wrong cached value comes back corrected."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import xlsxwriter
from soffice import recalculate


def test_libreoffice_recalculates_a_wrong_cached_value(tmp_path: Path) -> None:
    source = tmp_path / "wrong.xlsx"
    book = xlsxwriter.Workbook(source)
    sheet = book.add_worksheet("Sheet1")
    sheet.write_number("A1", 2)
    sheet.write_number("A2", 3)
    sheet.write_formula("A3", "=A1*A2", None, 999)  # a lie: the true value is 6
    book.close()
    assert openpyxl.load_workbook(source, data_only=True)["Sheet1"]["A3"].value == 999

    result = recalculate(source, tmp_path / "out")

    assert openpyxl.load_workbook(result, data_only=True)["Sheet1"]["A3"].value == 6
