"""The adapter does not drift from xlwings: the same Validate through xlwings' own remote engine.

xlwings' JSON ("remote") engine is what xlwings Server and xlwings Lite drive: a ``Book`` built from
a JSON description of the workbook that records every change as an action for the Excel client to
apply. Validate runs on it and on the adapter; the recorded actions, replayed, must give the same
cell colours, the same Issues sheet, the same links and the same hidden store as the adapter's file.

The engine is licensed: this test runs only when ``XLWINGS_LICENSE_KEY`` is set (never commit one).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from test_addin import DATA_SHEETS, HIGHLIGHTS, fills, with_mistakes
from xlwings_adapter import AdapterBook, press

from pmo_sheets.addin import STORE_SHEET, apply_validation, prepare_validation, validate
from pmo_sheets.addin.commands import read_fills
from pmo_sheets.addin.workbook import read_sheet, to_hex
from pmo_sheets.cells import cell_ref

pytestmark = pytest.mark.skipif(not os.environ.get("XLWINGS_LICENSE_KEY"),
                                reason="xlwings' remote engine needs a licence key: set XLWINGS_LICENSE_KEY to run")


def _json_value(value: Any) -> Any:
    """A cell as the Office.js client sends it: blanks as "", dates as ISO text with Z."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return value


def book_json(path: Path) -> dict[str, Any]:
    """The JSON description of a workbook that xlwings' remote engine is built from."""
    import xlwings as xw

    adapter = AdapterBook(path)
    sheets = []
    for sheet in adapter.sheets:
        rows = read_sheet(sheet)
        width = max((len(row) for row in rows), default=0)
        values = [[_json_value(v) for v in row] + [""] * (width - len(row)) for row in rows]
        sheets.append({"name": sheet.name, "values": values, "pictures": [], "shapes": [], "charts": [],
                       "tables": [], "notes": [], "pivot_tables": [], "show_gridlines": True,
                       "visibility": "Visible" if sheet.visible else "Hidden"})
    return {"client": "Office.js", "version": xw.__version__, "names": [], "sheets": sheets,
            "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"}}


def replay(initial_sheets: list[str], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """What the recorded actions do to a workbook: colours, values and links per (sheet, cell)."""
    names = list(initial_sheets)
    colours: dict[tuple[str, str], str | None] = {}
    values: dict[tuple[str, str], Any] = {}
    links: dict[tuple[str, str], str] = {}
    for action in actions:
        func, args = action["func"], action["args"]
        if func == "addSheet":
            names.insert(args[0], args[1])
            continue
        sheet = names[action["sheet_position"]] if action.get("sheet_position") is not None else None
        if func == "sheetDelete":
            names.remove(sheet)
            for store in (colours, values, links):
                for key in [k for k in store if k[0] == sheet]:
                    del store[key]
            continue
        if func == "sheetClearContents":
            for key in [k for k in values if k[0] == sheet]:
                del values[key]
            continue
        top, left = action["start_row"], action["start_column"]
        if func == "setRangeColor":
            for r in range(action["row_count"]):
                for c in range(action["column_count"]):
                    colours[(sheet, cell_ref(top + r + 1, left + c + 1))] = args[0]
        elif func == "setValues":
            for r, row in enumerate(action["values"]):
                for c, value in enumerate(row):
                    values[(sheet, cell_ref(top + r + 1, left + c + 1))] = value
        elif func == "addHyperlink":
            links[(sheet, cell_ref(top + 1, left + 1))] = args[0]
    return {"sheets": names, "colours": colours, "values": values, "links": links}


def test_validate_through_the_remote_engine_does_what_it_does_through_the_adapter(tmp_path: Path) -> None:
    import xlwings as xw

    path = with_mistakes(tmp_path / "project.xlsx")
    payload = book_json(path)
    remote = xw.Book(json=payload)
    plan = prepare_validation(remote)
    # The remote engine cannot read fills (Excel would send them on request): take them from the file.
    apply_validation(remote, plan, read_fills(AdapterBook(path), plan.to_read))
    done = replay([s["name"] for s in payload["sheets"]], remote.json()["actions"])

    press(path, validate)

    workbook = load_workbook(path)
    assert done["sheets"] == workbook.sheetnames
    # Every cell the remote engine coloured (or cleared) shows the same fill in the adapter's file: a cell
    # missing on one side is a failure, never skipped.
    for (sheet, cell), colour in done["colours"].items():
        fill = workbook[sheet][cell].fill
        shown = fill.fgColor.rgb[-6:] if fill.fill_type == "solid" else None
        assert to_hex(shown) == (colour.upper() if colour else None), (sheet, cell)
    assert {key for key in done["colours"] if key[0] in DATA_SHEETS} >= {
        key for key, rgb in fills(path).items() if rgb in HIGHLIGHTS}  # and nothing highlighted only by the adapter
    for name in (plan.issues_sheet, STORE_SHEET):
        sheet = workbook[name]
        written = {cell: value for (where, cell), value in done["values"].items() if where == name}
        assert written, name
        for cell, value in written.items():
            assert (sheet[cell].value if sheet[cell].value is not None else "") == (value if value is not None else ""), cell
    issues = workbook[plan.issues_sheet]
    assert {cell: f"#{issues[cell].hyperlink.location}" for cell in (c for (s, c) in done["links"] if s == plan.issues_sheet)} \
        == {cell: target for (s, cell), target in done["links"].items() if s == plan.issues_sheet}
