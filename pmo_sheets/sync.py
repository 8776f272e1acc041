"""``pmo sync``: discover sources, read only what changed, validate, consolidate, write the master.

One broken source never stops a sync: a source that turns invalid or unreadable keeps contributing
its last good data (marked stale, with its findings); a source that was never valid is listed and
contributes nothing; a source that vanished is reported missing and keeps its last good data until
it is removed from the configuration. The state store's changes are committed only after the new
master is in place, so an interrupted sync leaves both as they were.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pmo_sheets.config import ConfigError, PortfolioConfig
from pmo_sheets.consolidate import Contribution, Portfolio, consolidate, payload_from_report
from pmo_sheets.discovery import DiscoveredSource, discover_excel
from pmo_sheets.findings import ERROR
from pmo_sheets.grid import Grid, SheetGrid, SourceError
from pmo_sheets.master import (
    ARCHIVE_SHEET,
    FINANCE_COMMENT,
    PORTFOLIO_SHEET,
    MasterContent,
    MasterWriter,
    SourceStatus,
    write_master,
)
from pmo_sheets.readers.excel import check_workbook_file, read_excel
from pmo_sheets.rollups import key_figures, overflowing_projects, project_rollup
from pmo_sheets.settings import DEFAULT_SETTINGS, ValidationSettings
from pmo_sheets.sources import UsageError
from pmo_sheets.state import SourceState, StateStore
from pmo_sheets.validate import WorkbookReport, failed_report, validate_grid

PARALLEL_FROM = 8  # below this many workbooks, starting processes costs more than it saves
FIRST_FINDINGS = 3


@dataclass
class Checked:
    """What reading and validating one source gave (picklable, so worker processes can return it)."""

    template: str | None
    project_id: str | None
    readable: bool
    errors: int
    warnings: int
    findings: list[dict[str, Any]]
    payload: dict[str, Any] | None  # only when valid


def _checked(report: WorkbookReport) -> Checked:
    return Checked(report.template, report.project_id, report.readable, report.errors, report.warnings,
                   [f.to_dict() for f in report.findings], payload_from_report(report) if report.valid else None)


def check_excel(path: str, settings: ValidationSettings = DEFAULT_SETTINGS) -> Checked:
    """Read and validate one workbook file (runs in a worker process)."""
    try:
        grid = read_excel(Path(path))
    except SourceError as error:
        return _checked(failed_report(path, error))
    return _checked(validate_grid(grid, settings=settings))


@dataclass
class SourceOutcome:
    """One source after this sync."""

    source: DiscoveredSource
    state: SourceState
    read: bool
    problem: str | None  # invalid, unreadable, missing, conflict, or None


@dataclass
class SyncResult:
    """What a sync did; ``exit_code`` follows DESIGN.md."""

    config: PortfolioConfig
    outcomes: list[SourceOutcome] = field(default_factory=list)
    written: bool = False
    seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)
    conflicts: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    pruned: list[str] = field(default_factory=list)  # labels of vanished sources dropped by prune_missing
    not_pruned: list[str] = field(default_factory=list)  # missing, but their folder is gone too: kept

    def count(self, what: str) -> int:
        if what == "read":
            return sum(1 for o in self.outcomes if o.read)
        if what == "unchanged":
            return sum(1 for o in self.outcomes if not o.read and o.problem != "missing")
        return sum(1 for o in self.outcomes if o.problem == what)

    @property
    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in ("read", "unchanged", "invalid", "unreadable", "missing", "conflict")}

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return 1
        return 1 if any(o.problem for o in self.outcomes) else 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary of ``pmo sync --format json``."""
        return {
            "portfolio": self.config.name,
            "master": str(self.config.master),
            "written": self.written,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "counts": self.counts,
            "figures": self.figures,
            "reporting_currency": self.config.reporting_currency,
            "conflicts": self.conflicts,
            "pruned": self.pruned,
            "not_pruned": self.not_pruned,
            "sources": [
                {"source": o.source.label, "kind": o.source.kind, "status": o.state.status, "read": o.read,
                 "project_id": o.state.project_id, "errors": o.state.errors, "warnings": o.state.warnings,
                 "last_good_sync": o.state.last_good_sync, "findings": o.state.findings}
                for o in self.outcomes
            ],
        }


def _now(precise: bool = False) -> str:
    moment = dt.datetime.now(dt.UTC)
    return (moment if precise else moment.replace(microsecond=0)).isoformat().replace("+00:00", "Z")


def discover(config: PortfolioConfig) -> tuple[list[DiscoveredSource], list[tuple[str, str, SourceError]], Any]:
    """Every source the configuration names, plus sources that could not even be listed."""
    found: list[DiscoveredSource] = []
    failures: list[tuple[str, str, SourceError]] = []
    google_specs = [spec for spec in config.sources if spec.kind != "excel"]
    for spec in config.sources:
        if spec.kind == "excel":
            found.extend(discover_excel(spec.target, config.base))
    google = None
    if google_specs:
        from pmo_sheets.readers.gsheets import GoogleSheets

        google = GoogleSheets(config.google, config.base)
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
        with ProcessPoolExecutor(max_workers=config.workers) as pool:
            paths = [s.locator for s in excel]
            yield from zip(excel, pool.map(check_excel, paths, [config.settings] * len(paths), chunksize=4), strict=True)
    else:
        for source in excel:
            yield source, check_excel(source.locator, config.settings)
    for source in sources:
        if source.kind == "excel":
            continue
        try:
            grid: Grid = google.read(source)
            yield source, _checked(validate_grid(grid, settings=config.settings))
        except SourceError as error:
            yield source, _checked(failed_report(source.label, error))


def _status(problem: str | None, has_payload: bool) -> str:
    if problem is None:
        return "ok"
    if has_payload:
        return f"{problem}, last good data kept"
    return f"{problem}, never valid" if problem != "missing" else "missing"


class MasterUnreadable(UsageError):
    """The existing master cannot be read (a password, damage): its comments would be lost, so nothing is written."""


@dataclass
class MasterComments:
    """Finance's columns as the current master shows them (everything right of ours on Portfolio), and the archive."""

    headers: list[str] = field(default_factory=list)
    comments: dict[str, dict[str, str]] = field(default_factory=dict)  # project ID -> header -> text (non-empty)
    shown: set[str] = field(default_factory=set)  # every project on the Portfolio sheet, commented or not
    archive: list[tuple[str, str, str, str]] = field(default_factory=list)
    stamp: tuple[int, int] | None = None  # the file's (mtime_ns, size) when read; None: there was no master

    def carried(self, stored: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        """The comments to keep: the master's for every project it shows, the state store's for the others.

        The master is the truth for what it shows, so a comment finance cleared stays cleared; the
        store fills in only projects the master does not show (no master yet, or deleted, or a
        project that left the portfolio earlier and may come back).
        """
        kept = {project_id: values for project_id, values in stored.items() if project_id not in self.shown}
        kept.update(self.comments)
        return kept

    def changed_since(self, path: Path) -> bool:
        """Whether the master on disk is no longer the file these comments were read from."""
        return _stamp(path) != self.stamp


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def read_master_comments(path: Path) -> MasterComments:
    """Finance's columns on the existing master's Portfolio sheet, and its Comments archive.

    No master (a first sync, or deleted) gives no comments: the caller falls back on the state store.
    A master that exists but cannot be read raises :class:`MasterUnreadable`, since writing a new one
    over it would silently drop whatever finance typed since the last sync.
    """
    stamp = _stamp(path)
    if stamp is None or not path.is_file():  # not a file: nothing to read, and the writer says it cannot replace it
        return MasterComments()
    try:
        check_workbook_file(path)
        grid = _master_sheets(path, (PORTFOLIO_SHEET, ARCHIVE_SHEET))
    except SourceError as error:
        raise _unreadable(path, error.message.removeprefix(f"{path}: ")) from None
    except Exception as exc:  # calamine's own error types for a damaged part
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _unreadable(path, f"the workbook is damaged: {detail}") from None
    found = _read_master_comments(grid)
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


def _read_master_comments(grid: Grid) -> MasterComments:
    found = MasterComments()
    portfolio = grid.sheet(PORTFOLIO_SHEET)
    if portfolio is not None and portfolio.rows:
        first = len(MasterWriter.PORTFOLIO_COLUMNS)
        header_row = portfolio.rows[0]
        columns = [(i, str(h).strip()) for i, h in enumerate(header_row) if i >= first and str(h).strip()]
        found.headers = [h for _, h in columns]
        for line in portfolio.rows[1:]:
            if not line or not str(line[0]).strip() or str(line[0]).strip() == "Total":
                continue
            project_id = str(line[0]).strip()
            found.shown.add(project_id)
            values = {h: _as_text(line[i]) for i, h in columns if i < len(line) and str(line[i]).strip()}
            if values:
                found.comments[project_id] = values
    archived = grid.sheet(ARCHIVE_SHEET)
    if archived is not None:
        for line in archived.rows[1:]:
            if len(line) >= 4 and str(line[0]).strip():
                found.archive.append((str(line[0]), str(line[1]), _as_text(line[2]), str(line[3])))
    return found


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _config_digest(config: PortfolioConfig) -> str:
    return hashlib.sha256(config.path.read_bytes()).hexdigest() if config.path.exists() else ""


def run_sync(config: PortfolioConfig, *, full: bool = False, prune_missing: bool = False,
             progress: Callable[[str, int, int], None] | None = None, write: Callable[..., None] = write_master) -> SyncResult:
    """Consolidate every source of ``config`` into its master workbook; the library twin of ``pmo sync``.

    A source whose file or spreadsheet is gone keeps its last good data (status "missing") unless
    ``prune_missing`` is set: then it leaves the portfolio, as if portfolio.toml no longer named it.
    """
    started = time.perf_counter()
    result = SyncResult(config)
    now = _now()
    # Before any source is read: a master that cannot be read stops the sync with nothing written.
    carried = read_master_comments(config.master)
    sources, failures, google = discover(config)
    with StateStore(config.state) as store:
        known = store.sources()
        to_read = [s for s in sources if full or s.key not in known or s.fingerprint is None
                   or known[s.key].fingerprint != s.fingerprint]
        # One transaction for the whole sync, committed only once the new master is in place.
        store.begin()
        try:
            outcomes = _record_sources(store, config, sources, failures, google, known, to_read, now, progress)
            if prune_missing:
                missing = [o for o in outcomes if o.problem == "missing"]
                drive_listed = google is None or google.every_folder_listed
                gone = {o.state.key for o in missing if _surely_gone(o.state.key, drive_listed=drive_listed)}
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
            news = [o for o in outcomes if o.read and _shows_something_new(o, known.get(o.state.key))]
            nothing_changed = (not news and not failures and not newly_missing and not forgotten
                               and config.master.exists() and store.meta("config_digest") == _config_digest(config))
            if nothing_changed:
                history = store.history()
                result.figures = dict(history[-1][1]) if history else {}
                store.add_history(now, result.figures)
                # The master is not rewritten, but what finance typed into it is saved all the same.
                store.save_comments(carried.carried(store.comments()))
                store.commit()
                result.seconds = time.perf_counter() - started
                return result

            contributions = [
                Contribution(o.state.key, o.state.label, "ok" if o.problem is None else "stale", o.state.first_seen,
                             o.state.last_good_sync, o.state.good_project_id, o.state.good_template)
                for o in outcomes if o.state.has_payload
            ]
            portfolio = consolidate(contributions, store.payload, fiscal_year_start_month=config.fiscal_year_start_month,
                                    pinned=config.owners)
            _mark_conflicts(result, portfolio)
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
            store.set_meta("config_digest", _config_digest(config))
            comments, content = _master_content(config, store, portfolio, outcomes, now, carried)
            try:
                write(config.master, content)
            except OSError as exc:
                store.rollback()
                result.error = (f"cannot write the master {config.master} ({exc.strerror or exc}); "
                                "the previous master is unchanged")
                result.seconds = time.perf_counter() - started
                return result
            store.save_comments(comments)
            result.written = True
            store.commit()
        except BaseException:
            store.rollback()
            raise
    result.seconds = time.perf_counter() - started
    return result


def _record_sources(store: StateStore, config: PortfolioConfig, sources: list[DiscoveredSource],
                    failures: list[tuple[str, str, SourceError]], google: Any, known: dict[str, SourceState],
                    to_read: list[DiscoveredSource], now: str,
                    progress: Callable[[str, int, int], None] | None) -> list[SourceOutcome]:
    """Read what changed and record every source's state; new good records go straight to the store."""
    outcomes: list[SourceOutcome] = []
    if progress:
        progress("read", 0, len(to_read))
    for done, (source, check) in enumerate(_check_all(config, to_read, google), start=1):
        previous = known.get(source.key)
        problem = None if check.payload is not None else ("invalid" if check.readable else "unreadable")
        has_payload = check.payload is not None or bool(previous and previous.has_payload)
        good = check.payload is not None
        state = SourceState(
            key=source.key, kind=source.kind, label=source.label,
            # A source that could not be read (network, permission, a disabled API, a damaged file) keeps
            # no fingerprint, so that it is read again next time even if it did not change.
            fingerprint=source.fingerprint if check.readable else None,
            status=_status(problem, has_payload),
            project_id=check.project_id or (previous.project_id if previous else None), template=check.template,
            errors=check.errors, warnings=check.warnings, findings=check.findings,
            first_seen=previous.first_seen if previous else _now(True), last_checked=now,
            last_good_sync=now if good else (previous.last_good_sync if previous else None), has_payload=has_payload,
            good_project_id=check.project_id if good else (previous.good_project_id if previous else None),
            good_template=check.template if good else (previous.good_template if previous else None))
        store.save_source(state, check.payload)
        outcomes.append(SourceOutcome(source, state, True, problem))
        if progress:
            progress("read", done, len(to_read))
    read_keys = {o.state.key for o in outcomes}
    for source in sources:
        if source.key in read_keys:
            continue
        previous = known[source.key]
        problem = _problem_of(previous)
        state = replace(previous, label=source.label, status=_status(problem, previous.has_payload))
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
        if previous is not None:
            state = replace(previous, label=label, fingerprint=None, status=_status("unreadable", has_payload), template=None,
                            errors=1, warnings=0, findings=[finding], last_checked=now)
        else:
            state = SourceState(key=key, kind="google", label=label, fingerprint=None,
                                status=_status("unreadable", has_payload), project_id=None, template=None, errors=1,
                                warnings=0, findings=[finding], first_seen=_now(True), last_checked=now,
                                last_good_sync=None, has_payload=False)
        store.save_source(state)
        listed.add(key)
        outcomes.append(SourceOutcome(DiscoveredSource(key, "google", label, label, None), state, True, "unreadable"))
    # When Drive itself could not be listed, the Google sources are not gone: they were not checked.
    for key, previous in known.items():
        if key in listed or not still_configured(key, config):
            continue
        if listing_error and previous.kind == "google_sheet":
            finding = {"severity": ERROR, "rule": listing_error.code, "sheet": None, "cell": None,
                       "message": f"{previous.label}: not checked, because {listing_error.message}"}
            state = replace(previous, fingerprint=None, status=_status("unreadable", previous.has_payload), errors=1,
                            warnings=0, findings=[finding], last_checked=now)  # no fingerprint: read it next time
            store.save_source(state)
            outcomes.append(SourceOutcome(DiscoveredSource(key, previous.kind, previous.label, key.removeprefix("gsheet:"), None),
                                          state, False, "unreadable"))
        else:
            state = replace(previous, status=_status("missing", previous.has_payload))
            store.save_source(state)
            outcomes.append(SourceOutcome(DiscoveredSource(key, previous.kind, previous.label, previous.label, None),
                                          state, False, "missing"))
    return outcomes


def _shows_something_new(outcome: SourceOutcome, previous: SourceState | None) -> bool:
    """Whether a source just read gives the master something to show: new records, or other findings than before."""
    if previous is None or outcome.problem is None:
        return True
    state = outcome.state
    return ((state.label, state.status, state.project_id, state.template, state.findings)
            != (previous.label, previous.status, previous.project_id, previous.template, previous.findings))


def _master_content(config: PortfolioConfig, store: StateStore, portfolio: Portfolio, outcomes: list[SourceOutcome],
                    now: str, carried: MasterComments) -> tuple[dict[str, dict[str, str]], MasterContent]:
    """Everything the master shows, with finance's comments carried over from the current master."""
    if carried.changed_since(config.master):  # saved by finance while the sources were being read
        carried = read_master_comments(config.master)
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
        config.name, config.reporting_currency, config.fx, portfolio, [_quality_row(o) for o in outcomes],
        store.history(), now, comment_headers, {pid: v for pid, v in merged.items() if pid in current}, archive,
        config.max_rows_per_sheet)
    return merged, content


def _surely_gone(key: str, *, drive_listed: bool = True) -> bool:
    """Whether a missing source was really deleted, rather than out of reach with the folder it was in.

    A file whose folder is still there was deleted or moved away; when the folder itself is gone (a
    network share not mounted, a renamed folder) nothing can be concluded, and --prune-missing keeps it.
    A Google spreadsheet is missing when Drive was listed and did not show it; but when a configured
    Drive folder could not be listed (no longer shared, not found, an error), its spreadsheets vanish
    from the listing with it, and which folder a spreadsheet was in is not recorded: then no Google
    spreadsheet is surely gone (``drive_listed`` False), as with a share that is offline.
    """
    if key.startswith("file:"):
        return Path(key.removeprefix("file:")).parent.is_dir()
    return drive_listed


def still_configured(key: str, config: PortfolioConfig) -> bool:
    """Whether a known source is still named by the configuration (a file under one of its paths or globs)."""
    if key.startswith("google:"):  # a Google entry of portfolio.toml that failed: kept only while it fails
        return False
    if not key.startswith("file:"):
        return any(spec.kind != "excel" for spec in config.sources)
    path = key.removeprefix("file:")
    for spec in config.sources:
        if spec.kind == "excel":
            target = config.base.resolve() / spec.target  # an absolute target replaces the base
            pattern = str(target) if set("*?[") & set(spec.target) else str(target.resolve())
            if fnmatch.fnmatchcase(path, pattern):
                return True
    return False


def _problem_of(previous: SourceState) -> str | None:
    """The problem of a source that was not read again: what its last check found."""
    if previous.errors == 0 and previous.has_payload:
        return None  # conflicts are worked out again on every sync
    return "invalid" if previous.template else "unreadable"


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


def _check_fx(config: PortfolioConfig, portfolio: Portfolio) -> None:
    used = set(portfolio.projects["currency"].dropna()) | set(portfolio.tables["budget"]["currency"].dropna())
    missing = sorted(used - set(config.fx))
    if missing:
        projects = portfolio.projects[portfolio.projects["currency"].isin(missing)]["project_id"].tolist()
        raise ConfigError(f"{config.path}: [fx] has no rate for {', '.join(missing)} (used by {', '.join(projects[:5])}); "
                          f"add one, in {config.reporting_currency} per unit; nothing was written")


def _quality_row(outcome: SourceOutcome) -> SourceStatus:
    state = outcome.state
    first = "; ".join(f"{f['sheet'] + '!' if f.get('sheet') else ''}{f.get('cell') or ''} {f['rule']}: {f['message']}".strip()
                      for f in state.findings[:FIRST_FINDINGS])
    total = max(len(state.findings), state.errors + state.warnings)  # findings past the kept ones are only counted
    if total > FIRST_FINDINGS:
        first += f"; and {total - FIRST_FINDINGS:,} more"
    return SourceStatus(state.label, state.kind, state.project_id, state.status, state.errors, state.warnings, first,
                        state.last_checked, state.last_good_sync)
