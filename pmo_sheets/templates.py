"""Generate the workbook templates from the schemas, and check the checked-in ones have not drifted.

A project manager gets: an Instructions sheet; the Project sheet as a form; one sheet per table with
a styled, frozen header row, an Excel table, dropdowns from a Lists sheet, date / currency / percent
formats, input prompts, and formula columns filled in (greyed) so nobody types a score or a variance.
The template name and version sit on a hidden ``_pmo`` sheet, which survives Google Sheets and
LibreOffice round trips (custom document properties do not).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
import zipfile
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from pmo_sheets.cells import cell_ref, column_letter, quote_sheet
from pmo_sheets.coerce import date_to_serial
from pmo_sheets.ratings import RATINGS
from pmo_sheets.schemas import (
    INSTRUCTIONS_SHEET,
    KIND_TITLES,
    KINDS,
    LISTS_SHEET,
    METADATA_SHEET,
    SUPPORTED_VERSIONS,
    TEMPLATE_VERSION,
    ColumnSpec,
    TableSpec,
    load_tables,
    tables_in,
)
from pmo_sheets.settings import DEFAULT_SETTINGS, ValidationSettings
from pmo_sheets.sources import UsageError
from pmo_sheets.webextension import WEBEXTENSION_PART

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
LABEL_FILL = PatternFill("solid", fgColor="DDEBF7")
CALCULATED_FILL = PatternFill("solid", fgColor="F2F2F2")
CALCULATED_FONT = Font(italic=True, color="595959")
THIN = Side(style="thin", color="BFBFBF")
RAG_FILLS = {"Green": "C6EFCE", "Amber": "FFEB9C", "Red": "FFC7CE", "Low": "C6EFCE", "Medium": "FFEB9C",
             "High": "FFC7CE"}
#: Fixed so that regenerating an unchanged template gives identical bytes.
TEMPLATE_TIMESTAMP = dt.datetime(2026, 1, 1)


#: The sub-folder of the templates that carry the xlwings Lite add-in (its Validate, Clear, New project).
ADDIN_FOLDER = "with-addin"


def template_path(kind: str, directory: Path | None = None, *, addin: bool = False) -> Path:
    """Where the checked-in template of a kind lives; ``addin``: the one that carries the Lite add-in."""
    directory = directory or default_template_dir()
    return (directory / ADDIN_FOLDER if addin else directory) / f"{kind}.xlsx"


def default_template_dir() -> Path:
    bundled = Path(__file__).parent / "_templates"
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parent.parent / "workbook_templates"


def formula_for(spec: TableSpec, column: ColumnSpec, row: int) -> str | None:
    """The Excel formula of a calculated column in one row, with ``{field}`` placeholders resolved."""
    text = column.formula or (RATINGS[column.rating].formula if column.rating else None)
    if text is None:
        return None
    cells = {col.name: cell_ref(row, col.position) for col in spec.columns}
    return "=" + text.format(**cells)


class _Lists:
    """The Lists sheet: one column per dropdown list, shared by every sheet that needs it."""

    def __init__(self, sheet: Worksheet):
        self.sheet = sheet
        self.ranges: dict[tuple[Any, ...], str] = {}

    def range_for(self, column: ColumnSpec) -> str:
        values = tuple(column.enum or ())
        if values not in self.ranges:
            col = len(self.ranges) + 1
            self.sheet.cell(1, col, column.list_name or column.title).font = Font(bold=True)
            for row, value in enumerate(values, start=2):
                self.sheet.cell(row, col, value)
            letter = column_letter(col)
            self.ranges[values] = f"{quote_sheet(LISTS_SHEET)}!${letter}$2:${letter}${len(values) + 1}"
            self.sheet.column_dimensions[letter].width = max(12, len(column.list_name or column.title) + 2)
        return self.ranges[values]


def _validation_for(column: ColumnSpec, lists: _Lists) -> DataValidation | None:
    schema = column.schema
    if column.calculated:
        return None
    if column.enum is not None:
        dv = DataValidation(type="list", formula1=lists.range_for(column), allow_blank=True)
        dv.error = f"Pick {column.title} from the list."
    elif column.kind == "date":
        earliest, latest = DEFAULT_SETTINGS.earliest_date, DEFAULT_SETTINGS.latest_date
        dv = DataValidation(type="date", operator="between", formula1=str(date_to_serial(earliest)),
                            formula2=str(date_to_serial(latest)), allow_blank=True)
        dv.error = f"{column.title} must be a date from {earliest} to {latest}, such as 2026-03-31."
    elif column.kind in ("number", "integer"):
        low, high = schema.get("minimum"), schema.get("maximum")
        kind = "whole" if column.kind == "integer" else "decimal"
        if low is not None and high is not None:
            dv = DataValidation(type=kind, operator="between", formula1=str(low), formula2=str(high), allow_blank=True)
        elif low is not None:
            dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=str(low), allow_blank=True)
        else:
            return None
        shown = (lambda v: f"{v:.0%}") if (column.number_format or "").endswith("%") else (lambda v: f"{v:,}")
        dv.error = f"{column.title} must be a number" + (
            f" from {shown(low)} to {shown(high)}." if high is not None else f" of at least {low}.")
    else:
        return None
    dv.errorTitle = column.title
    dv.showErrorMessage = True
    dv.promptTitle = column.title[:32]
    dv.prompt = column.description[:250]
    dv.showInputMessage = True
    return dv


def _write_metadata(workbook: Workbook, kind: str, specs: list[TableSpec], version: str) -> None:
    sheet = workbook.create_sheet(METADATA_SHEET)
    rows = [("template", kind), ("version", version), ("generator", "pmo-sheets"),
            ("tables", ", ".join(spec.name for spec in specs))]
    for row in rows:
        sheet.append(row)
    sheet.sheet_state = "hidden"


def _write_instructions(sheet: Worksheet, kind: str, specs: list[TableSpec], version: str) -> None:
    sheet["A1"] = KIND_TITLES[kind]
    sheet["A1"].font = Font(bold=True, size=16, color="1F4E78")
    sheet["A2"] = f"pmo-sheets template '{kind}', version {version}"
    sheet["A2"].font = Font(italic=True, color="595959")
    steps = [
        "How to fill in this workbook",
        "1. On the Project sheet, fill in every field in column B (bold labels are required).",
        *(f"{i}. {spec.sheet}: one row per {spec.description[8:].split(':')[0].rstrip('.').lower()}"
          if spec.description.startswith("One row per") else f"{i}. {spec.sheet}: {spec.description}"
          for i, spec in enumerate((s for s in specs if s.layout != "form"), start=2)),
        "Pick values from the dropdowns; type dates as dates (2026-03-31) and percentages as 50%.",
        "Grey columns are calculated: do not type in them.",
        "Do not rename sheets or column headers: pmo-sheets finds your data by them.",
        "Check your work with the pmo-sheets add-in (Validate) or 'pmo validate FILE'.",
    ]
    for row, text in enumerate(steps, start=4):
        sheet.cell(row, 1, text).font = Font(bold=row == 4)
    start = len(steps) + 5
    for col, header in enumerate(("Sheet", "Column", "Required", "What to enter"), start=1):
        cell = sheet.cell(start, col, header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    row = start + 1
    for spec in specs:
        for column in spec.columns:
            required = "calculated" if column.calculated else ("yes" if column.name in spec.required else "")
            for col, value in enumerate((spec.sheet, column.title, required, column.description), start=1):
                sheet.cell(row, col, value)
            row += 1
    for letter, width in zip("ABCD", (12, 22, 11, 90), strict=True):
        sheet.column_dimensions[letter].width = width


def _write_form(sheet: Worksheet, spec: TableSpec, lists: _Lists) -> None:
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = spec.width
    sheet.column_dimensions["C"].width = 70
    for column in spec.columns:
        row = column.position
        label = sheet.cell(row, 1, column.title)
        label.fill, label.border = LABEL_FILL, Border(bottom=THIN)
        label.font = Font(bold=column.name in spec.required)
        value = sheet.cell(row, 2)
        value.border = Border(bottom=THIN, left=THIN, right=THIN)
        if column.number_format:
            value.number_format = column.number_format
        value.alignment = Alignment(horizontal="left")
        note = sheet.cell(row, 3, column.description)
        note.font = Font(italic=True, color="808080")
        validation = _validation_for(column, lists)
        if validation is not None:
            validation.add(value.coordinate)
            sheet.add_data_validation(validation)
        if column.name == "rag":
            _add_rag_colours(sheet, value.coordinate, column)


def _add_rag_colours(sheet: Worksheet, ref: str, column: ColumnSpec) -> None:
    for value in column.enum or ():
        if value in RAG_FILLS:
            sheet.conditional_formatting.add(ref, CellIsRule(operator="equal", formula=[f'"{value}"'],
                                                             fill=PatternFill("solid", bgColor=RAG_FILLS[value])))


def _write_table(sheet: Worksheet, spec: TableSpec, lists: _Lists, layout: TableLayout | None = None) -> None:
    header_row, rows = (layout.header_row, layout.rows) if layout is not None else (1, spec.rows)
    last_row = header_row + rows
    for column in spec.columns:
        letter = column_letter(column.position)
        header = sheet.cell(header_row, column.position, column.title)
        header.font, header.fill = HEADER_FONT, HEADER_FILL
        header.alignment = Alignment(wrap_text=True, vertical="center")
        if column.calculated:
            header.comment = Comment(f"Calculated: {column.description}", "pmo-sheets")
        sheet.column_dimensions[letter].width = column.width
        body = f"{letter}{header_row + 1}:{letter}{last_row}"
        validation = _validation_for(column, lists)
        if validation is not None:
            validation.add(body)
            sheet.add_data_validation(validation)
        first = sheet.cell(header_row + 1, column.position)
        if column.number_format:
            first.number_format = column.number_format
        if column.calculated:
            first.fill, first.font = CALCULATED_FILL, CALCULATED_FONT
        for row in range(header_row + 1, last_row + 1):
            cell = sheet.cell(row, column.position)
            cell._style = copy(first._style)  # one style for the column; setting it cell by cell is slow
            if column.calculated:
                cell.value = formula_for(spec, column, row)
        if column.enum and set(column.enum) & set(RAG_FILLS):
            _add_rag_colours(sheet, body, column)
    sheet.freeze_panes = f"B{header_row + 1}"
    sheet.row_dimensions[header_row].height = 30
    ref = f"A{header_row}:{column_letter(len(spec.columns))}{last_row}"
    table = Table(displayName=spec.sheet, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    sheet.add_table(table)


@dataclass(frozen=True)
class TableLayout:
    """Where a table sheet's header sits and how many rows below it are formatted (``pmo upgrade``
    keeps a workbook's header on its row, so that every finding keeps its cell, and formats every
    row that holds data)."""

    header_row: int = 1
    rows: int = 1000


def build_template(kind: str, version: str = TEMPLATE_VERSION, *,
                   layouts: dict[str, TableLayout] | None = None) -> Workbook:
    """The template workbook of one kind, built from the schemas.

    ``version``: an earlier template version (its sheets only, its version on the ``_pmo`` sheet), which
    the tests and ``pmo upgrade`` use to stand for the workbooks made before; the layout of the sheets
    it has is the current one (1.x changed rules, not columns). ``layouts``: by table name, a header
    row and row count other than the template's (header on row 1, ``x-rows`` rows).
    """
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unknown template version {version!r}")
    specs = tables_in(kind, version)
    workbook = Workbook()
    instructions = workbook.active
    instructions.title = INSTRUCTIONS_SHEET
    sheets = {spec.name: workbook.create_sheet(spec.sheet) for spec in specs}
    lists_sheet = workbook.create_sheet(LISTS_SHEET)
    lists = _Lists(lists_sheet)
    for spec in specs:
        if spec.layout == "form":
            _write_form(sheets[spec.name], spec, lists)
        else:
            _write_table(sheets[spec.name], spec, lists, (layouts or {}).get(spec.name))
    lists_sheet.sheet_state = "hidden"
    _write_instructions(instructions, kind, specs, version)
    _write_metadata(workbook, kind, specs, version)
    workbook.active = 1  # open on the Project sheet
    workbook.properties.creator = "pmo-sheets"
    workbook.properties.title = KIND_TITLES[kind]
    workbook.properties.created = TEMPLATE_TIMESTAMP
    workbook.properties.modified = TEMPLATE_TIMESTAMP
    return workbook


def template_bytes(kind: str, *, addin: bool = False) -> bytes:
    """The template as the bytes of an .xlsx file: the same bytes every time for the same schemas.

    ``addin``: the template also carries the xlwings Lite add-in and its code (the same workbook id in
    every copy of the template; ``pmo new --addin`` gives each new workbook its own).
    """
    buffer = io.BytesIO()
    build_template(kind).save(buffer)
    data = buffer.getvalue()
    if addin:
        from pmo_sheets.addin.bundle import with_lite_scripts

        data = with_lite_scripts(data, workbook_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"pmo-sheets/template/{kind}")))
    return _without_save_times(data)


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _without_save_times(data: bytes) -> bytes:
    """The same .xlsx with the save time (zip entry dates, core.xml's modified) set to TEMPLATE_TIMESTAMP.

    openpyxl stamps both with the current time on every save, so regenerated templates would show up in
    ``git status`` as changed binaries although nothing in them changed.
    """
    stamp = TEMPLATE_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            target.writestr(zipfile.ZipInfo(info.filename, TEMPLATE_TIMESTAMP.timetuple()[:6]), content,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def write_templates(directory: Path | None = None) -> list[Path]:
    """Regenerate every template into ``directory`` (``workbook_templates/`` by default)."""
    directory = directory or default_template_dir()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for addin in (False, True):
        for kind in KINDS:
            path = template_path(kind, directory, addin=addin)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(template_bytes(kind, addin=addin))
            written.append(path)
    return written


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        # core.xml holds save timestamps that openpyxl refreshes on every save
        return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}


def check_templates(directory: Path | None = None) -> list[str]:
    """What differs between the checked-in templates and the schemas; empty when they match."""
    directory = directory or default_template_dir()
    problems = []
    for addin, kind in ((addin, kind) for addin in (False, True) for kind in KINDS):
        path = template_path(kind, directory, addin=addin)
        if not path.exists():
            problems.append(f"{path}: missing; run 'pmo templates'")
            continue
        try:
            actual = _parts(path.read_bytes())
        except (OSError, zipfile.BadZipFile) as exc:
            problems.append(f"{path}: cannot be read as a workbook ({getattr(exc, 'strerror', None) or exc}); "
                            "run 'pmo templates' to regenerate")
            continue
        expected = _parts(template_bytes(kind, addin=addin))
        differing = sorted(name for name in expected.keys() | actual.keys() if expected.get(name) != actual.get(name))
        if differing:
            problems.append(f"{path}: differs from the schemas in {_describe_parts(path, differing)}; "
                            "run 'pmo templates' to regenerate")
    return problems


def _describe_parts(path: Path, parts: list[str]) -> str:
    """Name differing worksheet parts by their sheet names, which mean something to a reader."""
    try:
        workbook = load_workbook(path, read_only=True)
        names = workbook.sheetnames
        workbook.close()
    except Exception:
        names = []
    described = []
    for part in parts:
        if part.startswith("xl/worksheets/sheet") and part.endswith(".xml"):
            index = int(part.removeprefix("xl/worksheets/sheet").removesuffix(".xml")) - 1
            described.append(f"sheet '{names[index]}'" if 0 <= index < len(names) else part)
        elif part == WEBEXTENSION_PART:
            described.append("the add-in's code (pmo-sheets changed since the template was made)")
        else:
            described.append(part)
    return ", ".join(described)


def new_workbook(kind: str, project_id: str, name: str, output: Path | None = None, *,
                 start: dt.date | str | None = None, finish: dt.date | str | None = None, addin: bool = False,
                 day_first: bool = True) -> Path:
    """A ready-to-fill workbook: the template with the Project sheet's ID, name and dates filled in.

    What it is given is checked first, as the validator would check it (see :func:`project_fields`),
    and so is ``output`` (see :func:`check_new_output`; default ``ID-KIND.xlsx``): any problem is a
    :class:`~pmo_sheets.sources.UsageError` and nothing is written. An existing file is never replaced
    and no folder is created. ``addin``: the workbook carries the xlwings Lite add-in (Validate, Clear,
    New project) and its code.
    """
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    fields = project_fields(project_id=project_id, name=name, start=start, finish=finish, day_first=day_first)
    output = output if output is not None else Path(f"{fields['project_id']}-{kind}.xlsx")
    check_new_output(output)
    source = template_path(kind)
    workbook = load_workbook(source) if source.exists() else build_template(kind)
    stamp_project(workbook, **fields)
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()
    if addin:
        from pmo_sheets.addin.bundle import with_lite_scripts

        content = with_lite_scripts(content)  # openpyxl drops add-in parts on load, so they are added after the save
    _write_new_file(output, content)
    return output


def project_fields(*, project_id: str, name: str, start: dt.date | str | None = None,
                   finish: dt.date | str | None = None, day_first: bool = True) -> dict[str, Any]:
    """The Project sheet's ID, name and dates as the validator will read them from the new workbook.

    Each value goes through the same coercion and JSON Schema check as a filled-in cell, and the dates
    through the finish-after-start rule, so that ``pmo new`` never writes a workbook that ``pmo validate``
    then flags for what ``pmo new`` was given. Dates are accepted in every form a date cell accepts
    (``2026-03-31``, ``31/03/2026``, ``31 Mar 2026``). Raises :class:`~pmo_sheets.sources.UsageError`
    listing the validator's own messages; returns the values to stamp (dates as :class:`datetime.date`).
    """
    from pmo_sheets.coerce import Coercer, is_blank
    from pmo_sheets.records import Row, TableRecords
    from pmo_sheets.validate import check_schema

    spec = load_tables()["project"]
    given = {"project_id": project_id, "project_name": name, "start_date": start, "finish_date": finish}
    values = {field: Coercer(spec.column(field).schema, day_first=day_first)(raw)
              for field, raw in given.items() if not is_blank(raw)}
    # Dates not given stay blank for the project manager to fill in: only what is stamped is checked.
    checked = [field for field in given if field in values or not field.endswith("_date")]
    records = TableRecords(spec, spec.sheet, [Row(0, values)], {field: spec.column(field).position for field in checked})
    settings = ValidationSettings(day_first=day_first)  # the plausible date window is the validator's own
    problems = [item.message for item in check_schema(records, settings=settings)]  # rejected values leave the record
    row = records.rows[0].values
    if "start_date" in row and "finish_date" in row and row["finish_date"] < row["start_date"]:  # ISO dates sort as text
        problems.append(f"{spec.column('finish_date').title} {row['finish_date']} is before "
                        f"{spec.column('start_date').title} {row['start_date']}")
    if problems:
        raise UsageError("; ".join(problems))
    return {field: dt.date.fromisoformat(value) if field.endswith("_date") else value for field, value in row.items()}


def check_new_output(output: Path) -> None:
    """Refuse an output path ``pmo new`` cannot or must not write: raises :class:`~pmo_sheets.sources.UsageError`.

    The file must be an ``.xlsx`` (the templates carry no macros, and Excel refuses an .xlsx body under
    another extension), must not exist, and its folder must: a mistyped folder is reported, not created.
    """
    try:
        if output.is_dir():
            raise UsageError(f"{output} is a folder; give the workbook's file name, ending in .xlsx")
        if output.suffix.lower() != ".xlsx":
            raise UsageError(f"{output}: a workbook's file name must end in .xlsx")
        if output.exists() or output.is_symlink():
            raise UsageError(f"{output} already exists; choose another name")
        folder = output.parent
        if not folder.exists():
            raise UsageError(f"folder {folder} does not exist; create it first, or choose another")
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder")
    except OSError as exc:  # a name too long for the file system, a folder we may not look into
        raise UsageError(f"cannot write {output} ({exc.strerror or exc})") from None


def _write_new_file(output: Path, content: bytes) -> None:
    """Create ``output`` with ``content``, never replacing a file; a failed write leaves no partial file."""
    created = False
    try:
        with open(output, "xb") as handle:  # "x": a file that appeared since the checks is not overwritten
            created = True
            handle.write(content)
    except FileExistsError:
        raise UsageError(f"{output} already exists; choose another name") from None
    except OSError as exc:
        if created:
            output.unlink(missing_ok=True)
        raise UsageError(f"cannot write {output} ({exc.strerror or exc})") from None


def stamp_project(workbook: Workbook, **values: Any) -> None:
    """Fill fields of the Project sheet of an openpyxl workbook; None values are left as they are."""
    spec = load_tables()["project"]
    sheet = workbook[spec.sheet]
    for name, value in values.items():
        if value is not None:
            cell = sheet.cell(spec.column(name).position, 2, value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # a name such as "=Phase 2" is text as typed, not a formula
