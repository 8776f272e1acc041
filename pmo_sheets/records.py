"""From a sheet's grid to records: find the header, match columns by name, read typed values.

Columns are matched by their header text, never by position, so a reordered column is read
correctly and a renamed one is either recognised (a close spelling, reported as
``column-renamed``) or reported missing with the closest header that was found; data is never
shifted into the wrong field.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from typing import Any

from pmo_sheets.cells import cell_ref
from pmo_sheets.coerce import BLANK, Coercer, currency_sign, is_blank, parse_date, plain_number, read_number_text
from pmo_sheets.findings import FINDINGS_KEPT, WARNING, Finding, finding
from pmo_sheets.grid import SheetGrid
from pmo_sheets.schemas import ColumnSpec, TableSpec

HEADER_SEARCH_ROWS = 10
RENAME_CUTOFF = 0.8
_NOT_HEADER_CHARS = re.compile(r"[^0-9a-z%]+")
_TOTALS = re.compile(r"^(grand\s+)?(sub)?totals?:?$", re.IGNORECASE)


def normalise_header(text: Any) -> str:
    """Header text compared without case, spacing or punctuation differences."""
    return _normalise(text if type(text) is str else str(text))


@lru_cache(maxsize=4096)  # the same few dozen header texts come back in every workbook
def _normalise(text: str) -> str:
    return _NOT_HEADER_CHARS.sub(" ", text.casefold()).strip()


@cache
def _header_titles(spec: TableSpec) -> frozenset[str]:
    """Every accepted header of a table, normalised: what the header row is recognised by."""
    return frozenset(normalise_header(n) for c in spec.columns for n in (c.title, *c.aliases))


@dataclass
class Row:
    """One record: its 1-based sheet row and its JSON values by field (blank cells are absent)."""

    number: int
    values: dict[str, Any]
    rejected: bool = False  # an input of this row was rejected (and taken out of ``values``)


@dataclass
class TableRecords:
    """A table read from one sheet, with where each field was found."""

    spec: TableSpec
    sheet: str
    rows: list[Row] = field(default_factory=list)
    #: field name -> 1-based column (table layout) or 1-based row (form layout)
    positions: dict[str, int] = field(default_factory=dict)
    header_row: int = 1
    decimal_comma: bool = False  # the number convention the table's text numbers were read in
    #: warnings about text read as numbers or dates (number-ambiguous, amount-with-currency, date-ambiguous)
    #: counted but not listed (past FINDINGS_KEPT), by rule
    doubts_omitted: dict[str, int] = field(default_factory=dict)

    def cell(self, row: Row | int, field_name: str) -> str | None:
        """The A1 cell of a field in a row: ``E12``; None when the column is missing."""
        position = self.positions.get(field_name)
        if position is None:
            return None
        if self.spec.layout == "form":
            return cell_ref(position, 2)
        number = row.number if isinstance(row, Row) else row
        return cell_ref(number, position)


def _match_headers(spec: TableSpec, headers: dict[int, Any], sheet: str, header_row: int,
                   form: bool) -> tuple[dict[str, int], list[Finding]]:
    """Map each spec column to the position of its header; report renamed, unknown, missing ones."""
    findings: list[Finding] = []
    wanted: dict[str, ColumnSpec] = {}
    for col in spec.columns:
        for name in (col.title, *col.aliases):
            wanted.setdefault(normalise_header(name), col)
    positions: dict[str, int] = {}
    unmatched: dict[int, str] = {}

    def where(position: int) -> str:
        return cell_ref(position, 1) if form else cell_ref(header_row, position)

    for position, text in headers.items():
        col = wanted.get(normalise_header(text))
        if col is None:
            unmatched[position] = str(text).strip()
        elif col.name in positions:
            findings.append(finding("column-duplicate", sheet, where(position),
                                    f"'{text}' appears twice; only the first one is read"))
        else:
            positions[col.name] = position
    missing = [col for col in spec.columns if col.name not in positions]
    for position, text in list(unmatched.items()):
        candidates = {normalise_header(c.title): c for c in missing}
        close = difflib.get_close_matches(normalise_header(text), list(candidates), n=1, cutoff=RENAME_CUTOFF)
        if close:
            col = candidates[close[0]]
            positions[col.name] = position
            missing.remove(col)
            del unmatched[position]
            findings.append(finding("column-renamed", sheet, where(position),
                                    f"header '{text}' read as '{col.title}'; rename it back to '{col.title}'",
                                    expected_header=col.title))
    for col in missing:
        required = col.name in spec.required
        hint = ""
        closest = difflib.get_close_matches(normalise_header(col.title),
                                            [normalise_header(t) for t in unmatched.values()], n=1, cutoff=0.5)
        if closest:
            found = next(t for t in unmatched.values() if normalise_header(t) == closest[0])
            hint = f"; the closest header found is '{found}'"
        findings.append(finding("column-missing", sheet, None,
                                f"{'required ' if required else ''}column '{col.title}' is missing{hint}",
                                severity=None if required else WARNING, expected_header=col.title))
    for position, text in unmatched.items():
        closest = difflib.get_close_matches(normalise_header(text), [normalise_header(c.title) for c in spec.columns],
                                            n=1, cutoff=0.5)
        expected = next((c.title for c in spec.columns if closest and normalise_header(c.title) == closest[0]), None)
        hint = f"; did you mean '{expected}'?" if expected else ""
        findings.append(finding("column-unknown", sheet, where(position),
                                f"column '{text}' is not part of the template and is ignored{hint}",
                                expected_header=expected))
    return positions, findings


def _find_header_row(spec: TableSpec, sheet: SheetGrid) -> int | None:
    titles = _header_titles(spec)
    best, best_hits = None, 0
    for index, line in enumerate(sheet.rows[:HEADER_SEARCH_ROWS], start=1):
        hits = sum(1 for v in line if isinstance(v, str) and normalise_header(v) in titles)
        if hits > best_hits:
            best, best_hits = index, hits
    return best if best_hits >= max(2, len(spec.columns) // 3) else None


def _number_doubt(records: TableRecords, row: int, *, column: ColumnSpec, text: str, value: Any) -> Finding:
    """The warning for a text number that the other convention reads as another number (``1,200``)."""
    other = read_number_text(text).other(decimal_comma=records.decimal_comma)
    mine, theirs = ("decimal comma", "decimal point") if records.decimal_comma else ("decimal point", "decimal comma")
    return finding("number-ambiguous", records.sheet, records.cell(row, column.name),
                   f"{column.title} '{text}' was read as {plain_number(value)} ({mine}, this workbook's convention); "
                   f"with a {theirs} it would be {plain_number(other)}")


def _currency_doubt(records: TableRecords, row: int, *, column: ColumnSpec, text: str, value: Any) -> Finding:
    """The warning for a text amount typed with a currency: it is counted in the row's currency, never converted."""
    return finding("amount-with-currency", records.sheet, records.cell(row, column.name),
                   f"{column.title} '{text}' was read as {plain_number(value)} in the row's currency: the "
                   f"'{currency_sign(text)}' typed with it is not converted; type the number alone (the Currency "
                   "column, or the project's currency, says which currency it is)")


def _date_doubt(records: TableRecords, row: int, *, column: ColumnSpec, text: str, value: Any, day_first: bool,
                other: str) -> Finding:
    """The warning for a text date whose day and month could swap (``03/04/2026``)."""
    mine, theirs = ("day", "month") if day_first else ("month", "day")
    return finding("date-ambiguous", records.sheet, records.cell(row, column.name),
                   f"{column.title} '{text}' was read as {value} ({mine} first, this workbook's convention); read "
                   f"{theirs} first it would be {other}. Type the date as a date, or as 2026-03-04")


def _other_date_reading(text: str, *, day_first: bool, month: bool) -> str | None:
    """The date a text date (``03/04/2026``) reads as in the other day/month order, when that is another date
    (for a month column, another month); None when the text reads one way only."""
    mine, other = parse_date(text, day_first=day_first), parse_date(text, day_first=not day_first)
    if mine is None or other is None:
        return None
    if month:
        mine, other = mine.replace(day=1), other.replace(day=1)
    return other.isoformat() if other != mine else None


#: A warning a cell's text earns, by rule code, made once the cell's row is known: ``make(records, row)``.
_Doubt = tuple[str, Callable[[TableRecords, int], Finding]]


def _doubts_of(column: ColumnSpec, text: str, value: Any, *, day_first: bool) -> tuple[_Doubt, ...]:
    """The warnings a text read as a number or a date earns: a number the two conventions read differently,
    or typed with a currency; a date whose day and month could swap. Text that was not read is reported as such."""
    if column.kind in ("number", "integer"):
        if isinstance(value, str):
            return ()
        about = {"column": column, "text": text, "value": value}
        doubts: list[_Doubt] = []
        if read_number_text(text).ambiguous:
            doubts.append(("number-ambiguous", partial(_number_doubt, **about)))
        if currency_sign(text) is not None:
            doubts.append(("amount-with-currency", partial(_currency_doubt, **about)))
        return tuple(doubts)
    if column.kind == "date" and (other := _other_date_reading(text, day_first=day_first, month=column.month)):
        return (("date-ambiguous", partial(_date_doubt, column=column, text=text, value=value, day_first=day_first,
                                           other=other)),)
    return ()


def read_table(spec: TableSpec, sheet: SheetGrid, *, day_first: bool = True,
               decimal_comma: bool = False) -> tuple[TableRecords, list[Finding]]:
    """Read a table-layout sheet (a header row, then one record per row).

    Text in a number column that the two number conventions read differently (``1,200``, ``1.200``)
    is read in ``decimal_comma``'s convention and reported as a warning at its cell.
    """
    records = TableRecords(spec, sheet.name, decimal_comma=decimal_comma)
    header_row = _find_header_row(spec, sheet)
    if header_row is None:
        expected = ", ".join(c.title for c in spec.columns[:4])
        return records, [finding("header-missing", sheet.name, None,
                                 f"no header row found in the first {HEADER_SEARCH_ROWS} rows (expected {expected}, ...)")]
    records.header_row = header_row
    headers = {i: v for i, v in enumerate(sheet.rows[header_row - 1], start=1) if not is_blank(v)}
    positions, findings = _match_headers(spec, headers, sheet.name, header_row, form=False)
    records.positions = positions
    # Per column: its field, its index in a row, its reader, and what each text it met was read as
    # (looked up here, without a call: most cells are text, and a column repeats its texts).
    readers: list[tuple[str, int, Callable[[Any], Any], dict[str, Any]]] = [
        (col.name, positions[col.name] - 1,
         Coercer(col.schema, day_first=day_first, decimal_comma=decimal_comma).cell_reader(), {})
        for col in spec.columns if col.name in positions]
    dated = [col.name for col in spec.columns if col.name in positions and col.kind == "date"]
    # Per number or date column, the warnings each distinct text earns (most earn none).
    doubtful: dict[str, dict[str, tuple[_Doubt, ...]]] = {
        col.name: {} for col in spec.columns if col.name in positions and col.kind in ("number", "integer", "date")}
    inputs = [(col.name, positions[col.name] - 1) for col in spec.columns if col.name in positions and not col.calculated]
    width = max((index for _, index, _, _ in readers), default=-1) + 1
    for number, line in enumerate(sheet.rows[header_row:], start=header_row + 1):
        if len(line) < width:
            line = [*line, *[None] * (width - len(line))]
        values = {}
        for name, index, read, texts in readers:
            raw = line[index]
            if raw is None:
                continue
            if raw.__class__ is str:
                value = texts.get(raw)
                if value is None:
                    value = texts[raw] = read(raw)
                seen = doubtful.get(name)
                if seen is not None and value is not BLANK:
                    doubts = seen.get(raw)
                    if doubts is None:
                        doubts = seen[raw] = _doubts_of(spec.column(name), raw, value, day_first=day_first)
                    for code, make in doubts:
                        if len(findings) < FINDINGS_KEPT:
                            findings.append(make(records, number))
                        else:
                            records.doubts_omitted[code] = records.doubts_omitted.get(code, 0) + 1
            else:
                value = read(raw)
            if value is not BLANK:
                values[name] = value
        for name, index in inputs:  # the first input cell that is not blank
            if name in values:
                first = line[index]
                break
        else:
            continue  # blank row, or only formulas showing ""
        if isinstance(first, str) and _TOTALS.match(first.strip()) and not any(name in values for name in dated):
            continue  # a totals row: a line that has its month (an ID "Total" of a real line) is read, not dropped
        records.rows.append(Row(number, values))
    return records, findings


def read_form(spec: TableSpec, sheet: SheetGrid, *, day_first: bool = True,
              decimal_comma: bool = False) -> tuple[TableRecords, list[Finding]]:
    """Read a form-layout sheet: labels in column A, values in column B; one record."""
    records = TableRecords(spec, sheet.name, decimal_comma=decimal_comma)
    labels = {i: line[0] for i, line in enumerate(sheet.rows, start=1) if line and not is_blank(line[0])}
    positions, findings = _match_headers(spec, labels, sheet.name, 0, form=True)
    records.positions = positions
    values = {}
    for col in spec.columns:
        if col.name in positions:
            raw = sheet.value(positions[col.name], 2)
            if not is_blank(raw):
                value = values[col.name] = Coercer(col.schema, day_first=day_first, decimal_comma=decimal_comma)(raw)
                if isinstance(raw, str):
                    findings.extend(make(records, 0) for _, make in _doubts_of(col, raw, value, day_first=day_first))
    records.rows.append(Row(0, values))
    return records, findings


def read_records(spec: TableSpec, sheet: SheetGrid, *, day_first: bool = True,
                 decimal_comma: bool = False) -> tuple[TableRecords, list[Finding]]:
    """Read a sheet as the table ``spec`` describes, with the structure findings met on the way."""
    reader = read_form if spec.layout == "form" else read_table
    return reader(spec, sheet, day_first=day_first, decimal_comma=decimal_comma)
