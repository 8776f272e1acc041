"""The state store (SQLite, no server): source fingerprints, last good records, sync history, comments.

Everything one sync changes is written in a single transaction that is committed only after the new
master workbook is in place, so an interrupted sync leaves the previous state intact.

A file at the state path that is not our store is never written to: one that is not an SQLite
database at all (:class:`StateDamaged`, which ``pmo sync --rebuild-state`` recovers from) or an
SQLite database of some other program (:class:`StateError`). One damaged stored record
(:class:`DamagedRecord`) costs only its own source, which the sync reads again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmo_sheets.sources import UsageError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    fingerprint TEXT,
    status TEXT NOT NULL,
    project_id TEXT,
    template TEXT,
    errors INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0,
    findings TEXT NOT NULL DEFAULT '[]',
    first_seen TEXT NOT NULL,
    last_checked TEXT NOT NULL,
    last_good_sync TEXT,
    good_project_id TEXT,
    good_template TEXT,
    payload BLOB,
    template_version TEXT,
    found_as TEXT
);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- two syncs in the same second are two rows, never one
    synced_at TEXT NOT NULL,
    figures TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE IF NOT EXISTS comments (
    project_id TEXT NOT NULL,
    header TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (project_id, header)
);
"""


# Every statement the store runs is written out here, like the schema above, rather than inside the methods:
# SQL is text to the mutation tests (tests/mutation_report.py), whose string mutations of it are only case
# changes SQLite reads alike or "XX" syntax errors; what each statement does is pinned by tests/test_state_store.py.
_SOURCE_FIELDS = ("key, kind, label, fingerprint, status, project_id, template, errors, warnings, findings, first_seen, "
                  "last_checked, last_good_sync")
_SELECT_SOURCES = (f"SELECT {_SOURCE_FIELDS}, payload IS NOT NULL, good_project_id, good_template, template_version, "
                   "found_as FROM sources")
_SAVE_SOURCE_WITH_RECORDS = (f"INSERT OR REPLACE INTO sources ({_SOURCE_FIELDS}, template_version, found_as, "
                             "good_project_id, good_template, payload) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
# Without records: the first sighting and the last good records (and their project and template) stay as stored.
_SAVE_SOURCE = (
    f"INSERT INTO sources ({_SOURCE_FIELDS}, template_version, found_as) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
    "ON CONFLICT(key) DO UPDATE SET kind=excluded.kind, label=excluded.label, fingerprint=excluded.fingerprint, "
    "status=excluded.status, project_id=excluded.project_id, template=excluded.template, errors=excluded.errors, "
    "warnings=excluded.warnings, findings=excluded.findings, last_checked=excluded.last_checked, "
    "last_good_sync=excluded.last_good_sync, template_version=excluded.template_version, found_as=excluded.found_as")
_SELECT_PAYLOAD = "SELECT payload FROM sources WHERE key = ?"
_DROP_PAYLOAD = "UPDATE sources SET payload = NULL, good_project_id = NULL, good_template = NULL WHERE key = ?"
_FORGET_SOURCE = "DELETE FROM sources WHERE key = ?"
_SELECT_HISTORY = "SELECT synced_at, figures FROM history ORDER BY id"
_ADD_HISTORY = "INSERT INTO history (synced_at, figures) VALUES (?, ?)"
_SELECT_META = "SELECT value FROM meta WHERE key = ?"
_SET_META = "INSERT OR REPLACE INTO meta VALUES (?, ?)"
_SELECT_COMMENTS = "SELECT project_id, header, value FROM comments"
_CLEAR_COMMENTS = "DELETE FROM comments"
_ADD_COMMENT = "INSERT INTO comments VALUES (?, ?, ?)"
_BEGIN, _COMMIT, _ROLLBACK = "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"  # IMMEDIATE: the write lock from the start
_ROLLBACK_JOURNAL = "PRAGMA journal_mode=DELETE"
_HISTORY_COLUMNS = "PRAGMA table_info(history)"
_SOURCES_COLUMNS = "PRAGMA table_info(sources)"
# Stores made before history rows had their own id were keyed by the second.
_KEY_HISTORY_BY_ID = (
    "BEGIN IMMEDIATE; ALTER TABLE history RENAME TO history_by_second; "
    "CREATE TABLE history (id INTEGER PRIMARY KEY AUTOINCREMENT, synced_at TEXT NOT NULL, figures TEXT NOT NULL); "
    "INSERT INTO history (synced_at, figures) SELECT synced_at, figures FROM history_by_second ORDER BY synced_at; "
    "DROP TABLE history_by_second; COMMIT;")
_ADD_TEMPLATE_VERSION = "ALTER TABLE sources ADD COLUMN template_version TEXT"
_ADD_FOUND_AS = "ALTER TABLE sources ADD COLUMN found_as TEXT"
_TABLE_NAMES = "SELECT name FROM sqlite_master WHERE type = 'table'"


SQLITE_HEADER = b"SQLite format 3\x00"
OUR_TABLES = frozenset({"sources", "history", "meta", "comments"})
REBUILD_HINT = "pmo sync --rebuild-state"


class StateError(UsageError):
    """The state store cannot be opened or written: exit code 2, nothing written."""


class StateDamaged(StateError):
    """The file at the state path is damaged: not an SQLite database, or one SQLite calls malformed."""

    def __init__(self, path: Path, reason: str, *, config: Path | None = None):
        self.path, self.reason = path, reason
        command = f"pmo sync --config {config} --rebuild-state" if config else REBUILD_HINT
        super().__init__(f"the state store {path} is damaged ({reason}); recover with `{command}`, which sets it "
                         "aside, reads every source again and takes finance's comments from the master")


class DamagedRecord(ValueError):
    """One source's stored records cannot be unpacked; the sync reads that source again."""


def check_state_file(path: Path) -> None:
    """Refuse a state path that holds something other than our store (before SQLite writes to it)."""
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there yet (a folder that is a file is reported when the lock file cannot be made)
    except OSError as exc:
        raise StateError(f"cannot open the state store {path} ({exc.strerror}); nothing was written") from None
    if not stat.S_ISREG(info.st_mode):
        raise StateError(f"state {path}: that is not a file; choose another state path")
    if info.st_size == 0:
        return  # an empty file is an empty database to SQLite; nothing in it to lose
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StateError(f"cannot read the state store {path} ({exc.strerror}); nothing was written") from None
    if header.startswith(b"PK\x03\x04"):  # a workbook (or any zip): surely somebody's file, never set aside
        raise StateError(f"state {path}: that is a workbook or zip file, not a pmo-sheets state store; "
                         "choose another state path; nothing was written")
    if header != SQLITE_HEADER:
        raise StateDamaged(path, "not an SQLite database")
    if _foreign_database(path):
        raise StateError(f"state {path}: that is an SQLite database of another program, not a pmo-sheets state "
                         "store; choose another state path; nothing was written")


@dataclass
class SourceState:
    """What the last sync knew about one source."""

    key: str
    kind: str
    label: str
    fingerprint: str | None
    status: str
    project_id: str | None
    template: str | None
    errors: int
    warnings: int
    findings: list[dict[str, Any]]
    first_seen: str
    last_checked: str
    last_good_sync: str | None
    has_payload: bool  # whether last good records are stored (False for a source that was never valid)
    good_project_id: str | None = None  # the project and template of the stored records
    good_template: str | None = None
    template_version: str | None = None  # the template version the source was last read as (Data quality)
    # A file's path as its configured path or glob named it, before links are resolved (the key is the real
    # path): a deleted link is then still known as one of the portfolio's files. None for a Google
    # spreadsheet, and for a file recorded before it was kept (known by its real path alone, as then).
    found_as: str | None = None


def _findings(text: str) -> list[dict[str, Any]]:
    try:
        findings = json.loads(text)
    except (ValueError, TypeError):
        return []  # a damaged record: its source was checked, and will be again when it changes
    return findings if isinstance(findings, list) else []


def pack(payload: dict[str, Any] | None) -> bytes | None:
    return None if payload is None else zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 3)


def unpack(blob: bytes | None) -> dict[str, Any] | None:
    """The records :func:`pack` stored; raises :class:`DamagedRecord` when they cannot be read back."""
    if blob is None:
        return None
    try:
        payload = json.loads(zlib.decompress(blob))
    except (zlib.error, ValueError, TypeError) as exc:  # ValueError covers bad JSON and bad UTF-8
        raise DamagedRecord(str(exc)) from None
    if not isinstance(payload, dict):
        raise DamagedRecord(f"stored records are a {type(payload).__name__}, not an object")
    return payload


class StateStore:
    """A thin layer over one SQLite file; use as a context manager."""

    def __init__(self, path: Path):
        self.path = path
        check_state_file(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None)  # transactions are explicit
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot open the state store {path} ({exc}); nothing was written") from None
        try:
            self.db.execute(_ROLLBACK_JOURNAL)
            self.db.executescript(_SCHEMA)
            self._key_history_by_id()
            self._add_template_version()
            self._add_found_as()
        except sqlite3.Error as exc:
            self.db.close()
            raise state_error(path, exc) from None

    def _key_history_by_id(self) -> None:
        """Stores made before history rows had their own id were keyed by the second: move them over."""
        columns = {row[1] for row in self.db.execute(_HISTORY_COLUMNS)}
        if "id" in columns:
            return
        self.db.executescript(_KEY_HISTORY_BY_ID)

    def _add_template_version(self) -> None:
        """Stores made before template 2.0 did not keep each source's template version: add the column."""
        columns = {row[1] for row in self.db.execute(_SOURCES_COLUMNS)}
        if "template_version" not in columns:
            self.db.execute(_ADD_TEMPLATE_VERSION)

    def _add_found_as(self) -> None:
        """Stores made before links were remembered kept only each file's real path: add the column (empty)."""
        columns = {row[1] for row in self.db.execute(_SOURCES_COLUMNS)}
        if "found_as" not in columns:
            self.db.execute(_ADD_FOUND_AS)

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            if self.db.in_transaction:
                self.db.execute(_ROLLBACK)
        except sqlite3.Error:
            pass  # a damaged or unwritable file: nothing was committed, which is what a rollback ensures
        self.db.close()

    def sources(self) -> dict[str, SourceState]:
        """Every known source by key (without its stored records: see :meth:`payload`)."""
        result = {}
        for row in self.db.execute(_SELECT_SOURCES):
            result[row[0]] = SourceState(*row[:9], _findings(row[9]), row[10], row[11], row[12], bool(row[13]), row[14], row[15],
                                         template_version=row[16], found_as=row[17])
        return result

    def payload(self, key: str) -> dict[str, Any] | None:
        """The last good records of one source; raises :class:`DamagedRecord` when they cannot be read."""
        row = self.db.execute(_SELECT_PAYLOAD, (key,)).fetchone()
        return unpack(row[0]) if row else None

    def drop_payload(self, key: str) -> None:
        """Forget one source's stored records (they were damaged and could not be read again)."""
        self.db.execute(_DROP_PAYLOAD, (key,))

    def begin(self) -> None:
        self.db.execute(_BEGIN)

    def commit(self) -> None:
        self.db.execute(_COMMIT)

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute(_ROLLBACK)

    def save_source(self, state: SourceState, payload: dict[str, Any] | None = None) -> None:
        """Insert or update one source (inside the sync's transaction); stored records change only with ``payload``."""
        values = (state.key, state.kind, state.label, state.fingerprint, state.status, state.project_id, state.template,
                  state.errors, state.warnings, json.dumps(state.findings), state.first_seen, state.last_checked,
                  state.last_good_sync, state.template_version, state.found_as)
        if payload is not None:
            self.db.execute(_SAVE_SOURCE_WITH_RECORDS, (*values, state.good_project_id, state.good_template, pack(payload)))
            return
        self.db.execute(_SAVE_SOURCE, values)

    def forget_source(self, key: str) -> None:
        self.db.execute(_FORGET_SOURCE, (key,))

    def history(self) -> list[tuple[str, dict[str, Any]]]:
        rows = self.db.execute(_SELECT_HISTORY)
        return [(synced_at, json.loads(figures)) for synced_at, figures in rows]

    def add_history(self, synced_at: str, figures: dict[str, Any]) -> None:
        self.db.execute(_ADD_HISTORY, (synced_at, json.dumps(figures)))

    def meta(self, key: str) -> str | None:
        row = self.db.execute(_SELECT_META, (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(_SET_META, (key, value))

    def comments(self) -> dict[str, dict[str, str]]:
        """Finance's comments: project ID -> header -> text."""
        result: dict[str, dict[str, str]] = {}
        for project_id, header, value in self.db.execute(_SELECT_COMMENTS):
            result.setdefault(project_id, {})[header] = value
        return result

    def save_comments(self, comments: dict[str, dict[str, str]]) -> None:
        self.db.execute(_CLEAR_COMMENTS)
        self.db.executemany(_ADD_COMMENT,
                            [(pid, header, value) for pid, row in comments.items() for header, value in row.items()])


def state_error(path: Path, exc: sqlite3.Error, *, config: Path | None = None) -> StateError:
    """The one-line error for an SQLite failure: a damaged file, or one that cannot be written."""
    message = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and any(
            sign in message for sign in ("malformed", "not a database", "encrypted")):
        return StateDamaged(path, message, config=config)
    return StateError(f"cannot write the state store {path} ({message}); nothing was written")


def _foreign_database(path: Path) -> bool:
    """Whether ``path`` is a readable SQLite database without our tables (another program's)."""
    try:
        database = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        tables = {row[0] for row in database.execute(_TABLE_NAMES)}
    except sqlite3.Error:
        return False  # damaged: what --rebuild-state is for
    finally:
        database.close()
    return bool(tables - {"sqlite_sequence"}) and "sources" not in tables


def set_state_aside(path: Path) -> Path | None:
    """For ``pmo sync --rebuild-state``: move the state file, and any journal SQLite left beside it, to
    ``<name>.before-rebuild-<time>`` so that a new store starts empty. Nothing is deleted; a file that
    is clearly not ours (a workbook, another program's database) is refused, not moved."""
    parts = [path.with_name(path.name + suffix) for suffix in ("", "-journal", "-wal", "-shm")]
    if not any(part.exists() for part in parts):
        return None
    with contextlib.suppress(StateDamaged):  # damaged is what a rebuild is for; someone else's file is not
        check_state_file(path)
    aside = path.with_name(f"{path.name}.before-rebuild-{dt.datetime.now():%Y%m%d-%H%M%S}")
    try:
        for part in parts:  # a hot journal left beside a new, empty store would be played back into it
            if part.exists():
                os.replace(part, aside.with_name(aside.name + part.name.removeprefix(path.name)))
    except OSError as exc:
        raise StateError(f"cannot set the state store {path} aside ({exc.strerror}); nothing was written") from None
    return aside
