"""The state store (SQLite, no server): source fingerprints, last good records, sync history, comments.

Everything one sync changes is written in a single transaction that is committed only after the new
master workbook is in place, so an interrupted sync leaves the previous state intact.
"""

from __future__ import annotations

import json
import sqlite3
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
    payload BLOB
);
CREATE TABLE IF NOT EXISTS history (
    synced_at TEXT PRIMARY KEY,
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


class StateError(UsageError):
    """The state store cannot be opened: exit code 2, nothing written."""


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


def pack(payload: dict[str, Any] | None) -> bytes | None:
    return None if payload is None else zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 3)


def unpack(blob: bytes | None) -> dict[str, Any] | None:
    return None if blob is None else json.loads(zlib.decompress(blob))


class StateStore:
    """A thin layer over one SQLite file; use as a context manager."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None)  # transactions are explicit
            self.db.execute("PRAGMA journal_mode=DELETE")
            self.db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot open the state store {path} ({exc})") from None

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.db.close()

    def sources(self) -> dict[str, SourceState]:
        """Every known source by key (without its stored records: see :meth:`payload`)."""
        result = {}
        query = ("SELECT key, kind, label, fingerprint, status, project_id, template, errors, warnings, findings, "
                 "first_seen, last_checked, last_good_sync, payload IS NOT NULL, good_project_id, good_template FROM sources")
        for row in self.db.execute(query):
            result[row[0]] = SourceState(*row[:9], json.loads(row[9]), row[10], row[11], row[12], bool(row[13]), row[14], row[15])
        return result

    def payload(self, key: str) -> dict[str, Any] | None:
        """The last good records of one source."""
        row = self.db.execute("SELECT payload FROM sources WHERE key = ?", (key,)).fetchone()
        return unpack(row[0]) if row else None

    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def save_source(self, state: SourceState, payload: dict[str, Any] | None = None) -> None:
        """Insert or update one source (inside the sync's transaction); stored records change only with ``payload``."""
        values = (state.key, state.kind, state.label, state.fingerprint, state.status, state.project_id, state.template,
                  state.errors, state.warnings, json.dumps(state.findings), state.first_seen, state.last_checked,
                  state.last_good_sync)
        if payload is not None:
            self.db.execute("INSERT OR REPLACE INTO sources VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                            (*values, state.good_project_id, state.good_template, pack(payload)))
            return
        self.db.execute(
            "INSERT INTO sources (key, kind, label, fingerprint, status, project_id, template, errors, warnings, "
            "findings, first_seen, last_checked, last_good_sync) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(key) DO UPDATE SET kind=excluded.kind, label=excluded.label, fingerprint=excluded.fingerprint, "
            "status=excluded.status, project_id=excluded.project_id, template=excluded.template, errors=excluded.errors, "
            "warnings=excluded.warnings, findings=excluded.findings, last_checked=excluded.last_checked, "
            "last_good_sync=excluded.last_good_sync", values)

    def forget_source(self, key: str) -> None:
        self.db.execute("DELETE FROM sources WHERE key = ?", (key,))

    def history(self) -> list[tuple[str, dict[str, Any]]]:
        rows = self.db.execute("SELECT synced_at, figures FROM history ORDER BY synced_at")
        return [(synced_at, json.loads(figures)) for synced_at, figures in rows]

    def add_history(self, synced_at: str, figures: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO history VALUES (?, ?)", (synced_at, json.dumps(figures)))

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def comments(self) -> dict[str, dict[str, str]]:
        """Finance's comments: project ID -> header -> text."""
        result: dict[str, dict[str, str]] = {}
        for project_id, header, value in self.db.execute("SELECT project_id, header, value FROM comments"):
            result.setdefault(project_id, {})[header] = value
        return result

    def save_comments(self, comments: dict[str, dict[str, str]]) -> None:
        self.db.execute("DELETE FROM comments")
        self.db.executemany("INSERT INTO comments VALUES (?, ?, ?)",
                            [(pid, header, value) for pid, row in comments.items() for header, value in row.items()])
