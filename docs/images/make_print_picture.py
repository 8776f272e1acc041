"""Make docs/images/master-portfolio-print.png: the demo master's Portfolio sheet as LibreOffice prints it.

Run from the project's folder: ``.venv/bin/python docs/images/make_print_picture.py`` (needs soffice and
pdftoppm). The demo is made afresh in a temporary folder, its master printed to PDF by LibreOffice, and
the top of the first page (the Portfolio sheet) kept down to the last printed row.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from itertools import pairwise
from pathlib import Path

from PIL import Image, ImageOps

from pmo_sheets.demo import run_demo

TARGET = Path(__file__).resolve().parent / "master-portfolio-print.png"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pmo-picture-") as folder:
        root = Path(folder)
        if run_demo(10, root / "demo", echo=lambda line: None) not in (0, 1):
            sys.exit("the demo failed")
        profile = (root / "profile").as_uri()
        subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(root), str(root / "demo" / "master.xlsx")], check=True, capture_output=True)
        subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "200", "-png", str(root / "master.pdf"),
                        str(root / "page")], check=True)
        page = Image.open(next(root.glob("page*.png"))).convert("RGB")
        # Keep what is printed: crop the white margins and the empty rest of the page (the footer goes too).
        ink = ImageOps.invert(page.convert("L")).point(lambda level: 255 if level > 16 else 0)
        rows = [y for y in range(page.height) if ink.crop((0, y, page.width, y + 1)).getbbox()]
        gap = next((b for a, b in pairwise(rows) if b - a > page.height // 8), None)
        bottom = next(a for a, b in pairwise(rows) if b == gap) if gap else rows[-1]
        left, top, right, _ = ink.getbbox()
        page.crop((max(left - 8, 0), max(top - 8, 0), min(right + 8, page.width), bottom + 8)).save(TARGET)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
