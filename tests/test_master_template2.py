"""Template 2.0's tables reach the master: every resource, RAID item, change request and status report a
PM typed is on its data sheet, tagged with its project and the cell it came from, text as typed; a 1.x
workbook simply contributes none."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from portfolio_fixtures import make_portfolio
from python_calamine import CalamineWorkbook

from pmo_sheets.master import DATA_SHEETS
from pmo_sheets.samples import SampleProject, fill_workbook, sample_project
from pmo_sheets.schemas import load_tables
from pmo_sheets.state import StateStore
from pmo_sheets.sync import run_sync

NEW_TABLES = ("resources", "raid", "changes", "status")
# Text a spreadsheet would misread as a formula, a pattern, markup or a number: it must arrive as typed.
# (A literal "_x0041_" is left to test_master_text.py: openpyxl, which writes these sources, stores it
# unescaped, so the source itself says "A".)
TRICKY = ["=X", "<TBD>", "R&D* ~temp ?", "<r>x</r>", "2026", "Ünïcödé — “quotes”"]


def with_2_0_rows(number: int, **sizes: int) -> SampleProject:
    """A sample project whose resources, RAID log, change requests and status reports are filled in."""
    return sample_project(number, people=3, raid=8, changes=6, status=True, **sizes)


def tricky_text(sample: SampleProject) -> None:
    """Fill the new tables, with the tricky text in a text column of each (a person's name, a summary...)."""
    full = with_2_0_rows(int(sample.project_id.removeprefix("PRJ-")), currency=sample.project["currency"],
                         tasks=4, budget_lines=1, months=2, risks=2)
    sample.tables.update({table: full.tables[table] for table in NEW_TABLES})
    for table, column in (("resources", "person"), ("raid", "title"), ("changes", "title"), ("status", "summary")):
        for index, row in enumerate(sample.tables[table]):
            row[column] = TRICKY[index % len(TRICKY)] + f" {index}"
    # one name per e-mail, as the person-inconsistent rule wants
    for row in sample.tables["resources"]:
        row["email"] = f"p{row['person'].rsplit(' ', 1)[-1]}-{sample.project_id.lower()}@example.com"


def sheet_rows(path: Path, base: str) -> list[list[Any]]:
    """Every data row of a data sheet and its "(2)", "(3)"... parts, in order, as calamine reads them."""
    book = CalamineWorkbook.from_path(str(path))
    names = [n for n in book.sheet_names if n == base or (n.startswith(f"{base} (") and n.endswith(")"))]
    names.sort(key=lambda n: 1 if n == base else int(n[len(base) + 2:-1]))
    rows = []
    for name in names:
        sheet = book.get_sheet_by_name(name).to_python()
        assert sheet[0] == [c.header for c in DATA_SHEETS[TABLE_OF[base]][1]], name
        rows.extend(sheet[1:])
    book.close()
    return rows


TABLE_OF = {sheet: table for table, (sheet, _) in DATA_SHEETS.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    return "" if value is None else value


def expected_rows(samples: list[SampleProject], table: str) -> list[list[Any]]:
    """The rows a PM typed, as the master's data sheet should hold them (Project ID first, lineage last)."""
    spec = load_tables()[table]
    rows = []
    for sample in sorted(samples, key=lambda s: s.project_id):
        for number, row in enumerate(sample.tables[table], start=2):
            rows.append([sample.project_id, *(_plain(row.get(c.name)) for c in spec.input_columns),
                         f"projects/{sample.project_id}.xlsx", spec.sheet, number])
    return rows


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SampleProject]]:
    root = tmp_path_factory.mktemp("template2")
    # 9 rows a sheet: every new table spans several sheet parts.
    config, samples = make_portfolio(root, count=3, tasks=4, budget_lines=1, months=2, risks=2, edit=tricky_text,
                                     extra="max_rows_per_sheet = 10")
    old = with_2_0_rows(9, tasks=3, budget_lines=1, months=2, risks=1)  # has 2.0 rows, but a 1.0 workbook shows none
    fill_workbook(old, version="1.0").save(root / "projects" / "PRJ-0009.xlsx")
    result = run_sync(config)
    assert result.exit_code == 0, result.outcomes
    return config.master, samples


@pytest.mark.parametrize("table", NEW_TABLES)
def test_the_master_holds_exactly_the_rows_typed_in_the_2_0_workbooks(synced: tuple[Path, list[SampleProject]],
                                                                       table: str) -> None:
    master, samples = synced
    sheet = DATA_SHEETS[table][0]
    expected = expected_rows(samples, table)
    width = len(expected[0])  # Resource data also has the Resources sheet's Person Key after the lineage
    got = [[_plain(v) for v in row[:width]] for row in sheet_rows(master, sheet)]
    assert got == expected
    assert len(got) > 9  # split over parts, and nothing lost at the seams


def test_the_tables_span_parts_and_text_arrives_as_typed(synced: tuple[Path, list[SampleProject]]) -> None:
    master, _ = synced
    names = CalamineWorkbook.from_path(str(master)).sheet_names
    assert {"Resource data", "Resource data (2)", "RAID data (2)", "Change data (2)", "Status data (2)"} <= set(names)
    typed = [row[column] for sheet, column in (("Resource data", 1), ("RAID data", 3), ("Change data", 2),
                                               ("Status data", 6)) for row in sheet_rows(master, sheet)]
    assert {text.rsplit(" ", 1)[0] for text in typed} == set(TRICKY)


def test_a_1_0_workbook_contributes_no_rows_to_the_new_tables(synced: tuple[Path, list[SampleProject]]) -> None:
    master, _ = synced
    for table in NEW_TABLES:
        assert "PRJ-0009" not in {row[0] for row in sheet_rows(master, DATA_SHEETS[table][0])}
    assert "PRJ-0009" in {row[0] for row in sheet_rows(master, "Task data")}


def test_records_stored_before_the_master_carried_the_new_tables_are_read_again(tmp_path: Path) -> None:
    """A state store of an earlier pmo-sheets holds each unchanged 2.0 workbook's records without its RAID
    log: the first sync after the upgrade reads every source again instead of leaving them out."""
    config, samples = make_portfolio(tmp_path, count=2, tasks=4, budget_lines=1, months=2, risks=2, edit=tricky_text)
    run_sync(config)
    with StateStore(config.state) as store:  # as the earlier version left it: records of three tables only
        for key in store.sources():
            payload = store.payload(key)
            assert payload is not None
            payload["tables"] = {t: rows for t, rows in payload["tables"].items() if t not in NEW_TABLES}
            state = store.sources()[key]
            store.save_source(state, payload)
        store.set_meta("payload_tables", "tasks,budget,risks")

    result = run_sync(config)

    assert result.exit_code == 0 and result.written
    assert [o.read for o in result.outcomes] == [True, True]
    rows = sheet_rows(config.master, "RAID data")
    assert len(rows) == sum(len(s.tables["raid"]) for s in samples) > 0
