"""Cross-project dependencies, checked when the whole portfolio is known (``pmo sync``).

A RAID item of type Dependency names, in Depends On Project, the Project ID of another project. One
workbook cannot tell whether that project exists or how it is doing; the sync can. Two findings come
from here, both on the dependent project's source at the Depends On Project cell:

- ``dependency-project-unknown``: no project of the portfolio has that ID (a typo, or the other
  project's workbook is not among the sources, or has never been valid);
- ``dependency-on-late-project``: the item is still open and the project it depends on is late.

"Late" is one clear rule on what the master already shows: the project's latest status report (the
one Portfolio's Status Month, Status RAG and Status Summary show) rates its **schedule** Red
(:data:`LATE_SCHEDULE_RAG`). A project without status reports is never called late: nothing says so.

Both are warnings: the dependent project's own figures are right whatever it depends on, so its data
is consolidated as usual; the findings are news for the PMO, not a reason to set the source aside.
IDs are matched as a spreadsheet criterion would see them (:func:`pmo_sheets.consolidate.criteria_key`:
``prj-0002`` is ``PRJ-0002``), as the master itself cannot tell them apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from pmo_sheets.cells import column_letter
from pmo_sheets.consolidate import Portfolio, criteria_key
from pmo_sheets.findings import Finding, finding
from pmo_sheets.rollups import latest_status
from pmo_sheets.schemas import load_tables

#: The schedule RAG of a project's latest status report that makes it late for the projects depending on it.
LATE_SCHEDULE_RAG = "Red"
#: The findings only a sync can make (recomputed at every sync, never carried from one to the next).
SYNC_RULES = ("dependency-project-unknown", "dependency-on-late-project")


@dataclass(frozen=True)
class Dependency:
    """One Dependency item of one project's RAID log, and what the portfolio says of the project it names."""

    project_id: str  # the dependent project
    raid_id: str
    title: str
    status: str
    due: dt.date | None
    depends_on: str  # as typed
    found: str | None  # the portfolio's Project ID it names, None when no project has it
    late_since: dt.date | None  # the month of the report rating the other project's schedule Red, if late
    source: str
    sheet: str
    cell: str  # the Depends On Project cell on the source's RAID sheet

    @property
    def is_open(self) -> bool:
        return self.status != "Closed"

    @property
    def state(self) -> str:
        """What the Dependencies sheet says of it, in a few words."""
        if self.found is None:
            return "not in the portfolio"
        if not self.is_open:
            return "closed"
        if self.late_since is not None:
            return f"late: schedule {LATE_SCHEDULE_RAG} in {self.late_since:%B %Y}"
        return "not late"


def _depends_on_column() -> int:
    """The template's column of Depends On Project (1-based), for records stored without their positions."""
    return next(c.position for c in load_tables()["raid"].columns if c.name == "depends_on")


def _late_projects(portfolio: Portfolio) -> dict[str, dt.date]:
    """Project ID -> the month of its latest status report, for the projects whose schedule it rates Red."""
    status = portfolio.tables["status"].reset_index(drop=True)
    latest = latest_status(status)
    late = {}
    for project_id, report in latest.iterrows():
        if status.at[int(report["position"]), "schedule_rag"] == LATE_SCHEDULE_RAG:
            late[str(project_id)] = pd.Timestamp(report["period"]).date()
    return late


def cross_project_dependencies(portfolio: Portfolio) -> list[Dependency]:
    """Every Dependency item that names a project, in the RAID data's order (by project, then row)."""
    raid = portfolio.tables["raid"]
    if raid.empty:
        return []
    named = raid[(raid["type"] == "Dependency") & raid["depends_on"].notna()]
    projects = {criteria_key(str(pid)): str(pid) for pid in portfolio.projects["project_id"]}
    late = _late_projects(portfolio)
    default_column = _depends_on_column()
    columns = named["depends_on_column"] if "depends_on_column" in named.columns else pd.Series(dtype=object)
    result = []
    for index, row in named.iterrows():
        project_id, other = str(row["project_id"]), str(row["depends_on"])
        if criteria_key(other) == criteria_key(project_id):
            continue  # a project depending on itself: the workbook's own rule (dependency-project-missing) says so
        found = projects.get(criteria_key(other))
        column = columns.get(index)
        column = int(column) if column is not None and pd.notna(column) else default_column
        due = row["due"]
        result.append(Dependency(
            project_id, str(row["raid_id"]), "" if pd.isna(row["title"]) else str(row["title"]),
            "" if pd.isna(row["status"]) else str(row["status"]), None if pd.isna(due) else pd.Timestamp(due).date(),
            other, found, late.get(found) if found is not None else None, str(row["source"]), str(row["sheet"]),
            f"{column_letter(column)}{int(row['row'])}"))
    return result


def dependency_findings(dependencies: list[Dependency]) -> dict[str, list[Finding]]:
    """Source label -> its sync-time findings: each dependency on an unknown project, and each open one
    on a late project."""
    findings: dict[str, list[Finding]] = {}
    for item in dependencies:
        if item.found is None:
            found = finding("dependency-project-unknown", item.sheet, item.cell,
                            f"dependency {item.raid_id} names {item.depends_on}, which is not a project of this "
                            "portfolio: no source provides it (or its source has never been valid)")
        elif item.is_open and item.late_since is not None:
            found = finding("dependency-on-late-project", item.sheet, item.cell,
                            f"dependency {item.raid_id} is on {item.found}, whose latest status report "
                            f"({item.late_since:%B %Y}) rates its schedule {LATE_SCHEDULE_RAG}")
        else:
            continue
        findings.setdefault(item.source, []).append(found)
    return findings
