"""Consolidation: the records of many sources into one portfolio dataset (pandas, one frame a table).

Pure: no I/O. Each row keeps its lineage (source, sheet, row) so that every figure in the master
can be traced back to the cell it came from. A project is identified by its Project ID; its plan,
budget and risk log may come from one workbook or from separate ones (template 2.0's resources,
RAID log, change requests and status reports come only with the project workbook; a 1.x workbook
simply has none). Two sources claiming the same
table of the same project is a conflict: the source that claimed it first keeps it, the other is
reported, and nothing is merged silently.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pmo_sheets.ratings import risk_rating, risk_score
from pmo_sheets.schemas import KINDS, load_tables
from pmo_sheets.validate import WorkbookReport

#: The tables a source contributes rows of, each tagged with its project and lineage. Template 2.0's
#: four come last; a source of an earlier version contributes no rows to them.
DATA_TABLES = ("tasks", "budget", "risks", "resources", "raid", "changes", "status")
LINEAGE = ("source", "sheet", "row")


def payload_from_report(report: WorkbookReport) -> dict[str, Any]:
    """What a valid source contributes, as JSON: its template, project fields and table rows."""
    project = report.tables.get("project")
    payload: dict[str, Any] = {
        "template": report.template,
        "project": dict(project.rows[0].values) if project and project.rows else {},
        "tables": {},
    }
    for name in DATA_TABLES:
        records = report.tables.get(name)
        if records is not None:
            payload["tables"][name] = [{"_row": row.number, **row.values} for row in records.rows]
    # Where each column was found (1-based), so that a finding only the sync can make (a dependency on a
    # project the portfolio lacks) points at the cell even when the PM moved the column.
    payload["positions"] = {name: dict(report.tables[name].positions) for name in DATA_TABLES
                            if report.tables.get(name) is not None}
    return payload


@dataclass
class Contribution:
    """One source's last good data (loaded on demand) and how fresh it is."""

    key: str
    label: str
    status: str  # ok, stale (invalid or unreadable now), missing
    first_seen: str
    last_good_sync: str | None
    project_id: str | None
    template: str | None


@dataclass
class Conflict:
    """Two sources claiming one table of one project."""

    project_id: str
    table: str
    kept: str  # source label
    ignored: str


@dataclass
class Portfolio:
    """The consolidated dataset: one frame per table, rows in a stable order, with lineage."""

    projects: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    conflicts: list[Conflict] = field(default_factory=list)


def fiscal_period(period: dt.date, start_month: int) -> str:
    """'FY2027-P01' for April 2026 when the fiscal year starts in April (named by the year it ends)."""
    offset = (period.month - start_month) % 12
    year = period.year + (1 if start_month > 1 and period.month >= start_month else 0)
    return f"FY{year}-P{offset + 1:02d}"


def table_columns(table: str) -> list[str]:
    """The columns of a consolidated table: project, extras, the schema's input columns, lineage."""
    spec = load_tables()[table]
    leading = [] if table == "project" else ["project_id"]
    extra = {"budget": ["program", "fiscal_period"], "project": ["data_status", "last_good_sync"]}.get(table, [])
    # Calculated columns are the master's job (rollup formulas), except the risk score and rating,
    # which the heat map and top risks need per row; they are recomputed from probability x impact.
    kept = [c.name for c in spec.columns if not c.calculated or table == "risks"]
    # The column each RAID row's Depends On Project was in, on its source (for the sync's dependency findings).
    trailing = ["depends_on_column"] if table == "raid" else []
    return [*leading, *extra, *kept, *LINEAGE, *trailing]


def _typed_frame(table: str, columns: dict[str, list[Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    for column in load_tables()[table].columns:
        if column.name not in frame.columns:
            continue
        if column.kind == "date":
            frame[column.name] = pd.to_datetime(frame[column.name], format="ISO8601", errors="coerce")
        elif column.kind in ("number", "integer"):
            frame[column.name] = pd.to_numeric(frame[column.name], errors="coerce")
    return frame


class _Columns:
    """A table being built column by column (far smaller and faster than a list of row dicts)."""

    def __init__(self, table: str):
        self.names = table_columns(table)
        self.data: dict[str, list[Any]] = {name: [] for name in self.names}

    def extend(self, rows: list[dict[str, Any]], computed: dict[str, list[Any]]) -> None:
        """Add ``rows``; ``computed`` gives whole columns that the rows do not carry themselves."""
        for name in self.names:
            if name in computed:
                self.data[name].extend(computed[name])
            else:
                self.data[name].extend([row.get(name) for row in rows])


def criteria_key(project_id: str) -> str:
    """What a spreadsheet criterion sees of a Project ID: case folded, and numeric IDs by their value.

    SUMIFS and COUNTIFS compare text without regard to case and read numeric-looking text as a number,
    so ``PRJ-1`` and ``prj-1``, or ``2026`` and ``02026``, would be added up together in the master's
    rollup formulas. Two projects whose IDs share this key are one project to a spreadsheet: the second
    is reported as a conflict instead.
    """
    text = project_id.strip().casefold()
    try:
        number = float(text)
    except ValueError:
        return text
    return repr(number) if math.isfinite(number) else text


@dataclass
class Ownership:
    """Which source provides each project's data, and which sources were set aside as conflicts."""

    owners: dict[tuple[str, str], Contribution]  # (project ID, table) -> the source that provides it
    conflicts: list[Conflict]
    ignored: set[str]  # keys of the sources that contribute nothing at all


def owners_of(contributions: list[Contribution], *, pinned: dict[str, str] | None = None) -> Ownership:
    """Which source provides each (project, table): the pinned source, else the first claimant.

    A source that claims a table another source already provides (a copy of last year's workbook
    whose Project ID was not changed, or an ID that differs only in case) contributes nothing at all:
    not its tables, not its Project-sheet fields (whose currency would convert the owner's budget at
    the wrong rate). ``pinned`` maps a Project ID to the key of the source the coordinator named as
    its owner in portfolio.toml; that source goes first whatever its age.
    """
    pinned = {criteria_key(pid): key for pid, key in (pinned or {}).items()}

    def order(contribution: Contribution) -> tuple[bool, str, str]:
        pin = pinned.get(criteria_key(str(contribution.project_id)))
        return (pin != contribution.key, contribution.first_seen, contribution.key)

    ownership = Ownership({}, [], set())
    claimed: dict[tuple[str, str], Contribution] = {}
    spelled: dict[str, str] = {}  # criteria key -> the Project ID as its first source spells it
    for contribution in sorted((c for c in contributions if c.project_id is not None), key=order):
        project_id = str(contribution.project_id)
        key = criteria_key(project_id)
        spelled.setdefault(key, project_id)
        tables = [t for t in KINDS.get(contribution.template or "project", ()) if t in DATA_TABLES] or ["project"]
        taken = [t for t in tables if (key, t) in claimed]
        if taken:
            ownership.ignored.add(contribution.key)
            for table in taken:
                ownership.conflicts.append(Conflict(spelled[key], table, claimed[(key, table)].label, contribution.label))
            continue
        for table in tables:
            claimed[(key, table)] = contribution
            ownership.owners[(project_id, table)] = contribution
    return ownership


def consolidate(contributions: list[Contribution], load: Callable[[str], dict[str, Any] | None], *,
                fiscal_year_start_month: int = 1, pinned: dict[str, str] | None = None) -> Portfolio:
    """Join every contribution by Project ID into the portfolio dataset.

    ``load(key)`` returns a contribution's stored records; each is loaded once and dropped once its
    rows are taken, so memory holds the dataset, not every source's records at once. A source in
    conflict with the owner of its project contributes nothing (see :func:`owners_of`).
    """
    ownership = owners_of(contributions, pinned=pinned)
    owners, conflicts = ownership.owners, ownership.conflicts
    ordered = sorted((c for c in contributions if c.project_id is not None and c.key not in ownership.ignored),
                     key=lambda c: (c.first_seen, c.key))
    conflicted = {c.project_id for c in conflicts}
    sheet_of = {name: spec.sheet for name, spec in load_tables().items()}
    project_fields: dict[str, dict[str, Any]] = {}
    project_sources: dict[str, list[Contribution]] = {}
    tables = {name: _Columns(name) for name in DATA_TABLES}
    for contribution in ordered:
        payload = load(contribution.key)
        if payload is None:
            continue
        project_id = str(contribution.project_id)
        fields = payload.get("project", {})
        currency, established = fields.get("currency"), project_fields.get(project_id, {}).get("currency")
        if currency and established and currency != established:
            # A plan and a budget of one project that disagree on its currency: converting at either rate
            # could be wrong, so the later source is set aside and both are named.
            first = project_sources[project_id][0].label
            conflicts.append(Conflict(project_id, f"currency ({currency}, not {established})", first, contribution.label))
            conflicted.add(project_id)
            continue
        project_sources.setdefault(project_id, []).append(contribution)
        if contribution.template == "project":
            project_fields[project_id] = {**project_fields.get(project_id, {}), **fields}
        else:  # a separate plan/budget/risk log fills in only what a combined workbook did not say
            project_fields[project_id] = {**fields, **project_fields.get(project_id, {})}
        for table, rows in payload.get("tables", {}).items():
            if owners.get((project_id, table)) is contribution:
                _take_rows(tables[table], table, rows, project_id, contribution.label, sheet_of[table],
                           fiscal_year_start_month, payload.get("positions", {}).get(table, {}))
        del payload
    budget = tables["budget"].data
    budget["program"] = [project_fields[pid].get("program") for pid in budget["project_id"]]

    projects = _Columns("project")
    for project_id in sorted(project_fields):
        sources = project_sources[project_id]
        statuses = {c.status for c in sources}
        status = "ok" if statuses == {"ok"} else ", ".join(sorted(statuses - {"ok"}))
        if project_id in conflicted:
            status = "conflict" if status == "ok" else status + ", conflict"
        last_good = min((c.last_good_sync for c in sources if c.last_good_sync), default=None)
        projects.extend([{**project_fields[project_id], "project_id": project_id, "data_status": status,
                          "last_good_sync": last_good, "source": sources[0].label, "sheet": sheet_of["project"], "row": None}],
                        {})
    frames = {name: _typed_frame(name, columns.data).sort_values("project_id", kind="stable", ignore_index=True)
              for name, columns in tables.items()}
    return Portfolio(_typed_frame("project", projects.data), frames, conflicts)


def _take_rows(columns: _Columns, table: str, rows: list[dict[str, Any]], project_id: str, label: str, sheet: str,
               fiscal_year_start_month: int, positions: dict[str, int] | None = None) -> None:
    count = len(rows)
    computed: dict[str, list[Any]] = {"project_id": [project_id] * count, "source": [label] * count,
                                      "sheet": [sheet] * count, "row": [row["_row"] for row in rows],
                                      "program": [None] * count}  # the program is filled in once all projects are known
    if table == "risks":
        scores = [risk_score(row.get("probability"), row.get("impact")) for row in rows]
        computed["score"] = scores
        computed["rating"] = [risk_rating(score) for score in scores]
    elif table == "budget":
        periods: dict[Any, str | None] = {}
        for row in rows:
            period = row.get("period")
            if period not in periods:
                periods[period] = (fiscal_period(dt.date.fromisoformat(period), fiscal_year_start_month)
                                   if isinstance(period, str) else None)
        computed["fiscal_period"] = [periods[row.get("period")] for row in rows]
    elif table == "raid":  # None for records stored before positions were: the template's column is assumed
        computed["depends_on_column"] = [(positions or {}).get("depends_on")] * count
    columns.extend(rows, computed)
