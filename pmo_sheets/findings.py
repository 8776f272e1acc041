"""The catalogue of findings: every problem pmo-sheets reports has a stable code listed here.

Modelled on frictionless-py's error classes: each rule has a code that never changes meaning, a
title, a level (file, structure, cell, row, table, workbook, portfolio), a default severity, a description and
a one-line how-to-fix. ``docs/rules.md`` is generated from this catalogue (``pmo rules``) and a test
keeps the two identical.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"
#: Findings kept per severity for one source; beyond them only their number per rule is kept, so that a
#: workbook with a million broken rows is reported in bounded memory (and stored in a bounded state store).
FINDINGS_KEPT = 1000


@dataclass(frozen=True)
class Rule:
    """One kind of finding, as documented in the catalogue."""

    code: str
    title: str
    level: str
    severity: str
    description: str
    fix: str


@dataclass(frozen=True)
class Finding:
    """One problem found in one place: a file, a sheet, or a cell (A1)."""

    severity: str
    rule: str
    sheet: str | None
    cell: str | None
    message: str
    expected_header: str | None = None

    @property
    def location(self) -> str:
        """``Tasks!E12``, ``Tasks`` or empty for a file-level finding."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if data["expected_header"] is None:
            del data["expected_header"]
        return data


_RULES = [
    # file level
    Rule("file-missing", "File not found", "file", ERROR,
         "The path does not exist or cannot be opened.", "Check the path; the file may have been moved or renamed."),
    Rule("file-empty", "Empty file", "file", ERROR,
         "The file has no content (0 bytes).", "Save the workbook again from Excel or Google Sheets."),
    Rule("file-corrupt", "Corrupt workbook", "file", ERROR,
         "The file claims to be a workbook but cannot be read: it is damaged or truncated.",
         "Open it in Excel, let Excel repair it, and save it as .xlsx."),
    Rule("file-encrypted", "Password-protected workbook", "file", ERROR,
         "The workbook is encrypted with a password, so its contents cannot be read.",
         "Remove the password (File > Info > Protect Workbook) and save again."),
    Rule("file-legacy-xls", "Legacy .xls workbook", "file", ERROR,
         "The file is in the Excel 97-2003 format, which the templates do not use.",
         "Open it in Excel and save it as an Excel Workbook (.xlsx)."),
    Rule("file-not-workbook", "Not a workbook", "file", ERROR,
         "The file is not an Excel workbook (for example a CSV or a text file).",
         "Use the project workbook template (pmo new) and save it as .xlsx."),
    Rule("file-special", "Not a regular file", "file", ERROR,
         "The path is a named pipe (FIFO), a socket or a device, not a file. It is not opened: reading it could wait forever.",
         "Point the path or glob at the workbook itself, or move the special file out of the projects folder."),
    Rule("file-too-large", "Workbook too large", "file", ERROR,
         "The file is bigger than pmo-sheets reads: on disk, in number of parts, or unpacked (one part or all of them). "
         "The limits and their reasons are in docs/trust.md.",
         "Split the workbook (plan, budget and risk log can be separate workbooks) or remove pasted pictures; "
         "if it really is this big, raise the limit in portfolio.toml's [limits] table."),
    Rule("file-suspicious", "Workbook refused as a zip bomb", "file", ERROR,
         "The workbook's archive is built like a zip bomb: a part would unpack to hundreds of times its packed size, "
         "or unpacks to more than the archive declares. It was refused before it was unpacked.",
         "Do not open it; ask where it came from. A real workbook saved again from Excel or Google Sheets passes."),
    Rule("source-unreachable", "Source unreachable", "file", ERROR,
         "The source could not be fetched (network failure, quota, timeout, Google's sign-in service busy).",
         "Nothing to fix in the workbook; the next sync tries again."),
    Rule("source-forbidden", "Permission denied", "file", ERROR,
         "The account used by pmo-sheets may not read this spreadsheet, its credentials were refused, or the "
         "Google API is disabled for its Cloud project.",
         "Share the spreadsheet (or its folder) with the service account as a Viewer; or enable the API at the "
         "link the message gives."),
    Rule("source-not-found", "Spreadsheet not found", "file", ERROR,
         "No spreadsheet exists with this ID, or it was deleted.", "Check the ID or URL in portfolio.toml."),
    # structure level
    Rule("not-a-template", "Not a pmo-sheets template", "structure", ERROR,
         "The workbook has neither the template's metadata nor its sheets.",
         "Start from a template (pmo new) and copy your data into it."),
    Rule("template-metadata-missing", "Template metadata missing", "structure", WARNING,
         "The hidden _pmo sheet that records the template and version is gone; the kind was guessed from the sheets.",
         "Copy your data into a fresh template (pmo new) to restore it."),
    Rule("template-version-unknown", "Unknown template version", "structure", ERROR,
         "The workbook was made from a template version this pmo-sheets does not know.",
         "Upgrade pmo-sheets, or move the data into a current template."),
    Rule("sheet-missing", "Sheet missing", "structure", ERROR,
         "A sheet that this kind of workbook must have is not there (deleted or renamed).",
         "Restore the sheet with its original name."),
    Rule("header-missing", "Header row not found", "structure", ERROR,
         "None of the first rows of the sheet looks like the template's header row.",
         "Restore the header row from the template."),
    Rule("column-missing", "Column missing", "structure", ERROR,
         "An expected column is not on the sheet. An error for a required column, a warning otherwise.",
         "Restore the column with the header shown, or rename the column that holds this data."),
    Rule("column-renamed", "Column renamed", "structure", WARNING,
         "A header differs slightly from the template's; its data was read as the expected column.",
         "Rename the header back to the expected text."),
    Rule("column-unknown", "Unknown column", "structure", WARNING,
         "A column the template does not have; its data is ignored.",
         "Remove it, or move its data into a template column."),
    Rule("column-duplicate", "Duplicate column", "structure", ERROR,
         "Two columns have the same header; only the first is read.", "Rename or remove the second column."),
    # cell level
    Rule("value-required", "Required value missing", "cell", ERROR,
         "A required cell is blank.", "Fill in the cell."),
    Rule("type-invalid", "Wrong kind of value", "cell", ERROR,
         "The cell holds text where a number, a whole number or a date is expected, or the reverse.",
         "Type a value of the expected kind."),
    Rule("date-invalid", "Not a date", "cell", ERROR,
         "The cell should hold a date but its text is not one.", "Type a date such as 2026-03-31 or pick one."),
    Rule("value-not-in-list", "Value not in the list", "cell", ERROR,
         "The cell holds a value that is not one of the dropdown's choices.", "Pick a value from the dropdown."),
    Rule("value-out-of-range", "Value out of range", "cell", ERROR,
         "The number is below the minimum or above the maximum allowed.", "Type a number within the range shown."),
    Rule("pattern-mismatch", "Wrong format", "cell", ERROR,
         "The text does not have the expected shape (for example an ID with spaces).",
         "Use only letters, digits and the separators shown."),
    Rule("text-length", "Text too long or too short", "cell", ERROR,
         "The text is longer (or shorter) than allowed.", "Shorten (or complete) the text."),
    Rule("email-invalid", "Not an e-mail address", "cell", ERROR,
         "The cell should hold an e-mail address.", "Type an address such as name@example.com."),
    Rule("number-convention", "Number in another convention", "cell", ERROR,
         "Text in a number cell is not a number in this workbook's convention (decimal point or decimal comma), "
         "but is one in the other; the message shows both readings. It is never guessed.",
         "Retype it as a number, or declare the decimal separator (portfolio.toml decimal_separator, "
         "pmo validate --decimal-comma, or decimal_separator on the _pmo sheet)."),
    Rule("number-ambiguous", "Number that reads two ways", "cell", WARNING,
         "Text such as 1,200 or 1.200 is a different number with a decimal point than with a decimal comma; "
         "it was read in the workbook's convention.",
         "Type the amount as a number (not text), or write it without thousands separators."),
    Rule("amount-with-currency", "Amount typed with a currency", "cell", WARNING,
         "A number typed as text with a currency symbol or code (\u20ac15,500.00, EUR 131,250). The amount is counted "
         "in the row's currency (its Currency column, or the project's); the sign typed with it is not converted, "
         "so an amount in another currency would be counted wrong.",
         "Type the number alone, in the row's currency; an amount in another currency goes on a row of that currency."),
    Rule("date-ambiguous", "Date that reads two ways", "cell", WARNING,
         "A date typed as text whose day and month could swap (03/04/2026 is 3 April or 4 March). It was read in "
         "the workbook's convention (day first unless told otherwise), which may not be what was meant.",
         "Type the date as a date (the cell shows it as one), or as 2026-03-04; a coordinator can declare month "
         "first (pmo validate --month-first, portfolio.toml)."),
    Rule("date-implausible", "Date outside the plausible window", "cell", ERROR,
         "A date before 1990 or after 2100 (the window is configurable) is almost always a typo.",
         "Correct the date; a coordinator can widen the window (portfolio.toml plausible_years)."),
    Rule("formula-error", "Formula error", "cell", ERROR,
         "The cell shows a spreadsheet error such as #DIV/0! or #REF!.", "Fix the formula or the cells it uses."),
    Rule("schema-violation", "Schema rule broken", "cell", ERROR,
         "The value breaks a rule of the table's JSON Schema.", "Correct the value as the message says."),
    # row level
    Rule("finish-before-start", "Finish before start", "row", ERROR,
         "A finish (or baseline finish) date is earlier than its start date; a RAID item closed, or a change "
         "request decided, before it was raised.", "Correct one of the two dates."),
    Rule("complete-not-closed", "100% complete but not completed", "row", WARNING,
         "A task is 100% complete but its status is not Completed.", "Set the status to Completed, or lower the %."),
    Rule("closed-not-complete", "Completed but not 100%", "row", WARNING,
         "A task's status is Completed but it is less than 100% complete.", "Set % Complete to 100%, or change the status."),
    Rule("risk-score-mismatch", "Risk score inconsistent", "row", ERROR,
         "The risk score is not probability x impact (the formula was overwritten).",
         "Restore the formula, or type probability x impact."),
    Rule("calculated-value-mismatch", "Calculated value overwritten", "row", ERROR,
         "A calculated column (EAC, variance, rating, duration) does not match its formula.",
         "Restore the column's formula from the template."),
    Rule("risk-owner-missing", "Open risk without an owner", "row", ERROR,
         "A risk that is not Closed has nobody named to watch it and act on it.",
         "Fill in the Owner, or close the risk."),
    Rule("raid-closed-without-date", "Closed item without a closed date", "row", ERROR,
         "A RAID item's status is Closed but its Closed Date is blank, so nobody can tell when it was settled.",
         "Fill in the Closed Date, or set the status back to Open or In Progress."),
    Rule("raid-overdue", "Overdue RAID item", "row", WARNING,
         "An issue, assumption, decision or dependency that is not Closed is past its due date.",
         "Close it (with its closed date), or agree a new due date."),
    Rule("dependency-project-missing", "Dependency without a project", "row", ERROR,
         "A RAID item of type Dependency does not name the Project ID it depends on (or names its own project).",
         "Type the Project ID of the other project in Depends On Project."),
    Rule("change-decision-date", "Change decision without a date", "row", ERROR,
         "An Approved or Rejected change request has no decision date, or a Pending one already has one.",
         "Fill in the date the change board decided, or clear it while the change is pending."),
    Rule("budget-line-unestimated", "Budget line without actual or forecast", "row", WARNING,
         "A Budget line has a budget but neither an actual nor a forecast. Its EAC is unknown; the master adds "
         "up actuals and forecasts, so it would count the line's EAC as 0 and show its whole budget as under-spend.",
         "Type the forecast (the budget, if the line is on plan), or the actual."),
    # table level
    Rule("duplicate-id", "Duplicate ID", "table", ERROR,
         "The same ID (or ID and month for budget lines) appears on more than one row.", "Give each row its own ID."),
    Rule("predecessor-unknown", "Unknown predecessor", "table", ERROR,
         "A predecessor names a task ID that is not in the plan.", "Correct the task ID, or remove it."),
    Rule("predecessor-cycle", "Circular dependency", "table", ERROR,
         "Tasks depend on each other in a loop, so none of them can start.", "Remove one of the links in the loop."),
    Rule("table-empty", "Table empty", "table", WARNING,
         "The sheet has its header but no rows yet.", "Fill in the table, or ignore this while the project starts."),
    Rule("person-inconsistent", "One person, two spellings", "table", ERROR,
         "On the Resources sheet one e-mail address goes with two different names, or one name with two "
         "addresses. The master adds allocations up by person: two spellings would split one person's total "
         "and hide an over-allocation.", "Use one name and one address per person on every row."),
    # workbook level
    Rule("task-outside-project", "Task outside project dates", "workbook", WARNING,
         "A task starts before the project starts or finishes after the project finishes.",
         "Move the task, or update the project's dates."),
    Rule("currency-mismatch", "Budget currency differs", "workbook", ERROR,
         "A budget line's (or a change request's) currency is not the project's currency.",
         "Use the project's currency, or change the project's currency."),
    Rule("budget-over-approved", "Budget over approved budget", "workbook", WARNING,
         "The budget lines add up to more than the project's approved budget.",
         "Reduce the lines, or update the approved budget after approval."),
    Rule("budget-outside-project", "Budget line outside project dates", "workbook", WARNING,
         "A Budget line's month ends before the project starts or begins after it finishes: a year typed wrong "
         "moves the line into another fiscal year of the master.",
         "Correct the month, or update the project's dates."),
    Rule("allocation-outside-project", "Allocation outside project dates", "workbook", WARNING,
         "A Resources row books a month that ends before the project starts or begins after it finishes.",
         "Correct the month, or update the project's dates."),
    Rule("status-overdue", "Status report overdue", "workbook", WARNING,
         "The latest Status row is older than the portfolio's reporting cycle (one month unless "
         "portfolio.toml says reporting_cycle_months), for a project that is not Completed or Cancelled.",
         "Add this period's status row: RAG ratings and summary."),
    Rule("rag-differs-from-status", "Project RAG differs from the latest status report", "workbook", WARNING,
         "The RAG on the Project sheet is not the overall RAG of the latest status report. The master shows "
         "both, side by side on its Portfolio sheet, so a reader cannot tell which one is current.",
         "Set the Project sheet's RAG to the latest status report's overall RAG, or correct that report."),
    # portfolio level: checked by pmo sync, which knows every project (pmo_sheets/dependencies.py)
    Rule("dependency-project-unknown", "Dependency on an unknown project", "portfolio", WARNING,
         "A RAID item of type Dependency names a Project ID that no project of the portfolio has (no source "
         "provides it, or its source has never been valid). Checked by pmo sync, which knows the whole portfolio.",
         "Correct the Project ID, or add the other project's workbook to the portfolio."),
    Rule("dependency-on-late-project", "Dependency on a late project", "portfolio", WARNING,
         "An open RAID item of type Dependency is on a project whose latest status report rates its schedule "
         "Red. Checked by pmo sync.",
         "Agree a way forward with the other project's manager, and record the impact as an issue or a risk."),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


def finding(code: str, sheet: str | None, cell: str | None, message: str, *,
            severity: str | None = None, expected_header: str | None = None) -> Finding:
    """A finding of a catalogued rule; its severity is the rule's unless overridden."""
    rule = RULES[code]
    return Finding(severity or rule.severity, code, sheet, cell, message, expected_header)


def catalogue_markdown() -> str:
    """The rule catalogue as a Markdown page (``docs/rules.md``)."""
    lines = [
        "# Validation rules",
        "",
        "Every finding that `pmo validate`, `pmo sync` and the Excel add-in report carries one of these",
        "codes. The codes are stable: scripts may rely on them. This page is generated from",
        "`pmo_sheets/findings.py` by `pmo rules > docs/rules.md`; a test keeps it in step.",
        "",
    ]
    for level in ("file", "structure", "cell", "row", "table", "workbook", "portfolio"):
        lines += [f"## {level.capitalize()} level", "", "| code | severity | title | what it means | how to fix |",
                  "| --- | --- | --- | --- | --- |"]
        for rule in _RULES:
            if rule.level == level:
                lines.append(f"| `{rule.code}` | {rule.severity} | {rule.title} | {rule.description} | {rule.fix} |")
        lines.append("")
    return "\n".join(lines)
