"""The schemas are valid JSON Schema 2020-12; the templates follow from them and look the part in Excel."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from workbooks import located, pmo, report_of

from pmo_sheets.cells import column_letter
from pmo_sheets.findings import catalogue_markdown
from pmo_sheets.schemas import KINDS, LISTS_SHEET, METADATA_SHEET, TableSpec, load_tables, tables_in
from pmo_sheets.templates import formula_for, template_path, write_templates

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILES = sorted((ROOT / "schemas").glob("*.schema.json"))


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=[p.name for p in SCHEMA_FILES])
def test_every_schema_passes_the_2020_12_metaschema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_there_is_one_schema_per_table() -> None:
    assert [p.name for p in SCHEMA_FILES] == ["budget.schema.json", "changes.schema.json", "project.schema.json",
                                              "raid.schema.json", "resources.schema.json", "risks.schema.json",
                                              "status.schema.json", "tasks.schema.json"]
    assert list(load_tables()) == ["project", "tasks", "budget", "risks", "resources", "raid", "changes", "status"]


def test_each_template_version_has_its_own_tables() -> None:
    """A 1.x project workbook has four sheets of data; 2.0 adds Resources, RAID, Changes and Status."""
    old = ["project", "tasks", "budget", "risks"]
    assert [spec.name for spec in tables_in("project", "1.0")] == old
    assert [spec.name for spec in tables_in("project", "1.1")] == old
    assert [spec.name for spec in tables_in("project", "2.0")] == [*old, "resources", "raid", "changes", "status"]
    assert [spec.name for spec in tables_in("plan", "2.0")] == ["project", "tasks"]
    assert [spec.sheet for spec in tables_in("project", "2.0")][4:] == ["Resources", "RAID", "Changes", "Status"]


# --- the checked-in templates and the schemas cannot drift apart ----------------------------------------------------


@pytest.fixture
def fresh_schema_cache() -> Iterator[None]:
    """Table specs are cached; a test that points PMO_SCHEMA_DIR elsewhere must not leak them to the next test."""
    load_tables.cache_clear()
    yield
    load_tables.cache_clear()


def test_templates_check_passes_on_the_checked_in_templates() -> None:
    result = pmo("templates", "--check")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "templates match the schemas"


def test_templates_check_fails_naming_the_templates_a_changed_schema_affects(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_schema_cache: None) -> None:
    schemas = tmp_path / "schemas"
    shutil.copytree(ROOT / "schemas", schemas)
    tasks = json.loads((schemas / "tasks.schema.json").read_text(encoding="utf-8"))
    tasks["properties"]["task_name"]["title"] = "Task Title"
    (schemas / "tasks.schema.json").write_text(json.dumps(tasks, indent=2), encoding="utf-8")
    monkeypatch.setenv("PMO_SCHEMA_DIR", str(schemas))
    load_tables.cache_clear()

    result = pmo("templates", "--check")

    assert result.exit_code == 1
    problems = {str(Path(line.split(":")[0]).relative_to(template_path("plan").parent)): line
                for line in result.stderr.splitlines()}
    # the plain templates with a Tasks sheet, and every add-in template, whose code carries the schemas
    assert list(problems) == ["project.xlsx", "plan.xlsx"] + [f"with-addin/{kind}.xlsx" for kind in KINDS]
    assert all("run 'pmo templates'" in line for line in problems.values())
    assert [name for name, line in problems.items() if "sheet 'Tasks'" in line] == [
        "project.xlsx", "plan.xlsx", "with-addin/project.xlsx", "with-addin/plan.xlsx"]
    assert all("the add-in's code" in line for name, line in problems.items() if name.startswith("with-addin/"))


def test_templates_check_fails_on_a_hand_edited_template(tmp_path: Path) -> None:
    directory = tmp_path / "templates"
    shutil.copytree(template_path("plan").parent, directory)
    workbook = load_workbook(directory / "risk_log.xlsx")
    workbook["Risks"]["M1"] = "State"
    workbook.save(directory / "risk_log.xlsx")

    result = pmo("templates", "--check", "--dir", str(directory))

    assert result.exit_code == 1
    [problem] = result.stderr.splitlines()
    assert problem.startswith(f"{directory / 'risk_log.xlsx'}: differs from the schemas in ")
    assert "sheet 'Risks'" in problem


def test_regenerating_the_templates_gives_the_checked_in_bytes(tmp_path: Path) -> None:
    """`pmo templates` on unchanged schemas leaves git with nothing to commit."""
    write_templates(tmp_path)

    for kind in KINDS:
        assert (tmp_path / f"{kind}.xlsx").read_bytes() == template_path(kind).read_bytes(), kind
        assert (tmp_path / "with-addin" / f"{kind}.xlsx").read_bytes() == template_path(kind, addin=True).read_bytes(), kind


# --- pmo new ---------------------------------------------------------------------------------------------------------

REQUIRED_PROJECT_CELLS = [("value-required", "Project", ref) for ref in ("B5", "B8", "B9", "B10", "B13")]
EMPTY_TABLES = {"project": ["Tasks", "Budget", "Risks"], "plan": ["Tasks"], "budget": ["Budget"], "risk_log": ["Risks"]}


@pytest.mark.parametrize("kind", list(KINDS))
def test_pmo_new_makes_a_workbook_that_only_asks_for_what_is_missing(kind: str, tmp_path: Path) -> None:
    target = tmp_path / "f.xlsx"

    result = pmo("new", kind, "--project-id", "PRJ-0042", "--name", "New CRM", "-o", str(target))

    assert result.exit_code == 0, result.stderr
    report = report_of(target)
    assert (report.template, report.template_version, report.project_id) == (kind, "2.0", "PRJ-0042")
    assert located(report.findings) == REQUIRED_PROJECT_CELLS + [("table-empty", s, None) for s in EMPTY_TABLES[kind]]
    assert report.tables["project"].rows[0].values["project_name"] == "New CRM"
    metadata = load_workbook(target)[METADATA_SHEET]
    assert (metadata["A1"].value, metadata["B1"].value, metadata["A2"].value, metadata["B2"].value) == (
        "template", kind, "version", "2.0")


def test_pmo_new_fills_the_dates_it_is_given(tmp_path: Path) -> None:
    target = tmp_path / "dated.xlsx"
    pmo("new", "plan", "--project-id", "PRJ-0042", "--name", "New CRM", "--start", "2026-03-02",
        "--finish", "2026-09-30", "-o", str(target))

    report = report_of(target)
    assert [cell for _, _, cell in located(report.findings)] == ["B5", "B10", "B13", None]
    values = report.tables["project"].rows[0].values
    assert (values["start_date"], values["finish_date"]) == ("2026-03-02", "2026-09-30")


@pytest.mark.parametrize("args", [
    ["new", "portfolio", "--project-id", "PRJ-1", "--name", "X"],
    ["new", "plan", "--project-id", "PRJ-1", "--name", "X", "--start", "31/13/2026"],
    ["new", "plan", "--name", "X"],
], ids=["unknown-kind", "bad-date", "no-project-id"])
def test_pmo_new_refuses_a_bad_request_and_writes_nothing(args: list[str], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = pmo(*args)

    assert result.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_pmo_new_does_not_overwrite_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "mine.xlsx"
    target.write_bytes(b"precious")

    result = pmo("new", "plan", "--project-id", "PRJ-1", "--name", "X", "-o", str(target))

    assert result.exit_code == 2
    assert target.read_bytes() == b"precious"


# --- what a project manager sees in the templates ---------------------------------------------------------------


@cache
def template(kind: str) -> Workbook:
    """The checked-in template, loaded once (the tests only read it)."""
    return load_workbook(template_path(kind))


def table_specs(kind: str) -> list[TableSpec]:
    return [load_tables()[name] for name in KINDS[kind] if load_tables()[name].layout != "form"]


def list_values(workbook: object, formula: str) -> list[object]:
    """The values a list validation offers: ``Lists!$C$2:$C$7`` -> the cells of that range."""
    sheet_name, ref = formula.split("!")
    sheet: Worksheet = workbook[sheet_name.strip("'")]  # type: ignore[index]
    return [row[0].value for row in sheet[ref.replace("$", "")]]


@pytest.mark.parametrize("kind", list(KINDS))
def test_template_sheets_are_in_order_with_the_helpers_hidden(kind: str) -> None:
    workbook = template(kind)
    specs = [load_tables()[name] for name in KINDS[kind]]

    assert workbook.sheetnames == ["Instructions", *(s.sheet for s in specs), LISTS_SHEET, METADATA_SHEET]
    assert [workbook[name].sheet_state for name in workbook.sheetnames] == (
        ["visible"] * (len(specs) + 1) + ["hidden", "hidden"])
    assert workbook.active.title == "Project"
    assert "pmo validate" in " ".join(str(c.value) for c in workbook["Instructions"]["A"] if c.value)


@pytest.mark.parametrize("kind", list(KINDS))
def test_table_sheets_have_a_frozen_styled_header_and_one_excel_table(kind: str) -> None:
    workbook = template(kind)
    for spec in table_specs(kind):
        sheet = workbook[spec.sheet]
        last = column_letter(len(spec.columns))
        assert sheet.freeze_panes == "B2"
        assert [c.value for c in sheet[1]] == [c.title for c in spec.columns]
        assert all(c.font.bold and c.fill.fill_type == "solid" for c in sheet[1])
        [table] = sheet.tables.values()
        assert (table.displayName, table.ref) == (spec.sheet, f"A1:{last}{spec.rows + 1}")
        assert [c.name for c in table.tableColumns] == [c.title for c in spec.columns]


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_list_column_has_a_dropdown_offering_exactly_its_values(kind: str) -> None:
    workbook = template(kind)
    for spec in [load_tables()[name] for name in KINDS[kind]]:
        sheet = workbook[spec.sheet]
        lists = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation if dv.type == "list"}
        for column in spec.columns:
            if column.enum is None or column.calculated:
                continue
            letter = column_letter(column.position)
            where = f"B{column.position}" if spec.layout == "form" else f"{letter}2:{letter}{spec.rows + 1}"
            assert where in lists, f"{spec.sheet} {column.title}: no dropdown on {where}"
            assert list_values(workbook, lists[where].formula1) == list(column.enum)


@pytest.mark.parametrize("kind", list(KINDS))
def test_calculated_columns_hold_formulas_on_every_row(kind: str) -> None:
    workbook = template(kind)
    with_formulas = [spec.sheet for spec in table_specs(kind) if any(c.calculated for c in spec.columns)]
    assert with_formulas == [s for s in ("Tasks", "Budget", "Risks") if s in workbook.sheetnames]
    for spec in table_specs(kind):
        sheet = workbook[spec.sheet]
        calculated = [c for c in spec.columns if c.calculated]
        for column in calculated:
            for row in (2, 3, spec.rows + 1):
                assert sheet.cell(row, column.position).value == formula_for(spec, column, row)


def test_the_formulas_are_the_ones_a_reader_expects() -> None:
    tasks, budget, risks = (template("project")[name] for name in ("Tasks", "Budget", "Risks"))

    assert risks["H2"].value == '=IF(OR(F2="",G2=""),"",F2*G2)'
    assert risks["I7"].value == '=IF(H7="","",IF(H7>=15,"High",IF(H7>=8,"Medium","Low")))'
    assert tasks["L5"].value == '=IF(OR(D5="",E5=""),"",NETWORKDAYS(D5,E5))'
    assert budget["J2"].value == '=IF(AND(H2="",I2=""),"",N(H2)+N(I2))'
    assert budget["K2"].value == '=IF(J2="","",N(G2)-J2)'


@pytest.mark.parametrize("kind", list(KINDS))
def test_date_percent_and_money_columns_are_formatted(kind: str) -> None:
    workbook = template(kind)
    for spec in table_specs(kind):
        sheet = workbook[spec.sheet]
        for column in spec.columns:
            expected = column.number_format or "General"
            assert sheet.cell(2, column.position).number_format == expected, (spec.sheet, column.title)
    tasks = load_tables()["tasks"]
    assert tasks.column("start").number_format == "yyyy-mm-dd"
    assert tasks.column("percent_complete").number_format == "0%"
    assert load_tables()["budget"].column("budget").number_format == "#,##0.00"


def test_the_project_sheet_is_a_form_with_required_labels_in_bold() -> None:
    sheet = template("project")["Project"]
    spec = load_tables()["project"]

    assert [sheet.cell(c.position, 1).value for c in spec.columns] == [c.title for c in spec.columns]
    assert {c.name for c in spec.columns if sheet.cell(c.position, 1).font.bold} == set(spec.required)
    assert sheet["B8"].number_format == "yyyy-mm-dd"


# --- the rule catalogue page --------------------------------------------------------------------------------------


def test_docs_rules_md_is_the_catalogue() -> None:
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == catalogue_markdown()


def test_pmo_rules_prints_the_catalogue() -> None:
    assert pmo("rules").stdout == catalogue_markdown()
