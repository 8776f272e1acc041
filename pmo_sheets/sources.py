"""Name a source, get a grid: paths and globs of .xlsx files, or a Google Sheet URL or ID."""

from __future__ import annotations

from pathlib import Path

from pmo_sheets.discovery import DiscoveryLimitError, safe_glob
from pmo_sheets.grid import Grid, SourceError
from pmo_sheets.readers.excel import read_excel
from pmo_sheets.readers.google_refs import is_google_sheet
from pmo_sheets.readers.limits import DEFAULT_LIMITS, ReadLimits
from pmo_sheets.settings import DEFAULT_SETTINGS, ValidationSettings
from pmo_sheets.validate import WorkbookReport, failed_report, validate_grid

_GLOB_CHARS = set("*?[")


class UsageError(Exception):
    """The command was asked something impossible (exit code 2, nothing written)."""


def expand_sources(sources: list[str], *, limits: ReadLimits = DEFAULT_LIMITS) -> list[str]:
    """Paths as given, globs expanded (sorted); a glob that matches nothing, or looks at more than
    ``limits.max_paths_visited`` files and folders, is a usage error."""
    expanded: list[str] = []
    for source in sources:
        if is_google_sheet(source):
            expanded.append(source)  # a URL's '?' is not a glob
        elif _GLOB_CHARS & set(source):
            try:
                matches = safe_glob(source, limit=limits.max_paths_visited)
            except DiscoveryLimitError as exc:
                raise UsageError(str(exc)) from None
            if not matches:
                raise UsageError(f"no files match {source}")
            expanded.extend(matches)
        else:
            expanded.append(source)
    return expanded


def read_source(source: str, *, limits: ReadLimits = DEFAULT_LIMITS) -> Grid:
    """The grid of one source; raises :class:`SourceError` when it cannot be read.

    A Google Sheet URL or ID is read with the ``PMO_GOOGLE_*`` environment settings (``pmo validate``
    has no configuration file); gspread is imported only then. ``limits`` bound what a file may cost.
    """
    if is_google_sheet(source):
        from pmo_sheets.readers.gsheets import GoogleSheets

        try:
            google = GoogleSheets({})
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        return google.read_reference(source)
    return read_excel(Path(source), limits=limits)


def validate_source(source: str, *, settings: ValidationSettings = DEFAULT_SETTINGS,
                    limits: ReadLimits = DEFAULT_LIMITS) -> WorkbookReport:
    """Read and validate one source; an unreadable source gives a report with one file-level finding."""
    try:
        grid = read_source(source, limits=limits)
    except SourceError as error:
        return failed_report(source, error)
    return validate_grid(grid, settings=settings)


def validate_sources(sources: list[str], *, settings: ValidationSettings = DEFAULT_SETTINGS,
                     limits: ReadLimits = DEFAULT_LIMITS) -> list[WorkbookReport]:
    """Validate every source (paths and globs); the library twin of ``pmo validate``."""
    return [validate_source(source, settings=settings, limits=limits)
            for source in expand_sources(sources, limits=limits)]
