"""Render the pictures of docs/addin.md: a sample workbook after the add-in's Validate, drawn by LibreOffice.

Run from the repository root: ``.venv/bin/python docs/render_addin_images.py`` (needs soffice and
pdftoppm, from Debian's libreoffice-calc and poppler-utils). It presses Validate through the test
adapter, keeps the Issues sheet and the first rows of Tasks for printing, and converts each to PNG.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from soffice import convert  # noqa: E402
from xlwings_adapter import press  # noqa: E402

from pmo_sheets.addin import validate  # noqa: E402
from pmo_sheets.samples import plant_mistakes, sample_project, write_workbook  # noqa: E402

# sheet: (print area, picture, height in pixels of the part of the page that holds the rows)
PAGES = {"Issues": ("A1:E8", "addin-issues.png", 200), "Tasks": ("A1:L12", "addin-highlights.png", 330)}


def main() -> None:
    out = ROOT / "docs" / "images"
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        sample = sample_project(1, tasks=12, budget_lines=2, months=3, risks=5)
        plant_mistakes(sample)
        path = write_workbook(sample, work / "project.xlsx")
        press(path, validate)
        for sheet_name, (area, image, height) in PAGES.items():
            workbook = load_workbook(path)
            for sheet in workbook.worksheets:  # print only this sheet, only its first rows
                if sheet.title != sheet_name:
                    sheet.sheet_state = "hidden"
            sheet = workbook[sheet_name]
            workbook.active = workbook.worksheets.index(sheet)
            sheet.print_area = area
            sheet.page_setup.orientation = "landscape"
            sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 1
            sheet.sheet_properties.pageSetUpPr.fitToPage = True
            sheet.print_options.gridLines = True
            margins = sheet.page_margins
            margins.left = margins.right = margins.top = margins.bottom = 0.2
            margins.header = margins.footer = 0
            page = work / f"{sheet_name}.xlsx"
            workbook.save(page)
            pdf = convert(page, work / "pdf", "pdf")
            subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", "-x", "0", "-y", "0", "-W", "1650",
                            "-H", str(height), str(pdf), str(work / sheet_name)], check=True)
            shutil.copy(work / f"{sheet_name}.png", out / image)
            print(out / image)


if __name__ == "__main__":
    main()
