"""``pmo upgrade``: a 1.0 workbook moved to the current template keeps every value and every finding.

The workbook is filled with a realistic sample (40 tasks, 24 budget lines, 12 risks) carrying the
mistakes project managers make (a finish before its start, an unknown predecessor, "half" for a
percentage, a wrong currency, a probability of 7), a misspelt header, a header in capitals, a column
of their own after the Tasks columns and one inserted in the middle of the Budget columns, a line
of their own on the Project sheet and a sheet of their own.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.formula.translate import Translator
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from portfolio_fixtures import scratch_folder
from soffice import recalculate
from workbooks import located, pmo, report_of
from xlwings_adapter import AdapterBook, press

from pmo_sheets.cells import cell_ref, column_letter
from pmo_sheets.grid import Grid
from pmo_sheets.ratings import RATINGS
from pmo_sheets.readers.excel import read_excel
from pmo_sheets.samples import fill_workbook, plant_mistakes, sample_project
from pmo_sheets.schemas import TEMPLATE_VERSION, load_tables
from pmo_sheets.templates import new_workbook
from pmo_sheets.upgrade import Upgrade, UpgradeRefused, prepare_upgrade, upgrade_files

#: Where the planted mistakes are in the 1.0 workbook (Budget's inserted column moves Currency from F to G).
OLD_FINDINGS = [
    ("column-unknown", "Project", "A17"),
    ("column-renamed", "Tasks", "B1"),
    ("column-unknown", "Tasks", "O1"),
    ("finish-before-start", "Tasks", "E5"),
    ("predecessor-unknown", "Tasks", "K7"),
    ("type-invalid", "Tasks", "H8"),
    ("column-unknown", "Budget", "C1"),
    ("currency-mismatch", "Budget", "G4"),
    ("value-not-in-list", "Risks", "F3"),
]
#: The same findings in the upgraded workbook: Budget's own column now follows the template's 12 (M), so
#: the columns after it are back at their template places.
NEW_FINDINGS = [*OLD_FINDINGS[:6], ("column-unknown", "Budget", "M1"), ("currency-mismatch", "Budget", "F4"),
                OLD_FINDINGS[-1]]
NEW_SHEETS = ["Resources", "RAID", "Changes", "Status"]


def insert_budget_column(workbook: Workbook) -> None:
    """A column of their own inserted before Cost Center, as Excel inserts it: later formulas follow."""
    sheet = workbook["Budget"]
    spec = load_tables()["budget"]
    sheet.insert_cols(3)
    sheet["C1"] = "Approver"
    for row in range(2, 8):
        sheet.cell(row, 3, f"Approver {row}")
    shifted = {column.name: column.position + (column.position >= 3) for column in spec.columns}
    for column in spec.columns:
        text = column.formula or (RATINGS[column.rating].formula if column.rating else None)
        if text is None:
            continue
        for row in range(2, spec.rows + 2):
            sheet.cell(row, shifted[column.name], "=" + text.format(
                **{name: cell_ref(row, position) for name, position in shifted.items()}))


def old_workbook(path: Path, edit: Any = None) -> Path:
    """The realistic 1.0 workbook described above, saved at ``path`` (``edit``: changed further first)."""
    if edit is not None:
        return _write_old_workbook(path, edit)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_old_workbook_once(), path)
    return path


@cache
def _old_workbook_once() -> Path:
    return _write_old_workbook(scratch_folder("pmo-upgrade-") / "PRJ-0004.xlsx")


def _write_old_workbook(path: Path, edit: Any = None) -> Path:
    sample = sample_project(4, tasks=40, budget_lines=4, months=6, risks=12)
    plant_mistakes(sample)
    workbook = fill_workbook(sample, "project", "1.0")
    tasks = workbook["Tasks"]
    tasks["B1"] = "Task Nme"  # misspelt: read as Task Name, reported
    tasks["C1"] = "OWNER"  # another case: read as Owner without a word
    tasks["O1"] = "PM notes"
    for row in range(2, 42, 3):
        tasks.cell(row, 15, f"call supplier re task {row - 1}")
    insert_budget_column(workbook)
    workbook["Project"]["A17"], workbook["Project"]["B17"] = "Department", "Finance IT"
    notes = workbook.create_sheet("Meeting notes", 5)
    notes["A1"], notes["B1"] = "2026-03-02", "Kick-off: scope agreed"
    notes["A2"] = "=COUNTA(Tasks!A:A)-1"
    agreed = DataValidation(type="list", formula1='"Agreed,Open"')
    agreed.add("C1:C20")
    notes.add_data_validation(agreed)
    if edit is not None:
        edit(workbook)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Upgrade]:
    folder = tmp_path_factory.mktemp("upgrade")
    source = old_workbook(folder / "PRJ-0004.xlsx")
    (folder / "out").mkdir()
    [written] = upgrade_files([source], output_dir=folder / "out")
    return source, written.target, written.upgrade


def cells(grid: Grid, sheet: str) -> dict[tuple[int, int], Any]:
    """Every non-blank value the validator sees on a sheet, by (row, column)."""
    rows = grid.sheets[sheet].rows
    return {(r, c): value for r, line in enumerate(rows, start=1) for c, value in enumerate(line, start=1)
            if value not in (None, "")}


def test_the_old_workbook_has_the_planted_findings(upgraded: tuple[Path, Path, Upgrade]) -> None:
    source, _, _ = upgraded
    report = report_of(source)
    assert (report.template, report.template_version) == ("project", "1.0")
    assert located(report.findings) == OLD_FINDINGS


def test_upgraded_workbook_has_exactly_the_old_findings(upgraded: tuple[Path, Path, Upgrade]) -> None:
    source, target, upgrade = upgraded
    before, after = report_of(source), report_of(target)

    assert located(after.findings) == NEW_FINDINGS
    assert [(f.severity, f.message) for f in after.findings] == [(f.severity, f.message) for f in before.findings]
    assert [upgrade.new_location(f.sheet, f.cell) for f in before.findings] == [(f.sheet, f.cell) for f in after.findings]
    assert (after.template, after.template_version, after.project_id) == ("project", TEMPLATE_VERSION, "PRJ-0004")
    assert upgrade.moved == {"Budget": {"C": "M", **{column_letter(c + 1): column_letter(c) for c in range(3, 13)}}}


def test_every_typed_value_is_in_its_column(upgraded: tuple[Path, Path, Upgrade]) -> None:
    source, target, upgrade = upgraded
    old, new = read_excel(source), read_excel(target)
    for sheet in ("Project", "Tasks", "Budget", "Risks"):
        before, after = cells(old, sheet), cells(new, sheet)
        moves = upgrade.moved.get(sheet, {})
        for (row, col), value in before.items():
            letter = column_letter(col)
            there = (row, col if letter not in moves else _column(moves[letter]))
            expected = "Task Name" if (sheet, row, col) == ("Tasks", 1, 2) else value
            expected = "Owner" if (sheet, row, col) == ("Tasks", 1, 3) else expected
            if (sheet, row, col) == ("Tasks", 1, 2):
                expected = "Task Nme"  # a guessed header keeps its spelling, and its finding
            assert after.get(there) == expected, (sheet, row, col)
        assert len(after) == len(before), sheet  # nothing added to the tables (formula cells show no value yet)
    assert cells(new, "Tasks")[(5, 15)] == "call supplier re task 4"  # their own column, where it was
    assert [cells(new, "Budget")[(row, 13)] for row in (1, 2, 7)] == ["Approver", "Approver 2", "Approver 7"]
    assert cells(new, "Project")[(17, 1)] == "Department"
    assert cells(new, "Meeting notes") == {(1, 1): "2026-03-02", (1, 2): "Kick-off: scope agreed"}
    notes = load_workbook(target)["Meeting notes"]
    assert notes["A2"].value == "=COUNTA(Tasks!A:A)-1"
    assert [(str(dv.sqref), dv.formula1) for dv in notes.data_validations.dataValidation] == [("C1:C20", '"Agreed,Open"')]


def _column(letter: str) -> int:
    from pmo_sheets.cells import parse_cell

    return parse_cell(f"{letter}1")[1]


def test_upgraded_workbook_is_the_current_template(upgraded: tuple[Path, Path, Upgrade]) -> None:
    _, target, upgrade = upgraded
    book = load_workbook(target)

    assert book.sheetnames == ["Instructions", "Project", "Tasks", "Budget", "Risks", *NEW_SHEETS, "Lists", "_pmo",
                               "Meeting notes"]
    assert [(row[0].value, row[1].value) for row in book["_pmo"].iter_rows()] == [
        ("template", "project"), ("version", TEMPLATE_VERSION), ("generator", "pmo-sheets"),
        ("tables", "project, tasks, budget, risks, resources, raid, changes, status")]
    assert upgrade.added_sheets == NEW_SHEETS
    grid = read_excel(target)
    for sheet in NEW_SHEETS:  # the header only
        assert {row for row, _ in cells(grid, sheet)} == {1}, sheet
    budget = book["Budget"]
    # the template's formulas, formats and dropdowns where the template has them
    assert budget["J2"].value == "=IF(AND(H2=\"\",I2=\"\"),\"\",N(H2)+N(I2))"
    assert budget["G2"].number_format == load_tables()["budget"].column("budget").number_format
    lists = {str(dv.sqref): dv.formula1 for dv in budget.data_validations.dataValidation}
    assert lists["F2:F1001"].startswith("Lists!")
    assert budget.tables["Budget"].ref == "A1:L1001"


def test_headers_below_title_rows_stay_on_their_row(tmp_path: Path) -> None:
    def titles(workbook: Workbook) -> None:
        """Two rows inserted above the header, as Excel inserts them: the formulas and the table follow."""
        tasks = workbook["Tasks"]
        tasks.insert_rows(1, 2)
        for row in tasks.iter_rows(min_row=4):
            for cell in row:
                if cell.data_type == "f":
                    cell.value = Translator(cell.value, cell_ref(cell.row - 2, cell.column)).translate_formula(
                        cell.coordinate)
        tasks.tables["Tasks"].ref = "A3:N1003"
        tasks["A1"] = "Plan, as agreed with the sponsor"
        tasks.merge_cells("A1:E1")

    source = old_workbook(tmp_path / "titled.xlsx", titles)
    (tmp_path / "out").mkdir()
    [written] = upgrade_files([source], output_dir=tmp_path / "out")

    before, after = located(report_of(source).findings), located(report_of(written.target).findings)
    assert [item for item in before if item[1] == "Tasks"][:3] == [
        ("column-renamed", "Tasks", "B3"), ("column-unknown", "Tasks", "O3"), ("finish-before-start", "Tasks", "E7")]
    assert [item for item in after if item[1] == "Tasks"] == [item for item in before if item[1] == "Tasks"]
    tasks = load_workbook(written.target)["Tasks"]
    assert tasks["A1"].value == "Plan, as agreed with the sponsor"
    assert [str(merged) for merged in tasks.merged_cells.ranges] == ["A1:E1"]
    assert tasks.freeze_panes == "B4"
    assert tasks["L4"].value == "=IF(OR(D4=\"\",E4=\"\"),\"\",NETWORKDAYS(D4,E4))"
    assert written.upgrade.notes == []  # every formula was the template's


def test_a_value_typed_over_a_formula_and_a_formula_of_their_own_are_kept(tmp_path: Path) -> None:
    def typed(workbook: Workbook) -> None:
        tasks = workbook["Tasks"]
        tasks["L3"] = 99  # Duration typed over
        tasks["G6"] = "=F6+7"  # a baseline finish computed from the finish
        tasks["B9"] = "=Phase 2 sign-off"
        tasks["B9"].data_type = "s"  # a task name typed with a leading '=', text and not a formula

    source = old_workbook(tmp_path / "typed.xlsx", typed)
    upgrade = prepare_upgrade(source)
    (tmp_path / "out").mkdir()
    [written] = upgrade_files([source], output_dir=tmp_path / "out")

    tasks = load_workbook(written.target)["Tasks"]
    assert (tasks["L3"].value, tasks["G6"].value) == (99, "=F6+7")
    assert (tasks["B9"].value, tasks["B9"].data_type) == ("=Phase 2 sign-off", "s")
    assert report_of(written.target).tables["tasks"].rows[7].values["task_name"] == "=Phase 2 sign-off"
    assert tasks["L4"].value == "=IF(OR(D4=\"\",E4=\"\"),\"\",NETWORKDAYS(D4,E4))"
    assert located(report_of(written.target).findings) == [
        *NEW_FINDINGS[:3], ("calculated-value-mismatch", "Tasks", "L3"), *NEW_FINDINGS[3:]]
    assert upgrade.notes == []


def test_the_workbook_s_own_settings_on_pmo_are_kept(tmp_path: Path) -> None:
    def decimal_comma(workbook: Workbook) -> None:
        workbook["_pmo"].append(("decimal_separator", ","))
        workbook["Budget"]["H3"] = "1.200,50"  # Budget, after their own column

    source = old_workbook(tmp_path / "comma.xlsx", decimal_comma)
    (tmp_path / "out").mkdir()
    [written] = upgrade_files([source], output_dir=tmp_path / "out")

    report = report_of(written.target)
    assert [row.values["budget"] for row in report.tables["budget"].rows if row.number == 3] == [1200.5]
    assert located(report.findings) == NEW_FINDINGS


@pytest.mark.soffice
def test_a_workbook_saved_by_a_spreadsheet_program_upgrades_and_recalculates_to_the_same_findings(
        tmp_path: Path) -> None:
    """Saved by LibreOffice, every formula shows a value; the upgrade keeps them, and recalculating agrees."""
    saved = recalculate(old_workbook(tmp_path / "made" / "PRJ-0004.xlsx"), tmp_path / "saved")
    before = report_of(saved)
    (tmp_path / "up").mkdir()
    [written] = upgrade_files([saved], output_dir=tmp_path / "up")
    durations = [row.values.get("duration_days") for row in before.tables["tasks"].rows]
    assert sum(1 for days in durations if days) >= 30  # LibreOffice computed them

    not_recalculated = report_of(written.target)
    recalculated = report_of(recalculate(written.target, tmp_path / "again"))

    expected = [written.upgrade.new_location(f.sheet, f.cell) for f in before.findings]
    for report in (not_recalculated, recalculated):
        assert [(f.sheet, f.cell) for f in report.findings] == expected
        assert [f.rule for f in report.findings] == [f.rule for f in before.findings]
        assert [row.values.get("duration_days") for row in report.tables["tasks"].rows] == durations
    assert recalculated.template_version == TEMPLATE_VERSION
    assert written.upgrade.notes == []  # the formulas LibreOffice saved are recognised as the template's


# ------------------------------------------------------------------ refusals and the command line

def one_line_refusal(result: Any) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_upgrade_in_place_keeps_the_original_as_a_backup(tmp_path: Path) -> None:
    source = old_workbook(tmp_path / "PRJ-0004.xlsx")
    source.chmod(0o640)
    original = source.read_bytes()

    result = pmo("upgrade", str(source), "--in-place", "--backup")

    assert result.exit_code == 0, result.output
    backup = tmp_path / "PRJ-0004.xlsx.v1.0.bak"
    assert backup.read_bytes() == original
    assert report_of(source).template_version == TEMPLATE_VERSION
    assert result.stdout.splitlines() == [
        f"upgraded {source} from template 1.0 to {TEMPLATE_VERSION} in place (the original is kept as {backup}); "
        "added the sheets Resources, RAID, Changes and Status; 5 errors and 4 warnings, as before",
        "  Budget: columns moved (yours now follow the template's): C to M, D to C, E to D, F to E, G to F, H to G, "
        "I to H, J to I, K to J, L to K, M to L"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["PRJ-0004.xlsx", "PRJ-0004.xlsx.v1.0.bak"]
    assert source.stat().st_mode & 0o777 == 0o640  # shared as the original was


def test_an_upgraded_copy_can_be_read_by_whoever_could_read_the_original(tmp_path: Path) -> None:
    source = old_workbook(tmp_path / "PRJ-0004.xlsx")
    source.chmod(0o644)
    (tmp_path / "out").mkdir()

    [written] = upgrade_files([source], output_dir=tmp_path / "out")

    assert written.target.stat().st_mode & 0o777 == 0o644


def test_upgrade_in_place_never_replaces_an_earlier_backup(tmp_path: Path) -> None:
    source = old_workbook(tmp_path / "PRJ-0004.xlsx")
    backup = tmp_path / "PRJ-0004.xlsx.v1.0.bak"
    backup.write_bytes(b"last week's")
    original = source.read_bytes()

    assert one_line_refusal(pmo("upgrade", str(source), "--in-place", "--backup")) == (
        f"pmo upgrade: {backup} already exists; move it away to keep a new backup")
    assert (source.read_bytes(), backup.read_bytes()) == (original, b"last week's")


def test_upgrade_refuses_what_it_must_not_touch(tmp_path: Path) -> None:
    old = old_workbook(tmp_path / "old.xlsx")
    current = new_workbook("project", "PRJ-0009", "Current", tmp_path / "current.xlsx")
    plain = tmp_path / "plain.xlsx"
    Workbook().save(plain)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.xlsx").write_bytes(b"someone else's")
    url = "https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdef/edit"
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}

    assert one_line_refusal(pmo("upgrade", str(plain), "-o", str(tmp_path))) == (
        f"pmo upgrade: {plain}: this workbook is not a pmo-sheets template (no _pmo sheet and none of the sheets "
        "Project, Tasks, Budget, Risks); start from 'pmo new'")
    assert one_line_refusal(pmo("upgrade", str(current), "-o", str(tmp_path / "out"))) == (
        f"pmo upgrade: {current}: already at template version {TEMPLATE_VERSION}, the current one; nothing to upgrade")
    assert one_line_refusal(pmo("upgrade", url, "-o", str(tmp_path))).startswith(
        f"pmo upgrade: {url}: a Google Sheet; pmo upgrade works on .xlsx files: download it (File > Download > "
        "Microsoft Excel), run pmo upgrade on the .xlsx, then bring it back with File > Import")
    assert one_line_refusal(pmo("upgrade", str(old))) == (
        "pmo upgrade: say where the upgraded workbooks go: -o DIR, or --in-place to replace them "
        "(with --backup to keep the originals)")
    assert one_line_refusal(pmo("upgrade", str(old), "-o", str(tmp_path / "out"))) == (
        f"pmo upgrade: {tmp_path / 'out' / 'old.xlsx'} already exists; pmo upgrade never replaces a file "
        "(choose another folder, or --in-place to upgrade the source itself)")
    assert one_line_refusal(pmo("upgrade", str(old), "-o", str(tmp_path / "nowhere"))) == (
        f"pmo upgrade: -o {tmp_path / 'nowhere'}: no such folder; create it first")
    assert one_line_refusal(pmo("upgrade", str(old), "--backup", "-o", str(tmp_path / "out"))).endswith(
        "--backup goes with --in-place (with -o DIR the originals are left as they are)")
    # one refused file among good ones: nothing at all is written
    assert one_line_refusal(pmo("upgrade", str(old), str(current), "--in-place")).endswith("nothing to upgrade")
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before


def test_a_sheet_of_their_own_named_like_a_new_template_sheet_is_refused(tmp_path: Path) -> None:
    source = old_workbook(tmp_path / "mine.xlsx", lambda workbook: workbook.create_sheet("Status"))
    with pytest.raises(UpgradeRefused, match=r"your sheet 'Status' has the name of a sheet template 2\.0 adds; "
                                             r"rename it"):
        prepare_upgrade(source)


def test_a_table_without_a_recognisable_header_is_refused(tmp_path: Path) -> None:
    def scrambled(workbook: Workbook) -> None:
        for col in range(1, 17):
            workbook["Risks"].cell(1, col).value = f"col {col}"

    source = old_workbook(tmp_path / "noheader.xlsx", scrambled)
    with pytest.raises(UpgradeRefused, match="sheet 'Risks' has no header row that pmo-sheets recognises"):
        prepare_upgrade(source)


def test_dates_typed_in_a_date_column_stay_dates(tmp_path: Path) -> None:
    def typed(workbook: Workbook) -> None:
        workbook["Risks"]["I2"] = dt.datetime(2026, 5, 4)

    source = old_workbook(tmp_path / "dates.xlsx", typed)
    (tmp_path / "out").mkdir()
    [written] = upgrade_files([source], output_dir=tmp_path / "out")
    assert report_of(written.target).tables["risks"].rows[0].values.get("due_date") == \
        report_of(source).tables["risks"].rows[0].values.get("due_date")


def test_readme_upgrade_example_is_what_pmo_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = re.search(r"<!-- README-EXAMPLE: upgrade -->\n```\n\$ (.*?)\n(.*?)```\n", readme, re.S)
    assert block, "README's upgrade example not found"
    command, expected = block.groups()
    sample = sample_project(42)
    sample.project["project_name"] = "New CRM"
    plant_mistakes(sample)
    monkeypatch.chdir(tmp_path)
    fill_workbook(sample, "project", "1.0").save("PRJ-0042.xlsx")

    result = pmo(*command.split()[1:])

    assert (result.exit_code, result.stdout) == (0, expected)
    assert report_of(tmp_path / "PRJ-0042.xlsx.v1.0.bak").template_version == "1.0"


def test_a_column_and_a_sheet_they_deleted_stay_deleted_and_reported(tmp_path: Path) -> None:
    def deleted(workbook: Workbook) -> None:
        workbook["Tasks"].delete_cols(11)  # Predecessors; the formula columns after it refer to D, E and G
        workbook["Tasks"].tables["Tasks"].ref = "A1:M1001"
        workbook.remove(workbook["Risks"])

    source = old_workbook(tmp_path / "deleted.xlsx", deleted)
    (tmp_path / "out").mkdir()
    [written] = upgrade_files([source], output_dir=tmp_path / "out")

    assert located(report_of(source).findings)[:5] == [
        ("column-unknown", "Project", "A17"), ("column-missing", "Tasks", None), ("column-renamed", "Tasks", "B1"),
        ("column-unknown", "Tasks", "N1"), ("finish-before-start", "Tasks", "E5")]
    assert located(report_of(written.target).findings) == [
        ("column-unknown", "Project", "A17"), ("column-missing", "Tasks", None), ("column-renamed", "Tasks", "B1"),
        ("column-unknown", "Tasks", "O1"), ("finish-before-start", "Tasks", "E5"), ("type-invalid", "Tasks", "H8"),
        ("column-unknown", "Budget", "M1"), ("currency-mismatch", "Budget", "F4"), ("sheet-missing", "Risks", None)]
    book = load_workbook(written.target)
    assert "Risks" not in book.sheetnames
    assert (book["Tasks"]["K1"].value, book["Tasks"]["K2"].value, book["Tasks"]["O1"].value) == (None, None, "PM notes")
    assert written.upgrade.notes == [  # and the formula columns were the template's, only further left
        "Tasks: 'Predecessors' left out as in the original (still reported missing); the sheet is not an Excel "
        "table (filter buttons, banding) until they are back"]
    assert book["Tasks"].tables == {} and book["Budget"].tables["Budget"].ref == "A1:L1001"


def test_a_workbook_that_lost_its_metadata_gets_it_back_and_nothing_else_changes(tmp_path: Path) -> None:
    source = old_workbook(tmp_path / "lost.xlsx", lambda workbook: workbook.remove(workbook["_pmo"]))
    (tmp_path / "out").mkdir()
    [written] = upgrade_files([source], output_dir=tmp_path / "out")

    before, after = report_of(source), report_of(written.target)
    assert located(before.findings) == [("template-metadata-missing", None, None), *OLD_FINDINGS]
    assert (after.template_version, located(after.findings)) == (TEMPLATE_VERSION, NEW_FINDINGS)


def test_the_add_in_offers_upgrade_and_its_button_opens_an_upgraded_copy(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import xlwings as xw

    from pmo_sheets.addin import desktop, validate

    source = old_workbook(tmp_path / "PRJ-0004.xlsx")
    summary, _ = press(source, validate)
    offer = ("This workbook is template 1.0; the current one is 2.0. Upgrade (desktop Excel) makes an upgraded copy "
             "beside it, or your PMO runs: pmo upgrade FILE -o FOLDER. Every value you typed is kept.")
    assert summary.upgrade == offer
    assert load_workbook(source)["Issues"]["A2"].value.endswith(offer)

    book = AdapterBook(source)  # Excel, pressing Upgrade in the validated workbook
    monkeypatch.setattr(xw.Book, "caller", lambda: book)
    message = desktop.upgrade_caller()

    target = tmp_path / "PRJ-0004 (template 2.0).xlsx"
    assert message == (f"Upgraded from template 1.0 to 2.0: {target} (now open). Every value you typed is in it, and "
                       "Validate finds the same problems there.")
    assert (book.app.alerts, book.app.books.opened) == ([message], [str(target)])
    assert located(report_of(target).findings) == NEW_FINDINGS
    # the last Validate's Issues sheet and highlights are not carried: the next Validate makes them again
    assert load_workbook(target).sheetnames[-1] == "Meeting notes"
    assert press(target, validate)[0].upgrade is None

    assert desktop.upgrade_caller() == (f"Not upgraded: {target} already exists; pmo upgrade never replaces a file "
                                        "(choose another folder, or --in-place to upgrade the source itself)")


def test_conditional_formats_of_their_own_sheets_are_kept_and_on_template_sheets_are_named(tmp_path: Path) -> None:
    def highlight(workbook: Workbook) -> None:
        agreed = CellIsRule(operator="equal", formula=['"Agreed"'], fill=PatternFill("solid", bgColor="C6EFCE"))
        workbook["Meeting notes"].conditional_formatting.add("C1:C20", agreed)
        late = FormulaRule(formula=["AND($E2<>\"\",$E2<TODAY())"], fill=PatternFill("solid", bgColor="FFC7CE"))
        workbook["Tasks"].conditional_formatting.add("A2:N41", late)

    source = old_workbook(tmp_path / "PRJ-0004.xlsx", highlight)
    (tmp_path / "out").mkdir()

    assert one_line_refusal(pmo("upgrade", str(source), "--in-place")) == (
        f"pmo upgrade: {source}: its own conditional formats on Tasks cannot be carried over; add --backup to keep "
        "the original beside it, or write the upgrade elsewhere with -o DIR")
    result = pmo("upgrade", str(source), "-o", str(tmp_path / "out"))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "  not carried over: own conditional formats on Tasks"
    book = load_workbook(tmp_path / "out" / "PRJ-0004.xlsx")
    [(cells, [rule])] = [(str(cf.sqref), cf.rules) for cf in book["Meeting notes"].conditional_formatting]
    assert (cells, rule.operator, rule.formula, rule.dxf.fill.bgColor.rgb) == ("C1:C20", "equal", ['"Agreed"'],
                                                                              "00C6EFCE")
    # the template's own RAG colours on the Project and Risks sheets are not counted as the PM's
    assert prepare_upgrade(old_workbook(tmp_path / "plain.xlsx")).dropped == []


def test_a_workbook_with_macros_gives_an_xlsx_without_them(tmp_path: Path) -> None:
    made = old_workbook(tmp_path / "made.xlsx")
    with zipfile.ZipFile(made) as original, zipfile.ZipFile(tmp_path / "PRJ-0004.xlsm", "w") as xlsm:
        for item in original.infolist():
            xlsm.writestr(item, original.read(item))
        xlsm.writestr("xl/vbaProject.bin", b"VBA")
    (tmp_path / "out").mkdir()

    assert one_line_refusal(pmo("upgrade", str(tmp_path / "PRJ-0004.xlsm"), "--in-place", "--backup")) == (
        f"pmo upgrade: {tmp_path / 'PRJ-0004.xlsm'}: only an .xlsx is upgraded in place (the upgrade is an .xlsx, "
        "without macros); write it elsewhere with -o DIR")
    result = pmo("upgrade", str(tmp_path / "PRJ-0004.xlsm"), "-o", str(tmp_path / "out"))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "  not carried over: macros"
    assert located(report_of(tmp_path / "out" / "PRJ-0004.xlsx").findings) == NEW_FINDINGS
