"""``pmo sync``: discover sources, read only what changed, validate, consolidate, write the master.

One broken source never stops a sync: a source that turns invalid or unreadable keeps contributing
its last good data (marked stale, with its findings); a source that was never valid is listed and
contributes nothing; a source that vanished is reported missing and keeps its last good data until
it is removed from the configuration. The state store's changes are committed only after the new
master is in place, so an interrupted sync leaves both as they were.

Unattended (cron, the service, a shared drive), a sync also holds the portfolio's lock
(:mod:`pmo_sheets.lock`) from start to end, removes the temporary files a killed sync left, writes
only to a master path that is ours (:mod:`pmo_sheets.masterfile`), writes the new master beside the
master when someone has it open, and reads again a source whose stored records are damaged.

The decisions it makes on the way (each source's status, what is new, what is surely gone, the exit
code, which of finance's comments to keep) are plain functions in :mod:`pmo_sheets.sync_decisions`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from pmo_sheets.config import ConfigError, PortfolioConfig
from pmo_sheets.consolidate import DATA_TABLES, Contribution, Portfolio, consolidate, payload_from_report
from pmo_sheets.dependencies import SYNC_RULES, cross_project_dependencies, dependency_findings
from pmo_sheets.discovery import DiscoveredSource, DiscoveryLimitError, discover_excel
from pmo_sheets.findings import ERROR
from pmo_sheets.grid import Grid, SheetGrid, SourceError
from pmo_sheets.lock import DEFAULT_WAIT, Holder, SyncLock
from pmo_sheets.master import (
    ARCHIVE_SHEET,
    FINANCE_COMMENT,
    PORTFOLIO_SHEET,
    MasterContent,
    write_master,
)
from pmo_sheets.masterfile import (
    UnsafePath,
    check_master_path,
    check_not_a_source,
    in_use,
    is_pmo_master,
    refuse_foreign_file,
    remove_leftovers,
    side_copy,
)
from pmo_sheets.readers.excel import check_workbook_file, read_excel
from pmo_sheets.readers.limits import DEFAULT_LIMITS, MASTER_LIMITS, ReadLimits
from pmo_sheets.rollups import key_figures, overflowing_projects, project_rollup
from pmo_sheets.settings import DEFAULT_SETTINGS, ValidationSettings
from pmo_sheets.sources import UsageError
from pmo_sheets.state import (
    DamagedRecord,
    SourceState,
    StateDamaged,
    StateStore,
    check_state_file,
    set_state_aside,
    state_error,
)
from pmo_sheets.sync_decisions import (
    Checked,
    MasterComments,
    SourceOutcome,
    SyncResult,
    can_read_again,
    comments_on_master,
    config_digest,
    file_stamp,
    merged_with_side_copy,
    now_text,
    problem_of,
    quality_row,
    shows_something_new,
    state_after_check,
    status_text,
    still_configured,
    surely_gone,
)
from pmo_sheets.validate import WorkbookReport, failed_report, validate_grid
from pmo_sheets.workers import worker_pool

_MASTER_PENDING = "master_pending"  # meta: the state committed a sync whose master is not yet in place
# meta: the tables the stored records carry. Records stored by a pmo-sheets that carried fewer (before the
# master had template 2.0's tables) would leave an unchanged 2.0 workbook's RAID log out of the master with
# no finding, so every source is read again once when this changes.
_PAYLOAD_TABLES = "payload_tables"
# What stored records hold: their tables, and (since the dependency check) where each column was found.
# Records stored in another format are read again once.
_PAYLOAD_FORMAT = ",".join(DATA_TABLES) + ";positions"
PARALLEL_FROM = 8  # below this many workbooks, starting processes costs more than it saves


def _checked(report: WorkbookReport) -> Checked:
    return Checked(report.template, report.project_id, report.readable, report.errors, report.warnings,
                   [f.to_dict() for f in report.findings], payload_from_report(report) if report.valid else None,
                   template_version=report.template_version)


def check_excel(path: str, settings: ValidationSettings = DEFAULT_SETTINGS,
                limits: ReadLimits = DEFAULT_LIMITS) -> Checked:
    """Read and validate one workbook file (runs in a worker process); ``limits`` bound what it may cost."""
    try:
        grid = read_excel(Path(path), limits=limits)
    except SourceError as error:
        return _checked(failed_report(path, error))
    return _checked(validate_grid(grid, settings=settings))


def discover(config: PortfolioConfig, progress: Callable[[str, int, int], None] | None = None,
             ) -> tuple[list[DiscoveredSource], list[tuple[str, str, SourceError]], Any]:
    """Every source the configuration names, plus sources that could not even be listed."""
    found: list[DiscoveredSource] = []
    failures: list[tuple[str, str, SourceError]] = []
    google_specs = [spec for spec in config.sources if spec.kind != "excel"]
    ours = (config.master, side_copy(config.master))  # never read the master as one of its own sources
    for spec in config.sources:
        if spec.kind == "excel":
            try:
                matched = discover_excel(spec.target, config.base, exclude=ours, limit=config.limits.max_paths_visited,
                                         progress=None if progress is None else lambda seen: progress("discover", seen, 0))
            except DiscoveryLimitError as exc:
                raise ConfigError(f"{config.path}: {exc}; nothing was written") from None
            if not matched:  # only a glob can match nothing: say so rather than sync an empty portfolio quietly
                failures.append((f"glob:{spec.target}", spec.target, SourceError(
                    "file-missing", f"no .xlsx or .xlsm files match {spec.target} (in {config.base})")))
            found.extend(matched)
    google = None
    if google_specs:
        from pmo_sheets.readers.gsheets import GoogleSheets

        try:
            google = GoogleSheets(config.google, config.base)
        except ValueError as exc:  # a PMO_GOOGLE_* variable of the wrong type: the file itself was checked
            raise ConfigError(f"{config.path}: {exc}") from None
        listed, failed = google.discover(google_specs)
        found.extend(listed)
        failures.extend((f"google:{spec.target}", spec.target, error) for spec, error in failed)
    unique = {source.key: source for source in found}
    return list(unique.values()), failures, google


def _check_all(config: PortfolioConfig, sources: list[DiscoveredSource],
               google: Any) -> Iterator[tuple[DiscoveredSource, Checked]]:
    """Read and validate each source, yielding results as they come (workbooks in parallel processes)."""
    excel = [s for s in sources if s.kind == "excel"]
    if len(excel) >= PARALLEL_FROM and config.workers > 1:
        with worker_pool(config.workers) as pool:  # workers that exit when this process is killed
            paths = [s.locator for s in excel]
            yield from zip(excel, pool.map(check_excel, paths, [config.settings] * len(paths),
                                                [config.limits] * len(paths), chunksize=4), strict=True)
    else:
        for source in excel:
            yield source, check_excel(source.locator, config.settings, config.limits)
    for source in sources:
        if source.kind == "excel":
            continue
        try:
            grid: Grid = google.read(source)
            yield source, _checked(validate_grid(grid, settings=config.settings))
        except SourceError as error:
            yield source, _checked(failed_report(source.label, error))


class MasterUnreadable(UsageError):
    """The existing master cannot be read (a password, damage): its comments would be lost, so nothing is written."""


def read_master_comments(path: Path) -> MasterComments:
    """Finance's columns on the existing master's Portfolio sheet, and its Comments archive.

    No master (a first sync, or deleted) gives no comments: the caller falls back on the state store.
    A master that exists but cannot be read raises :class:`MasterUnreadable`, since writing a new one
    over it would silently drop whatever finance typed since the last sync.
    """
    stamp = file_stamp(path)
    if stamp is None or not path.is_file():  # not a file: nothing to read, and the writer says it cannot replace it
        return MasterComments()
    try:
        check_workbook_file(path, limits=MASTER_LIMITS)
        grid = _master_sheets(path, (PORTFOLIO_SHEET, ARCHIVE_SHEET))
    except SourceError as error:
        raise _unreadable(path, error.message.removeprefix(f"{path}: ")) from None
    except Exception as exc:  # calamine's own error types for a damaged part
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _unreadable(path, f"the workbook is damaged: {detail}") from None
    found = comments_on_master(grid)
    found.stamp = stamp
    return found


def _unreadable(path: Path, reason: str) -> MasterUnreadable:
    return MasterUnreadable(f"cannot read the master {path} ({reason}); finance's comments in it would be lost, so "
                            "nothing was written. To start a new master with the comments saved at the last sync, "
                            "move this one away.")


def _master_sheets(path: Path, names: tuple[str, ...]) -> Grid:
    """Just the named sheets of the master: it holds every data row, so reading all of it would be slow."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    grid = Grid(str(path))
    try:
        for name in names:
            if name in workbook.sheet_names:
                grid.sheets[name] = SheetGrid(name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
    finally:
        workbook.close()
    return grid


def run_sync(config: PortfolioConfig, *, full: bool = False, prune_missing: bool = False, rebuild_state: bool = False,
             wait: float = DEFAULT_WAIT, on_wait: Callable[[Holder | None, float], None] | None = None,
             progress: Callable[[str, int, int], None] | None = None, write: Callable[..., None] = write_master) -> SyncResult:
    """Consolidate every source of ``config`` into its master workbook; the library twin of ``pmo sync``.

    A source whose file or spreadsheet is gone keeps its last good data (status "missing") unless
    ``prune_missing`` is set: then it leaves the portfolio, as if portfolio.toml no longer named it.

    Only one sync of a portfolio runs at a time: this one waits up to ``wait`` seconds for another
    to finish (``on_wait`` is told once that it waits), then raises :class:`pmo_sheets.lock.SyncBusy`.
    ``rebuild_state`` sets the state file aside and starts a new one: every source is read again and
    finance's comments come from the master. Raises a :class:`pmo_sheets.sources.UsageError` (exit
    code 2, nothing written) for a configuration, path or state store it must not or cannot use.
    """
    check_master_path(config.master, config_path=config.path, state_path=config.state)
    try:  # before the lock, so that a wrong state path does not even get a lock file beside it
        check_state_file(config.state)
    except StateDamaged as damaged:
        if not rebuild_state:
            raise StateDamaged(damaged.path, damaged.reason, config=config.path) from None
    with _no_new_state_on_config_error(config.state), SyncLock(config.state, wait=wait, on_wait=on_wait):
        removed = remove_leftovers(config.master)  # we hold the lock: no sync is writing these right now
        set_aside = set_state_aside(config.state) if rebuild_state else None
        try:
            result = _sync_locked(config, full=full or rebuild_state, prune_missing=prune_missing, progress=progress,
                                  write=write)
        except StateDamaged as damaged:
            raise StateDamaged(damaged.path, damaged.reason, config=config.path) from None
        result.removed_leftovers = [path.name for path in removed]
        result.state_set_aside = set_aside
        return result


def _sync_locked(config: PortfolioConfig, *, full: bool, prune_missing: bool,
                 progress: Callable[[str, int, int], None] | None, write: Callable[..., None]) -> SyncResult:
    """The sync itself, once the lock is held; SQLite failures become one-line errors."""
    result = SyncResult(config)
    # Before any source is read: a master that cannot be read stops the sync with nothing written.
    carried = read_master_comments(config.master)
    beside = _side_copy_comments(config.master)
    try:
        with StateStore(config.state) as store:
            return _sync_with_store(config, store, result, carried, beside, full=full, prune_missing=prune_missing,
                                    progress=progress, write=write)
    except sqlite3.Error as exc:
        if not result.written:
            raise state_error(config.state, exc, config=config.path) from None
        # The new master is in place but the state store did not take this sync: the next sync sees the
        # old fingerprints and reads the changed sources again, so nothing is lost but time.
        result.error = (f"the master was written, but the state store {config.state} could not be updated ({exc}); "
                        "the next sync reads the changed sources again")
        return result


def _sync_with_store(config: PortfolioConfig, store: StateStore, result: SyncResult, carried: MasterComments,
                     carried_beside: MasterComments | None, *, full: bool, prune_missing: bool,
                     progress: Callable[[str, int, int], None] | None, write: Callable[..., None]) -> SyncResult:
    started = time.perf_counter()
    now = now_text()
    sources, failures, google = discover(config, progress)
    if google is not None:  # the same object counts on through the reads below
        result.google_stats = google.stats
    check_not_a_source(config.master, [Path(s.locator) for s in sources if s.kind == "excel"])
    known = store.sources()
    tables_changed = bool(known) and store.meta(_PAYLOAD_TABLES) != _PAYLOAD_FORMAT
    to_read = [s for s in sources if full or tables_changed or s.key not in known or s.fingerprint is None
               or known[s.key].fingerprint != s.fingerprint]
    # One transaction for the whole sync, committed once the new master is complete, before it replaces the old.
    store.begin()
    try:
        outcomes = _record_sources(store, config, sources, failures, google, known, to_read, now, progress)
        if prune_missing:
            missing = [o for o in outcomes if o.problem == "missing"]
            drive_listed = google is None or google.every_folder_listed
            gone = {o.state.key for o in missing
                    if surely_gone(o.state.key, drive_listed=drive_listed, found_as=o.state.found_as)}
            result.pruned = sorted(o.state.label for o in missing if o.state.key in gone)
            result.not_pruned = sorted(o.state.label for o in missing if o.state.key not in gone)
            outcomes = [o for o in outcomes if o.state.key not in gone]
        result.outcomes = outcomes
        forgotten = [key for key in known if key not in {o.state.key for o in outcomes}]
        for key in forgotten:
            store.forget_source(key)  # taken out of portfolio.toml: it leaves the portfolio
        newly_missing = any(o.problem == "missing" and not known[o.state.key].status.startswith("missing")
                            for o in outcomes)
        # A source read again only because it failed last time, and failing the same way, changes nothing.
        news = [o for o in outcomes if o.read and shows_something_new(o, known.get(o.state.key))]
        beside = side_copy(config.master)  # written while the master was open: the master is behind it
        nothing_changed = (not news and not failures and not newly_missing and not forgotten
                           and config.master.exists() and carried_beside is None and not store.meta(_MASTER_PENDING)
                           and store.meta("config_digest") == config_digest(config) and not tables_changed)
        if nothing_changed:
            history = store.history()
            result.figures = dict(history[-1][1]) if history else {}
            store.add_history(now, result.figures)
            # The master is not rewritten, but what finance typed into it is saved all the same.
            store.save_comments(carried.carried(store.comments()))
            store.commit()
            result.seconds = time.perf_counter() - started
            return result

        portfolio = _consolidate_reading_damaged_again(store, config, result, google, now)
        outcomes = result.outcomes
        _mark_conflicts(result, portfolio)
        _mark_dependencies(store, result, portfolio)
        _check_fx(config, portfolio)
        rollup = project_rollup(portfolio, config.fx)
        overflowing = overflowing_projects(rollup)
        if overflowing:
            raise ConfigError(f"the figures of {', '.join(overflowing[:5])} add up to more than a spreadsheet can hold "
                              "(an amount or an FX rate far beyond any real one); correct it; nothing was written")
        result.figures = key_figures(rollup)
        result.figures.update(sources_ok=sum(1 for o in outcomes if o.problem is None),
                              sources_stale=sum(1 for o in outcomes if o.problem and o.state.has_payload),
                              sources_failed=sum(1 for o in outcomes if o.problem and not o.state.has_payload))
        for outcome in outcomes:
            if outcome.problem == "conflict":
                store.save_source(outcome.state)
        store.add_history(now, result.figures)
        store.set_meta("config_digest", config_digest(config))
        store.set_meta(_PAYLOAD_TABLES, _PAYLOAD_FORMAT)
        comments, content = _master_content(config, store, portfolio, outcomes, now, carried, carried_beside)
        target = _write_target(config.master, result)
        committed = False

        def commit_state() -> None:
            """Runs once the new master is complete and before it replaces the old one: a state store that
            cannot take this sync (a full or read-only folder) then leaves the previous master in place."""
            nonlocal committed
            store.save_comments(comments)
            store.set_meta(_MASTER_PENDING, str(target))  # cleared once the master is in place
            store.commit()
            committed = True

        try:
            write(target, content, before_replace=commit_state)
        except OSError as exc:
            store.rollback()
            result.error = (f"cannot write the master {target} ({exc.strerror or exc}); "
                            "the previous master is unchanged; nothing was written")
            if committed:  # the state took this sync; _MASTER_PENDING makes the next sync write the master
                result.error += " (the next sync writes it)"
            result.seconds = time.perf_counter() - started
            return result
        result.written, result.written_to = True, target
        store.set_meta(_MASTER_PENDING, "")
        if target == config.master:
            _remove_superseded(beside)
    except BaseException:
        store.rollback()
        raise
    result.seconds = time.perf_counter() - started
    return result


def _write_target(master: Path, result: SyncResult) -> Path:
    """The master, or its side copy while someone has the master open (noted in ``result``)."""
    result.master_in_use = in_use(master)
    if result.master_in_use is None:
        return master
    beside = side_copy(master)
    refuse_foreign_file(beside)
    if in_use(beside) is not None:
        raise UnsafePath(f"master {master} is {result.master_in_use.describe()}, and so is {beside.name}; "
                         "close one of them and sync again; nothing was written")
    return beside


def _remove_superseded(beside: Path) -> None:
    """The master is current again: the side copy written while it was open has served its purpose."""
    if beside.exists() and is_pmo_master(beside) and in_use(beside) is None:
        beside.unlink(missing_ok=True)


def _consolidate_reading_damaged_again(store: StateStore, config: PortfolioConfig, result: SyncResult, google: Any,
                                       now: str) -> Portfolio:
    """Consolidate the stored records; a source whose records are damaged is read again and only it waits.

    A damaged record is found only when it is loaded, so consolidation runs once more after such
    sources are read again (or, when they cannot be read, have their records dropped).
    """
    damaged: list[str] = []

    def load(key: str) -> dict[str, Any] | None:
        try:
            return store.payload(key)
        except DamagedRecord:
            damaged.append(key)
            return None

    for _ in range(3):  # each pass meets every damaged record it loads; the next sees them read again or dropped
        damaged.clear()
        contributions = [
            Contribution(o.state.key, o.state.label, "ok" if o.problem is None else "stale", o.state.first_seen,
                         o.state.last_good_sync, o.state.good_project_id, o.state.good_template)
            for o in result.outcomes if o.state.has_payload
        ]
        portfolio = consolidate(contributions, load, fiscal_year_start_month=config.fiscal_year_start_month,
                                pinned=config.owners)
        if not damaged:
            return portfolio
        result.outcomes = _read_damaged_again(store, config, result.outcomes, set(damaged), google, now)
        result.reread_damaged.extend(o.state.label for o in result.outcomes if o.state.key in set(damaged))
    raise StateDamaged(store.path, "stored records stay damaged after being written again")


def _read_damaged_again(store: StateStore, config: PortfolioConfig, outcomes: list[SourceOutcome], damaged: set[str],
                        google: Any, now: str) -> list[SourceOutcome]:
    """Drop the damaged records, then read their sources again where they can be read."""
    for key in damaged:
        store.drop_payload(key)
    replaced: dict[str, SourceOutcome] = {}
    readable = []
    for outcome in outcomes:
        if outcome.state.key not in damaged:
            continue
        without = replace(outcome.state, has_payload=False, last_good_sync=None, good_project_id=None,
                          good_template=None)
        if not can_read_again(outcome):
            problem = outcome.problem or "unreadable"
            state = replace(without, status=status_text(problem, False))
            store.save_source(state)
            replaced[state.key] = SourceOutcome(outcome.source, state, outcome.read, problem)
        else:
            readable.append((outcome.source, without))
    previous = {source.key: state for source, state in readable}
    for source, check in _check_all(config, [source for source, _ in readable], google):
        state, problem = state_after_check(source, check, previous[source.key], now)
        store.save_source(state, check.payload)
        replaced[source.key] = SourceOutcome(source, state, True, problem)
    return [replaced.get(o.state.key, o) for o in outcomes]


@contextmanager
def _no_new_state_on_config_error(path: Path) -> Iterator[None]:
    """A configuration error met mid-sync (an FX rate missing) writes nothing: not even a new state store.

    (The lock file beside it stays: lock files are never deleted, see :mod:`pmo_sheets.lock`.)
    """
    existed = path.exists()
    try:
        yield
    except ConfigError:
        if not existed:
            for leftover in (path, path.with_name(path.name + "-journal")):
                leftover.unlink(missing_ok=True)
        raise


def _record_sources(store: StateStore, config: PortfolioConfig, sources: list[DiscoveredSource],
                    failures: list[tuple[str, str, SourceError]], google: Any, known: dict[str, SourceState],
                    to_read: list[DiscoveredSource], now: str,
                    progress: Callable[[str, int, int], None] | None) -> list[SourceOutcome]:
    """Read what changed and record every source's state; new good records go straight to the store."""
    outcomes: list[SourceOutcome] = []
    if progress:
        progress("read", 0, len(to_read))
    for done, (source, check) in enumerate(_check_all(config, to_read, google), start=1):
        state, problem = state_after_check(source, check, known.get(source.key), now)
        store.save_source(state, check.payload)
        outcomes.append(SourceOutcome(source, state, True, problem))
        if progress:
            progress("read", done, len(to_read))
    read_keys = {o.state.key for o in outcomes}
    for source in sources:
        if source.key in read_keys:
            continue
        previous = known[source.key]
        problem = problem_of(previous)
        state = replace(previous, label=source.label, found_as=source.found_as,
                        status=status_text(problem, previous.has_payload))
        store.save_source(state)
        outcomes.append(SourceOutcome(source, state, False, problem))
    listed = {s.key for s in sources}
    # When Drive itself could not be listed, the spreadsheets already known stand for their folders
    # (each is reported "not checked" below): a folder is then no extra source of its own.
    listing_error: SourceError | None = getattr(google, "listing_error", None)
    known_google = any(key.startswith("gsheet:") and still_configured(key, config) for key in known)
    for key, label, error in failures:
        if listing_error is not None and error is listing_error and known_google:
            continue
        previous = known.get(key)
        has_payload = bool(previous and previous.has_payload)
        finding = {"severity": ERROR, "rule": error.code, "sheet": None, "cell": None, "message": error.message}
        kind = "excel" if key.startswith("glob:") else "google"
        status = "no files match" if key.startswith("glob:") else status_text("unreadable", has_payload)
        if previous is not None:
            state = replace(previous, label=label, fingerprint=None, status=status, template=None,
                            template_version=None, errors=1, warnings=0, findings=[finding], last_checked=now)
        else:
            state = SourceState(key=key, kind=kind, label=label, fingerprint=None,
                                status=status, project_id=None, template=None, errors=1,
                                warnings=0, findings=[finding], first_seen=now_text(True), last_checked=now,
                                last_good_sync=None, has_payload=False)
        store.save_source(state)
        listed.add(key)
        outcomes.append(SourceOutcome(DiscoveredSource(key, kind, label, label, None), state, True, "unreadable"))
    # When Drive itself could not be listed, the Google sources are not gone: they were not checked.
    for key, previous in known.items():
        if key in listed or not still_configured(key, config, previous.found_as):
            continue
        if listing_error and previous.kind == "google_sheet":
            finding = {"severity": ERROR, "rule": listing_error.code, "sheet": None, "cell": None,
                       "message": f"{previous.label}: not checked, because {listing_error.message}"}
            state = replace(previous, fingerprint=None, status=status_text("unreadable", previous.has_payload), errors=1,
                            warnings=0, findings=[finding], last_checked=now)  # no fingerprint: read it next time
            store.save_source(state)
            outcomes.append(SourceOutcome(DiscoveredSource(key, previous.kind, previous.label, key.removeprefix("gsheet:"), None),
                                          state, False, "unreadable"))
        else:
            state = replace(previous, status=status_text("missing", previous.has_payload))
            store.save_source(state)
            outcomes.append(SourceOutcome(DiscoveredSource(key, previous.kind, previous.label, previous.label, None,
                                                           found_as=previous.found_as), state, False, "missing"))
    return outcomes


def _side_copy_comments(master: Path) -> MasterComments | None:
    """Finance's columns in the side copy written while the master was open (None when there is none)."""
    beside = side_copy(master)
    if not (beside.exists() and is_pmo_master(beside)):
        return None
    return read_master_comments(beside)


def _master_content(config: PortfolioConfig, store: StateStore, portfolio: Portfolio, outcomes: list[SourceOutcome],
                    now: str, carried: MasterComments,
                    beside: MasterComments | None = None) -> tuple[dict[str, dict[str, str]], MasterContent]:
    """Everything the master shows, with finance's comments carried over from the current master (and
    from the side copy written while it was open, if there is one)."""
    if carried.changed_since(config.master):  # saved by finance while the sources were being read
        carried = read_master_comments(config.master)
    if beside is not None:
        carried = merged_with_side_copy(carried, beside, store.comments())
    merged = carried.carried(store.comments())
    archive = list(carried.archive)
    current = set(portfolio.projects["project_id"])
    archived = {(a[0], a[1], a[2]) for a in archive}
    for project_id, values in merged.items():
        if project_id not in current:
            for header, value in values.items():
                if (project_id, header, value) not in archived:
                    archive.append((project_id, header, value, now))
                    archived.add((project_id, header, value))
    stored_headers = [h for values in merged.values() for h in values]
    comment_headers = list(dict.fromkeys([FINANCE_COMMENT, *carried.headers, *stored_headers]))
    content = MasterContent(
        config.name, config.reporting_currency, config.fx, portfolio, [quality_row(o) for o in outcomes],
        store.history(), now, comment_headers, {pid: v for pid, v in merged.items() if pid in current}, archive,
        config.max_rows_per_sheet)
    return merged, content


def _mark_conflicts(result: SyncResult, portfolio: Portfolio) -> None:
    by_label = {o.state.label: o for o in result.outcomes}
    for conflict in portfolio.conflicts:
        result.conflicts.append({"project_id": conflict.project_id, "table": conflict.table, "kept": conflict.kept,
                                 "ignored": conflict.ignored})
        outcome = by_label.get(conflict.ignored)
        if outcome is not None and outcome.problem is None:
            outcome.problem = "conflict"
            outcome.state.status = (f"conflict: {conflict.table} of {conflict.project_id} already comes from {conflict.kept}; "
                                    "this source contributes nothing")


def _mark_dependencies(store: StateStore, result: SyncResult, portfolio: Portfolio) -> None:
    """Add each source's sync-time dependency findings (pmo_sheets/dependencies.py) to its state, in place of
    the ones an earlier sync added: they are worked out again on every sync, as conflicts are. Only a source
    whose current rows are in the master gets them (a stale source's cells may no longer say the same)."""
    found = dependency_findings(cross_project_dependencies(portfolio))
    for outcome in result.outcomes:
        state = outcome.state
        earlier = [f for f in state.findings if f.get("rule") in SYNC_RULES]
        new = [f.to_dict() for f in found.get(state.label, [])] if outcome.problem is None else []
        if not earlier and not new:
            continue
        # First: the portfolio's news, which Data quality's first findings then show before the workbook's own.
        state.findings = [*new, *(f for f in state.findings if f.get("rule") not in SYNC_RULES)]
        state.warnings += len(new) - len(earlier)
        store.save_source(state)


def _check_fx(config: PortfolioConfig, portfolio: Portfolio) -> None:
    # Change requests' cost impacts are converted too (in the project's currency: the currency-mismatch rule).
    used = set(portfolio.projects["currency"].dropna()) | {
        currency for table in ("budget", "changes") for currency in portfolio.tables[table]["currency"].dropna()}
    missing = sorted(used - set(config.fx))
    if missing:
        projects = portfolio.projects[portfolio.projects["currency"].isin(missing)]["project_id"].tolist()
        raise ConfigError(f"{config.path}: [fx] has no rate for {', '.join(missing)} (used by {', '.join(projects[:5])}); "
                          f"add one, in {config.reporting_currency} per unit; nothing was written")


