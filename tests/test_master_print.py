"""The master prints as a PMO would print it: what LibreOffice renders to PDF, page by page.

One LibreOffice conversion of the demo portfolio's master (10 projects, some stale) to PDF; each page
says in its header which sheet it shows, so pages are counted per sheet. The page setup itself is
also read back from the file with openpyxl, which needs no LibreOffice.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from soffice import convert

from pmo_sheets.demo import run_demo

# The most pages each sheet of the 10-project demo master may print on (it printed on 110 pages before).
PAGE_BOUNDS = {"Portfolio": 1, "Programs": 1, "Finance": 2, "Risks": 1, "Status trend": 1, "RAID and changes": 1,
               "Dependencies": 1, "Resources": 1,
               "Data quality": 1,
               "History": 1, "FX": 1,
               "Project data": 1, "Task data": 6, "Budget data": 4, "Risk data": 3,
               "Resource data": 4, "RAID data": 2, "Change data": 2, "Status data": 2}  # 3, 1, 1, 1 when measured


@pytest.fixture(scope="module")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("print") / "demo"
    assert run_demo(10, folder, echo=lambda line: None) == 0
    return folder / "master.xlsx"


def test_every_sheet_has_a_page_setup(demo_master: Path) -> None:
    book = openpyxl.load_workbook(demo_master)
    for sheet in book.worksheets:
        assert sheet.page_setup.fitToWidth in (None, 1) and sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.page_setup.fitToHeight == 0, sheet.title  # as many pages tall as it takes
        assert sheet.print_area, sheet.title
        assert "Demo portfolio" in sheet.oddHeader.left.text and sheet.oddHeader.center.text == "&A", sheet.title
        assert "synced " in sheet.oddHeader.right.text and "&P of &N" in sheet.oddFooter.right.text, sheet.title
    portfolio = book["Portfolio"]
    assert portfolio.page_setup.orientation == "landscape"
    assert portfolio.print_title_rows == "$1:$1"
    assert portfolio.print_area == "'Portfolio'!$A$1:$AA$12"  # 10 projects, the total row, the Finance comment
    assert book["FX"].page_setup.orientation == "portrait"  # three narrow columns
    # The Programs chart is inside the print area: 4 programs under the header, the chart from row 8 down,
    # 360 px tall = 18 rows of 20 px (its last row is 25, zero-based), 720 px wide = columns A to J.
    assert book["Programs"].print_area == "'Programs'!$A$1:$J$26"


@pytest.mark.soffice
def test_the_demo_master_prints_on_few_pages_without_hashes_or_cut_titles(demo_master: Path, tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pdf = convert(demo_master, tmp_path, "pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = [page for page in text.split("\f") if page.strip()]
    per_sheet: dict[str, int] = {}
    for page in pages:
        header = next(line for line in page.splitlines() if line.strip())
        parts = re.split(r"\s{2,}", header.strip())
        assert parts[0] == "Demo portfolio" and parts[-1].startswith("synced "), header
        per_sheet[parts[1]] = per_sheet.get(parts[1], 0) + 1
    assert set(per_sheet) == set(PAGE_BOUNDS)
    for sheet, bound in PAGE_BOUNDS.items():
        assert per_sheet[sheet] <= bound, (sheet, per_sheet[sheet])
    assert "###" not in text  # no number too wide for its column
    flat = " ".join(text.split())
    for title in ("Demo portfolio: budget, actuals and forecast in USD",
                  "for the lines whose key column on Budget data holds the row's key (column G).",
                  "Budget vs EAC by program (USD)", "Top open risks (as of this sync; the heat map above is live)"):
        assert title in flat, title
    portfolio = next(page for page in pages if re.search(r"\s{2,}Portfolio\s{2,}", page.splitlines()[0] if page.strip() else ""))
    assert "PRJ-0010" in portfolio and "Total" in portfolio  # all 10 projects and the total row on the one page
