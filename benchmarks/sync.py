"""Sync benchmark: generated portfolios of realistic project workbooks (about 300 tasks, 120 budget rows
and 60 risks each), synced by pmo-sheets beside a straightforward baseline measured in the same run
(openpyxl reads + pandas concat + openpyxl writes the same data, as a coordinator's own script would).

Run: ``python -m benchmarks.sync [--projects 100 1000] [--skip-baseline]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

TARGETS = ("full sync at least 3x faster than the baseline; nothing-changed re-sync under 2 s; "
           "one-changed re-sync under half of the full sync; peak memory under 1 GB (at 1,000 workbooks)")
BASE_WORKBOOKS = 12  # distinct workbooks written with openpyxl; the rest are clones with their own project IDs


def _clone_with_project_id(source: Path, target: Path, old_id: str, new_id: str) -> None:
    """Copy a workbook, replacing its project ID (a shared or inline string) so that every clone is its own project."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/sharedStrings.xml" or item.filename.startswith("xl/worksheets/"):
                data = re.sub(rf">{old_id}<".encode(), f">{new_id}<".encode(), data)
            zout.writestr(item, data)


def generate(count: int, folder: Path) -> list[Path]:
    """``count`` realistic project workbooks in three currencies."""
    from pmo_sheets.samples import realistic_project, write_workbook

    folder.mkdir(parents=True, exist_ok=True)
    currencies = ("USD", "EUR", "GBP")
    bases = []
    for number in range(1, min(count, BASE_WORKBOOKS) + 1):
        sample = realistic_project(number, currency=currencies[number % 3])
        bases.append((write_workbook(sample, folder / f"{sample.project_id}.xlsx"), sample.project_id))
    paths = [p for p, _ in bases]
    for number in range(len(bases) + 1, count + 1):
        base, base_id = bases[number % len(bases)]
        target = folder / f"PRJ-{number:04d}.xlsx"
        _clone_with_project_id(base, target, base_id, f"PRJ-{number:04d}")
        paths.append(target)
    return paths


def baseline(paths: list[Path], out: Path) -> float:
    """What a coordinator's own script does: openpyxl reads, pandas concat, openpyxl writes."""
    import openpyxl
    import pandas as pd

    started = time.perf_counter()
    frames: dict[str, list[pd.DataFrame]] = {"Tasks": [], "Budget": [], "Risks": []}
    for path in paths:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        project_id = book["Project"]["B1"].value
        for sheet in frames:
            rows = [r for r in book[sheet].iter_rows(values_only=True) if any(v not in (None, "") for v in r[:3])]
            frame = pd.DataFrame(rows[1:], columns=rows[0])
            frame.insert(0, "Project ID", project_id)
            frame["Source"] = path.name
            frames[sheet].append(frame)
        book.close()
    result = openpyxl.Workbook(write_only=True)
    for sheet, parts in frames.items():
        data = pd.concat(parts)
        target = result.create_sheet(sheet)
        target.append(list(data.columns))
        for row in data.itertuples(index=False):
            target.append([None if (isinstance(v, float) and v != v) else v for v in row])
    result.save(out)
    return time.perf_counter() - started


_CHILD = """
import json, resource, sys, time
from pathlib import Path
from pmo_sheets.config import load_config
from pmo_sheets.sync import run_sync
started = time.perf_counter()
result = run_sync(load_config(Path(sys.argv[1])))
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "read": result.counts["read"], "written": result.written,
                  "projects": result.figures.get("projects"), "problems": sum(1 for o in result.outcomes if o.problem),
                  "main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def _sync_in_fresh_process(config: Path) -> dict[str, Any]:
    """One sync in its own interpreter, so that its peak memory is its own (main process and each worker)."""
    output = subprocess.run([sys.executable, "-c", _CHILD, str(config)], capture_output=True, text=True, check=False)
    if output.returncode != 0:
        raise SystemExit(f"the sync of {config} failed (exit {output.returncode}):\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def run(count: int, with_baseline: bool) -> list[tuple[str, str, str]]:
    from pmo_sheets.samples import realistic_project, write_workbook

    rows: list[tuple[str, str, str]] = []
    root = Path(tempfile.mkdtemp(prefix=f"pmo-bench-{count}-"))
    try:
        started = time.perf_counter()
        paths = generate(count, root / "projects")
        rows.append((f"{count}: generate workbooks", f"{time.perf_counter() - started:.1f} s", ""))
        (root / "portfolio.toml").write_text(
            'name = "Benchmark"\nreporting_currency = "USD"\nmaster = "master.xlsx"\nstate = "state.sqlite"\n'
            '[fx]\nEUR = 1.08\nGBP = 1.27\n[[sources]]\nkind = "excel"\npath = "projects/*.xlsx"\n')
        config = root / "portfolio.toml"
        first = _sync_in_fresh_process(config)
        # Every clone must be a project of its own, or the benchmark would measure a smaller portfolio.
        assert first["projects"] == count and first["problems"] == 0, first
        full = first["seconds"]
        rows.append((f"{count}: full sync", f"{full:.1f} s", f"{first['read']} read"))
        nothing = _sync_in_fresh_process(config)["seconds"]
        rows.append((f"{count}: re-sync, nothing changed", f"{nothing:.2f} s", "PASS" if nothing < 2 else "FAIL (target < 2 s)"))
        changed = realistic_project(2, seed=7, currency="GBP")
        write_workbook(changed, paths[1])
        again = _sync_in_fresh_process(config)
        one = again["seconds"]
        verdict = "PASS" if one < full / 2 else "FAIL"
        note = f"{verdict} (target < {full / 2:.1f} s); {again['read']} read"
        rows.append((f"{count}: re-sync, one changed", f"{one:.1f} s", note))
        peak = max(first["main_mb"], first["worker_mb"])
        rows.append((f"{count}: peak memory, full sync", f"{first['main_mb']:.0f} MB main, {first['worker_mb']:.0f} MB a worker",
                     "PASS" if peak < 1024 else "FAIL (target < 1 GB)"))
        if with_baseline:
            seconds = baseline(paths, root / "baseline.xlsx")
            rows.append((f"{count}: baseline (openpyxl + pandas + openpyxl)", f"{seconds:.1f} s",
                         f"pmo sync is {seconds / full:.1f}x faster " + ("PASS" if seconds / full >= 3 else "FAIL (target 3x)")))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the sync benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"pmo sync on {multiprocessing.cpu_count()} cores (targets: {TARGETS})")
    for column in ("measure", "value", "note"):
        table.add_column(column)
    for count in args.projects:
        for row in run(count, not args.skip_baseline):
            table.add_row(*row)
            print(" | ".join(row), file=sys.stderr, flush=True)
    Console().print(table)


if __name__ == "__main__":
    main()
