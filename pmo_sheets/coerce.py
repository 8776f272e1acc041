"""Turn what people really type into JSON values a schema can judge.

Spreadsheet cells arrive as Python values from any reader: dates as ``date``/``datetime`` objects or
Excel serial numbers, numbers as floats, everything else as text with stray spaces, ``50%``,
``$1,200.50`` or ``31/03/2026``. Each function here returns the JSON value the schema expects when the
cell can be read as one, and otherwise the cell's text unchanged, so that jsonschema (the law) rejects
it and the finding quotes what the user typed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

EXCEL_EPOCH = dt.date(1899, 12, 30)
_MAX_SERIAL = 2958465  # 9999-12-31
SPREADSHEET_ERRORS = frozenset(
    {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!", "#ERROR!"}
)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_MONTHS = {name: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for name in names}
_WORDY_DATE = re.compile(r"^(?:(\d{1,2})[\s-]+)?([A-Za-z]+)\.?[\s-]+(?:(\d{1,2}),?\s+)?(\d{4})$")
#: What :meth:`Coercer.cell_reader` returns for a blank cell, which the record has no field for.
BLANK: Final = object()
_MEMO_LIMIT = 10_000  # distinct texts remembered per column of one table
_TRUE_WORDS = frozenset({"yes", "y", "true", "1"})
_FALSE_WORDS = frozenset({"no", "n", "false", "0"})


def is_blank(value: Any) -> bool:
    """True for an empty cell, including text that is only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def serial_to_date(serial: float) -> dt.date:
    """Excel serial day number (1900 date system) to a date."""
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def date_to_serial(day: dt.date) -> int:
    return (day - EXCEL_EPOCH).days


def parse_date(value: Any, *, day_first: bool = True) -> dt.date | None:
    """A date from a date/datetime, an Excel serial, ISO text, ``31/03/2026`` or ``31 Mar 2026``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if math.isfinite(value) and 1 <= value <= _MAX_SERIAL:
            return serial_to_date(value)
        return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        match = _ISO_DATE.match(text)
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        match = _NUMERIC_DATE.match(text)
        if match:
            a, b, c = (int(part) for part in match.groups())
            if len(match[1]) == 4:
                return dt.date(a, b, c)
            year = c if c >= 100 else 2000 + c
            if a > 12 or (day_first and b <= 12):
                return dt.date(year, b, a)
            return dt.date(year, a, b)
        match = _WORDY_DATE.match(text)
        if match and match[2].lower() in _MONTHS:
            day = match[1] or match[3]
            return dt.date(int(match[4]), _MONTHS[match[2].lower()], int(day) if day else 1)
        match = _YEAR_MONTH.match(text)
        if match:
            return dt.date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return None
    return None


# What may surround a number: currency symbols and ISO codes, signs, parentheses, a percent sign.
_CURRENCY_SYMBOLS = "$€£¥₹"
_AFFIX = re.compile(r"^(?P<head>[^\d.,]*?)(?P<core>[\d.,'\u00a0\u202f ]*\d(?:[eE][+-]?\d+)?|[.,]\d+)(?P<tail>[^\d]*)$")
#: The ISO 4217 codes a number may carry (``1 200 EUR``): the Project sheet's currency list, which a test keeps
#: identical. Any other three capitals are a unit or a word (``120 HRS``, ``2 FTE``, ``TBC 5000``), and no number.
CURRENCY_CODES: Final = frozenset({
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC",
    "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
    "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD",
    "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL",
    "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD",
    "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD",
    "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP",
    "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES",
    "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
})
_SPACES = " \u00a0\u202f"
_EXPONENT = re.compile(r"^(?P<mantissa>\d+(?:[.,]\d+)?)[eE](?P<exponent>[+-]?\d+)$")


@dataclass(frozen=True)
class NumberText:
    """How a text number reads under each convention: None where it is not a number in that convention."""

    point: float | None  # decimal point: 1,234.56 / 1 234.56 / 1'234.56
    comma: float | None  # decimal comma: 1.234,56 / 1 234,56

    def reading(self, *, decimal_comma: bool) -> float | None:
        return self.comma if decimal_comma else self.point

    def other(self, *, decimal_comma: bool) -> float | None:
        return self.point if decimal_comma else self.comma

    @property
    def ambiguous(self) -> bool:
        """True when both conventions read a number, and not the same one (``1,200`` or ``1.200``)."""
        return self.point is not None and self.comma is not None and self.point != self.comma


def read_number_text(text: str) -> NumberText:
    """Both readings of a text number: ``1.200,50`` is 1200.5 with a decimal comma and no number with a point.

    Accepted around the digits: a currency symbol or ISO code before or after, a sign (``-``, ``+``,
    ``−``) or accounting parentheses, a trailing ``%`` (``50%`` is 0.5). Digits may be grouped in
    thousands by the convention's separator (``,`` or ``.``, whichever is not the decimal mark) or by a
    space, a no-break space or an apostrophe; groups must be whole thousands (``1,20,000`` is no number).
    """
    return NumberText(_read_number(text, decimal=".", group=","), _read_number(text, decimal=",", group="."))


def _read_number(text: str, *, decimal: str, group: str) -> float | None:
    # Any white space around the number or its affixes is stray (a pasted "12\r\n" is 12); inside the
    # digits only the grouping spaces of _SPACES are.
    text = text.strip()
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    scale = 1.0
    if text.endswith("%"):  # spaces before the sign end up in the tail, which is stripped below
        text, scale = text[:-1], 0.01
    match = _AFFIX.match(text)
    if match is None:
        return None
    head, core, tail = match["head"], match["core"].lstrip(), match["tail"]
    signs = [ch for ch in head + tail if ch in "-+−"]
    if len(signs) > 1 or (signs and negative):
        return None  # "--3", "(-3)": no reading is safe
    if signs:
        negative = signs[0] != "+"
    for affix in (head, tail):
        bare = affix.replace(signs[0], "", 1) if signs and signs[0] in affix else affix
        bare = bare.strip()
        if bare and not (bare in _CURRENCY_SYMBOLS or bare in CURRENCY_CODES):
            return None
    number = _digits(core, decimal=decimal, group=group)
    if number is None or not math.isfinite(number):
        return None
    number *= scale
    return -number if negative else number


def currency_sign(text: str) -> str | None:
    """The currency symbol or ISO code typed with a text number (``€`` of ``€15,500.00``), or None."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    match = _AFFIX.match(text.removesuffix("%"))
    if match is None:
        return None
    for affix in (match["head"], match["tail"]):
        bare = affix.strip().strip("-+−").strip()
        if bare and (bare in _CURRENCY_SYMBOLS or bare in CURRENCY_CODES):
            return bare
    return None


def _digits(core: str, *, decimal: str, group: str) -> float | None:
    exponent = _EXPONENT.match(core)
    if exponent:
        mantissa = exponent["mantissa"]
        if group in mantissa:
            return None
        return float(mantissa.replace(decimal, ".") + "e" + exponent["exponent"])
    whole, _, fraction = core.partition(decimal)
    if not whole and not fraction:
        return None
    if decimal in fraction or (not fraction.isdigit() and fraction):
        return None
    separators = {ch for ch in whole if not ch.isdigit()}
    if len(separators) > 1 and not separators <= set(_SPACES):
        return None  # "1.200'000": two kinds of grouping in one number
    if separators:
        if separators - set(_SPACES + "'" + group):
            return None
        parts = re.split(r"[" + re.escape("".join(separators)) + r"]", whole)
        if not (1 <= len(parts[0]) <= 3 and all(len(part) == 3 for part in parts[1:])):
            return None
        whole = "".join(parts)
    if whole and not whole.isdigit():
        return None
    return float(f"{whole or '0'}.{fraction or '0'}")


def plain_number(number: float) -> str:
    """A number as a person reads it in a message: ``1200.5``, ``1200000``, never ``1.2e+06``."""
    number = float(number)
    if number.is_integer():
        return str(int(number))
    return f"{number:.12f}".rstrip("0")


def parse_number(value: Any, *, decimal_comma: bool = False) -> float | None:
    """A number from a float, or from text such as ``$1,200.50``, ``(300)``, ``1 200 EUR`` or ``50%`` (0.5).

    Text is read in the workbook's number convention: decimal point (the default) or decimal comma
    (``1.200,50``). Text that is not a number in that convention gives None, so that it is reported
    (with its reading in the other convention, when it has one) rather than guessed.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    return read_number_text(value).reading(decimal_comma=decimal_comma)


def _plain_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value).strip()


class Coercer:
    """Reads cells for one column of a schema: type, format and list tolerance in one callable."""

    __slots__ = ("day_first", "decimal_comma", "enum_lookup", "kind", "month", "percent")

    def __init__(self, schema: dict[str, Any], *, day_first: bool = True, decimal_comma: bool = False):
        self.kind = "date" if schema.get("format") == "date" else schema.get("type", "string")
        self.month = bool(schema.get("x-month"))
        enum = schema.get("enum")
        self.enum_lookup = ({str(v).casefold(): v for v in enum} if enum and self.kind == "string" else None)
        self.day_first = day_first
        self.decimal_comma = decimal_comma
        # "5%" is 0.05 in a percent column; in an amount or a count of days it is no reading anyone meant
        self.percent = str(schema.get("x-number-format") or "").endswith("%")

    def cell_reader(self) -> Callable[[Any], Any]:
        """A faster twin of this coercer for reading a column cell after cell; :data:`BLANK` for a blank cell.

        It gives exactly what calling the coercer gives. A column repeats its texts (statuses, owners,
        currencies), so each distinct text is read once; the values readers hand over already typed,
        a float in a number column or a date in a date column, skip the parsing altogether.
        """
        slow = self.__call__
        memo: dict[str, Any] = {}
        numeric = self.kind in ("number", "integer")
        dated = self.kind == "date"
        month = self.month
        isfinite = math.isfinite
        date_type = dt.date

        def read(value: Any) -> Any:
            cls = type(value)  # exact types: bool (an int) and datetime (a date) take the general path
            if cls is str:
                result = memo.get(value)
                if result is None:
                    result = BLANK if not value.strip() else slow(value)
                    if len(memo) < _MEMO_LIMIT:
                        memo[value] = result
                return result
            if value is None:
                return BLANK
            if cls is float and numeric and isfinite(value):
                return int(value) if value.is_integer() else value
            if cls is date_type and dated:
                return (value.replace(day=1) if month else value).isoformat()
            return slow(value)

        return read

    def __call__(self, value: Any) -> Any:
        """The JSON value for the cell; the cell's own text when it cannot be read as that kind."""
        kind = self.kind
        if isinstance(value, str) and value.strip() in SPREADSHEET_ERRORS:
            return value.strip()
        if kind == "string":
            text = _plain_text(value)
            if self.enum_lookup is not None:
                return self.enum_lookup.get(" ".join(text.split()).casefold(), text)
            return text
        if kind == "date":
            day = parse_date(value, day_first=self.day_first)
            if day is None:
                return _plain_text(value)
            if self.month:
                day = day.replace(day=1)
            return day.isoformat()
        if kind in ("number", "integer"):
            if isinstance(value, str) and not self.percent and value.strip().rstrip(")").endswith("%"):
                return _plain_text(value)  # reported as not a number of this column
            number = parse_number(value, decimal_comma=self.decimal_comma)
            if number is None:
                return value if isinstance(value, bool) else _plain_text(value)
            # 12.0 is the integer 12 for either kind; 12.5 stays 12.5, which an integer column's schema rejects
            return int(number) if number.is_integer() else number
        if kind == "boolean":
            text = _plain_text(value).casefold()
            if text in _TRUE_WORDS:
                return True
            if text in _FALSE_WORDS:
                return False
            return _plain_text(value)
        return value
