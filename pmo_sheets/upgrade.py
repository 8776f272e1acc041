"""Move a workbook made from an earlier template version to the current one (``pmo upgrade``).

The upgraded workbook is the current template (its formats, dropdowns, formula columns, Instructions,
Lists and ``_pmo`` sheets, and the sheets the new version adds, empty) holding everything the project
manager typed:

- each value goes to its column's place in the new template, the columns found by their headers
  exactly as the validator finds them (:func:`pmo_sheets.records.read_records`): reordered columns,
  accepted aliases and close misspellings alike. A misspelt header keeps its spelling, so that its
  ``column-renamed`` finding stays until the project manager renames it: a guess is never made silent;
- columns the project manager added (and a second column of the same name) follow the template's
  columns, in their order; rows above a table's header stay where they were, and the header stays on
  its row, so that every finding keeps its cell unless its column moved (:attr:`Upgrade.moved` says);
- a value typed over a formula column, and a formula of their own there, are kept as typed (the
  validator keeps reporting a calculated cell that disagrees with its inputs); a template formula
  becomes the new template's. Formula cells keep the value they showed, so that the upgraded file reads
  the same before any spreadsheet program has recalculated it;
- a template column or Project field the project manager deleted stays deleted (it is reported missing,
  as before), and so does a sheet of the old version that is not there;
- their own sheets follow the template's sheets; ``_pmo`` keeps their settings (a decimal comma).

Before anything is written, the upgraded copy is validated and must give exactly the findings the
original gives, cell for cell (a moved column's cells translated); only ``template-metadata-missing``
goes, since the copy carries its metadata. Otherwise the file is refused and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from copy import copy
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.formatting.rule import Rule
from openpyxl.styles.numbers import is_date_format
from openpyxl.worksheet.worksheet import Worksheet

from pmo_sheets.addin.highlights import STORE_SHEET
from pmo_sheets.annotate import ISSUES_HEADERS
from pmo_sheets.cells import cell_ref, column_letter, parse_cell
from pmo_sheets.coerce import EXCEL_EPOCH, SPREADSHEET_ERRORS, is_blank
from pmo_sheets.findings import Finding
from pmo_sheets.grid import Grid, SheetGrid, SourceError
from pmo_sheets.ratings import RATINGS
from pmo_sheets.readers.excel import read_excel
from pmo_sheets.readers.google_refs import is_google_sheet
from pmo_sheets.records import TableRecords, normalise_header
from pmo_sheets.schemas import (
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    METADATA_SHEET,
    SUPPORTED_VERSIONS,
    TEMPLATE_VERSION,
    ColumnSpec,
    TableSpec,
    tables_in,
    version_for_sheets,
    version_key,
)
from pmo_sheets.settings import DEFAULT_SETTINGS, ValidationSettings
from pmo_sheets.sources import UsageError
from pmo_sheets.templates import TableLayout, build_template
from pmo_sheets.validate import WorkbookReport, read_metadata, validate_grid

#: ``PRJ-0042.xlsx`` upgraded in place from 1.0 keeps the original as ``PRJ-0042.xlsx.v1.0.bak``: not an
#: .xlsx name, so that ``pmo sync`` never reads the backup as a second source of the same project.
BACKUP_NAME = "{name}.v{version}.bak"
#: The finding an upgrade removes on purpose: the upgraded workbook carries its template metadata.
_FIXED_BY_UPGRADE = frozenset({"template-metadata-missing"})
#: Parts of an .xlsx that openpyxl, and so the upgrade, cannot carry over.
#: (Comments live in xl/drawings/*.vml too; they are carried, so only DrawingML parts count.)
_NOT_CARRIED = ((re.compile(r"xl/vbaProject\.bin$"), "macros"),
                (re.compile(r"xl/drawings/drawing\d+\.xml$|xl/media/"), "pictures, charts or buttons"),
                (re.compile(r"xl/pivotTables/"), "pivot tables"),
                (re.compile(r"xl/externalLinks/"), "links to other workbooks"))
_ADDIN_PART = "xl/webextensions/"


class UpgradeRefused(UsageError):
    """A workbook ``pmo upgrade`` will not move (not ours, already current, a Google Sheet...): exit 2."""


@dataclass
class Upgrade:
    """One workbook moved to the current template, in memory and checked, not yet written."""

    source: Path
    kind: str
    from_version: str
    to_version: str
    content: bytes
    report: WorkbookReport  # the original's findings, which the upgraded copy gives too (its records let go)
    added_sheets: list[str] = field(default_factory=list)
    #: by sheet (the template's name), old column letter (or Project row number) -> new one, where they differ
    moved: dict[str, dict[str, str]] = field(default_factory=dict)
    #: sheets whose name changed (the validator matches ``tasks`` as ``Tasks``; the template's name is written)
    renamed_sheets: dict[str, str] = field(default_factory=dict)
    own_sheets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what changed beyond the template, in plain words
    dropped: list[str] = field(default_factory=list)  # what openpyxl cannot carry over (pictures, pivot tables)
    stat: tuple[int, int] = (0, 0)  # the source's size and modification time when read
    mode: int = 0o644  # the source's permissions, which the upgraded workbook gets too

    def new_location(self, sheet: str | None, cell: str | None) -> tuple[str | None, str | None]:
        """Where a finding of the original at ``sheet``/``cell`` is in the upgraded workbook."""
        if sheet is None:
            return sheet, cell
        sheet = self.renamed_sheets.get(sheet, sheet)
        moves = self.moved.get(sheet)
        if cell is None or not moves:
            return sheet, cell
        row, col = parse_cell(cell)
        letter = column_letter(col)
        if letter in moves:
            return sheet, f"{moves[letter]}{row}"
        if str(row) in moves:
            return sheet, f"{column_letter(col)}{moves[str(row)]}"
        return sheet, cell


@dataclass
class Written:
    """An upgrade written to disk: where, and where the original was kept."""

    upgrade: Upgrade
    target: Path
    backup: Path | None = None


# ------------------------------------------------------------------ what the command does

def upgrade_files(sources: Iterable[str | Path], *, output_dir: Path | None = None, in_place: bool = False,
                  backup: bool = False, settings: ValidationSettings = DEFAULT_SETTINGS,
                  on_written: Callable[[Written], None] | None = None) -> list[Written]:
    """Upgrade every source into ``output_dir`` (same file names), or in place (``backup``: keep the original).

    Every source is read, upgraded and checked before any file is written: one that is refused
    (:class:`UpgradeRefused`, with one line naming it) stops the whole run and nothing is written. An
    existing file is never replaced, except the source itself under ``in_place``; every file is
    written to a temporary name and renamed, so no half-written workbook is ever left.
    """
    sources = [str(source) for source in sources]
    if not sources:
        raise UpgradeRefused("no workbooks given")
    if output_dir is not None and in_place:
        raise UpgradeRefused("choose one of -o DIR and --in-place")
    if output_dir is None and not in_place:
        raise UpgradeRefused("say where the upgraded workbooks go: -o DIR, or --in-place to replace them "
                             "(with --backup to keep the originals)")
    if backup and not in_place:
        raise UpgradeRefused("--backup goes with --in-place (with -o DIR the originals are left as they are)")
    if output_dir is not None and not output_dir.is_dir():  # before reading anything
        raise UpgradeRefused(f"-o {output_dir}: {'not a folder' if output_dir.exists() else 'no such folder; create it first'}")
    targets: dict[Path, str] = {}
    plans: list[tuple[Upgrade, Path, Path | None]] = []
    for source in sources:
        upgrade = prepare_upgrade(source, settings=settings)
        if in_place:
            target = upgrade.source
            if target.suffix.lower() != ".xlsx":
                raise UpgradeRefused(f"{source}: only an .xlsx is upgraded in place (the upgrade is an .xlsx, without "
                                     "macros); write it elsewhere with -o DIR")
            kept = upgrade.source.with_name(BACKUP_NAME.format(name=target.name, version=upgrade.from_version)) \
                if backup else None
            _check_in_place(target, kept)
            if upgrade.dropped and not backup:
                raise UpgradeRefused(f"{source}: its {' and '.join(upgrade.dropped)} cannot be carried over; add "
                                     "--backup to keep the original beside it, or write the upgrade elsewhere with -o DIR")
        else:
            assert output_dir is not None
            target = output_dir / upgraded_name(upgrade.source)
            _check_output(target, output_dir)
            kept = None
        key = target.resolve()
        if key in targets:
            raise UpgradeRefused(f"{source} and {targets[key]} would both be written to {target}; upgrade them "
                                 "into separate folders")
        targets[key] = source
        plans.append((upgrade, target, kept))
    written = []
    for upgrade, target, kept in plans:
        done = _write(upgrade, target, kept)
        written.append(done)
        if on_written is not None:
            on_written(done)
    return written


def upgraded_name(source: Path) -> str:
    """The upgraded workbook's file name: always an .xlsx (``plan.xlsm`` gives ``plan.xlsx``: no macros)."""
    return source.name if source.suffix.lower() == ".xlsx" else f"{source.stem}.xlsx"


def upgrade_beside(source: str | Path, *, settings: ValidationSettings = DEFAULT_SETTINGS) -> Written:
    """The add-in's Upgrade: the upgraded copy beside the saved workbook, ``NAME (template 2.0).xlsx``.

    The original is left as it is (it is open in Excel); an existing file of that name is never replaced.
    """
    upgrade = prepare_upgrade(source, settings=settings)
    target = upgrade.source.with_name(f"{upgrade.source.stem} (template {upgrade.to_version}).xlsx")
    _check_output(target, target.parent)
    return _write(upgrade, target, None)


def prepare_upgrade(source: str | Path, *, settings: ValidationSettings = DEFAULT_SETTINGS) -> Upgrade:
    """Read one workbook and build its upgraded copy in memory, checked to validate as the original does.

    Raises :class:`UpgradeRefused` (one line naming the file) for a Google Sheet, a file that is not
    a pmo-sheets workbook, one already at the current version, or a table whose header the validator
    cannot find. What cannot be carried over (macros, pictures) is listed in :attr:`Upgrade.dropped`.
    """
    text = str(source)
    if is_google_sheet(text):
        raise UpgradeRefused(
            f"{text}: a Google Sheet; pmo upgrade works on .xlsx files: download it (File > Download > Microsoft Excel), "
            "run pmo upgrade on the .xlsx, then bring it back with File > Import > Upload > Replace spreadsheet "
            "(the sheet keeps its address, so portfolio.toml need not change)")
    path = Path(text)
    try:
        grid = read_excel(path)
        data = path.read_bytes()
        info = path.stat()
    except SourceError as error:
        raise UpgradeRefused(_one_line(error.message, path)) from None
    except OSError as exc:
        raise UpgradeRefused(f"{path}: cannot be read ({exc.strerror or exc})") from None
    report = validate_grid(grid, settings=settings)
    if report.template is None:
        first = report.findings[0].message if report.findings else "not a pmo-sheets workbook"
        raise UpgradeRefused(_one_line(first, path))
    version = report.template_version or version_for_sheets(report.template, set(grid.sheets))
    if version not in SUPPORTED_VERSIONS:
        raise UpgradeRefused(f"{path}: template version {version} is not known to this pmo-sheets "
                             f"(it knows {', '.join(SUPPORTED_VERSIONS)}); upgrade pmo-sheets instead")
    if version_key(version) >= version_key(TEMPLATE_VERSION):
        raise UpgradeRefused(f"{path}: already at template version {version}, the current one; nothing to upgrade")
    for item in report.findings:
        if item.rule == "header-missing":
            raise UpgradeRefused(f"{path}: sheet '{item.sheet}' has no header row that pmo-sheets recognises, so "
                                 "its columns cannot be placed; fix it (pmo validate shows it) and upgrade again")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about extensions it drops (slicers, x14 validations)
        book = load_workbook(io.BytesIO(data))
    upgrade = Upgrade(source=path, kind=report.template, from_version=version, to_version=TEMPLATE_VERSION,
                      content=b"", report=report, stat=(info.st_size, info.st_mtime_ns),
                      mode=info.st_mode & 0o777)
    builder = _Builder(upgrade, grid, book, report)
    new_book = builder.build()
    upgrade.content = builder.save(new_book, addin=any(name.startswith(_ADDIN_PART) for name in _names(data)))
    upgrade.dropped.extend(_not_carried(data))
    _check_same_findings(upgrade, settings)
    report.tables = {}  # the records are not needed any more; a run over hundreds of workbooks holds every upgrade
    return upgrade


def _one_line(message: str, path: Path) -> str:
    message = " ".join(message.split())
    return message if message.startswith(str(path)) else f"{path}: {message}"


def _names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.namelist()


def _not_carried(data: bytes) -> list[str]:
    names = _names(data)
    found = []
    for pattern, what in _NOT_CARRIED:
        if any(pattern.match(name) for name in names) and what not in found:
            found.append(what)
    return found


# ------------------------------------------------------------------ building the upgraded workbook

class _Builder:
    """Fills the current template with one old workbook's cells."""

    def __init__(self, upgrade: Upgrade, grid: Grid, book: Workbook, report: WorkbookReport):
        self.upgrade, self.grid, self.book, self.report = upgrade, grid, book, report
        self.cached: dict[str, dict[str, Any]] = {}  # new sheet -> cell -> the value its formula showed

    def build(self) -> Workbook:
        upgrade = self.upgrade
        old_specs = tables_in(upgrade.kind, upgrade.from_version)
        layouts = {}
        for spec in old_specs:
            records = self.report.tables.get(spec.name)
            if records is not None and spec.layout != "form":
                sheet = self._old_sheet(records.sheet)
                last = max(sheet.max_row, records.header_row) if sheet is not None else 1
                layouts[spec.name] = TableLayout(records.header_row, max(spec.rows, last - records.header_row))
        new = build_template(upgrade.kind, layouts=layouts)
        old_names = {spec.name for spec in old_specs}
        for spec in tables_in(upgrade.kind):
            if spec.name not in old_names:
                upgrade.added_sheets.append(spec.sheet)
                continue
            records = self.report.tables.get(spec.name)
            if records is None:  # a sheet of the old version that is not there stays missing (and reported)
                del new[spec.sheet]
                continue
            if records.sheet != spec.sheet:
                upgrade.renamed_sheets[records.sheet] = spec.sheet
            old = self._old_sheet(records.sheet)
            assert old is not None
            grid_sheet = self.grid.sheet(records.sheet)
            assert grid_sheet is not None
            if spec.layout == "form":
                self._copy_form(spec, records, old, grid_sheet, new[spec.sheet])
            else:
                self._copy_table(spec, records, old, grid_sheet, new[spec.sheet])
        self._copy_metadata(new, [spec for spec in tables_in(upgrade.kind) if spec.sheet in new.sheetnames])
        self._copy_own_sheets(new)
        ours = _template_rule_keys(upgrade.kind, upgrade.from_version)
        marked = [records.sheet for records in self.report.tables.values()
                  if (old := self._old_sheet(records.sheet)) is not None
                  and any(_rule_key(rule) not in ours for cf in old.conditional_formatting for rule in cf.rules)]
        if marked:  # the template's sheets are laid out anew: rules of their own could land on the wrong cells
            upgrade.dropped.append(f"own conditional formats on {', '.join(marked)}")
        return new

    def _old_sheet(self, name: str) -> Worksheet | None:
        for sheet in self.book.worksheets:
            if sheet.title == name:
                return sheet
        return None

    # -- tables

    def _copy_table(self, spec: TableSpec, records: TableRecords, old: Worksheet, values: SheetGrid,
                    new: Worksheet) -> None:
        header = records.header_row
        by_column = {position: spec.column(name) for name, position in records.positions.items()}
        used = {cell.column for row in old.iter_rows(min_row=header) for cell in row
                if cell.value is not None or cell.comment is not None}
        extras = sorted(col for col in used if col not in by_column)
        target = {old_col: column.position for old_col, column in by_column.items()}
        target.update({old_col: len(spec.columns) + i for i, old_col in enumerate(extras, start=1)})
        moves = {column_letter(a): column_letter(b) for a, b in sorted(target.items()) if a != b}
        if moves:
            self.upgrade.moved[spec.sheet] = moves
        deleted = [column for column in spec.columns if column.name not in records.positions]
        for column in deleted:  # deleted by the project manager: stays deleted, reported missing as before
            for row in range(header, new.max_row + 1):
                new.cell(row, column.position).value = None
        if deleted:  # an Excel table needs a header in every column: Excel would "repair" the file
            del new.tables[spec.sheet]
            titles = ", ".join(f"'{column.title}'" for column in deleted)
            self.upgrade.notes.append(f"{spec.sheet}: {titles} left out as in the original (still reported missing); "
                                      "the sheet is not an Excel table (filter buttons, banding) until they are back")
        cached = self.cached.setdefault(spec.sheet, {})
        replaced: Counter[str] = Counter()
        for row in old.iter_rows(max_row=header - 1) if header > 1 else ():  # a title above the table stays put
            for cell in row:
                if cell.value is not None:
                    _copy_cell(cell, new.cell(cell.row, cell.column), cached, values, style=True)
        for merged in old.merged_cells.ranges:
            if merged.max_row < header:
                new.merge_cells(str(merged))
        for row in old.iter_rows(min_row=header):
            for cell in row:
                if cell.value is None and cell.comment is None:
                    continue
                column = by_column.get(cell.column)
                there = new.cell(cell.row, target[cell.column])
                if column is None:
                    _copy_cell(cell, there, cached, values, style=True)
                    if cell.row == header:
                        width = old.column_dimensions[column_letter(cell.column)].width
                        if width:
                            new.column_dimensions[there.column_letter].width = width
                elif cell.row == header:
                    if normalise_header(cell.value) not in _accepted(column):
                        there.value = cell.value  # a misspelling the validator guessed: it keeps reporting it
                elif column.calculated and _is_formula(cell):
                    if _same_formula(cell.value, column, records.positions, cell.row):
                        _cache(cached, there, values.value(cell.row, cell.column))
                    else:  # their own formula: the template's replaces it, and shows its value once recalculated
                        replaced[column.title] += 1
                else:
                    _copy_cell(cell, there, cached, values)
        for title, count in replaced.items():
            self.upgrade.notes.append(f"{spec.sheet}: the formulas in '{title}' ({count} cell{'s' * (count != 1)}) were "
                                      "not the template's; the template's replace them")

    # -- the Project form

    def _copy_form(self, spec: TableSpec, records: TableRecords, old: Worksheet, values: SheetGrid,
                   new: Worksheet) -> None:
        by_row = {position: spec.column(name) for name, position in records.positions.items()}
        for column in spec.columns:
            if column.name not in records.positions:
                for col in (1, 2, 3):
                    new.cell(column.position, col).value = None
        descriptions = {column.description for column in spec.columns}
        cached = self.cached.setdefault(spec.sheet, {})
        lines = [line for line in old.iter_rows() if any(cell.value is not None for cell in line)]
        # A row of their own stays on its row below the template's fields, else takes the next free one.
        taken = set(range(1, len(spec.columns) + 1)) | {line[0].row for line in lines if line[0].row not in by_row}
        free = (row for row in range(len(spec.columns) + 1, 1 << 20) if row not in taken)
        moves: dict[str, str] = {}
        for line in lines:
            number = line[0].row
            column = by_row.get(number)
            if column is None:
                target_row = number if number > len(spec.columns) else next(free)
                for cell in line:
                    if cell.value is not None:
                        _copy_cell(cell, new.cell(target_row, cell.column), cached, values, style=True)
            else:
                target_row = column.position
                for cell in line:
                    there = new.cell(target_row, cell.column)
                    if cell.value is None:
                        continue
                    if cell.column == 1:
                        if normalise_header(cell.value) not in _accepted(column):
                            there.value = cell.value
                    elif cell.column == 2:
                        _copy_cell(cell, there, cached, values)
                    elif cell.column == 3:
                        if cell.value not in descriptions:  # a note of their own beside the field
                            _copy_cell(cell, there, cached, values)
                    else:
                        _copy_cell(cell, there, cached, values, style=True)
            if target_row != number:
                moves[str(number)] = str(target_row)
        if moves:
            self.upgrade.moved[spec.sheet] = moves

    # -- the rest

    def _copy_metadata(self, new: Workbook, specs: list[TableSpec]) -> None:
        """The template's ``_pmo`` rows, plus any setting the workbook declared there (a decimal comma)."""
        sheet = new[METADATA_SHEET]
        ours = {str(row[0].value) for row in sheet.iter_rows() if row[0].value is not None}
        sheet["B4"] = ", ".join(spec.name for spec in specs)
        for key, value in read_metadata(self.grid).items():
            if key not in ours:
                sheet.append((key, value))

    def _copy_own_sheets(self, new: Workbook) -> None:
        """Sheets the project manager added, after the template's, with their values, formulas and looks."""
        owned = {name.casefold() for name in (INSTRUCTIONS_SHEET, LISTS_SHEET, METADATA_SHEET)}
        owned |= {records.sheet.casefold() for records in self.report.tables.values()}
        taken = {name.casefold() for name in new.sheetnames}
        for old in self.book.worksheets:
            if old.title.casefold() in owned or _made_by_pmo_sheets(old):
                continue
            if old.title.casefold() in taken:
                raise UpgradeRefused(
                    f"{self.upgrade.source}: your sheet '{old.title}' has the name of a sheet template "
                    f"{TEMPLATE_VERSION} adds; rename it (say '{old.title} (mine)') and upgrade again")
            sheet = new.create_sheet(old.title)
            self.upgrade.own_sheets.append(old.title)
            values = self.grid.sheet(old.title) or SheetGrid(old.title)
            cached = self.cached.setdefault(old.title, {})
            for row in old.iter_rows():
                for cell in row:
                    if cell.value is not None or cell.comment is not None:
                        _copy_cell(cell, sheet.cell(cell.row, cell.column), cached, values, style=True)
            for letter, dimension in old.column_dimensions.items():
                if dimension.width:
                    sheet.column_dimensions[letter].width = dimension.width
            for merged in old.merged_cells.ranges:
                sheet.merge_cells(str(merged))
            for validation in old.data_validations.dataValidation:  # their own dropdowns, at the same cells
                sheet.add_data_validation(copy(validation))
            for formats in old.conditional_formatting:  # their own highlighting, on the same cells
                for rule in formats.rules:
                    sheet.conditional_formatting.add(str(formats.sqref), rule)
            sheet.sheet_state = old.sheet_state

    def save(self, book: Workbook, *, addin: bool) -> bytes:
        """The workbook's bytes, formula cells showing the values they showed before."""
        buffer = io.BytesIO()
        book.save(buffer)
        data = _with_cached_values(buffer.getvalue(), self.cached)
        if addin:  # openpyxl drops the add-in's parts; the upgraded workbook opens the add-in as before
            from pmo_sheets.addin.bundle import with_lite_scripts

            data = with_lite_scripts(data)
        return data


def _rule_key(rule: Rule) -> tuple[Any, ...]:
    return rule.type, rule.operator, tuple(rule.formula or ()), rule.text


@cache
def _template_rule_keys(kind: str, version: str) -> frozenset[tuple[Any, ...]]:
    """The conditional formats a template of that kind and version comes with (its RAG colours)."""
    book = build_template(kind, version)
    return frozenset(_rule_key(rule) for sheet in book.worksheets for formats in sheet.conditional_formatting
                     for rule in formats.rules)


def _made_by_pmo_sheets(sheet: Worksheet) -> bool:
    """The add-in's hidden store of highlights, and an Issues sheet of Validate or ``--annotate``: output of
    a validation of the old workbook, made again by the next one (its highlights do not survive the upgrade)."""
    if sheet.title == STORE_SHEET:
        return True
    return any(tuple(row[:len(ISSUES_HEADERS)]) == ISSUES_HEADERS
               for row in sheet.iter_rows(max_row=5, max_col=len(ISSUES_HEADERS), values_only=True))


def _accepted(column: ColumnSpec) -> set[str]:
    return {normalise_header(name) for name in (column.title, *column.aliases)}


def _is_formula(cell: Cell) -> bool:
    return cell.data_type == "f"


#: What two spellings of one formula may differ by: spaces, absolute references, the prefixes Excel
#: writes before functions newer than Excel 2007 (``_xlfn.MAXIFS``).
_FORMULA_NOISE = re.compile(r"[\s$]|_xl(?:fn|ws)\.", re.IGNORECASE)


def _same_formula(text: Any, column: ColumnSpec, positions: dict[str, int], row: int) -> bool:
    """Whether ``text`` is the template's formula of ``column`` where the workbook has its columns."""
    template = column.formula or (RATINGS[column.rating].formula if column.rating else None)
    if template is None or not isinstance(text, str):
        return False
    try:
        expected = "=" + template.format(**{name: cell_ref(row, position) for name, position in positions.items()})
    except KeyError:  # a column the formula needs was deleted
        return False
    return _FORMULA_NOISE.sub("", text).upper() == _FORMULA_NOISE.sub("", expected).upper()


def _copy_cell(old: Cell, new: Cell, cached: dict[str, Any], values: SheetGrid, *, style: bool = False) -> None:
    """Copy one cell's value as typed: text stays text (even ``=Phase 2``), a formula keeps what it showed.

    ``style``: the cell's own look too (their own columns and sheets); a template cell keeps the
    template's, except that a date keeps a date format, so that it is still read as a date.
    """
    if style and old.has_style:
        new.font, new.fill, new.border = copy(old.font), copy(old.fill), copy(old.border)
        new.alignment, new.protection = copy(old.alignment), copy(old.protection)
        new.number_format = old.number_format
    if old.value is not None:  # a comment alone leaves the template's cell (a formula) as it is
        new.value = old.value
    if old.data_type == "f":
        _cache(cached, new, values.value(old.row, old.column))
    elif old.data_type == "s":
        new.data_type = "s"  # typed as text, whatever it starts with ("=Phase 2" is not a formula)
    if isinstance(old.value, (dt.datetime, dt.date, dt.time)) and not is_date_format(new.number_format):
        new.number_format = old.number_format
    if old.comment is not None:
        new.comment = Comment(old.comment.text, old.comment.author or "")
    if old.hyperlink is not None and old.hyperlink.target:
        new.hyperlink = old.hyperlink.target


def _cache(cached: dict[str, Any], cell: Cell, value: Any) -> None:
    if not is_blank(value):
        cached[cell.coordinate] = value


# ------------------------------------------------------------------ formula values in the saved file

_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"((?: [a-z]+="[^"]*")*)><f>([^<]*)</f><v\s*/>(</c>)')
_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def _with_cached_values(data: bytes, cached: dict[str, dict[str, Any]]) -> bytes:
    """The .xlsx with each formula cell in ``cached`` showing its value (openpyxl writes none).

    What the project manager's formulas showed is what the validator reads before any recalculation,
    and what the original showed: without it the upgraded copy would read blank there until opened.
    """
    if not any(cached.values()):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = _sheet_parts(archive)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in archive.infolist():
                content = archive.read(info.filename)
                values = cached.get(parts.get(info.filename, ""))
                if values:
                    content = _CELL.sub(lambda match, v=values: _with_value(match, v), content)
                target.writestr(info, content)
    return out.getvalue()


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part name -> sheet name, from the workbook and its relationships."""
    workbook = archive.read("xl/workbook.xml").decode("utf-8")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {}
    for rel in re.finditer(r"<Relationship\b[^>]*>", rels):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', rel.group(0)))
        target = attrs.get("Target", "").lstrip("/")
        targets[attrs.get("Id")] = target if target.startswith("xl/") else f"xl/{target}"
    parts = {}
    for sheet in re.finditer(r"<sheet\b[^>]*>", workbook):
        attrs = dict(re.findall(r'([\w:]+)="([^"]*)"', sheet.group(0)))
        name = attrs.get("name", "")
        for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
            name = name.replace(entity, char)
        parts[targets.get(attrs.get("r:id"), "")] = name
    return parts


def _with_value(match: re.Match[bytes], values: dict[str, Any]) -> bytes:
    ref = match.group(1).decode()
    if ref not in values:
        return match.group(0)
    value = values[ref]
    attrs = re.sub(rb' t="[^"]*"', b"", match.group(2))
    if isinstance(value, bool):
        kind, text = "b", "1" if value else "0"
    elif isinstance(value, (int, float)):
        kind, text = "", repr(float(value)) if isinstance(value, float) else str(value)
    elif isinstance(value, dt.datetime):
        kind, text = "", repr((value - dt.datetime(1899, 12, 30)).total_seconds() / 86400)
    elif isinstance(value, dt.date):
        kind, text = "", str((value - EXCEL_EPOCH).days)
    elif isinstance(value, str) and value in SPREADSHEET_ERRORS:
        kind, text = "e", value
    else:
        kind, text = "str", _ESCAPED.sub(r"_x005F_\1", escape(str(value)))
    typed = f' t="{kind}"'.encode() if kind else b""
    return (b'<c r="' + match.group(1) + b'"' + attrs + typed + b"><f>" + match.group(3) + b"</f><v>"
            + text.encode("utf-8") + b"</v>" + match.group(4))


# ------------------------------------------------------------------ the check before writing

def _check_same_findings(upgrade: Upgrade, settings: ValidationSettings) -> None:
    """Refuse an upgraded copy that would not validate exactly as the original does."""
    with tempfile.TemporaryDirectory(prefix="pmo-upgrade-") as folder:
        path = Path(folder) / upgrade.source.name
        path.write_bytes(upgrade.content)
        after = validate_grid(read_excel(path), settings=settings)
    if after.template_version != upgrade.to_version:
        raise UpgradeRefused(f"{upgrade.source}: the upgraded copy does not read as template {upgrade.to_version}; "
                             "nothing written (please report it)")
    before = Counter(_where(upgrade, item) for item in upgrade.report.findings if item.rule not in _FIXED_BY_UPGRADE)
    now = Counter(_where(None, item) for item in after.findings)
    omitted_before = Counter({key: n for key, n in upgrade.report.omitted.items()})
    if before != now or omitted_before != Counter(after.omitted):
        gone, new = before - now, now - before
        detail = "; ".join([*(f"new: {_show(key)}" for key in list(new)[:2]),
                            *(f"gone: {_show(key)}" for key in list(gone)[:2])]) or "counts of findings differ"
        raise UpgradeRefused(f"{upgrade.source}: the upgraded copy would not validate as the original does ({detail}); "
                             "nothing written (please report it)")


def _where(upgrade: Upgrade | None, item: Finding) -> tuple[str, str, str | None, str | None]:
    sheet, cell = upgrade.new_location(item.sheet, item.cell) if upgrade is not None else (item.sheet, item.cell)
    return item.severity, item.rule, sheet, cell


def _show(key: tuple[str, str, str | None, str | None]) -> str:
    _, rule, sheet, cell = key
    return f"{rule} at {sheet}!{cell}" if sheet and cell else f"{rule}{f' on {sheet}' if sheet else ''}"


# ------------------------------------------------------------------ writing

def _check_output(target: Path, folder: Path) -> None:
    if not folder.is_dir():
        raise UpgradeRefused(f"-o {folder}: {'not a folder' if folder.exists() else 'no such folder; create it first'}")
    if target.exists() or target.is_symlink():
        raise UpgradeRefused(f"{target} already exists; pmo upgrade never replaces a file (choose another folder, "
                             "or --in-place to upgrade the source itself)")


def _check_in_place(target: Path, kept: Path | None) -> None:
    from pmo_sheets.masterfile import in_use

    if target.is_symlink():  # replacing it would replace the link, not the workbook it points to
        raise UpgradeRefused(f"{target} is a symbolic link; upgrade the workbook it points to ({target.resolve()})")
    user = in_use(target)
    if user is not None:
        raise UpgradeRefused(f"{target} is {user.describe()}; close it and upgrade again")
    if kept is not None and (kept.exists() or kept.is_symlink()):
        raise UpgradeRefused(f"{kept} already exists; move it away to keep a new backup")


def _write(upgrade: Upgrade, target: Path, kept: Path | None) -> Written:
    """Write ``upgrade`` to ``target`` through a temporary file in its folder; never a half-written file."""
    folder = target.parent
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".upgrading", dir=folder)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(upgrade.content)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes the file private; the upgraded workbook is shared like the original
        os.chmod(temp, upgrade.mode)
        if target == upgrade.source:
            info = target.stat()
            if (info.st_size, info.st_mtime_ns) != upgrade.stat:
                raise UpgradeRefused(f"{target} changed while it was being upgraded; nothing written, run it again")
            if kept is not None:
                _keep_original(target, kept)
            os.replace(temp, target)
        else:
            _link_new(temp, target)
    except OSError as exc:
        raise UpgradeRefused(f"cannot write {target} ({exc.strerror or exc})") from None
    finally:
        temp.unlink(missing_ok=True)
    return Written(upgrade, target, kept)


def _keep_original(source: Path, kept: Path) -> None:
    """The original, byte for byte, under the backup name (a hard link where the file system allows it)."""
    try:
        os.link(source, kept)
    except FileExistsError:
        raise UpgradeRefused(f"{kept} already exists; move it away to keep a new backup") from None
    except OSError:
        with open(source, "rb") as original, open(kept, "xb") as copy_:
            copy_.write(original.read())


def _link_new(temp: Path, target: Path) -> None:
    """Give ``temp`` the name ``target``, unless a file took that name meanwhile."""
    try:
        os.link(temp, target)
    except FileExistsError:
        raise UpgradeRefused(f"{target} already exists; pmo upgrade never replaces a file") from None
    except OSError:  # a file system without hard links: the same, without atomicity of the check
        if target.exists():
            raise UpgradeRefused(f"{target} already exists; pmo upgrade never replaces a file") from None
        os.replace(temp, target)
