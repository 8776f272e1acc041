"""Bounded memory: `pmo validate` and `pmo sync` on one plan whose Tasks sheet has a million broken rows.

Every row has a '% Complete' of "half", so validation meets a million findings. It keeps the first
FINDINGS_KEPT of each severity and counts the rest, so memory is bounded by the rows, not the findings.
Target: peak memory under 1.5 GB for each command, which also finishes without a traceback.

Run: ``python -m benchmarks.million_rows [--rows 1000000]``
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

TARGET_MB = 1536


def broken_plan(path: Path, rows: int) -> Path:
    """A plan workbook (the real template) whose Tasks sheet holds ``rows`` rows, each with one mistake."""
    from pmo_sheets.coerce import date_to_serial
    from pmo_sheets.samples import fill_workbook, sample_project
    from pmo_sheets.schemas import load_tables
    from pmo_sheets.sheetdata import DataColumnValues, rows_xml

    sample = sample_project(1, tasks=1, budget_lines=1, months=1, risks=1)
    fill_workbook(sample, "plan").save(path)
    spec = load_tables()["tasks"]
    start, finish = date_to_serial(sample.project["start_date"]), date_to_serial(sample.project["start_date"]) + 5
    values = {"task_id": [f"9.{n}" for n in range(1, rows + 1)], "task_name": ["Task"] * rows, "owner": ["Ana"] * rows,
              "start": [start] * rows, "finish": [finish] * rows, "percent_complete": ["half"] * rows,
              "status": ["Not Started"] * rows}
    columns = [DataColumnValues([column.title, *values.get(column.name, [None] * rows)],
                                "number" if column.kind == "date" else "text") for column in spec.columns]
    with zipfile.ZipFile(path) as source:
        names = source.namelist()
        workbook = source.read("xl/workbook.xml").decode()
        rels = source.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(r'<sheet [^>]*name="Tasks"[^>]*r:id="([^"]+)"', workbook)[1]
        relationship = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*>', rels)[0]
        part = "xl/" + re.search(r'Target="/?(?:xl/)?([^"]+)"', relationship)[1]
        parts = {name: source.read(name) for name in names}
    head, _, rest = parts[part].partition(b"<sheetData")
    tail = rest.partition(b"</sheetData>")[2] if b"</sheetData>" in rest else rest.partition(b"/>")[2]
    out = path.with_suffix(".tmp")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name in names:
            if name != part:
                target.writestr(name, parts[name])
                continue
            with target.open(name, "w", force_zip64=True) as stream:
                stream.write(re.sub(rb'<dimension ref="[^"]*"/>', b"", head) + b"<sheetData>")
                for chunk in rows_xml(columns, 1, rows + 1):
                    stream.write(chunk)
                stream.write(b"</sheetData>" + tail)
    out.replace(path)
    return path


def peak_of(command: list[str]) -> tuple[float, float, int, str]:
    """(seconds, peak MB, exit code, last stderr line) of ``command`` run in a fresh process."""
    probe = ("import resource, subprocess, sys, json; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(json.dumps([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode, r.stdout[-2000:], "
             "r.stderr[-2000:]]))")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    rss_kb, code, _, stderr = json.loads(done.stdout)
    lines = stderr.strip().splitlines()
    return seconds, rss_kb / 1024, code, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pmo-million-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        (root / "projects").mkdir()
        path = broken_plan(root / "projects" / "huge.xlsx", args.rows)
        print(f"wrote {path.name}: {args.rows:,} task rows, {path.stat().st_size / 1e6:.1f} MB, "
              f"in {time.perf_counter() - started:.1f} s")
        (root / "portfolio.toml").write_text('name = "Million"\nreporting_currency = "USD"\nmaster = "master.xlsx"\n'
                                             '[[sources]]\nkind = "excel"\npath = "projects/*.xlsx"\n', encoding="utf-8")
        pmo = [sys.executable, "-c", "from pmo_sheets.cli import main; main()"]
        rows = [("pmo validate --format json", peak_of([*pmo, "validate", str(path), "--format", "json"])),
                ("pmo sync", peak_of([*pmo, "sync", "--config", str(root / "portfolio.toml")]))]
    print(f"\n{'command':<28} {'seconds':>8} {'peak MB':>8} {'exit':>5}  verdict (target: peak under {TARGET_MB} MB)")
    for name, (seconds, peak, code, last) in rows:
        ok = peak < TARGET_MB and code in (0, 1) and "Traceback" not in last
        print(f"{name:<28} {seconds:>8.1f} {peak:>8.0f} {code:>5}  {'ok' if ok else 'FAIL: ' + last}")


if __name__ == "__main__":
    main()
