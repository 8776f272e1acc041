"""The state store of pmo_sheets.state on a scratch SQLite file: what a sync saves comes back as it was saved,
a rollback really discards, old stores are brought up to date, and a file that is not our store is refused
(or, with `pmo sync --rebuild-state`, set aside) with a message naming it.

Fast unit tests (no workbook, no sync), so that `make mutate` can run them against every planted bug in
state.py; tests/test_sync.py, tests/test_comments.py and tests/test_pinned_behaviours.py show the same
through whole syncs.
"""

from __future__ import annotations

import datetime as real_dt
import json
import sqlite3
import zlib
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from pmo_sheets import state as state_module
from pmo_sheets.state import (
    DamagedRecord,
    SourceState,
    StateDamaged,
    StateError,
    StateStore,
    check_state_file,
    pack,
    set_state_aside,
    state_error,
    unpack,
)

REBUILD = ("recover with `pmo sync --rebuild-state`, which sets it aside, reads every source again and takes "
           "finance's comments from the master")


def source(key: str = "file:/p/a.xlsx", **changes: object) -> SourceState:
    """A source with a different value in every field, so that a field read from the wrong column shows."""
    base = SourceState(key=key, kind="excel", label="projects/a.xlsx", fingerprint="111-2222", status="ok",
                       project_id="PRJ-001", template="project", errors=3, warnings=4,
                       findings=[{"severity": "warning", "rule": "dates", "sheet": "Tasks", "cell": "C7",
                                  "message": "finish before start"}],
                       first_seen="2026-06-01T08:00:00.5Z", last_checked="2026-06-02T09:00:00Z",
                       last_good_sync="2026-06-02T07:00:00Z", has_payload=True, good_project_id="PRJ-000",
                       good_template="project-old", template_version="2.0", found_as="/portfolio/projects/a.xlsx")
    return replace(base, **changes)


RECORDS = {"template": "project", "project": {"project_id": "PRJ-001", "budget": 1250.5},
           "tables": {"tasks": [{"_row": 2, "task": "Design", "done": 0.25}]}}


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite"


def reopened(path: Path) -> StateStore:
    """A new connection: what another sync (another process) would see."""
    return StateStore(path)


def sqlite_file(path: Path, *statements: str) -> None:
    database = sqlite3.connect(path)
    for statement in statements:
        database.execute(statement)
    database.commit()
    database.close()


# ---- sources ----------------------------------------------------------------------------------------------

def test_a_saved_source_comes_back_field_by_field_with_its_records(store_path: Path) -> None:
    with StateStore(store_path) as store:
        store.save_source(source(), RECORDS)
    with reopened(store_path) as store:
        assert store.sources() == {"file:/p/a.xlsx": source()}
        assert store.payload("file:/p/a.xlsx") == RECORDS


def test_records_without_a_project_are_records_all_the_same(store_path: Path) -> None:
    no_project = source(project_id=None, good_project_id=None, good_template=None)
    with StateStore(store_path) as store:
        assert store.path == store_path  # what a damage message names
        store.save_source(no_project, RECORDS)
        assert store.sources()["file:/p/a.xlsx"] == no_project
        assert store.sources()["file:/p/a.xlsx"].has_payload


def test_a_source_saved_without_records_has_none(store_path: Path) -> None:
    never_valid = source(status="invalid, never valid", has_payload=False, last_good_sync=None,
                         good_project_id=None, good_template=None, template_version=None)
    with StateStore(store_path) as store:
        store.save_source(never_valid)
    with reopened(store_path) as store:
        assert store.sources() == {"file:/p/a.xlsx": never_valid}
        assert store.payload("file:/p/a.xlsx") is None
        assert store.payload("file:/p/unknown.xlsx") is None


def test_saving_again_without_records_keeps_the_first_sighting_and_the_last_good_records(store_path: Path) -> None:
    with StateStore(store_path) as store:
        store.save_source(source(), RECORDS)
        store.save_source(source(kind="excel2", label="projects/renamed.xlsx", fingerprint="999-1", status="invalid, last "
                                 "good data kept", project_id="PRJ-009", template="budget", errors=7, warnings=8,
                                 findings=[], first_seen="2030-01-01T00:00:00Z", last_checked="2026-06-03T09:00:00Z",
                                 last_good_sync="2026-06-02T08:00:00Z", good_project_id="PRJ-X", good_template="other",
                                 template_version="1.0", found_as="/portfolio/shared/a.xlsx"))
    with reopened(store_path) as store:
        assert store.sources()["file:/p/a.xlsx"] == source(
            kind="excel2", label="projects/renamed.xlsx", fingerprint="999-1", status="invalid, last good data kept",
            project_id="PRJ-009", template="budget", errors=7, warnings=8, findings=[],
            last_checked="2026-06-03T09:00:00Z", last_good_sync="2026-06-02T08:00:00Z", template_version="1.0",
            found_as="/portfolio/shared/a.xlsx")
        assert store.payload("file:/p/a.xlsx") == RECORDS


def test_saving_again_with_new_records_replaces_them_and_their_project(store_path: Path) -> None:
    newer = {"template": "project", "project": {"project_id": "PRJ-002"}, "tables": {}}
    with StateStore(store_path) as store:
        store.save_source(source(), RECORDS)
        store.save_source(source(good_project_id="PRJ-002", good_template="project", errors=0), newer)
        assert store.sources()["file:/p/a.xlsx"] == source(good_project_id="PRJ-002", good_template="project", errors=0)
        assert store.payload("file:/p/a.xlsx") == newer


def test_unreadable_findings_read_as_none(store_path: Path) -> None:
    with StateStore(store_path) as store:
        for key, findings in (("file:/a", "not json ["), ("file:/b", '{"rule": "x"}'), ("file:/c", "[1, 2]")):
            store.save_source(source(key))
            store.db.execute("UPDATE sources SET findings = ? WHERE key = ?", (findings, key))
        assert {key: s.findings for key, s in store.sources().items()} == {"file:/a": [], "file:/b": [], "file:/c": [1, 2]}


def test_forgetting_a_source_leaves_the_others(store_path: Path) -> None:
    with StateStore(store_path) as store:
        store.save_source(source("file:/a"), RECORDS)
        store.save_source(source("file:/b"), RECORDS)
        store.forget_source("file:/a")
    with reopened(store_path) as store:
        assert list(store.sources()) == ["file:/b"]
        assert store.payload("file:/a") is None
        assert store.payload("file:/b") == RECORDS


def test_dropping_damaged_records_forgets_them_and_their_project_only(store_path: Path) -> None:
    with StateStore(store_path) as store:
        store.save_source(source("file:/a"), RECORDS)
        store.save_source(source("file:/b"), RECORDS)
        store.drop_payload("file:/a")
    with reopened(store_path) as store:
        sources = store.sources()
        assert sources["file:/a"] == source("file:/a", has_payload=False, good_project_id=None, good_template=None)
        assert sources["file:/b"] == source("file:/b")
        assert store.payload("file:/a") is None
        assert store.payload("file:/b") == RECORDS


# ---- records packed for the store ------------------------------------------------------------------------

def test_records_are_stored_as_compact_compressed_json() -> None:
    blob = pack({"a": 1, "b": [1, 2.5], "c": "é"})
    assert zlib.decompress(blob) == b'{"a":1,"b":[1,2.5],"c":"\\u00e9"}'
    assert unpack(blob) == {"a": 1, "b": [1, 2.5], "c": "é"}
    assert pack(None) is None
    assert unpack(None) is None


@pytest.mark.parametrize(("blob", "reason"), [
    (b"not compressed", "Error -3 while decompressing data: incorrect header check"),
    (zlib.compress(b"{not json"), "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    (zlib.compress(b"\xff\xfe\x00"), None),  # not UTF-8 text: json's message depends on how it guessed
    (zlib.compress(b"[1, 2]"), "stored records are a list, not an object"),
    (zlib.compress(b'"text"'), "stored records are a str, not an object"),
])
def test_damaged_records_are_refused_with_the_reason(blob: bytes, reason: str | None) -> None:
    with pytest.raises(DamagedRecord) as raised:
        unpack(blob)
    if reason is not None:
        assert str(raised.value) == reason


def test_damaged_stored_records_are_reported_when_loaded(store_path: Path) -> None:
    with StateStore(store_path) as store:
        store.save_source(source(), RECORDS)
        store.db.execute("UPDATE sources SET payload = ? WHERE key = ?", (b"garbage", "file:/p/a.xlsx"))
        with pytest.raises(DamagedRecord):
            store.payload("file:/p/a.xlsx")
        assert store.sources()["file:/p/a.xlsx"].has_payload  # still there, until the sync drops it


# ---- transactions ----------------------------------------------------------------------------------------

def test_outside_a_transaction_every_write_is_kept_at_once(store_path: Path) -> None:
    with StateStore(store_path) as store:
        store.save_source(source())
        store.set_meta("config_digest", "abc")
        with reopened(store_path) as other:  # before this store is closed
            assert list(other.sources()) == ["file:/p/a.xlsx"]
            assert other.meta("config_digest") == "abc"


def test_a_committed_sync_is_kept_and_a_rolled_back_one_is_not(store_path: Path) -> None:
    with StateStore(store_path) as store:
        store.begin()
        store.save_source(source("file:/kept"), RECORDS)
        store.add_history("2026-06-01T10:00:00Z", {"projects": 1})
        store.commit()
        store.begin()
        store.save_source(source("file:/discarded"), RECORDS)
        store.forget_source("file:/kept")
        store.add_history("2026-06-02T10:00:00Z", {"projects": 2})
        store.set_meta("master_pending", "x")
        store.save_comments({"PRJ-001": {"Finance comment": "discarded"}})
        store.rollback()
        assert list(store.sources()) == ["file:/kept"]  # the same connection no longer sees it either
        store.rollback()  # nothing left to roll back: no error
    with reopened(store_path) as store:
        assert list(store.sources()) == ["file:/kept"]
        assert store.history() == [("2026-06-01T10:00:00Z", {"projects": 1})]
        assert store.meta("master_pending") is None
        assert store.comments() == {}


def test_a_sync_interrupted_before_its_commit_leaves_the_previous_state(store_path: Path) -> None:
    with StateStore(store_path) as store:
        store.save_source(source("file:/kept"))
    with StateStore(store_path) as store:
        store.begin()
        store.save_source(source("file:/half-done"), RECORDS)
        store.save_comments({})
    # closed in the middle of the transaction (an exception left the with-block)
    with reopened(store_path) as store:
        assert list(store.sources()) == ["file:/kept"]
        assert not store.db.in_transaction
    assert not store_path.with_name("state.sqlite-journal").exists()


def test_a_second_writer_waits_for_the_first_transaction(store_path: Path) -> None:
    with StateStore(store_path) as first, reopened(store_path) as second:
        first.begin()
        second.db.execute("PRAGMA busy_timeout = 0")
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            second.begin()  # BEGIN IMMEDIATE: the write lock is taken at the start, not at the first write
        first.rollback()


# ---- history, meta, comments -----------------------------------------------------------------------------

def test_history_comes_back_in_the_order_the_syncs_ran(store_path: Path) -> None:
    with StateStore(store_path) as store:
        store.add_history("2026-06-02T10:00:00Z", {"projects": 2, "eac": 1.5})
        store.add_history("2026-06-02T10:00:00Z", {"projects": 3})  # the same second: two rows
        store.add_history("2026-06-01T10:00:00Z", {"projects": 1})  # a clock set back: still the last sync
    with reopened(store_path) as store:
        assert store.history() == [("2026-06-02T10:00:00Z", {"projects": 2, "eac": 1.5}),
                                   ("2026-06-02T10:00:00Z", {"projects": 3}),
                                   ("2026-06-01T10:00:00Z", {"projects": 1})]


def test_meta_values_are_replaced_and_unknown_ones_are_none(store_path: Path) -> None:
    with StateStore(store_path) as store:
        assert store.meta("config_digest") is None
        store.set_meta("config_digest", "first")
        store.set_meta("config_digest", "second")
        store.set_meta("payload_tables", "tasks")
    with reopened(store_path) as store:
        assert store.meta("config_digest") == "second"
        assert store.meta("payload_tables") == "tasks"
        assert store.meta("master_pending") is None


def test_finance_comments_are_kept_without_any_master(store_path: Path) -> None:
    comments = {"PRJ-001": {"Finance comment": "Q3 overspend agreed", "Owner": "Ana"},
                "PRJ-002": {"Finance comment": "on hold"}}
    with StateStore(store_path) as store:
        assert store.comments() == {}
        store.begin()
        store.save_comments(comments)
        store.commit()
    # the master is deleted or damaged afterwards: the store alone still has them
    with reopened(store_path) as store:
        assert store.comments() == comments
        store.save_comments({"PRJ-002": {"Finance comment": "restarted"}})  # a project cleared, one changed
    with reopened(store_path) as store:
        assert store.comments() == {"PRJ-002": {"Finance comment": "restarted"}}


# ---- stores made by earlier versions ----------------------------------------------------------------------

def test_a_store_made_before_history_rows_had_an_id_keeps_its_history_in_time_order(store_path: Path) -> None:
    sqlite_file(store_path, "CREATE TABLE history (synced_at TEXT PRIMARY KEY, figures TEXT NOT NULL)",
                "INSERT INTO history VALUES ('2026-06-02T10:00:00Z', '{\"projects\": 2}')",
                "INSERT INTO history VALUES ('2026-06-01T10:00:00Z', '{\"projects\": 1}')",
                "CREATE TABLE sources (key TEXT PRIMARY KEY)")
    with StateStore(store_path) as store:
        store.add_history("2026-06-02T10:00:00Z", {"projects": 3})  # the same second as a row already there
    with reopened(store_path) as store:
        assert store.history() == [("2026-06-01T10:00:00Z", {"projects": 1}), ("2026-06-02T10:00:00Z", {"projects": 2}),
                                   ("2026-06-02T10:00:00Z", {"projects": 3})]


def test_a_store_made_before_template_versions_reads_them_as_unknown(store_path: Path) -> None:
    sqlite_file(store_path, """CREATE TABLE sources (key TEXT PRIMARY KEY, kind TEXT NOT NULL, label TEXT NOT NULL,
        fingerprint TEXT, status TEXT NOT NULL, project_id TEXT, template TEXT, errors INTEGER NOT NULL DEFAULT 0,
        warnings INTEGER NOT NULL DEFAULT 0, findings TEXT NOT NULL DEFAULT '[]', first_seen TEXT NOT NULL,
        last_checked TEXT NOT NULL, last_good_sync TEXT, good_project_id TEXT, good_template TEXT, payload BLOB)""",
                "INSERT INTO sources (key, kind, label, status, first_seen, last_checked) "
                "VALUES ('file:/a', 'excel', 'a.xlsx', 'ok', '2026-01-01', '2026-01-02')")
    with StateStore(store_path) as store:
        assert store.sources()["file:/a"].template_version is None
        store.save_source(source("file:/a"))
    with reopened(store_path) as store:
        assert store.sources()["file:/a"].template_version == "2.0"


def test_a_store_made_before_links_were_remembered_reads_each_file_by_its_real_path_alone(store_path: Path) -> None:
    sqlite_file(store_path, """CREATE TABLE sources (key TEXT PRIMARY KEY, kind TEXT NOT NULL, label TEXT NOT NULL,
        fingerprint TEXT, status TEXT NOT NULL, project_id TEXT, template TEXT, errors INTEGER NOT NULL DEFAULT 0,
        warnings INTEGER NOT NULL DEFAULT 0, findings TEXT NOT NULL DEFAULT '[]', first_seen TEXT NOT NULL,
        last_checked TEXT NOT NULL, last_good_sync TEXT, good_project_id TEXT, good_template TEXT, payload BLOB,
        template_version TEXT)""",
                "INSERT INTO sources (key, kind, label, status, first_seen, last_checked, template_version) "
                "VALUES ('file:/elsewhere/a.xlsx', 'excel', '/elsewhere/a.xlsx', 'ok', '2026-01-01', '2026-01-02', '2.0')")
    with StateStore(store_path) as store:
        assert store.sources() == {"file:/elsewhere/a.xlsx": SourceState(
            key="file:/elsewhere/a.xlsx", kind="excel", label="/elsewhere/a.xlsx", fingerprint=None, status="ok",
            project_id=None, template=None, errors=0, warnings=0, findings=[], first_seen="2026-01-01",
            last_checked="2026-01-02", last_good_sync=None, has_payload=False, template_version="2.0", found_as=None)}
        store.save_source(source("file:/elsewhere/a.xlsx"))  # the next sync records where the glob found it
    with reopened(store_path) as store:
        assert store.sources()["file:/elsewhere/a.xlsx"].found_as == "/portfolio/projects/a.xlsx"


def test_a_store_with_only_sqlite_bookkeeping_left_is_taken_as_empty(store_path: Path) -> None:
    sqlite_file(store_path, "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)", "INSERT INTO t DEFAULT VALUES",
                "DROP TABLE t")  # sqlite_sequence stays behind
    check_state_file(store_path)
    with StateStore(store_path) as store:
        assert store.sources() == {}


def test_a_store_in_wal_mode_is_switched_back_to_a_rollback_journal(store_path: Path) -> None:
    StateStore(store_path).close()
    sqlite_file(store_path, "PRAGMA journal_mode=WAL")
    with StateStore(store_path) as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone() == ("delete",)


# ---- files that are not our store ------------------------------------------------------------------------

def test_nothing_at_the_state_path_yet_is_fine_and_the_folder_is_made(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "state.sqlite"
    check_state_file(path)
    check_state_file(tmp_path / "a-file" / "state.sqlite")  # under a file: reported when the store is opened
    with StateStore(path) as store:
        assert store.sources() == {}
    assert path.is_file()


def test_an_empty_file_is_an_empty_store(store_path: Path) -> None:
    store_path.write_bytes(b"")
    check_state_file(store_path)
    with StateStore(store_path) as store:
        store.save_source(source())
    with reopened(store_path) as store:
        assert list(store.sources()) == ["file:/p/a.xlsx"]


def test_a_state_path_under_a_file_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    path = tmp_path / "notes.txt" / "state.sqlite"
    with pytest.raises(StateError) as raised:
        StateStore(path)
    assert str(raised.value) == (f"cannot open the state store {path} ([Errno 17] File exists: '{tmp_path / 'notes.txt'}'); "
                                 "nothing was written")


def test_a_folder_at_the_state_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StateError) as raised:
        check_state_file(tmp_path)
    assert type(raised.value) is StateError
    assert str(raised.value) == f"state {tmp_path}: that is not a file; choose another state path"


def test_a_state_path_that_cannot_be_looked_at_is_refused(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(StateError) as raised:
        check_state_file(loop)
    assert str(raised.value) == (f"cannot open the state store {loop} (Too many levels of symbolic links); "
                                 "nothing was written")


def test_a_state_file_that_cannot_be_read_is_refused(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store_path.write_bytes(b"SQLite format 3\x00")

    def no_access(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(state_module, "open", no_access, raising=False)
    with pytest.raises(StateError) as raised:
        check_state_file(store_path)
    assert str(raised.value) == f"cannot read the state store {store_path} (Permission denied); nothing was written"


def test_a_workbook_at_the_state_path_is_refused_and_never_written(store_path: Path) -> None:
    content = b"PK\x03\x04" + b"\x00" * 100
    store_path.write_bytes(content)
    with pytest.raises(StateError) as raised:
        StateStore(store_path)
    assert type(raised.value) is StateError  # not damaged: --rebuild-state must not set it aside either
    assert str(raised.value) == (f"state {store_path}: that is a workbook or zip file, not a pmo-sheets state store; "
                                 "choose another state path; nothing was written")
    assert store_path.read_bytes() == content


@pytest.mark.parametrize("content", [b"hello, this is a text file of notes", b"x", b"SQLite format 3"])
def test_a_file_that_is_not_sqlite_is_damaged_and_named(store_path: Path, content: bytes) -> None:
    store_path.write_bytes(content)
    with pytest.raises(StateDamaged) as raised:
        StateStore(store_path)
    assert str(raised.value) == f"the state store {store_path} is damaged (not an SQLite database); {REBUILD}"
    assert (raised.value.path, raised.value.reason) == (store_path, "not an SQLite database")
    assert store_path.read_bytes() == content


def test_an_sqlite_file_damaged_inside_is_damaged_and_named(store_path: Path) -> None:
    store_path.write_bytes(b"SQLite format 3\x00" + b"\x07" * 5000)
    check_state_file(store_path)  # the header is right: only SQLite can tell
    with pytest.raises(StateDamaged) as raised:
        StateStore(store_path)
    assert str(raised.value) == f"the state store {store_path} is damaged (file is not a database); {REBUILD}"


def test_another_programs_database_is_refused_and_never_written(store_path: Path) -> None:
    sqlite_file(store_path, "CREATE TABLE contacts (name TEXT)", "CREATE TABLE history (id INTEGER)")
    content = store_path.read_bytes()
    with pytest.raises(StateError) as raised:
        StateStore(store_path)
    assert type(raised.value) is StateError
    assert str(raised.value) == (f"state {store_path}: that is an SQLite database of another program, not a pmo-sheets "
                                 "state store; choose another state path; nothing was written")
    assert store_path.read_bytes() == content


def test_a_database_that_cannot_be_looked_into_is_left_to_the_store_to_report(
        store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sqlite_file(store_path, "CREATE TABLE contacts (name TEXT)")

    def cannot_open(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(state_module.sqlite3, "connect", cannot_open)
    check_state_file(store_path)  # not called another program's: opening the store says what is wrong


def test_our_own_store_and_an_empty_database_pass_the_check(store_path: Path, tmp_path: Path) -> None:
    StateStore(store_path).close()
    check_state_file(store_path)
    empty = tmp_path / "empty.sqlite"
    sqlite_file(empty, "PRAGMA user_version = 7")
    assert empty.stat().st_size > 0
    check_state_file(empty)


def test_the_damage_message_names_the_configuration_when_known() -> None:
    damaged = StateDamaged(Path("/srv/pmo/state.sqlite"), "database disk image is malformed",
                           config=Path("/srv/pmo/portfolio.toml"))
    assert str(damaged) == ("the state store /srv/pmo/state.sqlite is damaged (database disk image is malformed); recover "
                            "with `pmo sync --config /srv/pmo/portfolio.toml --rebuild-state`, which sets it aside, reads "
                            "every source again and takes finance's comments from the master")


@pytest.mark.parametrize("message", ["database disk image is malformed", "file is not a database",
                                     "file is encrypted"])
def test_sqlite_damage_becomes_state_damaged(message: str) -> None:
    error = state_error(Path("/s/state.sqlite"), sqlite3.DatabaseError(message), config=Path("/s/p.toml"))
    assert type(error) is StateDamaged
    assert str(error) == (f"the state store /s/state.sqlite is damaged ({message}); recover with `pmo sync --config "
                          "/s/p.toml --rebuild-state`, which sets it aside, reads every source again and takes "
                          "finance's comments from the master")


@pytest.mark.parametrize("error", [sqlite3.OperationalError("attempt to write a readonly database"),
                                   sqlite3.Error("database disk image is malformed")])  # not the database's own word
def test_other_sqlite_failures_say_the_store_cannot_be_written(error: sqlite3.Error) -> None:
    found = state_error(Path("/s/state.sqlite"), error)
    assert type(found) is StateError
    assert str(found) == f"cannot write the state store /s/state.sqlite ({error}); nothing was written"


# ---- --rebuild-state ---------------------------------------------------------------------------------------

class _FixedClock:
    @staticmethod
    def now() -> real_dt.datetime:
        return real_dt.datetime(2026, 6, 2, 14, 30, 5)


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state_module, "dt", SimpleNamespace(datetime=_FixedClock))


def test_nothing_to_set_aside_when_there_is_no_store(store_path: Path) -> None:
    assert set_state_aside(store_path) is None
    assert list(store_path.parent.iterdir()) == []


@pytest.mark.usefixtures("fixed_clock")
def test_a_damaged_store_and_its_journals_are_set_aside_not_deleted(store_path: Path) -> None:
    files = {"state.sqlite": b"damaged", "state.sqlite-journal": b"j", "state.sqlite-wal": b"w", "state.sqlite-shm": b"s",
             "other.txt": b"o"}
    for name, content in files.items():
        (store_path.parent / name).write_bytes(content)
    aside = set_state_aside(store_path)
    assert aside == store_path.with_name("state.sqlite.before-rebuild-20260602-143005")
    assert {p.name: p.read_bytes() for p in store_path.parent.iterdir()} == {
        "state.sqlite.before-rebuild-20260602-143005": b"damaged",
        "state.sqlite.before-rebuild-20260602-143005-journal": b"j",
        "state.sqlite.before-rebuild-20260602-143005-wal": b"w",
        "state.sqlite.before-rebuild-20260602-143005-shm": b"s", "other.txt": b"o"}
    with StateStore(store_path) as store:  # a new store starts empty
        assert store.sources() == {}


@pytest.mark.usefixtures("fixed_clock")
@pytest.mark.parametrize("left", ["state.sqlite-journal", "state.sqlite-wal", "state.sqlite-shm"])
def test_a_journal_left_without_its_store_is_set_aside_too(store_path: Path, left: str) -> None:
    (store_path.parent / left).write_bytes(b"hot journal")
    aside = set_state_aside(store_path)
    assert aside == store_path.with_name("state.sqlite.before-rebuild-20260602-143005")
    assert [p.name for p in store_path.parent.iterdir()] == [left.replace("state.sqlite", aside.name)]


@pytest.mark.usefixtures("fixed_clock")
def test_a_good_store_is_set_aside_whole(store_path: Path) -> None:
    with StateStore(store_path) as store:
        store.save_source(source(), RECORDS)
    aside = set_state_aside(store_path)
    assert aside is not None and not store_path.exists()
    with StateStore(aside) as store:
        assert store.payload("file:/p/a.xlsx") == RECORDS


def test_a_workbook_or_another_programs_database_is_never_set_aside(store_path: Path) -> None:
    store_path.write_bytes(b"PK\x03\x04 a workbook")
    with pytest.raises(StateError, match="that is a workbook or zip file"):
        set_state_aside(store_path)
    store_path.unlink()
    sqlite_file(store_path, "CREATE TABLE contacts (name TEXT)")
    with pytest.raises(StateError, match="an SQLite database of another program"):
        set_state_aside(store_path)
    assert [p.name for p in store_path.parent.iterdir()] == ["state.sqlite"]


def test_a_store_that_cannot_be_moved_is_reported(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store_path.write_bytes(b"damaged")

    def refused(source: object, target: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(state_module.os, "replace", refused)
    with pytest.raises(StateError) as raised:
        set_state_aside(store_path)
    assert str(raised.value) == f"cannot set the state store {store_path} aside (Permission denied); nothing was written"


def test_findings_are_stored_as_json_text(store_path: Path) -> None:
    with StateStore(store_path) as store:
        store.save_source(source())
        text = store.db.execute("SELECT findings FROM sources").fetchone()[0]
    assert json.loads(text) == source().findings
