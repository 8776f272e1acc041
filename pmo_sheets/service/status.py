"""What the status page and the JSON API show: a read-only view of the state store the sync writes.

The view is read again only when the state file changed (after the service's sync, or a ``pmo
sync`` run by hand), through a connection that only reads. The project's name and manager come from
each source's last good records, unpacked once per new record set.

Nothing shown names a file-system path outside the portfolio: paths under the configuration's
folder are shown relative to it, the configured source folders as configured, and any other absolute
path (a state store elsewhere, a temporary folder, a credentials file) by its file name alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pmo_sheets.config import PortfolioConfig
from pmo_sheets.state import DamagedRecord, unpack

STATUSES = ("ok", "stale", "invalid", "unreadable", "missing", "conflict")


def source_id(key: str) -> str:
    """The short, path-free ID of a source in URLs (``/sources/3fa2b1c9d0e1``)."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def short_status(stored: str) -> str:
    """One of :data:`STATUSES` for the state store's status text.

    ``stale``: the source is invalid or unreadable now, and the master keeps its last good data.
    A source that is gone is ``missing`` whether or not its last data is kept (the detail says).
    """
    if stored == "ok":
        return "ok"
    if stored.startswith("conflict"):
        return "conflict"
    if stored.startswith("missing"):
        return "missing"
    if stored.endswith("last good data kept"):
        return "stale"
    if stored.startswith("invalid"):
        return "invalid"
    return "unreadable"  # unreadable, never valid; no files match


@dataclass
class SourceView:
    """One source as the page shows it."""

    id: str
    label: str
    kind: str
    status: str  # one of STATUSES
    detail: str  # the sync's own words: "invalid, last good data kept"
    project_id: str | None
    project_name: str | None
    manager: str | None
    errors: int
    warnings: int
    last_checked: str | None
    last_good_sync: str | None
    findings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, *, findings: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not findings:
            data.pop("findings")
        return data


@dataclass
class Snapshot:
    """The state store as last read."""

    sources: list[SourceView] = field(default_factory=list)
    history: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error: str | None = None  # why the state store could not be read

    @property
    def figures(self) -> dict[str, Any]:
        return dict(self.history[-1][1]) if self.history else {}

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for source in self.sources:
            counts[source.status] += 1
        return counts

    def source(self, ident: str) -> SourceView | None:
        return next((s for s in self.sources if s.id == ident), None)


class Redactor:
    """Shows paths inside the portfolio relative to it; never an absolute path from outside it."""

    _ABSOLUTE = re.compile(r"(?<![\w.:/~-])(/(?:[^\s/:;,'\"()]+/)+)([^\s/:;,'\"()]*)")

    def __init__(self, config: PortfolioConfig):
        self.base = str(config.base).rstrip(os.sep) + os.sep
        self.real_base = os.path.realpath(config.base).rstrip(os.sep) + os.sep
        roots = []
        for spec in config.sources:
            if spec.kind == "excel" and os.path.isabs(os.path.expanduser(spec.target)):
                fixed = re.split(r"[*?\[]", os.path.expanduser(spec.target))[0]
                roots.append(fixed.rsplit(os.sep, 1)[0] + os.sep)
        self.roots = tuple(sorted(roots, key=len, reverse=True))

    def text(self, value: str | None) -> str | None:
        if not value:
            return value
        for prefix in (self.real_base, self.base):
            value = value.replace(prefix, "")
        return self._ABSOLUTE.sub(self._outside, value)

    def _outside(self, match: re.Match[str]) -> str:
        folder, name = match.group(1), match.group(2)
        if folder.startswith(self.roots):
            return match.group(0)  # a configured source folder: the coordinator's own words
        return name or "…"


def stored_fingerprints(state: Path) -> dict[str, str | None]:
    """Source key -> fingerprint as the last sync recorded them (empty before the first sync)."""
    with _reader(state) as db:
        if db is None:
            return {}
        return dict(db.execute("SELECT key, fingerprint FROM sources").fetchall())


class _reader:
    """A connection that only reads the state store, or None when there is no store yet."""

    def __init__(self, state: Path):
        self.state = state
        self.db: sqlite3.Connection | None = None

    def __enter__(self) -> sqlite3.Connection | None:
        if not self.state.is_file() or self.state.stat().st_size == 0:
            return None
        # Not mode=ro: a journal left by a killed sync must be rolled back before the store can be read.
        self.db = sqlite3.connect(self.state, timeout=10)
        self.db.execute("PRAGMA query_only = 1")
        return self.db

    def __exit__(self, *exc: object) -> None:
        if self.db is not None:
            self.db.close()


class StatusView:
    """The snapshot the page and API show, read again when the state file changes (thread-safe)."""

    def __init__(self, config: PortfolioConfig):
        self.config = config
        self.redact = Redactor(config)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._snapshot = Snapshot()
        self._projects: dict[tuple[str, str | None], tuple[str | None, str | None]] = {}

    def snapshot(self, *, force: bool = False) -> Snapshot:
        with self._lock:
            stamp = _stamp(self.config.state)
            if force or stamp != self._stamp or stamp is None:
                self._snapshot = self._read()
                self._stamp = stamp
            return self._snapshot

    def _read(self) -> Snapshot:
        try:
            with _reader(self.config.state) as db:
                if db is None:
                    return Snapshot()
                rows = db.execute(
                    "SELECT key, kind, label, status, project_id, errors, warnings, findings, last_checked, last_good_sync, "
                    "good_project_id FROM sources").fetchall()
                history = [(at, _json(figures)) for at, figures in
                           db.execute("SELECT synced_at, figures FROM history ORDER BY id").fetchall()]
                sources = [self._source(db, row) for row in rows]
        except sqlite3.Error as exc:
            return Snapshot(error=f"the state store cannot be read ({exc})")
        order = {name: i for i, name in enumerate(("invalid", "unreadable", "conflict", "stale", "missing", "ok"))}
        sources.sort(key=lambda s: (order[s.status], s.label.lower()))
        return Snapshot(sources=sources, history=history)

    def _source(self, db: sqlite3.Connection, row: tuple[Any, ...]) -> SourceView:
        key, kind, label, status, project_id, errors, warnings, findings, checked, good, good_project = row
        name, manager = self._project(db, key, good)
        redact = self.redact.text
        shown = [{"severity": f.get("severity"), "rule": f.get("rule"), "sheet": f.get("sheet"), "cell": f.get("cell"),
                  "message": redact(str(f.get("message", "")))} for f in _json_list(findings)]
        return SourceView(id=source_id(key), label=redact(label) or "", kind=kind, status=short_status(status),
                          detail=redact(status) or "", project_id=project_id or good_project, project_name=name,
                          manager=manager, errors=errors, warnings=warnings, last_checked=checked, last_good_sync=good,
                          findings=shown)

    def _project(self, db: sqlite3.Connection, key: str, good: str | None) -> tuple[str | None, str | None]:
        """(project name, manager) from the source's last good records, unpacked once per record set."""
        if (key, good) in self._projects:
            return self._projects[(key, good)]
        found: tuple[str | None, str | None] = (None, None)
        row = db.execute("SELECT payload FROM sources WHERE key = ?", (key,)).fetchone()
        try:
            payload = unpack(row[0]) if row else None
        except DamagedRecord:
            payload = None
        if payload:
            project = payload.get("project") or {}
            found = (_text(project.get("project_name")), _text(project.get("project_manager")))
        self._projects[(key, good)] = found
        return found


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _json(text: str) -> dict[str, Any]:
    import json

    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _json_list(text: str) -> list[dict[str, Any]]:
    import json

    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        return []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    journal = path.with_name(path.name + "-journal")
    return (info.st_mtime_ns, info.st_size + (1 if journal.exists() else 0))
