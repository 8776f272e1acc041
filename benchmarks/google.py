"""Benchmark: what 300 Google spreadsheets cost a sync, in API requests and rate-limiter waits.

Three syncs of the same portfolio (one Drive folder of 300 project spreadsheets on the local
Sheets/Drive server of ``tests/fake_google.py``, read by the real gspread client):

- **full**: the first sync reads every spreadsheet;
- **nothing changed**: fingerprints (Drive ``modifiedTime``) all equal, so nothing is read;
- **one changed**: one cell edited in one spreadsheet, so exactly that one is read.

Each sync does what ``pmo sync`` does for Google sources: ``GoogleSheets.discover``, then ``read``
and ``validate_grid`` for each spreadsheet whose fingerprint changed. The rate limiter runs at the
default setting (50 Sheets requests a minute) on a clock that adds its waits instead of sleeping
them: the table shows the time it would impose on a real sync, measured without spending it.

Run: ``python -m benchmarks.google [--sources N]`` (or through ``python -m benchmarks``).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the local Google server lives with the tests

from fake_google import FakeGoogle, tabs_from_workbook  # noqa: E402

from pmo_sheets.config import SourceSpec  # noqa: E402
from pmo_sheets.readers.gsheets import SETTINGS, GoogleSheets  # noqa: E402
from pmo_sheets.samples import sample_project, write_workbook  # noqa: E402
from pmo_sheets.validate import validate_grid  # noqa: E402

DEFAULT_RATE = next(s.default for s in SETTINGS if s.name == "requests_per_minute")


@dataclass
class SyncCost:
    """One sync's bill."""

    name: str
    read: int
    sheets_requests: int
    drive_requests: int
    rate_limit_seconds: float
    wall_seconds: float


class _VirtualWaits:
    """Real time plus every wait the limiter asked for, which is added instead of slept."""

    def __init__(self) -> None:
        self.offset = 0.0

    def clock(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        self.offset += seconds


def build_portfolio(server: FakeGoogle, count: int, workdir: Path) -> tuple[str, list[str]]:
    """``count`` project spreadsheets in one Drive folder; returns the folder and spreadsheet IDs."""
    tabs, hidden = tabs_from_workbook(write_workbook(sample_project(0), workdir / "project.xlsx"))
    project_tab = tabs["Project"]
    folder = server.add_folder("PMO - project workbooks")
    ids = []
    for number in range(1, count + 1):
        own = dict(tabs)
        own["Project"] = copy.deepcopy(project_tab)
        own["Project"][0][1] = f"PRJ-{number:04d}"  # B1, the project ID: each spreadsheet is its own project
        ids.append(server.add_spreadsheet(f"Project {number}", own, hidden=hidden, folder=folder))
    return folder, ids


def sync_once(server: FakeGoogle, name: str, specs: list[SourceSpec], seen: dict[str, str | None],
              settings: dict[str, Any]) -> SyncCost:
    """Discover, then read and validate what changed, as ``pmo sync`` does; the server counts requests."""
    waits = _VirtualWaits()
    reader = GoogleSheets(settings, clock=waits.clock, sleep=waits.sleep)
    server.reset_log()
    started = time.perf_counter()
    found, errors = reader.discover(specs)
    if errors:
        raise RuntimeError(f"discovery failed: {errors[0][1].message}")
    read = 0
    for source in found:
        if source.fingerprint is None or seen.get(source.key) != source.fingerprint:
            validate_grid(reader.read(source))
            seen[source.key] = source.fingerprint
            read += 1
    wall = time.perf_counter() - started
    return SyncCost(name, read, server.count("sheets"), server.count("drive"), reader.stats.rate_limit_seconds, wall)


def run(count: int = 300) -> list[SyncCost]:
    """The three syncs over ``count`` spreadsheets; returns their costs."""
    with TemporaryDirectory() as tmp, FakeGoogle() as server:
        folder, ids = build_portfolio(server, count, Path(tmp))
        settings = {"api_base": server.url, "requests_per_minute": DEFAULT_RATE}
        specs = [SourceSpec("google_folder", folder)]
        seen: dict[str, str | None] = {}
        costs = [sync_once(server, "full", specs, seen, settings),
                 sync_once(server, "nothing changed", specs, seen, settings)]
        server.update(ids[count // 2], "Project", 2, 2, "Renamed by its project manager")
        costs.append(sync_once(server, "one changed", specs, seen, settings))
        return costs


def render(costs: list[SyncCost], count: int) -> Table:
    table = Table(title=f"{count} Google spreadsheets, rate limit {DEFAULT_RATE:g} Sheets requests/minute")
    table.add_column("sync")
    table.add_column("read", justify="right")
    table.add_column("Sheets req.", justify="right")
    table.add_column("Drive req.", justify="right")
    table.add_column("limiter wait", justify="right")
    table.add_column("run time", justify="right")
    for cost in costs:
        table.add_row(cost.name, str(cost.read), str(cost.sheets_requests), str(cost.drive_requests),
                      _duration(cost.rate_limit_seconds), f"{cost.wall_seconds:.2f} s")
    return table


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.1f} s"


def main(sources: int = 300) -> None:
    """Print the table; the benchmarks runner calls this with no arguments."""
    console = Console()
    console.print(render(run(sources), sources))
    console.print("limiter wait: added to a virtual clock, not slept (a real sync would spend it); "
                  "run time: discovery, reads and validation without the waits.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.google", description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=300, help="how many Google spreadsheets (default 300)")
    main(parser.parse_args().sources)
