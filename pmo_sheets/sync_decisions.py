"""What a sync decides about each source and about finance's comments, without touching a file or the store.

:mod:`pmo_sheets.sync` reads the sources, writes the store and the master; the decisions it makes on the
way are here, as plain functions of what it found, so that they can be tested one case at a time:

- a source's state and status after it was read (or not read again: unchanged), and its problem;
- whether a source read again shows the master anything new, and whether a missing one is surely gone;
- which sources the configuration still names, and whether a source can be read again now;
- the sync's counts, exit code and JSON summary, and each source's Data quality row;
- finance's columns on a master's Portfolio sheet, and which comments to keep when a side copy was
  written while the master was open.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmo_sheets.config import PortfolioConfig
from pmo_sheets.dependencies import SYNC_RULES
from pmo_sheets.discovery import DiscoveredSource, names_path
from pmo_sheets.grid import Grid
from pmo_sheets.master import ARCHIVE_SHEET, PORTFOLIO_SHEET, MasterWriter, SourceStatus
from pmo_sheets.masterfile import InUse
from pmo_sheets.state import SourceState

FIRST_FINDINGS = 3  # findings shown on a source's Data quality row; the others are counted


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
    template_version: str | None = None


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
    written_to: Path | None = None  # the master, or its side copy when the master is open (master_in_use)
    master_in_use: InUse | None = None
    reread_damaged: list[str] = field(default_factory=list)  # labels whose stored records were damaged: read again
    removed_leftovers: list[str] = field(default_factory=list)  # temporary files of a killed sync, removed
    state_set_aside: Path | None = None  # --rebuild-state: where the previous state file went
    google_stats: Any = None  # the RequestStats of this sync's Google reader (Drive and Sheets requests made), if any

    def count(self, what: str) -> int:
        if what == "read":
            return sum(1 for o in self.outcomes if o.read)
        if what == "unchanged":
            return sum(1 for o in self.outcomes if not o.read and o.problem != "missing")
        return sum(1 for o in self.outcomes if o.problem == what)

    # The properties hand over to plain methods: mutation testing (mutmut) leaves decorated functions alone.
    @property
    def counts(self) -> dict[str, int]:
        return self.all_counts()

    def all_counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in ("read", "unchanged", "invalid", "unreadable", "missing", "conflict")}

    @property
    def exit_code(self) -> int:
        """0 all good; 1 written, but a source needs attention or the master was open; 2 nothing written."""
        return self.decided_exit_code()

    def decided_exit_code(self) -> int:
        if self.error is not None:
            return 1 if self.written else 2
        if self.written and self.master_in_use is not None:
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
            "written_to": str(self.written_to) if self.written_to else None,
            "master_in_use": self.master_in_use.to_dict() if self.master_in_use else None,
            "reread_damaged": self.reread_damaged,
            "removed_leftovers": self.removed_leftovers,
            "state_set_aside": str(self.state_set_aside) if self.state_set_aside else None,
            "sources": [
                {"source": o.source.label, "kind": o.source.kind, "status": o.state.status, "read": o.read,
                 "project_id": o.state.project_id, "errors": o.state.errors, "warnings": o.state.warnings,
                 "last_good_sync": o.state.last_good_sync, "found_as_gone": link_gone(o),
                 "findings": o.state.findings}
                for o in self.outcomes
            ],
        }


def now_text(precise: bool = False) -> str:
    """The time in UTC as the store and the master show it (to the second, or to the microsecond for a first sighting)."""
    moment = dt.datetime.now(dt.UTC)
    return (moment if precise else moment.replace(microsecond=0)).isoformat().replace("+00:00", "Z")


def status_text(problem: str | None, has_payload: bool) -> str:
    """A source's status as Data quality shows it: its problem, and whether its last good data still counts."""
    if problem is None:
        return "ok"
    if has_payload:
        return f"{problem}, last good data kept"
    return f"{problem}, never valid" if problem != "missing" else "missing"


def state_after_check(source: DiscoveredSource, check: Checked, previous: SourceState | None,
                       now: str) -> tuple[SourceState, str | None]:
    """A source's state after reading it, and its problem (None, invalid or unreadable)."""
    problem = None if check.payload is not None else ("invalid" if check.readable else "unreadable")
    valid = check.payload is not None
    has_payload = valid or bool(previous and previous.has_payload)
    state = SourceState(
        key=source.key, kind=source.kind, label=source.label,
        # A source that could not be read (network, permission, a disabled API, a damaged file) keeps
        # no fingerprint, so that it is read again next time even if it did not change.
        fingerprint=source.fingerprint if check.readable else None,
        status=status_text(problem, has_payload),
        project_id=check.project_id or (previous.project_id if previous else None),
        template=check.template, template_version=check.template_version, found_as=source.found_as,
        errors=check.errors, warnings=check.warnings, findings=check.findings,
        first_seen=previous.first_seen if previous else now_text(True), last_checked=now,
        last_good_sync=now if valid else (previous.last_good_sync if previous else None),
        has_payload=has_payload,
        good_project_id=check.project_id if valid else (previous.good_project_id if previous else None),
        good_template=check.template if valid else (previous.good_template if previous else None))
    return state, problem


def problem_of(previous: SourceState) -> str | None:
    """The problem of a source that was not read again: what its last check found."""
    if previous.errors == 0 and previous.has_payload:
        return None  # conflicts are worked out again on every sync
    return "invalid" if previous.template else "unreadable"


def shows_something_new(outcome: SourceOutcome, previous: SourceState | None) -> bool:
    """Whether a source just read gives the master something to show: new records, or other findings than before."""
    if previous is None or outcome.problem is None:
        return True
    state = outcome.state
    # The sync's own dependency findings on the previous state are not the source's news.
    before = [f for f in previous.findings if f.get("rule") not in SYNC_RULES]
    return ((state.label, state.status, state.project_id, state.template, state.findings)
            != (previous.label, previous.status, previous.project_id, previous.template, before))


def can_read_again(outcome: SourceOutcome) -> bool:
    """Whether a source can be read again now: a file that is not missing, or a listed Google spreadsheet."""
    if outcome.problem == "missing":
        return False
    return outcome.source.kind == "excel" or (outcome.source.kind == "google_sheet" and outcome.source.fingerprint is not None)


def surely_gone(key: str, *, drive_listed: bool = True, found_as: str | None = None) -> bool:
    """Whether a missing source was really deleted, rather than out of reach with the folder it was in.

    A file whose folder is still there was deleted or moved away; when the folder itself is gone (a
    network share not mounted, a renamed folder) nothing can be concluded, and --prune-missing keeps it.
    The folder is the one the file was found in (``found_as``, where it was recorded): for a link to a
    workbook elsewhere, the link's folder, which the coordinator configured, not the workbook's.
    A Google spreadsheet is missing when Drive was listed and did not show it; but when a configured
    Drive folder could not be listed (no longer shared, not found, an error), its spreadsheets vanish
    from the listing with it, and which folder a spreadsheet was in is not recorded: then no Google
    spreadsheet is surely gone (``drive_listed`` False), as with a share that is offline.
    """
    if key.startswith("file:"):
        return Path(found_as or key.removeprefix("file:")).parent.is_dir()
    return drive_listed


def still_configured(key: str, config: PortfolioConfig, found_as: str | None = None) -> bool:
    """Whether a known source is still named by the configuration (a file under one of its paths or globs).

    A file counts as named when its real path (the key) or the path it was found as (``found_as``: a link
    to a workbook elsewhere) matches a configured path or glob.
    """
    if key.startswith(("google:", "glob:")):  # an entry of portfolio.toml that failed: kept only while it fails
        return False
    if not key.startswith("file:"):
        return any(spec.kind != "excel" for spec in config.sources)
    path = key.removeprefix("file:")
    for spec in config.sources:
        if spec.kind == "excel":
            # Resolved as discovery keys the files it finds (os.path.realpath): a glob under a linked folder
            # names the files in the real one, and a link loop gives a path, not an error (Path.resolve
            # raises on one in Python 3.11).
            pattern = os.path.realpath(config.base / spec.target)  # an absolute target replaces the base
            if names_path(pattern, path):
                return True
            # The path as discovery found it, before links were resolved, against the path as configured.
            if found_as is not None and names_path(os.path.abspath(config.base / spec.target), found_as):
                return True
    return False


def config_digest(config: PortfolioConfig) -> str:
    """The configuration file's SHA-256 ("" without one): a changed portfolio.toml rewrites the master."""
    return hashlib.sha256(config.path.read_bytes()).hexdigest() if config.path.exists() else ""


def link_gone(outcome: SourceOutcome) -> str | None:
    """For a missing file that was found through a link or a linked folder: the path it was found as, which
    is gone. The file its label names (the link's target, where the records came from) may well still be
    there, so without this path nobody could tell what to look for."""
    found_as, real = outcome.state.found_as, outcome.state.key.removeprefix("file:")
    if outcome.problem != "missing" or found_as is None or found_as == real:
        return None
    return found_as


def quality_row(outcome: SourceOutcome) -> SourceStatus:
    """A source's row on Data quality: its first findings in words, and how many more there are (a missing
    file found through a link first says which path is gone)."""
    state = outcome.state
    first = "; ".join(f"{f['sheet'] + '!' if f.get('sheet') else ''}{f.get('cell') or ''} {f['rule']}: {f['message']}".strip()
                      for f in state.findings[:FIRST_FINDINGS])
    total = max(len(state.findings), state.errors + state.warnings)  # findings past the kept ones are only counted
    if total > FIRST_FINDINGS:
        first += f"; and {total - FIRST_FINDINGS:,} more"
    if (gone := link_gone(outcome)) is not None:
        first = f"found as {gone}, which is gone" + (f"; {first}" if first else "")
    return SourceStatus(state.label, state.kind, state.project_id, state.status, state.errors, state.warnings, first,
                        state.last_checked, state.last_good_sync, template_version=state.template_version)


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
        return file_stamp(path) != self.stamp


def file_stamp(path: Path) -> tuple[int, int] | None:
    """A file's (mtime_ns, size), None when there is none: tells whether finance saved the master since."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def comments_on_master(grid: Grid) -> MasterComments:
    """Finance's columns and comments on a master's Portfolio sheet (rows of projects; not the Total row),
    and the entries of its Comments archive."""
    found = MasterComments()
    portfolio = grid.sheet(PORTFOLIO_SHEET)
    if portfolio is not None and portfolio.rows:
        header_row = portfolio.rows[0]
        first = first_comment_column(header_row)
        columns = [(i, str(h).strip()) for i, h in enumerate(header_row) if i >= first and str(h).strip()]
        found.headers = [h for _, h in columns]
        for line in portfolio.rows[1:]:
            if not line or not str(line[0]).strip() or str(line[0]).strip() == "Total":
                continue
            project_id = str(line[0]).strip()
            found.shown.add(project_id)
            values = {h: comment_text(line[i]) for i, h in columns if i < len(line) and str(line[i]).strip()}
            if values:
                found.comments[project_id] = values
    archived = grid.sheet(ARCHIVE_SHEET)
    if archived is not None:
        for line in archived.rows[1:]:
            if len(line) >= 4 and str(line[0]).strip():
                found.archive.append((str(line[0]), str(line[1]), comment_text(line[2]), str(line[3])))
    return found


def first_comment_column(header_row: list[Any]) -> int:
    """Where finance's columns start on a master's Portfolio header row: after the standard columns it
    begins with. A master written before the latest columns were added (the status report's) has fewer
    of them, and its Finance comment sits where those columns are now: counting the current columns
    would lose it."""
    standard = [header for header, _, _ in MasterWriter.PORTFOLIO_COLUMNS]
    for index, header in enumerate(standard):
        if index >= len(header_row) or str(header_row[index]).strip() != header:
            return index
    return len(standard)


def comment_text(value: Any) -> str:
    """A comment cell as text: a number typed as a comment (12) reads back as 12, not 12.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def merged_with_side_copy(master: MasterComments, beside: MasterComments, baseline: dict[str, dict[str, str]]) -> MasterComments:
    """Finance's columns from the master and from its side copy, merged cell by cell against ``baseline``
    (the comments of the last sync, which both files started from): a cell changed in one file is taken
    from it, a cell changed in both from the file saved last, and a cleared cell stays cleared."""
    beside_newer = (beside.stamp or (0, 0))[0] > (master.stamp or (0, 0))[0]
    older, newer = (master, beside) if beside_newer else (beside, master)
    comments: dict[str, dict[str, str]] = {}
    for project_id in older.shown | newer.shown:
        base = baseline.get(project_id, {})
        headers = {*base, *older.comments.get(project_id, {}), *newer.comments.get(project_id, {})}
        values = {}
        for header in headers:
            value = base.get(header)
            for found in (older, newer):  # the newer file's change, if any, is applied last
                if project_id in found.shown and found.comments.get(project_id, {}).get(header) != base.get(header):
                    value = found.comments.get(project_id, {}).get(header)
            if value:
                values[header] = value
        if values:
            comments[project_id] = values
    return MasterComments(headers=list(dict.fromkeys([*master.headers, *beside.headers])), comments=comments,
                          shown=master.shown | beside.shown,
                          archive=[*master.archive, *(entry for entry in beside.archive if entry not in master.archive)],
                          stamp=master.stamp)  # changed_since() watches the master, which finance saves
