"""Google spreadsheet and Drive folder references: the ID inside a URL, and telling an ID from a path.

Kept apart from :mod:`pmo_sheets.readers.gsheets` on purpose: ``pmo validate`` must decide whether
an argument is a Google Sheet before anything imports gspread or requests, so that validating local
workbooks works where those packages are missing (inside Excel through xlwings Lite).
"""

from __future__ import annotations

import re
from pathlib import Path

#: Drive IDs are URL-safe base64-ish; spreadsheets' are 44 characters, folders' 33 or so.
_ID = r"[A-Za-z0-9_-]{20,}"
_BARE_ID = re.compile(r"^[A-Za-z0-9_-]{25,}$")  # longer than a typical file name typed without its suffix
_SHEET_URL = re.compile(rf"docs\.google\.com/spreadsheets/(?:u/\d+/)?d/({_ID})")
_FOLDER_URL = re.compile(rf"drive\.google\.com/drive/(?:u/\d+/)?(?:mobile/)?folders/({_ID})")
_OPEN_URL = re.compile(rf"drive\.google\.com/(?:open|file/d/)\??(?:id=)?({_ID})")


def spreadsheet_id(reference: str) -> str | None:
    """The spreadsheet ID in a Google Sheets URL or a bare ID; None when it is neither."""
    text = reference.strip()
    match = _SHEET_URL.search(text) or _OPEN_URL.search(text)
    if match:
        return match.group(1)
    return text if _BARE_ID.match(text) else None


def folder_id(reference: str) -> str | None:
    """The folder ID in a Google Drive folder URL or a bare ID; None when it is neither."""
    text = reference.strip()
    match = _FOLDER_URL.search(text) or _OPEN_URL.search(text)
    if match:
        return match.group(1)
    return text if _BARE_ID.match(text) else None


def is_google_sheet(reference: str) -> bool:
    """True for a Google Sheets URL, or a bare spreadsheet ID that is not also an existing local path.

    A bare ID is only taken as Google's when no file of that name exists and it has no workbook
    suffix, so that ``pmo validate budget_2026_final_version_two`` still means the local file.
    """
    text = reference.strip()
    if text.startswith(("http://", "https://")) or "docs.google.com/" in text:
        return spreadsheet_id(text) is not None
    if not _BARE_ID.match(text):
        return False
    return not Path(text).exists()
