"""Text numbers are read in the declared convention; a text another convention reads differently is flagged.

The invariant finance relies on: parse(format(x, convention)) == x, and whatever text reaches a number
cell, the record holds the number the project manager meant or the cell carries a finding: never
another number in silence.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workbooks import located, pmo, small_sample, write

from pmo_sheets.coerce import parse_number, read_number_text
from pmo_sheets.findings import Finding
from pmo_sheets.grid import SheetGrid
from pmo_sheets.records import read_table
from pmo_sheets.schemas import load_tables
from pmo_sheets.settings import ValidationSettings
from pmo_sheets.sources import validate_source
from pmo_sheets.validate import check_schema

POINT_GROUPS = [",", " ", "'", "\u00a0", ""]
COMMA_GROUPS = [".", " ", "\u00a0", ""]


def formatted(amount: Decimal, *, decimal_comma: bool, group: str, affix: str, before: bool) -> str:
    """``amount`` as a person in that convention writes it: 1,234,567.89 / 1.234.567,89 / EUR 1 234,50."""
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):.2f}".partition(".")
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    text = group.join([whole, *groups]) + ("," if decimal_comma else ".") + fraction
    if not affix:
        return sign + text
    return f"{sign}{affix}{text}" if before else f"{sign}{text} {affix}"


amounts = st.decimals(min_value=Decimal("-999999999999.99"), max_value=Decimal("999999999999.99"), places=2,
                      allow_nan=False, allow_infinity=False)
affixes = st.sampled_from(["", "$", "€", "£", "USD ", "EUR", "CHF "])


@settings(max_examples=400, deadline=None)
@given(amount=amounts, decimal_comma=st.booleans(), data=st.data(), affix=affixes, before=st.booleans())
def test_a_formatted_amount_reads_back_as_itself_in_its_own_convention(amount: Decimal, decimal_comma: bool,
                                                                       data: st.DataObject, affix: str, before: bool) -> None:
    group = data.draw(st.sampled_from(COMMA_GROUPS if decimal_comma else POINT_GROUPS))
    text = formatted(amount, decimal_comma=decimal_comma, group=group, affix=affix.strip() if not before else affix,
                     before=before)

    assert parse_number(text, decimal_comma=decimal_comma) == float(amount)


def budget_cell(text: str, *, decimal_comma: bool) -> tuple[Any, list[Finding]]:
    """What a Budget cell holding ``text`` becomes: the record's value (None when rejected) and the findings."""
    spec = load_tables()["budget"]
    header = [column.title for column in spec.columns]
    row = ["L01", "Labour", "CC-100", "Design", "2026-01-01", "USD", text]
    records, findings = read_table(spec, SheetGrid("Budget", [header, row]), decimal_comma=decimal_comma)
    findings += list(check_schema(records))
    return records.rows[0].values.get("budget"), findings


@settings(max_examples=300, deadline=None)
@given(amount=amounts.filter(lambda a: a >= 0), written_comma=st.booleans(), read_comma=st.booleans(), data=st.data())
def test_a_text_amount_is_the_number_meant_or_it_is_flagged(amount: Decimal, written_comma: bool, read_comma: bool,
                                                            data: st.DataObject) -> None:
    """Whatever convention the text was written in and whichever the workbook declares."""
    group = data.draw(st.sampled_from(COMMA_GROUPS if written_comma else POINT_GROUPS))
    text = formatted(amount, decimal_comma=written_comma, group=group, affix="", before=True)
    # Two decimals shown, so "1,200" style ambiguity comes from writing amounts without decimals too:
    if data.draw(st.booleans()) and amount == amount.to_integral_value():
        text = text[:-3]

    value, findings = budget_cell(text, decimal_comma=read_comma)

    if value == float(amount) and not findings:
        return
    assert findings, f"{text!r} read as {value} in silence"
    assert [f.cell for f in findings] == ["G2"]
    if value is not None:  # kept, so the finding must be the warning that names both readings
        assert findings[0].rule == "number-ambiguous"


# (text, decimal comma?, value read or None, the finding's rule or None)
LITERAL = [
    ("1.200,50", False, None, "number-convention"),
    ("1.200,50", True, 1200.5, None),
    ("€1.200,50", False, None, "number-convention"),
    ("€1.200,50", True, 1200.5, "amount-with-currency"),
    ("1 200,50", False, None, "number-convention"),
    ("1 200,50", True, 1200.5, None),
    ("1'200.50", False, 1200.5, None),
    ("1'200.50", True, None, "number-convention"),
    ("1.200", False, 1.2, "number-ambiguous"),
    ("1.200", True, 1200.0, "number-ambiguous"),
    ("1,200", False, 1200.0, "number-ambiguous"),
    ("1,200", True, 1.2, "number-ambiguous"),
    ("12,5", False, None, "number-convention"),
    ("12,5", True, 12.5, None),
    ("$1,200.50", False, 1200.5, "amount-with-currency"),
    ("$1,200.50", True, None, "number-convention"),
    ("1 200.50 USD", False, 1200.5, "amount-with-currency"),
    ("EUR 1.200,50", True, 1200.5, "amount-with-currency"),
    ("1,20,000", False, None, "type-invalid"),  # grouped in neither convention: no reading at all
    ("1_000", False, None, "type-invalid"),
    ("--3", False, None, "type-invalid"),
]


@pytest.mark.parametrize(("text", "decimal_comma", "value", "rule"), LITERAL)
def test_what_people_type_in_another_locale_is_read_or_flagged(text: str, decimal_comma: bool, value: float | None,
                                                               rule: str | None) -> None:
    read, findings = budget_cell(text, decimal_comma=decimal_comma)

    assert read == value
    assert [f.rule for f in findings] == ([rule] if rule else [])


def test_the_finding_names_both_readings() -> None:
    _, findings = budget_cell("1.200,50", decimal_comma=False)
    assert findings[0].message == (
        "Budget '1.200,50' is not a number written with a decimal point (this workbook's convention); with a decimal "
        "comma it would read 1200.5. Retype it as a number, or declare the workbook's decimal separator")
    _, findings = budget_cell("1,200", decimal_comma=False)
    assert findings[0].message == ("Budget '1,200' was read as 1200 (decimal point, this workbook's convention); "
                                   "with a decimal comma it would be 1.2")


def test_both_readings_of_text_numbers() -> None:
    assert read_number_text("1.200,50").point is None
    assert read_number_text("1.200,50").comma == 1200.5
    assert read_number_text("(1,200.00)").point == -1200.0
    assert read_number_text("12,5%").comma == 0.125


def with_budget_text(text: str, *, declared: str | None = None):  # type: ignore[no-untyped-def]
    def edit(workbook) -> None:  # type: ignore[no-untyped-def]
        workbook["Budget"]["G2"] = text
        if declared is not None:
            metadata = workbook["_pmo"]
            metadata.append(["decimal_separator", declared])
    return edit


def test_pmo_validate_decimal_comma_reads_a_german_amount(tmp_path: Path) -> None:
    path = write(tmp_path / "de.xlsx", small_sample(), "budget", with_budget_text("1.200,50"))

    assert located(validate_source(str(path)).findings) == [("number-convention", "Budget", "G2")]
    report = validate_source(str(path), settings=ValidationSettings(decimal_comma=True))
    assert located(report.findings) == []
    assert report.tables["budget"].rows[0].values["budget"] == 1200.5
    result = pmo("validate", str(path), "--decimal-comma")
    assert result.exit_code == 0, result.stdout


def test_a_workbook_that_declares_its_decimal_comma_is_read_in_it(tmp_path: Path) -> None:
    path = write(tmp_path / "declared.xlsx", small_sample(), "budget", with_budget_text("1.200,50", declared=","))

    report = validate_source(str(path))  # the portfolio default is a decimal point; the workbook says otherwise

    assert located(report.findings) == []
    assert report.tables["budget"].rows[0].values["budget"] == 1200.5


def test_a_portfolio_declared_decimal_comma_reaches_the_master_as_the_amount_meant(tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from portfolio_fixtures import make_portfolio

    from pmo_sheets.sync import run_sync

    config, samples = make_portfolio(tmp_path, count=1, extra='decimal_separator = ","')
    path = tmp_path / "projects" / f"{samples[0].project_id}.xlsx"
    workbook = load_workbook(path)
    workbook["Budget"]["G2"] = "1.200,50"  # was a number; the other budget lines stay numbers
    workbook.save(path)
    expected = 1200.5 + sum(line["budget"] for line in samples[0].tables["budget"][1:])

    result = run_sync(config)

    assert result.exit_code == 0, result.to_dict()
    budget = load_workbook(config.master, data_only=True)["Portfolio"]["M2"].value
    rate = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}[samples[0].project["currency"]]
    assert budget == pytest.approx(expected * rate, abs=0.005)
