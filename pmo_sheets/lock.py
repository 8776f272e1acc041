"""One sync of a portfolio at a time: an OS file lock beside the state store.

``pmo sync``, :func:`pmo_sheets.sync.run_sync` and the service all take :class:`SyncLock` on
``<state>.lock`` (``pmo-state.sqlite.lock`` beside ``pmo-state.sqlite``) before they touch the state
store or the master. The lock is the operating system's (``flock`` on Linux and macOS, ``msvcrt``
locking on Windows, through portalocker), not the file's existence: the kernel releases it when its
holder exits, however it exits, so the file left behind by a sync killed with ``kill -9`` never
blocks the next one. The file is never deleted (deleting a lock file while another process waits on
it would let two processes hold "the" lock on two different files).

A process forked while the lock is held (a worker reading workbooks) would share the lock with its
parent and keep it after the parent died; such children drop their share at once
(:func:`_drop_in_child`), so only the sync itself holds the lock.

While the lock is held the file says who holds it (pid, host and start time, as one JSON line), so
a sync that has to wait can say whom it waits for. On Windows the locked file cannot be read by
others, so the holder is reported as unknown there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import portalocker

from pmo_sheets.sources import UsageError

DEFAULT_WAIT = 60.0  # seconds a second sync waits for the first before giving up (pmo sync --wait)
POLL_EVERY = 0.2
_HOLDER_BYTES = 4096


_HELD: set[int] = set()  # descriptors of the locks this process holds


def _drop_in_child() -> None:
    """In a forked child: let go of the parent's locks. An OS lock belongs to the open file, which a fork
    shares; pointing the child's descriptor at /dev/null drops its share, and leaves the child's copy of
    the file object something harmless to close."""
    if not _HELD:
        return
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for descriptor in _HELD:
            os.dup2(null, descriptor)
    finally:
        os.close(null)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_in_child)


class LockError(UsageError):
    """The lock file cannot be created or locked (read-only folder, a path whose parent is a file...)."""


class SyncBusy(UsageError):
    """Another sync of the same portfolio held the lock for longer than we were willing to wait."""

    def __init__(self, holder: Holder | None):
        self.holder = holder
        described = holder.describe() if holder else "its pid could not be read"
        super().__init__(f"another sync of this portfolio is running, {described}")


@dataclass(frozen=True)
class Holder:
    """Who holds a sync lock: what the holder wrote into the lock file."""

    pid: int
    host: str
    since: dt.datetime  # aware, local time zone

    def describe(self) -> str:
        """``pid 4242 since 18:30`` (with the date when not today, and the host when not this one)."""
        local = self.since.astimezone()
        when = local.strftime("%H:%M") if local.date() == dt.date.today() else local.strftime("%Y-%m-%d %H:%M")
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"pid {self.pid}{where} since {when}"

    def to_json(self) -> str:
        return json.dumps({"pid": self.pid, "host": self.host, "since": self.since.isoformat(timespec="seconds")})

    @classmethod
    def from_json(cls, text: str) -> Holder | None:
        """The holder a lock file names, or None when it is empty, being rewritten, or not ours."""
        try:
            data = json.loads(text)
            return cls(pid=int(data["pid"]), host=str(data["host"]), since=dt.datetime.fromisoformat(data["since"]))
        except (ValueError, TypeError, KeyError):
            return None


def lock_path(state: Path) -> Path:
    """The lock file of the portfolio whose state store is ``state``."""
    return state.with_name(state.name + ".lock")


def read_holder(path: Path) -> Holder | None:
    """Who holds the lock at ``path`` right now, as far as its file says (None when nobody or unknown)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return Holder.from_json(handle.read(_HOLDER_BYTES))
    except OSError:  # gone, or locked against reading (Windows)
        return None


class SyncLock:
    """The sync lock of one portfolio; a context manager.

    ``wait`` is how many seconds to wait for another holder before raising :class:`SyncBusy`
    (0: do not wait). ``on_wait(holder, wait)`` is called once, when the lock turns out to be held
    and we start waiting, so that a command line can say so.
    """

    def __init__(self, state: Path, *, wait: float = DEFAULT_WAIT,
                 on_wait: Callable[[Holder | None, float], None] | None = None):
        self.path = lock_path(state)
        self.wait = max(0.0, wait)
        self.on_wait = on_wait
        self._handle: BinaryIO | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> SyncLock:
        """Take the lock, waiting up to ``wait`` seconds; raises :class:`SyncBusy` or :class:`LockError`."""
        handle = self._open()
        deadline = time.monotonic() + self.wait
        told = False
        try:
            while True:
                try:
                    portalocker.lock(handle, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING)
                    break
                except portalocker.AlreadyLocked:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise SyncBusy(read_holder(self.path)) from None
                    if not told and self.on_wait is not None:
                        self.on_wait(read_holder(self.path), self.wait)
                        told = True
                    time.sleep(min(POLL_EVERY, left))
                except portalocker.LockException as exc:  # e.g. a network share mounted without lock support
                    raise LockError(f"cannot lock {self.path} ({exc}); the state folder must support file locks; "
                                    "nothing was written") from None
            self._write_holder(handle)
        except BaseException:
            handle.close()
            raise
        self._handle = handle
        _HELD.add(handle.fileno())
        return self

    @staticmethod
    def _write_holder(handle: BinaryIO) -> None:
        holder = Holder(pid=os.getpid(), host=socket.gethostname(), since=dt.datetime.now().astimezone())
        try:
            handle.seek(0)
            handle.truncate()
            handle.write((holder.to_json() + "\n").encode())
        except OSError:
            pass  # a full disk: the lock holds all the same, others will only not know whom they wait for

    def release(self) -> None:
        """Let the next sync in; the file stays (emptied) for the next holder."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        _HELD.discard(handle.fileno())
        try:
            handle.seek(0)
            handle.truncate()
        except OSError:
            pass  # the lock goes with the descriptor anyway; a stale holder line is only informative
        finally:
            try:
                portalocker.unlock(handle)
            finally:
                handle.close()

    def __enter__(self) -> SyncLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.release()

    def _open(self) -> BinaryIO:
        """Open (creating it if needed) the lock file without truncating it and without following a symlink:
        a symlink planted at the lock's name must not make us empty the file it points to."""
        try:
            existing = os.lstat(self.path)
        except FileNotFoundError:
            existing = None
        except OSError as exc:
            raise LockError(f"cannot create the lock file {self.path} ({exc.strerror}); "
                            "the state folder must exist and be writable; nothing was written") from None
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            raise LockError(f"{self.path} is not a regular file; remove it (it is where pmo-sheets keeps its sync lock)")
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, flags, 0o666)  # others' syncs of the same portfolio must open it too
        except OSError as exc:
            raise LockError(f"cannot create the lock file {self.path} ({exc.strerror}); "
                            "the state folder must exist and be writable; nothing was written") from None
        return os.fdopen(descriptor, "r+b", buffering=0)  # unbuffered: nothing left to flush (and fail) at close
