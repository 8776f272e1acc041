"""The master workbook as a file on a shared drive: is the path safe to replace, is someone editing it.

A sync replaces the master unattended, so the path it replaces must be the master and nothing else:
an ``.xlsx`` file that is neither the configuration, the state store nor a source, and that, when it
exists, was written by pmo-sheets (:func:`is_pmo_master`). The writer marks every master with a
custom document property (:data:`MASTER_PROPERTY`); masters of earlier versions, which had no
marker, are recognised by their sheets.

Finance keeps the master open while typing comments. Excel and LibreOffice say so with an owner
file beside it (``~$master.xlsx``; ``.~lock.master.xlsx#``): :func:`in_use` reads them, so that the
sync writes the new master beside the open one (:func:`side_copy`) instead of replacing it under
its user. An owner file older than :data:`OPEN_LOCK_STALE_AFTER` is taken for the leftover of a
crash and ignored, and so is a LibreOffice lock taken on this machine while no LibreOffice runs here.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import stat
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pmo_sheets.sources import UsageError

MASTER_PROPERTY = "pmo-sheets master"  # custom document property (docProps/custom.xml) the writer sets
LEGACY_SHEETS = frozenset({"Portfolio", "Data quality", "History", "FX"})  # what every master has had
OPEN_LOCK_STALE_AFTER = dt.timedelta(hours=12)
SIDE_COPY_TAG = ".new"  # master.xlsx open in Excel: the new master goes to master.new.xlsx
_SMALL_PART = 4 * 1024 * 1024  # the parts we read to recognise a master are small; never inflate more
_OWNER_FILE_BYTES = 4096


class UnsafePath(UsageError):
    """A master (or state) path that a sync must not write: exit code 2, nothing written."""


# ------------------------------------------------------------------ is it ours

def is_pmo_master(path: Path) -> bool:
    """Whether ``path`` is a master written by pmo-sheets (our property, or the sheets every master has)."""
    try:
        with zipfile.ZipFile(path) as book:
            names = set(book.namelist())
            if "docProps/custom.xml" in names and MASTER_PROPERTY in _custom_properties(book):
                return True
            return "xl/workbook.xml" in names and _sheet_names(book) >= LEGACY_SHEETS
    except (OSError, zipfile.BadZipFile, ET.ParseError, ValueError, KeyError, EOFError):
        return False


def _small_part(book: zipfile.ZipFile, name: str) -> bytes:
    info = book.getinfo(name)
    if info.file_size > _SMALL_PART:
        raise ValueError(f"{name} is larger than any master's")
    return book.read(name)


def _custom_properties(book: zipfile.ZipFile) -> set[str]:
    root = ET.fromstring(_small_part(book, "docProps/custom.xml"))
    return {element.get("name", "") for element in root if element.tag.endswith("property")}


def _sheet_names(book: zipfile.ZipFile) -> set[str]:
    root = ET.fromstring(_small_part(book, "xl/workbook.xml"))
    return {element.get("name", "") for element in root.iter() if element.tag.endswith("}sheet")}


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where they point
        return a.resolve() == b.resolve()


def check_master_path(master: Path, *, config_path: Path, state_path: Path) -> None:
    """Refuse a master path that a sync could destroy something through; raises :class:`UnsafePath`."""
    def refuse(why: str) -> UnsafePath:
        return UnsafePath(f"master {master}: {why}; nothing was written")

    if master.suffix.lower() != ".xlsx":
        raise refuse("the master must be an .xlsx file")
    if _same_file(master, config_path):
        raise refuse("that is the configuration file itself")
    if _same_file(master, state_path):
        raise refuse("that is the state store (state = ...); give them different names")
    folder = master.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the writer creates missing folders; the nearest existing one must be a folder
    if not folder.is_dir():
        raise refuse(f"{folder} is a file, not a folder")
    refuse_foreign_file(master, unreadable_too=False)


def refuse_foreign_file(target: Path, *, unreadable_too: bool = True) -> None:
    """Raise :class:`UnsafePath` when ``target`` exists and is not a master that pmo-sheets wrote.

    With ``unreadable_too`` False, a file that is not a zip archive at all (a master cut short, or
    encrypted with a password) is left to the sync's reading of the master, which refuses it with
    the reason (:class:`pmo_sheets.sync.MasterUnreadable`): nothing is written over it either way.
    """
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UnsafePath(f"master {target}: cannot be checked ({exc.strerror}); nothing was written") from None
    if stat.S_ISDIR(mode):
        raise UnsafePath(f"master {target}: that is a folder, not a workbook; nothing was written")
    if stat.S_ISREG(mode) and not unreadable_too and not zipfile.is_zipfile(target):
        return
    if not stat.S_ISREG(mode) or not is_pmo_master(target):
        raise UnsafePath(f"master {target}: exists and is not a pmo-sheets master, so it is not replaced; "
                         "move it away or choose another master path; nothing was written")


def check_not_a_source(master: Path, sources: Iterable[Path]) -> None:
    """Refuse a master that is also one of the sources (a plain path naming it, or a link to it)."""
    try:
        identity = master.stat()
    except OSError:
        identity = None
    resolved = master.resolve()
    for source in sources:
        if source.resolve() == resolved:
            same = True
        elif identity is None:
            same = False
        else:
            try:
                found = source.stat()
            except OSError:
                continue
            same = (found.st_dev, found.st_ino) == (identity.st_dev, identity.st_ino)
        if same:
            raise UnsafePath(f"master {master}: that is also one of the sources ({source}); "
                             "the master is never read as a source; nothing was written")


# ------------------------------------------------------------------ is it open

@dataclass(frozen=True)
class InUse:
    """Someone has the master open, according to ``lock_file``."""

    lock_file: Path
    program: str  # "Excel" or "LibreOffice"
    user: str | None
    since: dt.datetime  # the owner file's modification time (aware, local)

    def describe(self) -> str:
        """``open in Excel by Jane Doe since 2026-12-01 09:12 (~$master.xlsx)``."""
        who = f" by {self.user}" if self.user else ""
        return f"open in {self.program}{who} since {self.since:%Y-%m-%d %H:%M} ({self.lock_file.name})"

    def to_dict(self) -> dict[str, str | None]:
        return {"lock_file": str(self.lock_file), "program": self.program, "user": self.user,
                "since": self.since.isoformat(timespec="seconds")}


def side_copy(master: Path) -> Path:
    """Where the new master goes while the master is open: ``master.new.xlsx`` beside ``master.xlsx``."""
    return master.with_name(f"{master.stem}{SIDE_COPY_TAG}{master.suffix}")


def in_use(path: Path, *, now: dt.datetime | None = None,
           stale_after: dt.timedelta = OPEN_LOCK_STALE_AFTER) -> InUse | None:
    """Who has ``path`` open, from Excel's and LibreOffice's owner files beside it (None: nobody, or stale)."""
    now = now or dt.datetime.now().astimezone()
    candidates = ((path.with_name(f".~lock.{path.name}#"), "LibreOffice"), (path.with_name(f"~${path.name}"), "Excel"))
    for lock_file, program in candidates:
        try:
            info = lock_file.lstat()
            if not stat.S_ISREG(info.st_mode):
                continue
            with open(lock_file, "rb") as handle:
                data = handle.read(_OWNER_FILE_BYTES)
        except OSError:
            continue
        since = dt.datetime.fromtimestamp(info.st_mtime).astimezone()
        if now - since > stale_after:
            continue  # left by a crash or a laptop that went to sleep; nobody edits for that long
        if program == "LibreOffice":
            user, host, profile = _libreoffice_owner(data)
            if host == socket.gethostname() and _libreoffice_running(profile) is False:
                continue  # taken on this machine, where no LibreOffice with that profile runs any more
        else:
            user = _excel_owner(data)
        return InUse(lock_file=lock_file, program=program, user=user, since=since)
    return None


def _excel_owner(data: bytes) -> str | None:
    """The user name in an Office owner file: a length byte, then the name in the ANSI code page."""
    if not data or data[0] == 0 or len(data) < 1 + data[0]:
        return None
    return data[1:1 + data[0]].decode("cp1252", errors="replace").strip() or None


def _libreoffice_owner(data: bytes) -> tuple[str | None, str | None, str | None]:
    """User, host and profile URL of a LibreOffice lock file: ``Name,SysUser,Host,Time,ProfileURL;``
    (commas inside a value escaped with a backslash). LibreOffice's lock names no process id; the
    profile it was taken with is what tells whether its LibreOffice still runs."""
    text = data.decode("utf-8", errors="replace").rstrip().removesuffix(";")
    fields = [field.replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")
              for field in re.split(r"(?<!\\),", text)]
    if len(fields) < 3:
        return None, None, None
    user = fields[0].strip() or fields[1].strip() or None
    return user, fields[2].strip() or None, (fields[4].strip() or None) if len(fields) > 4 else None


def _libreoffice_running(profile: str | None) -> bool | None:
    """Whether a LibreOffice that may use ``profile`` runs on this machine (None: cannot tell without /proc).

    A LibreOffice started with another ``-env:UserInstallation`` profile (as headless converters are)
    cannot hold this lock; one started with the default profile might."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() not in ("soffice.bin", "soffice", "oosplash"):
                continue
            arguments = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue  # gone meanwhile
        chosen = [a.split("=", 1)[1] for a in arguments if a.startswith("-env:UserInstallation=")]
        if not chosen or profile is None or chosen[0].rstrip("/") == profile.rstrip("/"):
            return True
    return False


# ------------------------------------------------------------------ leftovers

def temp_affixes(master: Path) -> tuple[str, str]:
    """Prefix and suffix of the temporary file the writer makes beside ``master`` (``.master.XXXXXXXX.xlsx.tmp``)."""
    return f".{master.stem}.", f"{master.suffix}.tmp"


def leftover_files(master: Path) -> list[Path]:
    """Temporary files a killed sync left beside the master: only names our writer makes
    (``.master.<8 random>.xlsx.tmp`` and its ``.splice``), for the master and its side copy."""
    patterns = []
    for target in (master, side_copy(master)):
        prefix, suffix = temp_affixes(target)
        patterns.append(re.compile(re.escape(prefix) + r"[a-z0-9_]{8}" + re.escape(suffix) + r"(\.splice)?"))
    try:
        entries = list(master.parent.iterdir())
    except OSError:
        return []
    return sorted(entry for entry in entries
                  if any(pattern.fullmatch(entry.name) for pattern in patterns) and entry.is_file() and not entry.is_symlink())


def remove_leftovers(master: Path) -> list[Path]:
    """Remove what :func:`leftover_files` finds. Call it holding the sync lock, so that no running
    sync's temporary file is taken for a leftover."""
    removed = []
    for leftover in leftover_files(master):
        try:
            leftover.unlink()
            removed.append(leftover)
        except OSError:
            continue  # a read-only folder: the write that follows will say so
    return removed
