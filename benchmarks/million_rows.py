"""Bounded memory: `pmo validate` and `pmo sync` on one plan whose Tasks sheet has a million broken rows.

Every row has a '% Complete' of "half", so validation meets a million findings. It keeps the first
FINDINGS_KEPT of each severity and counts the rest, so memory is bounded by the rows, not the findings.
Target: peak memory under 1.5 GB for each command, which also finishes without a traceback.

Run: ``python -m benchmarks.million_rows [--rows 1000000]``
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
import zipfile
from pathlib import Path

from benchmarks._process import PMO, measure

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
                stream.write(re.sub(rb'<dimension ref="[^"]*"\s*/>', b"", head) + b"<sheetData>")
                for chunk in rows_xml(columns, 1, rows + 1):
                    stream.write(chunk)
                stream.write(b"</sheetData>" + tail)
    out.replace(path)
    return path


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
        # A million-row Tasks sheet is far past the default read limits (its XML alone is hundreds of MB):
        # raised here, as a coordinator who expects such a sheet would, so the benchmark measures the reading.
        limits = {"max_file_mb": 1024, "max_part_mb": 4096, "max_unpacked_mb": 4096}
        (root / "portfolio.toml").write_text('name = "Million"\nreporting_currency = "USD"\nmaster = "master.xlsx"\n'
                                             '[[sources]]\nkind = "excel"\npath = "projects/*.xlsx"\n[limits]\n'
                                             + "".join(f"{key} = {value}\n" for key, value in limits.items()),
                                             encoding="utf-8")
        environment = {f"PMO_LIMITS_{key.upper()}": str(value) for key, value in limits.items()}
        rows = [("pmo validate --format json", measure([*PMO, "validate", str(path), "--format", "json"], env=environment)),
                ("pmo sync", measure([*PMO, "sync", "--config", str(root / "portfolio.toml"), "--format", "json"]))]
    print(f"\n{'command':<28} {'seconds':>8} {'peak MB':>8} {'exit':>5}  verdict (target: peak under {TARGET_MB} MB, "
          "every row read)")
    for name, run in rows:
        problems = [f"{run.peak_mb:.0f} MB" if run.peak_mb >= TARGET_MB else "",
                    "" if run.exit_code == 1 else f"exit {run.exit_code}",
                    "a traceback" if "Traceback" in run.stderr else "",
                    "" if f"{args.rows:,}" in run.stdout.replace('"', "") or str(args.rows) in run.stdout
                    else "the findings do not count every row (was the file refused?)"]
        verdict = "; ".join(p for p in problems if p)
        print(f"{name:<28} {run.seconds:>8.1f} {run.peak_mb:>8.0f} {run.exit_code:>5}  "
              f"{'FAIL: ' + verdict if verdict else 'ok'}")

if __name__ == "__main__":
    main()
