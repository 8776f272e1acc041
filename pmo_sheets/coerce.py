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
from typing import Any, Final

EXCEL_EPOCH = dt.date(1899, 12, 30)
_MAX_SERIAL = 2958465  # 9999-12-31
SPREADSHEET_ERRORS = frozenset(
    {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!", "#ERROR!"}
)
_NUMBER_JUNK = re.compile(r"[\s,$€£¥₹]|(?:^[A-Z]{3}\s*)|(?:\s*[A-Z]{3}$)")
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


def parse_number(value: Any) -> float | None:
    """A number from a float, ``$1,200.50``, ``(300)``, ``1 200 EUR`` or ``50%`` (0.5)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    scale = 1.0
    if text.endswith("%"):
        text = text[:-1]
        scale = 0.01
    text = _NUMBER_JUNK.sub("", text)
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    number *= scale
    return -number if negative else number


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

    __slots__ = ("day_first", "enum_lookup", "kind", "month")

    def __init__(self, schema: dict[str, Any], *, day_first: bool = True):
        self.kind = "date" if schema.get("format") == "date" else schema.get("type", "string")
        self.month = bool(schema.get("x-month"))
        enum = schema.get("enum")
        self.enum_lookup = ({str(v).casefold(): v for v in enum} if enum and self.kind == "string" else None)
        self.day_first = day_first

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
            number = parse_number(value)
            if number is None:
                return value if isinstance(value, bool) else _plain_text(value)
            if kind == "integer" or number.is_integer():
                return int(number) if number.is_integer() else number
            return number
        if kind == "boolean":
            text = _plain_text(value).casefold()
            if text in _TRUE_WORDS:
                return True
            if text in _FALSE_WORDS:
                return False
            return _plain_text(value)
        return value
