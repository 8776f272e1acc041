"""Validate a workbook's grid: structure, every cell against the schema, then the cross-row rules.

The pure core of pmo-sheets: it imports neither xlwings nor gspread nor calamine, so the same code
runs in ``pmo validate``, in ``pmo sync`` and inside Excel through xlwings Lite.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema.exceptions import ValidationError

from pmo_sheets.cells import parse_cell
from pmo_sheets.coerce import SPREADSHEET_ERRORS, is_blank, plain_number, read_number_text
from pmo_sheets.findings import ERROR, FINDINGS_KEPT, WARNING, Finding, finding
from pmo_sheets.grid import Grid, SourceError
from pmo_sheets.records import TableRecords, read_records
from pmo_sheets.rules import RuleContext, expected_calculated, run_rules
from pmo_sheets.schema_check import error_fields, row_errors
from pmo_sheets.schemas import (
    KINDS,
    METADATA_SHEET,
    SUPPORTED_VERSIONS,
    TableSpec,
    kind_for_sheets,
    load_tables,
    tables_in,
    version_for_sheets,
)
from pmo_sheets.settings import DEFAULT_SETTINGS, ValidationSettings

_SEVERITY_ORDER = {ERROR: 0, WARNING: 1}
# When one cell breaks several keywords, report the one that tells the user most.
_KEYWORD_PRIORITY = ["required", "type", "format", "enum", "minimum", "maximum", "exclusiveMinimum",
                     "exclusiveMaximum", "pattern", "minLength", "maxLength"]


@dataclass
class WorkbookReport:
    """What validation found in one source, and the records it read.

    ``findings`` holds the first :data:`FINDINGS_KEPT` errors and warnings found; ``omitted`` counts the
    others by (severity, rule), so ``errors`` and ``warnings`` are always exact.
    """

    source: str
    template: str | None = None
    template_version: str | None = None
    project_id: str | None = None
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, TableRecords] = field(default_factory=dict)
    omitted: dict[tuple[str, str], int] = field(default_factory=dict)

    def keep(self, findings: Iterable[Finding], *, limit: int = FINDINGS_KEPT) -> None:
        """Add findings as they come, keeping the first ``limit`` of each severity and counting the rest."""
        kept = {ERROR: 0, WARNING: 0}
        for item in self.findings:
            kept[item.severity] = kept.get(item.severity, 0) + 1
        for item in findings:
            if kept.get(item.severity, 0) < limit:
                self.findings.append(item)
                kept[item.severity] = kept.get(item.severity, 0) + 1
            else:
                where = (item.severity, item.rule)
                self.omitted[where] = self.omitted.get(where, 0) + 1

    def _count(self, severity: str) -> int:
        return (sum(1 for f in self.findings if f.severity == severity)
                + sum(n for (level, _), n in self.omitted.items() if level == severity))

    @property
    def errors(self) -> int:
        return self._count(ERROR)

    @property
    def warnings(self) -> int:
        return self._count(WARNING)

    @property
    def omitted_by_rule(self) -> dict[str, int]:
        """How many findings of each rule are counted but not listed."""
        counts: dict[str, int] = {}
        for (_, rule), number in sorted(self.omitted.items()):
            counts[rule] = counts.get(rule, 0) + number
        return counts

    @property
    def valid(self) -> bool:
        return self.errors == 0

    @property
    def readable(self) -> bool:
        """False when the source could not be read as one of our workbooks at all."""
        return bool(self.tables)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``pmo validate --format json`` for one file."""
        return {
            "source": self.source,
            "template": self.template,
            "template_version": self.template_version,
            "project_id": self.project_id,
            "valid": self.valid,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [f.to_dict() for f in self.findings],
            **({"findings_omitted": self.omitted_by_rule} if self.omitted else {}),
        }


def failed_report(source: str, error: SourceError) -> WorkbookReport:
    """The report of a source that could not be read: one file-level finding."""
    return WorkbookReport(source, findings=[finding(error.code, None, None, error.message)])


def read_metadata(grid: Grid) -> dict[str, str]:
    """The key/value pairs of the hidden metadata sheet (template, version), if it is there."""
    sheet = grid.sheet(METADATA_SHEET)
    if sheet is None:
        return {}
    return {str(line[0]).strip(): _text(line[1]) for line in sheet.rows if len(line) >= 2 and not is_blank(line[0])}


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"  # a version "1.0" that a spreadsheet turned into the number 1
    return str(value).strip() if value is not None else ""


def validate_grid(grid: Grid, *, settings: ValidationSettings = DEFAULT_SETTINGS) -> WorkbookReport:
    """Every finding for one workbook, and its records for consolidation.

    ``settings`` say how dates and numbers were typed and which dates are plausible; a decimal mark
    the workbook declares in its ``_pmo`` metadata overrides the one in ``settings``.
    """
    try:
        return _validate_grid(grid, settings=settings)
    except SourceError as error:  # a sheet read lazily turned out to be damaged
        return failed_report(grid.source, error)


def _validate_grid(grid: Grid, *, settings: ValidationSettings) -> WorkbookReport:
    report = WorkbookReport(grid.source)
    metadata = read_metadata(grid)
    kind = metadata.get("template")
    if kind not in KINDS:
        guessed = kind_for_sheets(set(grid.sheets))
        if guessed is None:
            report.findings.append(finding(
                "not-a-template", None, None,
                "this workbook is not a pmo-sheets template (no _pmo sheet and none of the sheets "
                "Project, Tasks, Budget, Risks); start from 'pmo new'"))
            return report
        report.findings.append(finding("template-metadata-missing", None, None,
                                       f"template metadata not found; read as a '{guessed}' workbook from its sheets"))
        kind = guessed
    report.template = kind
    version = metadata.get("version") or None
    report.template_version = version
    if version is not None and version not in SUPPORTED_VERSIONS:
        report.findings.append(finding(
            "template-version-unknown", METADATA_SHEET, "B2",
            f"template version {version} is not known to this pmo-sheets (it knows {', '.join(SUPPORTED_VERSIONS)})"))
        return report

    settings = settings.for_workbook(metadata)
    # Each version is read with its own sheets: a 1.x workbook has no Resources, RAID, Changes or Status
    # sheet and is not missing them. Without metadata, the newest version whose sheets are all there.
    for spec in tables_in(kind, version or version_for_sheets(kind, set(grid.sheets))):
        table_name = spec.name
        sheet = grid.sheet(spec.sheet)
        if sheet is None:
            report.findings.append(finding("sheet-missing", spec.sheet, None,
                                           f"sheet '{spec.sheet}' ({spec.title.lower()}) is missing"))
            continue
        records, structure = read_records(spec, sheet, day_first=settings.day_first,
                                          decimal_comma=settings.decimal_comma)
        sheet.release()
        report.keep(structure)
        for code, count in records.doubts_omitted.items():
            report.omitted[(WARNING, code)] = report.omitted.get((WARNING, code), 0) + count
        report.keep(check_schema(records, settings=settings))
        if spec.layout != "form" and not spec.may_be_empty and not records.rows and records.positions:
            report.findings.append(finding("table-empty", sheet.name, None, f"{spec.title} has no rows yet"))
        report.tables[table_name] = records
    report.keep(run_rules(report.tables, RuleContext(today=settings.as_of,
                                                     reporting_cycle_months=settings.reporting_cycle_months)))
    project = report.tables.get("project")
    if project and project.rows:
        project_id = project.rows[0].values.get("project_id")
        report.project_id = str(project_id) if project_id is not None else None
    report.findings.sort(key=_finding_order)
    return report


def check_schema(records: TableRecords, *, settings: ValidationSettings = DEFAULT_SETTINGS) -> Iterator[Finding]:
    """Cell findings for every row that breaks the table's schema, row by row (a generator: consume it).

    Dates outside the plausible window of ``settings`` are rejected here too (a due date of
    9999-12-31 is a typo), like any other value the schema rejects.

    A value the schema rejects is removed from its record, so that the cross-row rules, and later
    the consolidation, only ever see values that passed; the row is then marked ``rejected``.

    Findings on calculated cells that are only consequences are left out: in a row whose input was
    rejected (an Actual of "lots" makes EAC, variance and budget RAG show errors), and where the cell
    shows exactly what its formula gives from the row's inputs (a finish before its start makes the
    duration negative; the finish is reported by its own rule). The user fixes the input, not the
    formula. A calculated cell that disagrees with its inputs was typed over and is always reported.
    """
    spec = records.spec
    rows = [row.values for row in records.rows]
    calculated = {column.name for column in spec.columns if column.calculated}
    dated = [column for column in spec.columns if column.kind == "date" and column.name in records.positions]
    earliest, latest = settings.earliest_date.isoformat(), settings.latest_date.isoformat()
    errors = row_errors(spec, rows)
    pending = next(errors, None)
    for index, row in enumerate(records.rows):
        by_field: dict[str, ValidationError] = {}
        while pending is not None and pending[0] == index:
            error = pending[1]
            for name in error_fields(error, row.values):
                current = by_field.get(name)
                if current is None or _priority(error) < _priority(current):
                    by_field[name] = error
            pending = next(errors, None)
        found: list[tuple[str, Any, Finding]] = []
        for name, error in by_field.items():
            if name not in spec.schema["properties"] or name not in records.positions:
                continue  # a missing column was reported once, as such
            value = row.values.get(name)
            found.append((name, value, _cell_finding(spec, records, row.number, name, error, value)))
        for column in dated:
            value = row.values.get(column.name)
            # ISO dates compare as text; only a value the schema accepted as a date is judged
            if column.name not in by_field and isinstance(value, str) and len(value) == 10 \
                    and not earliest <= value <= latest:
                found.append((column.name, value, finding(
                    "date-implausible", records.sheet, records.cell(row, column.name),
                    f"{column.title} {value} is outside the plausible window {earliest} to {latest}")))
        # A text column accepts any text, including a spreadsheet error shown in place of a value.
        for name, value in row.values.items():
            if isinstance(value, str) and value in SPREADSHEET_ERRORS and name not in by_field:
                found.append((name, value, finding("formula-error", records.sheet, records.cell(row, name),
                                                   f"{spec.column(name).title} shows the error {value}")))
        if not found:
            continue
        for name, _, _ in found:
            row.values.pop(name, None)
        row.rejected = any(name not in calculated for name, _, _ in found)
        expected = {} if row.rejected else expected_calculated(spec.name, row)
        for name, value, item in found:
            if name in calculated and (row.rejected or _same(expected.get(name), value)):
                continue
            yield item


def _same(expected: Any, shown: Any) -> bool:
    """Whether a calculated cell shows what its formula gives (numbers within half a cent)."""
    if expected is None or shown is None:
        return False
    if isinstance(expected, (int, float)) and isinstance(shown, (int, float)) and not isinstance(shown, bool):
        return abs(float(expected) - float(shown)) <= 0.005
    return bool(expected == shown)


def _priority(error: ValidationError) -> int:
    keyword = str(error.validator)
    return _KEYWORD_PRIORITY.index(keyword) if keyword in _KEYWORD_PRIORITY else len(_KEYWORD_PRIORITY)


def _cell_finding(spec: TableSpec, records: TableRecords, row_number: int, name: str,
                  error: ValidationError, value: Any) -> Finding:
    column = spec.column(name)
    cell = records.cell(row_number, name)
    title = column.title
    keyword = error.validator
    shown = f"'{value}'" if isinstance(value, str) else repr(value)
    if keyword == "required":
        return finding("value-required", records.sheet, cell, f"{title} is required but blank")
    if isinstance(value, str) and value in SPREADSHEET_ERRORS:
        return finding("formula-error", records.sheet, cell, f"{title} shows the error {value}")
    if keyword == "type" and column.kind in ("number", "integer") and isinstance(value, str):
        readings = read_number_text(value)
        if readings.reading(decimal_comma=records.decimal_comma) is not None:
            # a number the column refused to read: a percentage where none belongs (an amount, days)
            return finding("type-invalid", records.sheet, cell,
                           f"{title} should be {'a whole number' if column.kind == 'integer' else 'a number'}, "
                           f"not a percentage; found {shown}")
        other = readings.other(decimal_comma=records.decimal_comma)
        if other is not None:
            mine, theirs = ("a decimal comma", "a decimal point") if records.decimal_comma else \
                ("a decimal point", "a decimal comma")
            return finding("number-convention", records.sheet, cell,
                           f"{title} {shown} is not a number written with {mine} (this workbook's convention); "
                           f"with {theirs} it would read {plain_number(other)}. Retype it as a number, or declare the "
                           f"workbook's decimal separator")
    if keyword == "type":
        expected = {"date": "a date", "integer": "a whole number", "number": "a number",
                    "string": "text"}.get(column.kind, column.kind)
        code = "date-invalid" if column.kind == "date" else "type-invalid"
        return finding(code, records.sheet, cell, f"{title} should be {expected}; found {shown}")
    if keyword == "format":
        if error.validator_value == "date":
            return finding("date-invalid", records.sheet, cell,
                           f"{title} should be a date such as 2026-03-31; found {shown}")
        if error.validator_value == "email":
            return finding("email-invalid", records.sheet, cell, f"{title} should be an e-mail address; found {shown}")
    if keyword == "enum":
        choices = list(error.validator_value)
        listed = ", ".join(map(str, choices)) if len(choices) <= 10 else "the dropdown's list"
        return finding("value-not-in-list", records.sheet, cell, f"{title} {shown} is not one of {listed}")
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        limit = error.validator_value
        if column.number_format and column.number_format.endswith("%") and isinstance(value, (int, float)):
            return finding("value-out-of-range", records.sheet, cell,
                           f"{title} {value:.0%} is outside 0% to 100%" +
                           (f" (did you mean {plain_number(value)}%?)" if 1 < value <= 100 else ""))
        relation = "at least" if "inimum" in str(keyword) else "at most"
        if isinstance(value, (int, float)) and isinstance(limit, (int, float)):
            limit, shown = _grouped(limit), _grouped(value)
        return finding("value-out-of-range", records.sheet, cell, f"{title} must be {relation} {limit}; found {shown}")
    if keyword == "pattern" and column.schema.get("format") == "email":
        return finding("email-invalid", records.sheet, cell,
                       f"{title} should be an e-mail address such as name@example.com; found {shown}")
    if keyword == "pattern":
        example = column.schema.get("x-example")
        hint = f" such as {example}" if example else " (letters, digits, '.', '_' or '-', no spaces)"
        return finding("pattern-mismatch", records.sheet, cell, f"{title} {shown} is not a valid {title}{hint}")
    if keyword in ("minLength", "maxLength"):
        limit = error.validator_value
        relation = "at least" if keyword == "minLength" else "at most"
        return finding("text-length", records.sheet, cell, f"{title} must be {relation} {limit} characters long")
    return finding("schema-violation", records.sheet, cell, f"{title}: {error.message}")


def _grouped(number: float) -> str:
    """``1,000,000,000,000,000`` rather than ``1e+15``: limits on amounts must be readable."""
    return f"{int(number):,}" if float(number).is_integer() else f"{number:,}"


def _finding_order(item: Finding) -> tuple[Any, ...]:
    """Workbook order: file-level first, then sheet by sheet, row by row, column by column."""
    row, col = parse_cell(item.cell) if item.cell else (0, 0)
    sheets = [METADATA_SHEET, *(spec.sheet for spec in load_tables().values())]
    sheet_rank = (sheets.index(item.sheet) if item.sheet in sheets else 99) if item.sheet else -1
    return (sheet_rank, row, col, _SEVERITY_ORDER.get(item.severity, 2), item.rule)
