"""Consolidation: the records of many sources into one portfolio dataset (pandas, one frame a table).

Pure: no I/O. Each row keeps its lineage (source, sheet, row) so that every figure in the master
can be traced back to the cell it came from. A project is identified by its Project ID; its plan,
budget and risk log may come from one workbook or from separate ones. Two sources claiming the same
table of the same project is a conflict: the source that claimed it first keeps it, the other is
reported, and nothing is merged silently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pmo_sheets.ratings import risk_rating, risk_score
from pmo_sheets.schemas import KINDS, load_tables
from pmo_sheets.validate import WorkbookReport

DATA_TABLES = ("tasks", "budget", "risks")
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
    return payload


@dataclass
class Contribution:
    """One source's last good data and how fresh it is."""

    key: str
    label: str
    status: str  # ok, stale (invalid or unreadable now), missing
    first_seen: str
    last_good_sync: str | None
    payload: dict[str, Any]

    @property
    def project_id(self) -> str | None:
        value = self.payload.get("project", {}).get("project_id")
        return str(value) if value is not None else None


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


def _frame(table: str, rows: list[dict[str, Any]], extra: tuple[str, ...]) -> pd.DataFrame:
    spec = load_tables()[table]
    leading = [] if table == "project" else ["project_id"]
    # Calculated columns are the master's job (rollup formulas), except the risk score and rating,
    # which the heat map and top risks need per row; they are recomputed from probability x impact.
    kept = [c.name for c in spec.columns if not c.calculated or table == "risks"]
    columns = [*leading, *extra, *kept, *LINEAGE]
    frame = pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    for column in spec.columns:
        if column.name not in frame.columns:
            continue
        if column.kind == "date":
            frame[column.name] = pd.to_datetime(frame[column.name], format="ISO8601", errors="coerce")
        elif column.kind in ("number", "integer"):
            frame[column.name] = pd.to_numeric(frame[column.name], errors="coerce")
    return frame


def fiscal_period(period: dt.date, start_month: int) -> str:
    """'FY2027-P01' for April 2026 when the fiscal year starts in April (named by the year it ends)."""
    offset = (period.month - start_month) % 12
    year = period.year + (1 if start_month > 1 and period.month >= start_month else 0)
    return f"FY{year}-P{offset + 1:02d}"


def consolidate(contributions: list[Contribution], *, fiscal_year_start_month: int = 1) -> Portfolio:
    """Join every contribution by Project ID into the portfolio dataset."""
    ordered = sorted(contributions, key=lambda c: (c.first_seen, c.key))
    owners: dict[tuple[str, str], Contribution] = {}
    conflicts: list[Conflict] = []
    project_fields: dict[str, dict[str, Any]] = {}
    project_sources: dict[str, list[Contribution]] = {}
    for contribution in ordered:
        project_id = contribution.project_id
        if project_id is None:
            continue
        project_sources.setdefault(project_id, []).append(contribution)
        kind = contribution.payload.get("template") or "project"
        fields = contribution.payload.get("project", {})
        if project_id not in project_fields or kind == "project":
            merged = dict(fields) if kind == "project" else {**fields, **project_fields.get(project_id, {})}
            project_fields[project_id] = {**project_fields.get(project_id, {}), **merged}
        for table in KINDS.get(kind, ()):
            if table not in DATA_TABLES:
                continue
            claim = (project_id, table)
            if claim in owners:
                conflicts.append(Conflict(project_id, table, owners[claim].label, contribution.label))
            else:
                owners[claim] = contribution

    sheet_of = {name: spec.sheet for name, spec in load_tables().items()}
    table_rows: dict[str, list[dict[str, Any]]] = {name: [] for name in DATA_TABLES}
    for (project_id, table), contribution in sorted(owners.items()):
        program = project_fields[project_id].get("program")
        for row in contribution.payload["tables"].get(table, []):
            record = {key: value for key, value in row.items() if key != "_row"}
            record.update(project_id=project_id, source=contribution.label, sheet=sheet_of[table], row=row["_row"])
            if table == "risks":
                record["score"] = risk_score(record.get("probability"), record.get("impact"))
                record["rating"] = risk_rating(record["score"])
            if table == "budget":
                record["program"] = program
                period = record.get("period")
                record["fiscal_period"] = (fiscal_period(dt.date.fromisoformat(period), fiscal_year_start_month)
                                           if isinstance(period, str) else None)
            table_rows[table].append(record)

    project_rows = []
    for project_id in sorted(project_fields):
        sources = project_sources[project_id]
        statuses = {c.status for c in sources}
        status = "ok" if statuses == {"ok"} else ", ".join(sorted(statuses - {"ok"}))
        if any(c.project_id == project_id for c in conflicts):
            status = "conflict" if status == "ok" else status + ", conflict"
        last_good = min((c.last_good_sync for c in sources if c.last_good_sync), default=None)
        project_rows.append({**project_fields[project_id], "project_id": project_id, "data_status": status,
                             "last_good_sync": last_good, "source": sources[0].label, "sheet": sheet_of["project"], "row": None})
    projects = _frame("project", project_rows, ("data_status", "last_good_sync"))
    tables = {
        "tasks": _frame("tasks", table_rows["tasks"], ()),
        "budget": _frame("budget", table_rows["budget"], ("program", "fiscal_period")),
        "risks": _frame("risks", table_rows["risks"], ()),
    }
    return Portfolio(projects, tables, conflicts)
