"""What the status pack shows, read from the master workbook's cached values (never recomputed)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from pmo_sheets.config import ConfigError, PortfolioConfig
from pmo_sheets.master import DATA_SHEETS
from pmo_sheets.schemas import load_tables

TOP_RISKS = 5
PROJECT_RISKS = 3


@dataclass
class ProjectPage:
    """One project's page."""

    row: dict[str, Any]  # the project's Portfolio row, by header
    milestones: list[dict[str, Any]] = field(default_factory=list)
    risks: list[dict[str, Any]] = field(default_factory=list)
    quality: dict[str, Any] | None = None  # its Data quality row
    status: dict[str, Any] | None = None  # the latest status report (RAG, narrative), when the workbook has one

    @property
    def stale(self) -> bool:
        """Whether the figures are the last good ones of a source that is now failing (or missing)."""
        return str(self.row.get("Data Status") or "ok") != "ok"


@dataclass
class PackData:
    """The summary page and the project pages."""

    name: str
    currency: str
    synced_at: str
    totals: dict[str, Any]
    rag: dict[str, int]
    programs: list[dict[str, Any]]
    top_risks: list[dict[str, Any]]
    overdue: list[dict[str, Any]]
    projects: list[ProjectPage]


def _rows(book: Any, name: str) -> list[dict[str, Any]]:
    if name not in book.sheetnames:
        return []
    rows = book[name].iter_rows(values_only=True)
    headers = next(rows, ())
    return [dict(zip(headers, row, strict=False)) for row in rows if any(v not in (None, "") for v in row)]


def _synced_at(book: Any) -> str:
    history = _rows(book, "History")
    return str(history[-1]["Synced At"]) if history else ""


#: The master's sheet of status reports (continued on "Status data (2)"... past max_rows_per_sheet) and its
#: headers, which are the template's own (master.schema_data_columns).
STATUS_SHEET = DATA_SHEETS["status"][0]
_STATUS = load_tables()["status"]
PERIOD, OVERALL_RAG = _STATUS.column("period").title, _STATUS.column("overall_rag").title
#: The status report's text columns shown as the narrative, in this order.
NARRATIVE = tuple(_STATUS.column(name).title for name in ("summary", "achievements", "next_steps", "escalations"))


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, (dt.datetime, dt.date)) else str(value or "")


def _is_part(name: str, base: str) -> bool:
    """Whether sheet ``name`` is the data sheet ``base`` or one of its continuations ("base (2)"...)."""
    return name == base or (name.startswith(f"{base} (") and name.endswith(")") and name[len(base) + 2:-1].isdigit())


def latest_status(book: Any) -> dict[str, dict[str, Any]]:
    """Project ID -> its latest status report, from every part of the master's Status data sheet (empty
    when the master has none, and the pack then shows no narrative). Each report: ``when`` (the period,
    ISO), ``rag`` (overall) and ``narrative`` ((label, text) of the text columns that are filled in).

    The latest is the report of the latest period, as the Portfolio sheet's Status columns take it;
    of two reports of one period (which validation does not let through) the later row wins, as there.
    """
    latest: dict[str, dict[str, Any]] = {}
    for name in (n for n in book.sheetnames if _is_part(n, STATUS_SHEET)):
        for row in _rows(book, name):
            pid, period = row.get("Project ID"), row.get(PERIOD)
            if pid in (None, "") or not isinstance(period, (dt.datetime, dt.date)):
                continue
            when = _when(period)
            if pid in latest and when < latest[pid]["when"]:
                continue
            narrative = [(label, str(row[label])) for label in NARRATIVE if row.get(label) not in (None, "")]
            latest[pid] = {"when": when, "rag": row.get(OVERALL_RAG), "narrative": narrative}
    return latest


def read_pack(config: PortfolioConfig, *, today: dt.date | None = None) -> PackData:
    """The pack's content from ``config``'s master; a :class:`ConfigError` when there is no master yet."""
    master: Path = config.master
    if not master.is_file():
        raise ConfigError(f"{master}: no master workbook yet; run pmo sync --config {config.path} first")
    try:
        book = openpyxl.load_workbook(master, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign file: one line, not a traceback
        raise ConfigError(f"{master}: cannot read the master workbook ({exc})") from None
    try:
        portfolio = _rows(book, "Portfolio")
        projects = [row for row in portfolio if row.get("Project ID") not in (None, "Total")]
        totals = next((row for row in portfolio if row.get("Project ID") == "Total"), {})
        tasks, risks = _rows(book, "Task data"), _rows(book, "Risk data")
        quality = {row.get("Project ID"): row for row in _rows(book, "Data quality") if row.get("Project ID")}
        statuses = latest_status(book)
        synced_at = _synced_at(book)
        programs = _rows(book, "Programs")
    finally:
        book.close()
    today = today or dt.datetime.now(dt.UTC).date()
    open_risks = sorted((r for r in risks if r.get("Status") != "Closed"),
                        key=lambda r: (-(r.get("Score") or 0), str(r.get("Project ID")), str(r.get("Risk ID"))))
    overdue = sorted((t for t in tasks if isinstance(t.get("Finish"), dt.datetime) and t["Finish"].date() < today
                      and (t.get("% Complete") or 0) < 1 and t.get("Status") not in ("Completed", "Cancelled")),
                     key=lambda t: (t["Finish"], str(t.get("Project ID"))))
    pages = []
    for row in projects:
        pid = row["Project ID"]
        pages.append(ProjectPage(
            row=row,
            milestones=[t for t in tasks if t.get("Project ID") == pid and str(t.get("Milestone")).lower() in ("yes", "true")],
            risks=[r for r in open_risks if r.get("Project ID") == pid][:PROJECT_RISKS],
            quality=quality.get(pid), status=statuses.get(pid)))
    return PackData(name=config.name, currency=config.reporting_currency, synced_at=synced_at, totals=totals,
                    rag=dict(Counter(str(row.get("RAG") or "(none)") for row in projects)),
                    programs=programs, top_risks=open_risks[:TOP_RISKS], overdue=overdue, projects=pages)
