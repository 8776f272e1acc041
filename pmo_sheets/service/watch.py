"""File-system events in the Excel sources' folders, as "something changed" for the scheduler.

Each ``kind = "excel"`` source is watched from the fixed part of its path (``projects`` for
``projects/**/*.xlsx``), recursively when its glob reaches into subfolders. Only events that can
change what a sync reads count: a workbook created, written, renamed or deleted. Opening or reading a
file (the sync itself reads every changed workbook) is not a change, nor are Excel's owner files
(``~$name.xlsx``), LibreOffice's locks, temporary files, or the master written into the same folder.

On a network share the local kernel sees no event for a file saved on another machine; there, and
wherever the events cannot be set up (the inotify watch limit reached), the scheduler's poll of the
fingerprints finds the change instead (``--poll``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from pmo_sheets.config import PortfolioConfig
from pmo_sheets.masterfile import side_copy

log = logging.getLogger("pmo.serve")

_GLOB = set("*?[")
_COUNTED = {"created", "modified", "moved", "deleted", "closed"}  # "opened" and "closed_no_write" are reads
_NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "ceph", "glusterfs", "davfs",
               "fuse.rclone"}


def watch_roots(config: PortfolioConfig) -> list[tuple[Path, bool]]:
    """(folder, recursive) to watch for each Excel source that exists now."""
    roots: dict[Path, bool] = {}
    for spec in config.sources:
        if spec.kind != "excel":
            continue
        parts = config.resolve(spec.target).parts
        fixed = next((i for i, part in enumerate(parts) if _GLOB & set(part)), None)
        if fixed is None:
            folder, recursive = Path(*parts).parent, False
        else:
            folder, recursive = Path(*parts[:fixed]), len(parts) - fixed > 1
        if folder.is_dir():
            roots[folder] = roots.get(folder, False) or recursive
    return sorted(roots.items())


def is_workbook_change(path: str, ignored: set[str]) -> bool:
    """Whether a changed path may be a source workbook (not an owner file, a lock, a temporary file, the master)."""
    name = os.path.basename(path)
    if name.startswith(("~$", ".~lock", ".")) or os.path.realpath(path) in ignored:
        return False
    return name.lower().endswith((".xlsx", ".xlsm"))


def network_filesystem(folder: Path) -> str | None:
    """The type of the network file system ``folder`` sits on (Linux, from /proc/mounts), or None."""
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            table = [line.split()[1:3] for line in mounts if len(line.split()) >= 3]
    except OSError:
        return None
    real = os.path.realpath(folder)
    best = ("", "")
    for mount_point, kind in table:
        point = mount_point.replace("\\040", " ")
        if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) > len(best[0]):
            best = (point, kind)
    return best[1] if best[1] in _NETWORK_FS else None


class FolderWatch:
    """A watchdog observer over the Excel sources' folders; ``mode`` says what it achieved."""

    def __init__(self, config: PortfolioConfig, on_change: Callable[[str], None], *, events: bool = True):
        self.config = config
        self.on_change = on_change
        self.events = events
        self.mode = "poll only"
        self._observer = None

    def start(self) -> str:
        """Start watching; returns the mode: ``events``, ``poll only`` (asked for, or nothing to watch), or why
        events are not used (network share, no inotify)."""
        roots = watch_roots(self.config)
        if not self.events or not roots:
            self.mode = "poll only"
            return self.mode
        shared = [f"{folder.name}: {kind}" for folder, _ in roots if (kind := network_filesystem(folder))]
        if shared:
            self.mode = f"poll only (network share, {', '.join(shared)})"
            return self.mode
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        ignored = {os.path.realpath(p) for p in (self.config.master, side_copy(self.config.master))}
        on_change = self.on_change
        base = self.config.base

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.is_directory or event.event_type not in _COUNTED:
                    return
                for path in (event.src_path, getattr(event, "dest_path", "")):
                    text = os.fsdecode(path) if path else ""
                    if text and is_workbook_change(text, ignored):
                        name = os.path.relpath(text, base) if text.startswith(str(base)) else os.path.basename(text)
                        on_change(f"{event.event_type} {name}")
                        return

        observer = Observer()
        try:
            for folder, recursive in roots:
                observer.schedule(Handler(), str(folder), recursive=recursive)
            observer.start()
        except OSError as exc:  # e.g. the inotify watch limit: the poll still finds every change
            self.mode = f"poll only (no file events: {exc.strerror or exc})"
            return self.mode
        self._observer = observer
        self.mode = "events"
        return self.mode

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2)
            self._observer = None
