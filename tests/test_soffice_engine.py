"""LibreOffice really recalculates: a deliberately wrong cached value comes back corrected."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import soffice
import xlsxwriter
from soffice import recalculate


@pytest.mark.soffice
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


@pytest.mark.parametrize("ci", ["1", "true", "TRUE"])
def test_in_ci_a_missing_libreoffice_is_a_failure_not_a_skip(ci: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(soffice, "SOFFICE", None)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        soffice.require_soffice()
    soffice.USES.clear()  # LibreOffice was only looked for, not run: this test needs no `soffice` marker


@pytest.mark.parametrize("ci", [None, "", "0", "false"])
def test_outside_ci_a_missing_libreoffice_skips(ci: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(soffice, "SOFFICE", None)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        soffice.require_soffice()
    soffice.USES.clear()
