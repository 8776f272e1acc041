"""Hostile files: a zip bomb is refused in under 2 s and 300 MB by `pmo validate`, `pmo sync` and the add-in's reader.

Two bombs of 1.2 GB of sheet XML, a few MB on disk: one whose zip directory tells the truth about its
sizes (refused from the directory, nothing inflated) and one whose directory declares 1,000 bytes (refused
while inflating, at the first byte past what it declared). Each command runs in a fresh process, so the
time includes starting Python and importing pmo-sheets; memory is the largest process's peak.

Run: ``python -m benchmarks.hostile [--unpacked-mb 1200]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._process import PMO, Measured, measure

TARGET_SECONDS = 2.0
TARGET_MB = 300

#: The add-in's reading path where calamine is missing (xlwings Lite runs in Pyodide): openpyxl, behind the same guard.
ADDIN_READER = ("import sys\nfrom pmo_sheets.grid import SourceError\nfrom pmo_sheets.readers.excel import read_excel\n"
                "try:\n    read_excel(sys.argv[1], engine='openpyxl')\nexcept SourceError as error:\n"
                "    print(error.code, error.message)\n    sys.exit(1)\nprint('read: not refused')")


def refused_as_suspicious(run: Measured) -> bool:
    """Whether the command refused the bomb with the file-level finding, without a traceback."""
    said = run.stdout + run.stderr
    return run.exit_code == 1 and "file-suspicious" in said and "Traceback" not in said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unpacked-mb", type=int, default=1200, help="what each bomb unpacks to")
    args = parser.parse_args()
    from pmo_sheets.samples import lying_zip_bomb, zip_bomb

    with tempfile.TemporaryDirectory(prefix="pmo-hostile-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        for name in ("honest", "lying"):  # a folder each: a sync's glob must see one bomb only
            (root / name).mkdir()
        honest = zip_bomb(root / "honest" / "bomb.xlsx", unpacked_mb=args.unpacked_mb)
        lying = lying_zip_bomb(root / "lying" / "bomb.xlsx", unpacked_mb=min(args.unpacked_mb, 4000))
        print(f"wrote two bombs of {args.unpacked_mb:,} MB unpacked: {honest.stat().st_size / 1e6:.1f} MB and "
              f"{lying.stat().st_size / 1e6:.1f} MB on disk, in {time.perf_counter() - started:.1f} s")
        rows: list[tuple[str, Measured]] = []
        for label, bomb in (("honest", honest), ("lying", lying)):
            config = bomb.parent / "portfolio.toml"
            config.write_text('name = "Hostile"\nreporting_currency = "USD"\nmaster = "master.xlsx"\n'
                              '[[sources]]\nkind = "excel"\npath = "*.xlsx"\n', encoding="utf-8")
            rows += [(f"pmo validate, {label} bomb", measure([*PMO, "validate", str(bomb), "--format", "json"])),
                     (f"pmo sync, {label} bomb", measure([*PMO, "sync", "--config", str(config), "--format", "json"])),
                     (f"add-in reader, {label} bomb", measure([sys.executable, "-c", ADDIN_READER, str(bomb)]))]
    print(f"\n{'command':<28} {'seconds':>8} {'cpu s':>6} {'peak MB':>8} {'exit':>5}  verdict "
          f"(target: refused as file-suspicious in under {TARGET_SECONDS:.0f} s and {TARGET_MB} MB)")
    for name, run in rows:
        problems = [f"{run.seconds:.2f} s" if run.seconds >= TARGET_SECONDS else "",
                    f"{run.peak_mb:.0f} MB" if run.peak_mb >= TARGET_MB else "",
                    "" if refused_as_suspicious(run) else f"not refused: {run.last_error_line or run.stdout[-200:]!r}"]
        if run.seconds >= TARGET_SECONDS and run.cpu_seconds < TARGET_SECONDS:
            problems.append(f"busy machine: {run.cpu_seconds:.2f} s of processor time")
        verdict = "; ".join(p for p in problems if p)
        print(f"{name:<28} {run.seconds:>8.2f} {run.cpu_seconds:>6.2f} {run.peak_mb:>8.0f} {run.exit_code:>5}  "
              f"{'FAIL: ' + verdict if verdict else 'ok'}")
    print(f"\nload average when done: {' '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} cores")

if __name__ == "__main__":
    main()
