"""What ``pmo sync`` shows a coordinator: a progress bar while reading, one screen of summary after."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pmo_sheets.config import PortfolioConfig
from pmo_sheets.lock import DEFAULT_WAIT, Holder
from pmo_sheets.sync import SyncResult, run_sync
from pmo_sheets.sync_decisions import SourceOutcome, link_gone


def sync_with_progress(config: PortfolioConfig, *, full: bool = False, prune_missing: bool = False,
                       rebuild_state: bool = False, wait: float = DEFAULT_WAIT,
                       on_wait: Callable[[Holder | None, float], None] | None = None, show: bool = True) -> SyncResult:
    """Run a sync with a rich progress bar on a terminal (and none when piped or in tests)."""
    options: dict[str, Any] = {"full": full, "prune_missing": prune_missing, "rebuild_state": rebuild_state,
                               "wait": wait, "on_wait": on_wait}
    if not (show and sys.stderr.isatty()):
        return run_sync(config, **options)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]reading sources"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as bar:
        task = bar.add_task("read", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "discover":  # folders being walked: a count, no end known yet
                bar.update(task, description="looking for workbooks", completed=done, total=None)
            else:
                bar.update(task, completed=done, total=total)

        return run_sync(config, **options, progress=progress)


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _found_as(result: SyncResult, outcome: SourceOutcome) -> str:
    """`` (found as PATH, which is gone)`` for a missing file found through a link (see :func:`link_gone`)."""
    found_as = link_gone(outcome)
    if found_as is None:
        return ""
    try:
        shown = str(Path(found_as).relative_to(os.path.abspath(result.config.base)))
    except ValueError:
        shown = found_as
    return f" (found as {shown}, which is gone)"


def text_summary(result: SyncResult) -> str:
    """One screen: what was read, what failed and why, and the portfolio's headline figures."""
    config, counts, figures = result.config, result.counts, result.figures
    lines = []
    if result.error:
        lines.append(f"pmo sync: {result.error}")
    elif result.written and result.master_in_use is not None:
        lines.append(f"{config.name}: {config.master} is {result.master_in_use.describe()}, so it was left as it is; "
                     f"the new master was written beside it to {result.written_to} in {result.seconds:.1f} s "
                     "(the first sync after it is closed replaces it, with the comments saved in it)")
    elif result.written:
        lines.append(f"{config.name}: master written to {config.master} in {result.seconds:.1f} s")
    else:
        lines.append(f"{config.name}: nothing changed since the last sync; {config.master} is up to date "
                     f"({result.seconds:.1f} s)")
    lines.append("sources: " + ", ".join(f"{counts[k]} {k}" for k in ("read", "unchanged", "invalid", "unreadable",
                                                                         "missing", "conflict")))
    if figures:
        ccy = config.reporting_currency
        lines.append(f"projects: {figures['projects']}; budget {_money(figures['budget'])} {ccy}, actuals "
                     f"{_money(figures['actual'])} {ccy}, EAC {_money(figures['eac'])} {ccy}, variance "
                     f"{_money(figures['variance'])} {ccy}; open risks {figures['open_risks']} ({figures['high_risks']} high)")
    if result.state_set_aside:
        lines.append(f"state store rebuilt: every source read again, comments taken from the master; "
                     f"the previous state file is {result.state_set_aside}")
    if result.removed_leftovers:
        lines.append(f"removed temporary files left by an interrupted sync: {', '.join(result.removed_leftovers)}")
    if result.reread_damaged:
        lines.append(f"stored records were damaged and read again from the source: {', '.join(result.reread_damaged)}")
    if result.pruned:
        lines.append(f"removed (gone, --prune-missing): {', '.join(result.pruned)}")
    if result.not_pruned:
        lines.append("kept although missing (their folder is not there either: a share offline, or a Drive folder "
                     f"no longer shared?): {', '.join(result.not_pruned)}")
    problems = [o for o in result.outcomes if o.problem]
    if problems:
        lines.append("")
        lines.append("needs attention (details on the master's Data quality sheet):")
        for outcome in sorted(problems, key=lambda o: o.source.label)[:20]:
            state = outcome.state
            first = state.findings[0] if state.findings else None
            where = ""
            if first:
                location = first.get("sheet") or ""
                if location and first.get("cell"):
                    location += f"!{first['cell']}"
                where = f" - first: {location + ' ' if location else ''}{first['rule']}: {first['message']}"
            counted = f" ({state.errors} error{'' if state.errors == 1 else 's'})" if state.errors else ""
            lines.append(f"  {outcome.source.label}: {state.status}{counted}{_found_as(result, outcome)}{where}")
        if len(problems) > 20:
            lines.append(f"  ... and {len(problems) - 20} more")
    return "\n".join(lines)
