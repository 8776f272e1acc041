"""Benchmark of the Excel add-in: cold import time, and Validate on a realistic workbook.

Run ``python -m benchmarks.addin`` (or through the benchmarks runner). Budgets from issue 5:
importing the add-in under 1 s (a fresh interpreter each time, so nothing is cached), and Validate
under 1 s for about 300 tasks, 120 budget lines and 60 risks, reads included. Validate runs through
the Linux test adapter (openpyxl underneath): opening and saving the file are left out, as Excel has
the workbook open already; reading its values through the adapter is counted, and so are the reads.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 1.0
IMPORTS = {
    "pmo_sheets.addin": "cold import: add-in logic",
    "pmo_sheets.addin.desktop": "cold import: desktop entry points + xlwings",
    "pmo_sheets.addin.lite.main": "cold import: Lite main.py + xlwings",
}


def cold_import(module: str, runs: int = 5) -> list[float]:
    """Seconds to import ``module`` in a fresh interpreter, ``runs`` times."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 cwd=ROOT).stdout.strip()) for _ in range(runs)]


_BUNDLED_START = """
import runpy, sys, time
from pathlib import Path
sys.path[:] = [p for p in sys.path if not (Path(p or ".") / "pmo_sheets" / "__init__.py").exists()]
t = time.perf_counter(); runpy.run_path(sys.argv[1]); print(time.perf_counter() - t)
"""


def cold_bundled_start(runs: int = 5) -> list[float]:
    """Seconds for the self-contained Lite main.py to unpack pmo-sheets and import it, first start each time."""
    from pmo_sheets.addin.bundle import lite_main

    times = []
    with tempfile.TemporaryDirectory() as folder:
        main = Path(folder) / "main.py"
        main.write_text(lite_main(), encoding="utf-8")
        for run in range(runs):
            fresh = Path(folder) / f"tmp{run}"  # an empty temp dir: nothing unpacked yet
            fresh.mkdir()
            result = subprocess.run([sys.executable, "-c", _BUNDLED_START, str(main)], capture_output=True, text=True,
                                    check=True, cwd=folder, env={**os.environ, "TMPDIR": str(fresh)})
            times.append(float(result.stdout.strip()))
    return times


def _adapter() -> Any:
    sys.path.insert(0, str(ROOT / "tests"))
    import xlwings_adapter

    return xlwings_adapter


def timed_presses(path: Path, command: Callable[[Any], Any], runs: int) -> tuple[list[float], Any]:
    """Seconds for ``command`` on a freshly opened copy of ``path``, ``runs`` times; and the last book."""
    adapter = _adapter()
    times, book = [], None
    for _ in range(runs):
        book = adapter.AdapterBook(path)
        start = time.perf_counter()
        command(book)
        times.append(time.perf_counter() - start)
        book.close()
    return times, book


def realistic_workbook(directory: Path) -> Path:
    from pmo_sheets.samples import plant_mistakes, realistic_project, write_workbook

    sample = realistic_project(1)
    plant_mistakes(sample)
    return write_workbook(sample, directory / "realistic.xlsx")


def main() -> None:
    """Measure and print one table."""
    from pmo_sheets.addin import prepare_validation, validate

    table = Table(title="pmo-sheets Excel add-in")
    for heading in ("measure", "median", "best", "budget", "reads", "ok"):
        table.add_column(heading, justify="left" if heading == "measure" else "right")

    def row(measure: str, seconds: list[float], reads: str = "", budget: float | None = BUDGET_S) -> None:
        median = statistics.median(seconds)
        verdict = "" if budget is None else ("yes" if median < budget else "NO")
        table.add_row(measure, f"{median * 1000:.0f} ms", f"{min(seconds) * 1000:.0f} ms",
                      f"{budget * 1000:.0f} ms" if budget else "", reads, verdict)

    for module, what in IMPORTS.items():
        row(what, cold_import(module))
    row("cold start: self-contained Lite main.py (unpack + import)", cold_bundled_start())
    with tempfile.TemporaryDirectory() as folder:
        path = realistic_workbook(Path(folder))
        seconds, book = timed_presses(path, prepare_validation, 5)
        reads = book.reads
        row("read + validate (300 tasks, 120 budget rows, 60 risks)", seconds,
            f"{reads['values']} value, {reads['used_range']} used-range", budget=None)
        seconds, book = timed_presses(path, validate, 5)
        reads = book.reads
        row("Validate button: read, validate, highlight, Issues", seconds,
            f"{reads['values']} value, {reads['used_range']} used-range, {reads['colours']} fill")
    console = Console(width=130)
    console.print(table)
    console.print("Reads are calls into Excel: one used range and one value read a sheet, one fill read a newly "
                    "highlighted cell; never a read a cell for values. Adapter times include openpyxl's cell access, "
                    "not Excel's COM round trips.")


if __name__ == "__main__":
    main()
