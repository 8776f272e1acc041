"""Which sources a configuration names right now, each with a cheap fingerprint of its content.

A fingerprint changes whenever the content may have changed (file size and modification time; a
Google spreadsheet's Drive ``modifiedTime``), so an unchanged source need not be opened at all.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from pmo_sheets.readers.excel import WORKBOOK_SUFFIXES
from pmo_sheets.readers.limits import MAX_PATHS_VISITED

_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class DiscoveredSource:
    """One source to consolidate.

    ``key`` is its stable identity in the state store (``file:/abs/path.xlsx``, ``gsheet:ID``);
    ``label`` is what people see (a path relative to the config, or a spreadsheet's title);
    ``fingerprint`` is None when it cannot be known cheaply (the source is then always read);
    ``found_as`` is a file's absolute path as the configured path or glob named it, links not resolved
    (``/portfolio/projects/a.xlsx`` for a link to ``/elsewhere/a.xlsx``), so that a deleted link is still
    known to have been named by the configuration; None for a Google spreadsheet.
    """

    key: str
    kind: str
    label: str
    locator: str  # what the reader needs: a file path, or a spreadsheet ID
    fingerprint: str | None
    found_as: str | None = None


def file_fingerprint(path: Path) -> str | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return f"{stat.st_size}:{stat.st_mtime_ns}"


class DiscoveryLimitError(Exception):
    """A glob looked at more files and folders than allowed without finishing."""

    def __init__(self, pattern: str, visited: int, limit: int):
        super().__init__(f"{pattern}: stopped after looking at {visited:,} files and folders (the limit is {limit:,}, "
                         "[limits] max_paths_visited in portfolio.toml); narrow the path or glob, or raise the limit")


#: Pseudo file systems: no workbook lives there, and /proc links back to / from every process. A
#: ``**`` never descends into them (naming one outright, ``/dev/shm/*.xlsx``, still works).
PSEUDO_ROOTS = ("/proc", "/sys", "/dev")
PROGRESS_EVERY = 10_000  # files and folders looked at between two progress reports


def safe_glob(pattern: str, *, limit: int = MAX_PATHS_VISITED,
              progress: Callable[[int], None] | None = None) -> list[str]:
    """The paths matching ``pattern``, sorted, as ``glob.glob(pattern, recursive=True)`` finds them, but safe
    to point anywhere.

    A ``**`` walks folders with :func:`os.walk`, entering each real folder once (so links that loop,
    ``a -> .``, end at once instead of multiplying), skipping hidden folders as glob does and the
    pseudo file systems (/proc, /sys, /dev); it stops with :class:`DiscoveryLimitError` after looking
    at ``limit`` files and folders, and calls ``progress(looked_at)`` every 10,000. Nothing is opened:
    a named pipe called ``plan.xlsx`` is listed, for the reader to refuse. A pattern without ``**``
    looks at a bounded number of folder levels and is left to :func:`glob.glob`.
    """
    if "**" not in pattern:
        return sorted(glob.glob(pattern))
    parts = pattern.replace(os.sep, "/").split("/")
    first_magic = next(i for i, part in enumerate(parts) if _GLOB_CHARS & set(part))
    root = "/".join(parts[:first_magic]) or ("/" if pattern.startswith("/") else ".")
    wanted = [part for part in parts[first_magic:] if part]
    seen: set[tuple[int, int]] = set()
    visited = 0
    matches = []
    for folder, folders, files in os.walk(root, followlinks=True):
        try:
            info = os.stat(folder)
        except OSError:
            folders[:] = []
            continue
        if (info.st_dev, info.st_ino) in seen:  # a link back to a folder already walked
            folders[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        folders[:] = sorted(name for name in folders if not name.startswith(".")
                            and os.path.abspath(os.path.join(folder, name)) not in PSEUDO_ROOTS)
        before, visited = visited, visited + len(folders) + len(files)
        if visited > limit:
            raise DiscoveryLimitError(pattern, visited, limit)
        if progress is not None and visited // PROGRESS_EVERY > before // PROGRESS_EVERY:
            progress(visited)
        relative = [] if folder == root else os.path.relpath(folder, root).replace(os.sep, "/").split("/")
        for name in (*folders, *files):
            if not name.startswith(".") and _matches(wanted, [*relative, name]):
                matches.append(os.path.join(folder, name))
    return sorted(path[2:] if path.startswith("./") and not pattern.startswith("./") else path for path in matches)


def names_path(pattern: str, path: str) -> bool:
    """Whether a configured path or glob names ``path`` as :func:`safe_glob` finds files: folder by folder
    (``*`` never crosses a ``/``), ``**`` standing for any number of folders, none included. Both absolute."""
    return _matches(pattern.replace(os.sep, "/").split("/"), path.replace(os.sep, "/").split("/"))


def _matches(pattern: list[str], parts: list[str]) -> bool:
    """Whether path components match pattern components, ``**`` standing for any number of folders."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_matches(pattern[1:], parts[skip:]) for skip in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _matches(pattern[1:], parts[1:])


def discover_excel(pattern: str, base: Path, *, exclude: Collection[Path] = (), limit: int = MAX_PATHS_VISITED,
                   progress: Callable[[int], None] | None = None) -> list[DiscoveredSource]:
    """Every workbook a path or glob names (a plain path is listed even when it does not exist).

    A glob never yields a path in ``exclude`` (the master and its side copy: a master kept in the
    projects' folder must not be read as one of its own sources). See :func:`safe_glob` for how a glob
    is walked; raises :class:`DiscoveryLimitError` past ``limit`` files and folders looked at.
    """
    full = pattern if Path(pattern).is_absolute() else str(base / pattern)
    if _GLOB_CHARS & set(pattern):
        excluded = {Path(os.path.realpath(path)) for path in exclude}
        paths = [Path(p) for p in safe_glob(full, limit=limit, progress=progress)
                 if p.lower().endswith(WORKBOOK_SUFFIXES) and not Path(p).name.startswith("~$")]
        paths = [path for path in paths if Path(os.path.realpath(path)) not in excluded] if excluded else paths
    else:
        paths = [Path(full)]
    found = []
    base_resolved = Path(os.path.realpath(base))
    for path in paths:
        # os.path.realpath, not Path.resolve: on Python 3.11 resolve raises on a link loop (x.xlsx -> x.xlsx),
        # which would abort the whole discovery; realpath returns a path and the reader reports the loop.
        resolved = Path(os.path.realpath(path))
        try:
            label = str(resolved.relative_to(base_resolved))
        except ValueError:
            label = str(resolved)
        found.append(DiscoveredSource(f"file:{resolved}", "excel", label, str(resolved), file_fingerprint(resolved),
                                      found_as=os.path.abspath(path)))
    return found
