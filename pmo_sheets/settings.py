"""How a portfolio's people write dates and numbers, and which dates are plausible.

Text in a cell can mean different numbers under different conventions (``1.200`` is twelve hundred
in Germany and one point two in the US). pmo-sheets never guesses: the convention is declared (in
portfolio.toml, on the ``pmo validate`` command line, or in the workbook's own ``_pmo`` metadata,
which wins because it is the project manager's own statement about that workbook), and text that
is not a number in the declared convention is a finding that shows what it would read as in the
other one. See docs/trust.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

#: The ``_pmo`` metadata key a workbook may carry to declare its decimal mark ("." or ",").
DECIMAL_SEPARATOR_KEY = "decimal_separator"
EARLIEST_YEAR = 1990
LATEST_YEAR = 2100


@dataclass(frozen=True)
class ValidationSettings:
    """What a validation assumes about the people who typed the workbook."""

    day_first: bool = True  # 03/04/2026 is 3 April
    decimal_comma: bool = False  # 1.200,50 rather than 1,200.50
    earliest_year: int = EARLIEST_YEAR  # a date before 1 January of this year is implausible
    latest_year: int = LATEST_YEAR  # a date after 31 December of this year is implausible
    today: dt.date | None = None  # what "overdue" is judged against; None: the day validation runs
    reporting_cycle_months: int = 1  # a status report older than this many months is overdue

    @property
    def as_of(self) -> dt.date:
        """The day overdue items and status reports are judged on."""
        return self.today or dt.date.today()

    @property
    def decimal_separator(self) -> str:
        return "," if self.decimal_comma else "."

    @property
    def earliest_date(self) -> dt.date:
        return dt.date(self.earliest_year, 1, 1)

    @property
    def latest_date(self) -> dt.date:
        return dt.date(self.latest_year, 12, 31)

    def for_workbook(self, metadata: dict[str, Any]) -> ValidationSettings:
        """These settings, with the decimal mark the workbook itself declares (if it declares one)."""
        declared = str(metadata.get(DECIMAL_SEPARATOR_KEY, "")).strip()
        if declared in (".", ","):
            return replace(self, decimal_comma=declared == ",")
        return self


DEFAULT_SETTINGS = ValidationSettings()
