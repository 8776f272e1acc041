"""Which sources a configuration names right now, each with a cheap fingerprint of its content.

A fingerprint changes whenever the content may have changed (file size and modification time; a
Google spreadsheet's Drive ``modifiedTime``), so an unchanged source need not be opened at all.
"""

from __future__ import annotations

import glob
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from pmo_sheets.readers.excel import WORKBOOK_SUFFIXES

_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class DiscoveredSource:
    """One source to consolidate.

    ``key`` is its stable identity in the state store (``file:/abs/path.xlsx``, ``gsheet:ID``);
    ``label`` is what people see (a path relative to the config, or a spreadsheet's title);
    ``fingerprint`` is None when it cannot be known cheaply (the source is then always read).
    """

    key: str
    kind: str
    label: str
    locator: str  # what the reader needs: a file path, or a spreadsheet ID
    fingerprint: str | None


def file_fingerprint(path: Path) -> str | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def discover_excel(pattern: str, base: Path, *, exclude: Collection[Path] = ()) -> list[DiscoveredSource]:
    """Every workbook a path or glob names (a plain path is listed even when it does not exist).

    A glob never yields a path in ``exclude`` (the master and its side copy: a master kept in the
    projects' folder must not be read as one of its own sources).
    """
    full = pattern if Path(pattern).is_absolute() else str(base / pattern)
    if _GLOB_CHARS & set(pattern):
        excluded = {path.resolve() for path in exclude}
        paths = [Path(p) for p in sorted(glob.glob(full, recursive=True))
                 if p.lower().endswith(WORKBOOK_SUFFIXES) and not Path(p).name.startswith("~$")]
        paths = [path for path in paths if path.resolve() not in excluded] if excluded else paths
    else:
        paths = [Path(full)]
    found = []
    for path in paths:
        resolved = path.resolve()
        try:
            label = str(resolved.relative_to(base.resolve()))
        except ValueError:
            label = str(resolved)
        found.append(DiscoveredSource(f"file:{resolved}", "excel", label, str(resolved), file_fingerprint(resolved)))
    return found
