"""What a single cell becomes, read by pmo_sheets.coerce: hand-written values for what people really type.

Fast unit tests (no workbook, no sync) so that `make mutate` can run them against every planted bug in
coerce.py; the workbook-level behaviour (findings at cells, both readings in the message) is in
tests/test_number_conventions.py and tests/test_rules.py.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from pmo_sheets.coerce import (
    BLANK,
    Coercer,
    date_to_serial,
    is_blank,
    parse_date,
    parse_number,
    plain_number,
    read_number_text,
    serial_to_date,
)


@pytest.mark.parametrize(("value", "blank"), [(None, True), ("", True), ("   ", True), (" x ", False), (0, False)])
def test_a_blank_cell_is_none_or_only_spaces(value: object, blank: bool) -> None:
    assert is_blank(value) is blank


def test_excel_serials_count_days_from_the_1900_system_epoch() -> None:
    assert serial_to_date(46113) == dt.date(2026, 4, 1)
    assert serial_to_date(46113.75) == dt.date(2026, 4, 1)  # the time of day is dropped
    assert date_to_serial(dt.date(2026, 4, 1)) == 46113
    assert date_to_serial(dt.date(1899, 12, 31)) == 1


# ---- dates -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "day"), [
    (dt.datetime(2026, 3, 31, 17, 45), dt.date(2026, 3, 31)),
    (dt.date(2026, 3, 31), dt.date(2026, 3, 31)),
    (46112, dt.date(2026, 3, 31)),
    (46112.5, dt.date(2026, 3, 31)),
    (1, dt.date(1899, 12, 31)),  # the smallest serial read as a date
    (2958465, dt.date(9999, 12, 31)),  # the largest
    (0, None),
    (0.5, None),
    (2958466, None),
    (-5, None),
    (math.inf, None),
    (math.nan, None),
    (True, None),  # a TRUE cell is no serial 1
    (["2026-03-31"], None),
    (None, None),
    ("2026-03-31", dt.date(2026, 3, 31)),
    ("  2026-3-9 ", dt.date(2026, 3, 9)),
    ("2026-03-31T10:00", dt.date(2026, 3, 31)),
    ("2026-03-31 10:00:59.25", dt.date(2026, 3, 31)),
    ("2026-02-30", None),  # no such day: the cell keeps its text and is flagged
    ("2026-13-01", None),
    ("31/03/2026", dt.date(2026, 3, 31)),
    ("31.03.2026", dt.date(2026, 3, 31)),
    ("31-03-2026", dt.date(2026, 3, 31)),
    ("31/03/26", dt.date(2026, 3, 31)),
    ("31/03/99", dt.date(2099, 3, 31)),
    ("31/03/100", dt.date(100, 3, 31)),
    ("03/31/2026", dt.date(2026, 3, 31)),  # a month cannot be 31: read month first whatever the convention
    ("04/05/2026", dt.date(2026, 5, 4)),  # day first by default
    ("12/12/2026", dt.date(2026, 12, 12)),
    ("13/12/2026", dt.date(2026, 12, 13)),
    ("2026/03/31", dt.date(2026, 3, 31)),
    ("05/12/2026", dt.date(2026, 12, 5)),
    ("05/13/2026", dt.date(2026, 5, 13)),  # 13 cannot be a month: month first
    ("13/13/2026", None),
    ("0/1/2026", None),
    ("31 Mar 2026", dt.date(2026, 3, 31)),
    ("31-Mar-2026", dt.date(2026, 3, 31)),
    ("Mar 31, 2026", dt.date(2026, 3, 31)),
    ("March 31 2026", dt.date(2026, 3, 31)),
    ("March 2026", dt.date(2026, 3, 1)),
    ("Sept. 2026", dt.date(2026, 9, 1)),
    ("31 MARCH 2026", dt.date(2026, 3, 31)),
    ("31 Foo 2026", None),
    ("31 Feb 2026", None),
    ("2026-03", dt.date(2026, 3, 1)),
    ("2026/3", dt.date(2026, 3, 1)),
    ("2026-13", None),
    ("next Tuesday", None),
    ("", None),
])
def test_a_date_is_read_from_what_people_type(value: Any, day: dt.date | None) -> None:
    assert parse_date(value) == day


@pytest.mark.parametrize(("text", "day"), [
    ("04/05/2026", dt.date(2026, 4, 5)),
    ("31/03/2026", dt.date(2026, 3, 31)),  # 31 cannot be a month: day first whatever the convention
    ("12/11/2026", dt.date(2026, 12, 11)),
    ("13/05/2026", dt.date(2026, 5, 13)),
])
def test_a_month_first_workbook_reads_04_05_as_april(text: str, day: dt.date) -> None:
    assert parse_date(text, day_first=False) == day


@pytest.mark.parametrize(("name", "month"), [
    ("Jan", 1), ("January", 1), ("Feb", 2), ("February", 2), ("Mar", 3), ("March", 3), ("Apr", 4), ("April", 4),
    ("May", 5), ("Jun", 6), ("June", 6), ("Jul", 7), ("July", 7), ("Aug", 8), ("August", 8), ("Sep", 9),
    ("Sept", 9), ("September", 9), ("Oct", 10), ("October", 10), ("Nov", 11), ("November", 11), ("Dec", 12),
    ("December", 12)])
def test_every_month_name_and_its_abbreviation_is_read(name: str, month: int) -> None:
    assert parse_date(f"7 {name} 2026") == dt.date(2026, month, 7)


# ---- numbers -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "point", "comma"), [
    ("1200", 1200.0, 1200.0),
    ("1,200", 1200.0, 1.2),
    ("1.200", 1.2, 1200.0),
    ("1,200.50", 1200.5, None),
    ("1.200,50", None, 1200.5),
    ("1,234,567.25", 1234567.25, None),
    ("1.234.567,25", None, 1234567.25),
    ("1 234 567,5", None, 1234567.5),
    ("1\u00a0234.5", 1234.5, None),
    ("1\u202f234\u00a0567", 1234567.0, 1234567.0),  # narrow and wide no-break spaces mixed: still spaces
    ("1'234'567.25", 1234567.25, None),
    ("  42\t", 42.0, 42.0),
    ("12\r\n", 12.0, 12.0),  # pasted with a Windows line end
    ("\u3000(\t300 )\u2003", -300.0, -300.0),
    ("USD\t12", 12.0, 12.0),
    ("1 234\u00a0567\u202f890", 1234567890.0, 1234567890.0),  # every kind of grouping space at once
    ("1234,567", None, 1234.567),  # four digits before a group: no thousands grouping
    ("1234.567", 1234.567, None),
    ("(300)", -300.0, -300.0),
    ("( 300 )", -300.0, -300.0),
    ("-3", -3.0, -3.0),
    ("+3", 3.0, 3.0),
    ("\u22123", -3.0, -3.0),  # a typographic minus
    ("3-", -3.0, -3.0),
    ("- 3", -3.0, -3.0),
    ("$-3", -3.0, -3.0),
    ("-$3", -3.0, -3.0),
    ("--3", None, None),
    ("-3+", None, None),
    ("(-3)", None, None),
    ("(\u22123)", None, None),
    ("-3-", None, None),
    ("(300", None, None),  # half a pair of parentheses is no negative
    ("300)", None, None),
    ("X3", None, None),
    ("50%", 0.5, 0.5),
    ("50 %", 0.5, 0.5),
    ("( 50 % )", -0.5, -0.5),
    ("50%%", None, None),
    ("(50%)", -0.5, -0.5),
    ("12,5%", None, 0.125),
    ("$1,200.50", 1200.5, None),
    ("$ 12", 12.0, 12.0),
    ("3 $", 3.0, 3.0),
    ("\u20ac12", 12.0, 12.0),
    ("\u00a312", 12.0, 12.0),
    ("\u00a512", 12.0, 12.0),
    ("\u20b912", 12.0, 12.0),
    ("USD1,200.50", 1200.5, None),
    ("1 200.50 USD", 1200.5, None),
    ("EUR 1.200,50", None, 1200.5),
    ("usd 12", None, None),  # an ISO code is upper case
    ("EURO 12", None, None),
    ("12 kg", None, None),
    ("$$12", None, None),
    ("EUR", None, None),
    ("1e3", 1000.0, 1000.0),
    ("1.5E-2", 0.015, None),
    ("1,5e3", None, 1500.0),
    ("2E+2", 200.0, 200.0),
    (".5", 0.5, None),
    (",5", None, 0.5),
    ("1.", None, None),
    ("12345,678", None, 12345.678),
    ("1,20,000", None, None),
    ("1,2,3", None, None),
    ("1.2.3", None, None),
    ("1.200'000", None, None),
    ("1 200'000", None, None),
    ("1_000", None, None),
    ("12a", None, None),
    ("", None, None),
    ("abc", None, None),
])
def test_a_text_number_has_one_reading_per_convention(text: str, point: float | None, comma: float | None) -> None:
    reading = read_number_text(text)
    assert (reading.point, reading.comma) == (point, comma)


def test_a_text_is_ambiguous_only_when_both_conventions_read_different_numbers() -> None:
    assert read_number_text("1,200").ambiguous is True
    assert read_number_text("1.200").ambiguous is True
    assert read_number_text("1200").ambiguous is False  # both read 1200
    assert read_number_text("1.200,50").ambiguous is False  # only the decimal comma reads it
    assert read_number_text("1,200.50").ambiguous is False
    assert read_number_text("abc").ambiguous is False


def test_the_reading_and_the_other_reading_follow_the_declared_convention() -> None:
    text = read_number_text("1,200")
    assert text.reading(decimal_comma=False) == 1200.0
    assert text.reading(decimal_comma=True) == 1.2
    assert text.other(decimal_comma=False) == 1.2
    assert text.other(decimal_comma=True) == 1200.0


@pytest.mark.parametrize(("value", "decimal_comma", "number"), [
    (3, False, 3.0),
    (2.5, False, 2.5),
    (math.inf, False, None),
    (-math.inf, False, None),
    (math.nan, False, None),
    (True, False, None),  # TRUE in a number cell is no 1
    (False, False, None),
    (None, False, None),
    (dt.date(2026, 3, 31), False, None),
    ("$1,200.50", False, 1200.5),
    ("1.200,50", False, None),
    ("1.200,50", True, 1200.5),
    ("1,5", True, 1.5),
    ("1,5", False, None),
])
def test_a_number_is_read_in_the_workbooks_convention(value: Any, decimal_comma: bool, number: float | None) -> None:
    read = parse_number(value, decimal_comma=decimal_comma)
    assert read == number
    assert type(read) is (float if number is not None else type(None))


def test_a_text_number_reads_with_a_decimal_point_unless_told_otherwise() -> None:
    assert parse_number("1,200") == 1200.0


@pytest.mark.parametrize(("number", "text"), [
    (1200.5, "1200.5"), (1200000.0, "1200000"), (1.2e6, "1200000"), (0.1, "0.1"), (1e-7, "0.0000001"),
    (-3.0, "-3"), (5, "5"), (2 / 3, "0.666666666667"), (0.0, "0")])
def test_a_number_in_a_message_is_written_as_a_person_reads_it(number: float, text: str) -> None:
    assert plain_number(number) == text


# ---- one column's coercer ----------------------------------------------------------------------------

STATUS = {"type": "string", "enum": ["Not Started", "In Progress", "Completed"]}


@pytest.mark.parametrize(("schema", "value", "expected"), [
    ({"type": "string"}, "  Design  ", "Design"),
    ({"type": "string"}, 12.0, "12"),  # an ID typed as a number
    ({"type": "string"}, 12.5, "12.5"),
    ({"type": "string"}, 7, "7"),
    ({"type": "string"}, True, "TRUE"),
    ({"type": "string"}, False, "FALSE"),
    ({"type": "string"}, dt.datetime(2026, 3, 31), "2026-03-31"),
    ({"type": "string"}, dt.datetime(2026, 3, 31, 10, 30), "2026-03-31T10:30:00"),
    ({"type": "string"}, dt.date(2026, 3, 31), "2026-03-31"),
    ({}, " text ", "text"),  # no type: a string
    (STATUS, "in progress", "In Progress"),
    (STATUS, "  IN   progress ", "In Progress"),  # stray and doubled spaces
    (STATUS, "Done", "Done"),  # not in the list: kept, for the schema to reject
    ({"type": "integer", "enum": [1, 2, 3]}, "2", 2),  # a number list is no text lookup
    ({"type": "string", "format": "date"}, "31/03/2026", "2026-03-31"),
    ({"type": "string", "format": "date"}, dt.datetime(2026, 3, 31, 9), "2026-03-31"),
    ({"type": "string", "format": "date"}, 46112, "2026-03-31"),
    ({"type": "string", "format": "date"}, "soon", "soon"),
    ({"type": "string", "format": "date"}, 3e6, "3000000"),  # past 9999-12-31: no date, the text shown
    ({"type": "string", "format": "date", "x-month": True}, "31/03/2026", "2026-03-01"),
    ({"type": "string", "format": "date", "x-month": True}, "March 2026", "2026-03-01"),
    ({"type": "number"}, "$1,200", 1200),
    ({"type": "number"}, "12.5", 12.5),
    ({"type": "number"}, 12.0, 12),
    ({"type": "number", "x-number-format": "0%"}, "50%", 0.5),
    ({"type": "number", "x-number-format": "#,##0.00"}, "50%", "50%"),  # a percentage is no amount
    ({"type": "number"}, "(5%)", "(5%)"),
    ({"type": "number"}, "120 HRS", "120 HRS"),  # three capitals that are no ISO 4217 code: a unit, no number
    ({"type": "number"}, " abc ", "abc"),
    ({"type": "number"}, True, True),  # kept as the boolean it is, so the schema says "not a number"
    ({"type": "number"}, dt.date(2026, 3, 31), "2026-03-31"),
    ({"type": "integer"}, "12.0", 12),
    ({"type": "integer"}, "12.5", 12.5),  # not made 12: the schema rejects 12.5
    ({"type": "integer"}, 3.0, 3),
    ({"type": "boolean"}, "Yes", True),
    ({"type": "boolean"}, " y ", True),
    ({"type": "boolean"}, "TRUE", True),
    ({"type": "boolean"}, True, True),
    ({"type": "boolean"}, 1.0, True),
    ({"type": "boolean"}, "1", True),
    ({"type": "boolean"}, "No", False),
    ({"type": "boolean"}, "n", False),
    ({"type": "boolean"}, "false", False),
    ({"type": "boolean"}, False, False),
    ({"type": "boolean"}, 0, False),
    ({"type": "boolean"}, "0", False),
    ({"type": "boolean"}, " maybe ", "maybe"),
    ({"type": "array"}, "a, b", "a, b"),  # a kind this module does not read: handed over as it is
])
def test_a_cell_becomes_the_json_value_its_column_expects(schema: dict[str, Any], value: Any, expected: Any) -> None:
    read = Coercer(schema)(value)
    assert read == expected
    assert type(read) is type(expected)


@pytest.mark.parametrize("error", ["#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!",
                                   "#CALC!", "#ERROR!"])
@pytest.mark.parametrize("schema", [{"type": "string"}, {"type": "number"}, {"type": "string", "format": "date"},
                                    STATUS, {"type": "boolean"}])
def test_a_spreadsheet_error_is_kept_as_the_error_text(schema: dict[str, Any], error: str) -> None:
    assert Coercer(schema)(f" {error} ") == error


def test_the_workbooks_conventions_reach_the_coercer() -> None:
    assert Coercer({"type": "string", "format": "date"}, day_first=False)("04/05/2026") == "2026-04-05"
    assert Coercer({"type": "string", "format": "date"})("04/05/2026") == "2026-05-04"
    assert Coercer({"type": "number"}, decimal_comma=True)("1.200,50") == 1200.5
    assert Coercer({"type": "number"})("1.200,50") == "1.200,50"


CELLS = [None, "", "   ", " in progress ", "Done", "1,200", "$1,200.50", "abc", "31/03/2026", "#N/A", 12.0, 12.5,
         math.nan, 7, True, dt.date(2026, 3, 31), dt.datetime(2026, 3, 31, 10, 30), "Yes", "0"]


@pytest.mark.parametrize("schema", [{"type": "string"}, STATUS, {"type": "number"}, {"type": "integer"},
                                    {"type": "string", "format": "date"},
                                    {"type": "string", "format": "date", "x-month": True}, {"type": "boolean"}])
def test_the_fast_cell_reader_gives_what_the_coercer_gives(schema: dict[str, Any]) -> None:
    coercer = Coercer(schema, day_first=False, decimal_comma=True)
    read = coercer.cell_reader()
    for _ in range(2):  # the second time from its memory
        for value in CELLS:
            expected = BLANK if value is None or (isinstance(value, str) and not value.strip()) else coercer(value)
            got = read(value)
            if isinstance(expected, float) and math.isnan(expected):
                assert isinstance(got, float) and math.isnan(got)
                continue
            assert (got, type(got)) == (expected, type(expected)), value


@pytest.mark.parametrize(("schema", "value", "expected"), [
    ({"type": "number"}, 12.0, 12),
    ({"type": "number"}, 12.5, 12.5),
    ({"type": "integer"}, 3.0, 3),
    ({"type": "string", "format": "date"}, dt.date(2026, 3, 31), "2026-03-31"),
    ({"type": "string", "format": "date", "x-month": True}, dt.date(2026, 3, 31), "2026-03-01"),
    ({"type": "string", "format": "date", "x-month": True}, dt.datetime(2026, 3, 31, 8), "2026-03-01"),
    ({"type": "string"}, 12.0, "12"),
    ({"type": "string"}, dt.date(2026, 3, 31), "2026-03-31"),
    ({"type": "number"}, "  ", BLANK),
    ({"type": "number"}, None, BLANK),
    ({"type": "number"}, " 1,200 ", 1200),
])
def test_the_fast_cell_reader_reads_typed_cells(schema: dict[str, Any], value: Any, expected: Any) -> None:
    got = Coercer(schema).cell_reader()(value)
    assert got is expected if expected is BLANK else (got, type(got)) == (expected, type(expected))


class CountingCoercer(Coercer):
    """A coercer that counts the cells it parses the slow way."""

    __slots__ = ("parsed",)

    def __init__(self, schema: dict[str, Any]) -> None:
        super().__init__(schema)
        self.parsed: list[Any] = []

    def __call__(self, value: Any) -> Any:
        self.parsed.append(value)
        return super().__call__(value)


@pytest.mark.parametrize(("schema", "typed"), [
    ({"type": "number"}, 1200.5),
    ({"type": "integer"}, 3.0),
    ({"type": "string", "format": "date"}, dt.date(2026, 3, 31)),
])
def test_a_column_parses_each_distinct_text_once_and_typed_cells_not_at_all(schema: dict[str, Any], typed: Any) -> None:
    # What keeps a 500-row workbook fast to validate: a column repeats its texts, and readers hand most
    # numbers and dates over already typed.
    coercer = CountingCoercer(schema)
    read = coercer.cell_reader()
    for value in ["12", "12", " 12", "12", typed, typed, None, "", True]:
        read(value)
    assert coercer.parsed == ["12", " 12", True]


def test_a_text_column_parses_each_distinct_text_once() -> None:
    coercer = CountingCoercer(STATUS)
    read = coercer.cell_reader()
    assert [read(v) for v in ["open", "Completed", "open", "Completed", 12.0, 12.0]] == [
        "open", "Completed", "open", "Completed", "12", "12"]
    assert coercer.parsed == ["open", "Completed", 12.0, 12.0]


def test_the_currency_codes_a_number_may_carry_are_the_project_sheets_currencies() -> None:
    from pmo_sheets.coerce import CURRENCY_CODES
    from pmo_sheets.schemas import load_tables

    assert set(load_tables()["project"].column("currency").schema["enum"]) == CURRENCY_CODES


@pytest.mark.parametrize(("text", "sign"), [
    ("€15,500.00", "€"), ("EUR 131,250", "EUR"), ("1 200.50 USD", "USD"), ("($300)", "$"), ("(300 GBP)", "GBP"),
    ("-€5", "€"), ("€-5", "€"), ("- EUR 5", "EUR"), ("12 EUR%", "EUR"), ("  ¥12  ", "¥"),
    ("1,200.50", None), ("(300)", None), ("50%", None), ("-5", None), ("120 HRS", None), ("X5", None),
    ("(€300", None), ("abc", None), ("", None)])
def test_the_currency_typed_with_a_text_number_is_found(text: str, sign: str | None) -> None:
    from pmo_sheets.coerce import currency_sign

    assert currency_sign(text) == sign


def test_a_percentage_is_read_only_in_a_percent_column() -> None:
    amount = Coercer({"type": "number", "x-number-format": "#,##0.00"})
    share = Coercer({"type": "number", "x-number-format": "0%"})
    unformatted = Coercer({"type": "number"})
    assert (amount("(5%)"), amount(" 5% "), amount("5"), share("(5%)"), share("5%")) == ("(5%)", "5%", 5, -0.05, 0.05)
    assert unformatted("50%") == "50%"  # a column without a percent format is no percent column
