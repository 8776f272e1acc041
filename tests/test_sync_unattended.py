"""pmo sync run unattended (cron, the service, a shared drive): one at a time, killable, never destroying
a file that is not its master, never replacing a master someone has open, surviving a damaged state.

Several tests run ``pmo sync`` in a subprocess, as cron does, and look at what a coordinator would:
the exit code, the one line on stderr, no traceback, and the previous master's bytes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from portfolio_fixtures import _written_once, config_text, make_portfolio, written_copy
from typer.testing import CliRunner

from pmo_sheets.cli import app
from pmo_sheets.config import PortfolioConfig, load_config
from pmo_sheets.lock import SyncBusy, SyncLock, lock_path, read_holder
from pmo_sheets.masterfile import MASTER_PROPERTY, is_pmo_master, side_copy
from pmo_sheets.samples import sample_project
from pmo_sheets.state import StateStore
from pmo_sheets.sync import run_sync

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


# ---------------------------------------------------------------- helpers

def _environment() -> dict[str, str]:
    """The test's environment, with this checkout first on the path of the child Python."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def pmo_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pmo_sheets.cli", *args]


def run_pmo(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``pmo ARGS`` in a child process, as cron would run it."""
    return subprocess.run(pmo_command(*args), capture_output=True, text=True, env=_environment(), timeout=timeout,
                          check=False)


def stderr_lines(completed: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in completed.stderr, completed.stderr
    return completed.stderr.strip().splitlines()


_HOLD = """
import sys, time
from pathlib import Path
from pmo_sheets.lock import SyncLock
with SyncLock(Path(sys.argv[1]), wait=0):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(state: Path, seconds: float) -> subprocess.Popen[str]:
    """A process that holds the portfolio's sync lock for ``seconds`` (as a running sync or the service would)."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(state), str(seconds)], stdout=subprocess.PIPE, text=True,
                              env=_environment())
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()


def portfolio_rows(path: Path) -> dict[str, dict[str, object]]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = [tuple(r) for r in book["Portfolio"].iter_rows(values_only=True)]
    book.close()
    return {r[0]: dict(zip(rows[0], r, strict=False)) for r in rows[1:] if r[0] and r[0] != "Total"}


def write_comment(master: Path, project_id: str, text: str) -> None:
    """Finance types a comment into the master and saves it."""
    book = openpyxl.load_workbook(master)
    sheet = book["Portfolio"]
    column = [c.value for c in sheet[1]].index("Finance comment") + 1
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == project_id)
    sheet.cell(row, column, text)
    book.save(master)


def change_a_source(root: Path, name: str = "Renamed project") -> None:
    changed = sample_project(2, currency="GBP", tasks=12, budget_lines=3, months=4, risks=6)
    changed.project["project_name"] = name
    written_copy(changed, root / "projects" / "PRJ-0002.xlsx")


# ------------------------------------------------------------ process tree

def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: [state, ppid, pgrp, ...] (None when the process is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _processes() -> Iterator[tuple[int, list[str]]]:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                yield int(entry), fields


def descendants(pid: int) -> dict[int, str]:
    """Every live descendant of ``pid``, by pid, with its start time (to tell a reused pid apart)."""
    children: dict[int, list[tuple[int, str]]] = {}
    for child, fields in _processes():
        children.setdefault(int(fields[1]), []).append((child, fields[19]))
    found: dict[int, str] = {}
    pending = [pid]
    while pending:
        for child, started in children.get(pending.pop(), []):
            found[child] = started
            pending.append(child)
    return found


def still_running(processes: dict[int, str]) -> list[int]:
    """Those of ``processes`` that still run (a zombie waiting for init to reap it does not run)."""
    alive = []
    for pid, started in processes.items():
        fields = _stat_fields(pid)
        if fields is not None and fields[19] == started and fields[0] != "Z":
            alive.append(pid)
    return alive


def in_group(group: int) -> list[int]:
    return [pid for pid, fields in _processes() if int(fields[2]) == group and fields[0] != "Z"]


@pytest.fixture
def big_portfolio(tmp_path: Path) -> PortfolioConfig:
    """Ten projects plus sixty copies of a 300-task workbook: reading takes seconds, on the worker pool."""
    config, _ = make_portfolio(tmp_path, count=10)
    big = _written_once(1, (300, 3, 4, 6))
    for number in range(60):
        shutil.copyfile(big, tmp_path / "projects" / f"copy-{number:03d}.xlsx")
    return config


def _start_sync(config: PortfolioConfig) -> subprocess.Popen[str]:
    # Its own session, so that its process group is exactly the sync and what it started.
    return subprocess.Popen(pmo_command("sync", "--config", str(config.path)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, text=True, env=_environment(), start_new_session=True)


def _wait_for(condition, seconds: float = 60.0, every: float = 0.005) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")


# ------------------------------------------------------------------ 1. one sync at a time

def test_second_sync_waits_then_exits_2_naming_the_running_one(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    change_a_source(tmp_path)
    before = config.master.read_bytes()
    holder = hold_lock(config.state, 60)
    try:
        running = read_holder(lock_path(config.state))
        assert running is not None and running.pid == holder.pid
        described = running.describe()
        assert re.fullmatch(rf"pid {holder.pid} since \d\d:\d\d", described)

        second = run_pmo("sync", "--config", str(config.path), "--wait", "0.5")
    finally:
        stop(holder)

    assert second.returncode == 2
    assert stderr_lines(second) == [
        f"pmo: another sync of this portfolio is running ({described}); waiting up to 0.5 s",
        f"pmo: another sync of this portfolio is running, {described}",
    ]
    assert second.stdout == ""
    assert config.master.read_bytes() == before


def test_second_sync_runs_once_the_first_finishes(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    holder = hold_lock(config.state, 60)
    second = subprocess.Popen(pmo_command("sync", "--config", str(config.path), "--wait", "60"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_environment())
    try:
        # The holder lets go only once the second sync says it waits, so the wait is seen however slow the machine.
        assert second.stderr is not None
        waited = second.stderr.readline().strip()
        stop(holder)
        stdout, rest = second.communicate(timeout=120)
    finally:
        stop(holder)
        if second.poll() is None:
            second.kill()
    assert second.returncode == 0, rest
    assert "Traceback" not in rest and rest.strip() == ""
    assert waited.startswith(f"pmo: another sync of this portfolio is running (pid {holder.pid} since ")
    assert waited.endswith("); waiting up to 60 s")
    assert "master written to" in stdout


def test_library_sync_waits_for_the_same_lock_as_the_command(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    holder = hold_lock(config.state, 60)
    told: list[str] = []
    try:
        with pytest.raises(SyncBusy, match=rf"^another sync of this portfolio is running, pid {holder.pid} since "):
            run_sync(config, wait=0.3, on_wait=lambda who, seconds: told.append(f"{who.pid if who else '?'} {seconds}"))
    finally:
        stop(holder)
    assert told == [f"{holder.pid} 0.3"]
    assert not config.master.exists()


def test_lock_left_by_a_killed_sync_does_not_block(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    holder = hold_lock(config.state, 60)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    # The file is still there and still names the dead holder: only the OS lock counts, and it died with it.
    assert lock_path(config.state).exists()
    assert read_holder(lock_path(config.state)).pid == holder.pid  # type: ignore[union-attr]

    started = time.monotonic()
    result = run_pmo("sync", "--config", str(config.path), "--wait", "30")

    assert result.returncode == 0, result.stderr
    assert "waiting" not in result.stderr
    assert time.monotonic() - started < 25


_HOLD_AND_FORK = """
import os, sys, time
from pathlib import Path
from pmo_sheets.lock import SyncLock
lock = SyncLock(Path(sys.argv[1]), wait=0).acquire()
started, running = os.pipe()
child = os.fork()
if child == 0:  # like a worker process: started while the lock is held, and it outlives its parent
    os.write(running, b"x")  # the fork hooks have run by now; on a busy machine the child may be scheduled late
    time.sleep(60)
    os._exit(0)
os.read(started, 1)
print(child, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_process_forked_by_the_holder_does_not_keep_the_lock(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_AND_FORK, str(state)], stdout=subprocess.PIPE, text=True,
                              env=_environment())
    assert holder.stdout is not None
    child = int(holder.stdout.readline())
    try:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert os.kill(child, 0) is None  # the child still runs...
        with SyncLock(state, wait=0):  # ...and yet the lock is free
            pass
    finally:
        stop(holder)
        os.kill(child, signal.SIGKILL)


def test_lock_file_that_is_a_symlink_is_refused_and_its_target_kept(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    precious = tmp_path / "precious.txt"
    precious.write_text("do not empty me")
    config.state.parent.mkdir(parents=True, exist_ok=True)
    lock_path(config.state).symlink_to(precious)

    result = runner.invoke(app, ["sync", "--config", str(config.path)])

    assert result.exit_code == 2
    assert "is not a regular file" in result.stderr
    assert precious.read_text() == "do not empty me"


def test_two_syncs_in_the_same_second_keep_two_history_rows(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    for _ in range(3):
        run_sync(config)  # the last two change nothing and take milliseconds: often the same second
    with StateStore(config.state) as store:
        assert len(store.history()) == 3
        store.add_history("2026-12-01T18:30:00Z", {"projects": 1})
        store.add_history("2026-12-01T18:30:00Z", {"projects": 2})
        assert [figures for when, figures in store.history() if when == "2026-12-01T18:30:00Z"] == [
            {"projects": 1}, {"projects": 2}]


def test_history_of_a_store_keyed_by_the_second_is_kept(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    database = sqlite3.connect(old)
    database.executescript("""
        CREATE TABLE sources (key TEXT PRIMARY KEY, kind TEXT NOT NULL, label TEXT NOT NULL, fingerprint TEXT,
            status TEXT NOT NULL, project_id TEXT, template TEXT, errors INTEGER NOT NULL DEFAULT 0,
            warnings INTEGER NOT NULL DEFAULT 0, findings TEXT NOT NULL DEFAULT '[]', first_seen TEXT NOT NULL,
            last_checked TEXT NOT NULL, last_good_sync TEXT, good_project_id TEXT, good_template TEXT, payload BLOB);
        CREATE TABLE history (synced_at TEXT PRIMARY KEY, figures TEXT NOT NULL);
        INSERT INTO history VALUES ('2026-11-02T08:00:00Z', '{"projects": 7}'), ('2026-11-01T08:00:00Z', '{"projects": 6}');
    """)
    database.commit()
    database.close()
    with StateStore(old) as store:
        store.add_history("2026-11-02T08:00:00Z", {"projects": 8})
        assert store.history() == [("2026-11-01T08:00:00Z", {"projects": 6}), ("2026-11-02T08:00:00Z", {"projects": 7}),
                                   ("2026-11-02T08:00:00Z", {"projects": 8})]


# ------------------------------------------------------------------ 2. the whole process tree

@needs_proc
def test_killed_sync_leaves_no_worker_processes(big_portfolio: PortfolioConfig) -> None:
    config = big_portfolio
    sync = _start_sync(config)
    seen: dict[int, str] = {}
    try:
        # The pool exists only while workbooks are read: two workers under the sync means it is reading.
        assert _wait_for(lambda: len(descendants(sync.pid)) >= 2), "the sync never started its workers"
        seen = descendants(sync.pid)
        holder = read_holder(lock_path(config.state))
        assert holder is not None and holder.pid == sync.pid  # the command holds the portfolio's lock
        with pytest.raises(SyncBusy):
            run_sync(config, wait=0)

        sync.send_signal(signal.SIGKILL)
        sync.wait()

        assert _wait_for(lambda: not still_running(seen), seconds=3, every=0.05), (
            f"workers outlived the sync: {still_running(seen)}")
        assert in_group(sync.pid) == []
        with SyncLock(config.state, wait=0):  # and the dead sync's lock is free at once
            pass
    finally:
        stop(sync)
        for pid in still_running(seen):  # never leave a stray worker behind, even when the test fails
            os.kill(pid, signal.SIGKILL)


@needs_proc
def test_next_sync_removes_the_temporary_files_of_a_sync_killed_while_writing(big_portfolio: PortfolioConfig) -> None:
    config = big_portfolio
    out = config.master.parent
    out.mkdir(parents=True)
    keep = [out / ".master.notes.txt", out / "master.xlsx.bak", out / ".master.abcdefgh.xlsx"]
    for path in keep:
        path.write_text("not ours to remove")

    def temporaries() -> list[str]:
        return sorted(p.name for p in out.iterdir() if p.name.endswith((".tmp", ".splice")))

    sync = _start_sync(config)
    try:
        assert _wait_for(lambda: bool(temporaries())), "the sync never started writing the master"
        sync.send_signal(signal.SIGKILL)
        sync.wait()
    finally:
        stop(sync)
    left = temporaries()
    assert left and all(re.fullmatch(r"\.master\.[a-z0-9_]{8}\.xlsx\.tmp(\.splice)?", name) for name in left)
    assert not config.master.exists()  # killed before the rename: no half-written master

    # While another sync holds the lock, nothing is removed (they could be its files).
    holder = hold_lock(config.state, 60)
    try:
        with pytest.raises(SyncBusy):
            run_sync(config, wait=0)
        assert temporaries() == left
    finally:
        stop(holder)

    result = run_sync(config)

    assert result.written
    assert temporaries() == []
    assert sorted(result.removed_leftovers) == left
    assert all(path.read_text() == "not ours to remove" for path in keep)


# ------------------------------------------------------------------ 3. master and state paths

def _config_with(root: Path, **settings: str) -> Path:
    text = config_text()
    for key, value in settings.items():
        text = re.sub(rf'^{key} = .*$', f'{key} = "{value}"', text, count=1, flags=re.M)
    (root / "portfolio.toml").write_text(text)
    return root / "portfolio.toml"


@pytest.mark.parametrize(("master", "why"), [
    ("out/master.csv", "the master must be an .xlsx file"),
    ("out/state.sqlite", "the master must be an .xlsx file"),
    ("projects/PRJ-0001.xlsx", "exists and is not a pmo-sheets master"),
    ("budget.xlsx", "exists and is not a pmo-sheets master"),
])
def test_master_path_that_is_not_our_master_is_refused_and_nothing_written(tmp_path: Path, master: str, why: str) -> None:
    make_portfolio(tmp_path, count=2)
    (tmp_path / "budget.xlsx").write_bytes((tmp_path / "projects" / "PRJ-0002.xlsx").read_bytes())
    config = _config_with(tmp_path, master=master)
    target = tmp_path / master
    before = target.read_bytes() if target.exists() else None

    result = runner.invoke(app, ["sync", "--config", str(config)])

    assert result.exit_code == 2
    assert result.stderr.startswith(f"pmo: master {target}: {why}") and result.stderr.count("\n") == 1
    assert result.stderr.strip().endswith("nothing was written")
    assert (target.read_bytes() if target.exists() else None) == before
    assert not (tmp_path / "out" / "state.sqlite").exists()


def test_master_that_is_the_state_store_is_refused(tmp_path: Path) -> None:
    make_portfolio(tmp_path, count=2)
    config = _config_with(tmp_path, master="out/both.xlsx", state="out/both.xlsx")
    result = runner.invoke(app, ["sync", "--config", str(config)])
    assert result.exit_code == 2
    assert "that is the state store" in result.stderr
    assert not (tmp_path / "out" / "both.xlsx").exists()


def test_master_named_as_a_source_is_refused(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    before = config.master.read_bytes()
    path = config.path
    path.write_text(path.read_text() + '\n[[sources]]\nkind = "excel"\npath = "out/master.xlsx"\n')

    result = runner.invoke(app, ["sync", "--config", str(path), "--full"])

    assert result.exit_code == 2
    assert "that is also one of the sources" in result.stderr
    assert config.master.read_bytes() == before


def test_master_in_the_projects_folder_is_not_read_as_a_source(tmp_path: Path) -> None:
    make_portfolio(tmp_path, count=3)
    config = load_config(_config_with(tmp_path, master="projects/master.xlsx"))
    run_sync(config)
    assert config.master.exists()

    again = run_sync(config, full=True)

    assert again.exit_code == 0
    assert sorted(o.source.label for o in again.outcomes) == [
        "projects/PRJ-0001.xlsx", "projects/PRJ-0002.xlsx", "projects/PRJ-0003.xlsx"]


def test_master_carries_our_marker_and_one_from_the_previous_version_is_accepted(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    book = openpyxl.load_workbook(config.master)
    assert MASTER_PROPERTY in [p.name for p in book.custom_doc_props.props]
    # A master written before the marker existed: the same sheets, no property.
    book.custom_doc_props.props.clear()
    book.save(config.master)
    assert is_pmo_master(config.master)
    change_a_source(tmp_path)

    result = run_sync(config)

    assert result.written and result.exit_code == 0
    assert portfolio_rows(config.master)["PRJ-0002"]["Project Name"] == "Renamed project"


def test_master_keeps_its_file_mode_when_replaced(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    config.master.chmod(0o640)  # shared with the finance group only
    change_a_source(tmp_path)

    assert run_sync(config).written

    assert config.master.stat().st_mode & 0o777 == 0o640


def test_state_path_that_is_a_workbook_is_refused_and_kept(tmp_path: Path) -> None:
    make_portfolio(tmp_path, count=2)
    config = _config_with(tmp_path, state="projects/PRJ-0001.xlsx")
    before = (tmp_path / "projects" / "PRJ-0001.xlsx").read_bytes()
    for extra in ([], ["--rebuild-state"]):
        result = runner.invoke(app, ["sync", "--config", str(config), *extra])
        assert result.exit_code == 2
        assert "that is a workbook or zip file, not a pmo-sheets state store" in result.stderr
        assert result.stderr.count("\n") == 1
    assert (tmp_path / "projects" / "PRJ-0001.xlsx").read_bytes() == before
    assert not (tmp_path / "out" / "master.xlsx").exists()
    assert not (tmp_path / "projects" / "PRJ-0001.xlsx.lock").exists()  # not even a lock file beside it


def test_state_path_that_is_another_programs_database_is_refused_and_kept(tmp_path: Path) -> None:
    make_portfolio(tmp_path, count=2)
    other = tmp_path / "crm.sqlite"
    database = sqlite3.connect(other)
    database.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    database.execute("INSERT INTO customers VALUES (1, 'ACME')")
    database.commit()
    database.close()
    before = other.read_bytes()
    config = _config_with(tmp_path, state="crm.sqlite")
    for extra in ([], ["--rebuild-state"]):
        result = runner.invoke(app, ["sync", "--config", str(config), *extra])
        assert result.exit_code == 2
        assert "an SQLite database of another program" in result.stderr
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("crm")) == ["crm.sqlite"]


# ------------------------------------------------------------------ 4. an open master

def _excel_owner_file(master: Path, user: str) -> Path:
    """What Excel writes beside a workbook it has open: a length byte and the user name, padded."""
    owner = master.with_name(f"~${master.name}")
    owner.write_bytes(bytes([len(user)]) + user.encode("cp1252") + b" " * (53 - len(user)) + b"\x00" * 112)
    return owner


def _libreoffice_lock(master: Path, *, host: str, profile: str = "file:///home/jane/.config/libreoffice/4") -> Path:
    lock = master.with_name(f".~lock.{master.name}#")
    lock.write_text(f"Jane Doe,jane,{host},01.12.2026 09:12,{profile};")
    return lock


def test_master_open_in_excel_is_not_replaced_the_new_one_goes_beside_it(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    write_comment(config.master, "PRJ-0001", "Capex approved in Q2")
    owner = _excel_owner_file(config.master, "Jane Doe")
    before = config.master.read_bytes()
    change_a_source(tmp_path)

    result = run_pmo("sync", "--config", str(config.path))

    beside = tmp_path / "out" / "master.new.xlsx"
    assert result.returncode == 1
    assert stderr_lines(result) == []
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"Test portfolio: {config.master} is open in Excel by Jane Doe since ")
    assert f"(~$master.xlsx), so it was left as it is; the new master was written beside it to {beside} in " in first
    assert config.master.read_bytes() == before
    new = portfolio_rows(beside)
    assert new["PRJ-0002"]["Project Name"] == "Renamed project"
    assert new["PRJ-0001"]["Finance comment"] == "Capex approved in Q2"

    # Finance saves another comment and closes the workbook: the next sync replaces the master.
    write_comment(config.master, "PRJ-0002", "Check the GBP rate")
    owner.unlink()
    closed = run_pmo("sync", "--config", str(config.path), "--format", "json")

    assert closed.returncode == 0, closed.stderr
    summary = json.loads(closed.stdout)
    assert summary["written_to"] == str(config.master) and summary["master_in_use"] is None
    rows = portfolio_rows(config.master)
    assert rows["PRJ-0002"]["Project Name"] == "Renamed project"
    assert rows["PRJ-0001"]["Finance comment"] == "Capex approved in Q2"
    assert rows["PRJ-0002"]["Finance comment"] == "Check the GBP rate"
    assert not beside.exists()  # superseded


def test_comments_typed_into_the_side_copy_are_kept_too(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    owner = _excel_owner_file(config.master, "Jane Doe")
    change_a_source(tmp_path)
    assert run_sync(config).written_to == side_copy(config.master)
    # Told where the new master is, finance comments there; someone else comments in the old one.
    write_comment(config.master, "PRJ-0001", "Old file, PRJ-0001")
    time.sleep(0.05)
    write_comment(side_copy(config.master), "PRJ-0002", "New file, PRJ-0002")
    owner.unlink()
    change_a_source(tmp_path, name="Renamed again")

    result = run_sync(config)

    assert result.exit_code == 0 and result.written_to == config.master
    rows = portfolio_rows(config.master)
    assert rows["PRJ-0001"]["Finance comment"] == "Old file, PRJ-0001"
    assert rows["PRJ-0002"]["Finance comment"] == "New file, PRJ-0002"
    assert not side_copy(config.master).exists()


def test_master_open_in_libreoffice_elsewhere_is_reported_in_json(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    _libreoffice_lock(config.master, host="finance-pc")
    before = config.master.read_bytes()
    change_a_source(tmp_path)

    result = runner.invoke(app, ["sync", "--config", str(config.path), "--format", "json"])

    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["written"] is True
    assert summary["written_to"] == str(side_copy(config.master))
    assert summary["master_in_use"]["program"] == "LibreOffice"
    assert summary["master_in_use"]["user"] == "Jane Doe"
    assert summary["master_in_use"]["lock_file"] == str(tmp_path / "out" / ".~lock.master.xlsx#")
    assert config.master.read_bytes() == before


def test_stale_owner_files_are_ignored(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    owner = _excel_owner_file(config.master, "Jane Doe")
    yesterday = time.time() - 13 * 3600  # older than the 12 h after which an owner file counts as a crash's leftover
    os.utime(owner, (yesterday, yesterday))
    # A LibreOffice lock taken on this machine with a profile no running LibreOffice uses.
    _libreoffice_lock(config.master, host=socket.gethostname(), profile=f"file://{tmp_path}/no-such-profile")
    change_a_source(tmp_path)

    result = run_sync(config)

    assert result.exit_code == 0 and result.written_to == config.master and result.master_in_use is None
    assert portfolio_rows(config.master)["PRJ-0002"]["Project Name"] == "Renamed project"
    assert not side_copy(config.master).exists()


def test_master_and_its_side_copy_both_open_writes_nothing(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    _excel_owner_file(config.master, "Jane Doe")
    change_a_source(tmp_path)
    assert run_sync(config).written_to == side_copy(config.master)
    _excel_owner_file(side_copy(config.master), "Raj Patel")
    before = side_copy(config.master).read_bytes()
    change_a_source(tmp_path, name="Renamed again")

    result = runner.invoke(app, ["sync", "--config", str(config.path)])

    assert result.exit_code == 2
    assert "and so is master.new.xlsx; close one of them and sync again; nothing was written" in result.stderr
    assert side_copy(config.master).read_bytes() == before


# ------------------------------------------------------------------ 5. damaged state

def _damage_record(state: Path, label: str) -> None:
    database = sqlite3.connect(state)
    database.execute("UPDATE sources SET payload = ? WHERE label = ?", (b"\x78\x9c not zlib at all", label))
    database.commit()
    database.close()


def test_damaged_stored_record_costs_only_its_source_which_is_read_again(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path)
    run_sync(config)
    expected = portfolio_rows(config.master)["PRJ-0003"]
    _damage_record(config.state, "projects/PRJ-0003.xlsx")
    change_a_source(tmp_path)  # something to sync, so the stored records are consolidated

    result = runner.invoke(app, ["sync", "--config", str(config.path)])

    assert result.exit_code == 0, result.output
    assert "stored records were damaged and read again from the source: projects/PRJ-0003.xlsx" in result.stdout
    rows = portfolio_rows(config.master)
    assert sorted(rows) == ["PRJ-0001", "PRJ-0002", "PRJ-0003", "PRJ-0004"]
    assert rows["PRJ-0003"]["Budget"] == pytest.approx(expected["Budget"])
    assert rows["PRJ-0002"]["Project Name"] == "Renamed project"
    with StateStore(config.state) as store:
        assert store.payload(f"file:{(tmp_path / 'projects' / 'PRJ-0003.xlsx').resolve()}") is not None  # repaired


def test_damaged_record_of_a_deleted_source_drops_only_that_source(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path)
    run_sync(config)
    _damage_record(config.state, "projects/PRJ-0004.xlsx")
    (tmp_path / "projects" / "PRJ-0004.xlsx").unlink()

    result = run_sync(config)

    assert result.written and result.exit_code == 1
    assert result.reread_damaged == ["projects/PRJ-0004.xlsx"]
    assert sorted(portfolio_rows(config.master)) == ["PRJ-0001", "PRJ-0002", "PRJ-0003"]
    assert {o.state.label: o.state.status for o in result.outcomes}["projects/PRJ-0004.xlsx"] == "missing"


@pytest.mark.parametrize("damage", ["not a database", "malformed"])
def test_damaged_state_file_names_the_file_and_the_recovery(tmp_path: Path, damage: str) -> None:
    config, _ = make_portfolio(tmp_path)
    run_sync(config)
    write_comment(config.master, "PRJ-0001", "Capex approved in Q2")
    master = config.master.read_bytes()
    damaged = b"\x00" * 100 + b"what a disk failure leaves"
    if damage == "not a database":
        config.state.write_bytes(damaged)
    else:  # the header survives, the pages after it do not
        data = bytearray(config.state.read_bytes())
        data[100:] = b"\xff" * (len(data) - 100)
        damaged = bytes(data)
        config.state.write_bytes(damaged)
    change_a_source(tmp_path)

    result = run_pmo("sync", "--config", str(config.path))

    assert result.returncode == 2
    [line] = stderr_lines(result)
    assert line.startswith(f"pmo: the state store {config.state} is damaged (")
    assert line.endswith(f"recover with `pmo sync --config {config.path} --rebuild-state`, which sets it aside, reads "
                         "every source again and takes finance's comments from the master")
    assert config.master.read_bytes() == master

    rebuilt = run_pmo("sync", "--config", str(config.path), "--rebuild-state")

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "sources: 4 read" in rebuilt.stdout
    assert "state store rebuilt" in rebuilt.stdout
    rows = portfolio_rows(config.master)
    assert rows["PRJ-0001"]["Finance comment"] == "Capex approved in Q2"
    assert rows["PRJ-0002"]["Project Name"] == "Renamed project"
    [aside] = list(config.state.parent.glob("state.sqlite.before-rebuild-*"))
    assert aside.read_bytes() == damaged  # set aside as it was, not deleted
    assert run_pmo("sync", "--config", str(config.path)).returncode == 0


# ---------------------------------------------- disk full, read-only folders

def test_state_folder_that_is_a_file_is_one_line_and_nothing_written(tmp_path: Path) -> None:
    make_portfolio(tmp_path, count=2)
    (tmp_path / "var").write_text("a file where the state's folder should be")
    config = _config_with(tmp_path, state="var/state.sqlite")

    result = run_pmo("sync", "--config", str(config))

    assert result.returncode == 2
    [line] = stderr_lines(result)
    assert line.startswith(f"pmo: cannot create the lock file {tmp_path / 'var' / 'state.sqlite.lock'} (")
    assert not (tmp_path / "out" / "master.xlsx").exists()


def test_state_store_that_cannot_take_the_commit_leaves_the_previous_master(tmp_path: Path) -> None:
    """The state commits after the new master is complete and before it replaces the old one: when the
    commit fails (here SQLite's lock, held by someone browsing the store), the old master stays."""
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    before = config.master.read_bytes()
    change_a_source(tmp_path)
    browser = sqlite3.connect(config.state, isolation_level=None)
    browser.execute("BEGIN")
    browser.execute("SELECT COUNT(*) FROM sources").fetchone()  # a read transaction: SQLite's shared lock
    try:
        result = runner.invoke(app, ["sync", "--config", str(config.path)])
    finally:
        browser.execute("ROLLBACK")
        browser.close()

    assert result.exit_code == 2
    assert result.stderr == (f"pmo: cannot write the state store {config.state} (database is locked); "
                             "nothing was written\n")
    assert config.master.read_bytes() == before
    assert [p.name for p in config.master.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert run_sync(config).written  # and once the store is free, the change goes through


def _as_an_ordinary_user() -> list[str] | None:
    """A command prefix under which folder permissions apply: none needed for an ordinary user; for root, a
    user namespace with no uid mapped, where root's override of permissions does not reach our files."""
    if os.name != "posix":
        return None
    if os.geteuid() != 0:
        return []
    if shutil.which("unshare") and subprocess.run(["unshare", "--user", "true"], check=False).returncode == 0:
        return ["unshare", "--user"]
    return None


@pytest.mark.skipif(_as_an_ordinary_user() is None, reason="root without user namespaces ignores folder permissions")
@pytest.mark.parametrize("folder", ["master", "state"])
def test_read_only_folder_by_permissions_is_one_line_and_keeps_the_master(tmp_path: Path, folder: str) -> None:
    make_portfolio(tmp_path, count=2)
    config = load_config(_config_with(tmp_path, state="var/state.sqlite"))
    run_sync(config)
    before = config.master.read_bytes()
    change_a_source(tmp_path)
    locked = config.master.parent if folder == "master" else config.state.parent
    locked.chmod(0o555)
    try:
        result = subprocess.run([*(_as_an_ordinary_user() or []), *pmo_command("sync", "--config", str(config.path))],
                                capture_output=True, text=True, env=_environment(), timeout=120, check=False)
    finally:
        locked.chmod(0o755)
    assert result.returncode == 2, result.stdout
    [line] = stderr_lines(result)
    assert line.endswith("nothing was written"), line
    assert config.master.read_bytes() == before
    assert run_sync(config).written  # once the folder is writable again


def _can_mount_in_a_namespace() -> bool:
    if shutil.which("unshare") is None or os.name != "posix":
        return False
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True, check=False)
    return probe.returncode == 0


needs_mount = pytest.mark.skipif(not _can_mount_in_a_namespace(),
                                 reason="needs unshare and mount (root with CAP_SYS_ADMIN) for a real full or read-only folder")


@needs_mount
@pytest.mark.parametrize(("folder", "condition"), [
    ("master", "full"), ("master", "read-only"), ("state", "full"), ("state", "read-only")])
def test_full_or_read_only_folder_is_one_line_exit_2_and_the_old_master_intact(
        tmp_path: Path, folder: str, condition: str) -> None:
    """A real full (a tiny tmpfs filled up) or read-only (remounted ro) folder, mounted in a private mount
    namespace for the sync's process only: the exact errors a shared drive gives, without touching the machine."""
    make_portfolio(tmp_path, count=3)
    config = load_config(_config_with(tmp_path, master=str(tmp_path / "reports" / "master.xlsx"),
                                      state=str(tmp_path / "var" / "state.sqlite")))
    run_sync(config)
    before = config.master.read_bytes()
    change_a_source(tmp_path)
    mounted = config.master.parent if folder == "master" else config.state.parent
    stage, after = tmp_path / "stage", tmp_path / "after"
    after.mkdir()
    shutil.copytree(mounted, stage)
    fill = ("dd if=/dev/zero of=\"$M/filler\" bs=4k 2>/dev/null || true" if condition == "full"
            else "mount -o remount,ro \"$M\"")
    script = f"""
        set -e
        M="{mounted}"
        mount -t tmpfs -o size=2m tmpfs "$M"
        cp -a "{stage}/." "$M/"
        {fill}
        set +e
        "$@" > "{after}/stdout" 2> "{after}/stderr"
        echo $? > "{after}/rc"
        cp "{config.master}" "{after}/master.xlsx"
        ls -A "$M" > "{after}/listing"
    """
    subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", *pmo_command("sync", "--config", str(config.path))],
                   env=_environment(), check=True, timeout=120)

    assert (after / "rc").read_text().strip() == "2"
    stderr = (after / "stderr").read_text()
    assert "Traceback" not in stderr
    [line] = stderr.strip().splitlines()
    assert line.startswith("pmo: ")
    assert line.endswith("nothing was written")
    assert (after / "master.xlsx").read_bytes() == before
    listing = (after / "listing").read_text().split()
    assert not [name for name in listing if name.endswith((".tmp", ".splice"))]
    # The real folders were never touched, and the next sync, with room to write, goes through.
    assert config.master.read_bytes() == before
    assert run_sync(config).exit_code == 0
