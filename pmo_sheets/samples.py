"""Realistic sample project workbooks, for the demo, the tests and the benchmarks.

Data is produced as plain rows (field -> Python value) so that tests can plant a mistake in one
field of one row and know exactly which cell must be flagged; :func:`write_workbook` puts the rows
into a copy of the real template, column by column as the schemas place them.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from pmo_sheets.schemas import TEMPLATE_VERSION, tables_in
from pmo_sheets.templates import build_template, template_path

_EMPTY_FORMULA = re.compile(rb'(<c r="[A-Z]+\d+"(?: s="\d+")?)><f>([^<]*)</f><v\s*/>')
PROGRAMS = ["Digital Workplace", "Customer Platform", "Finance Transformation", "Data & Analytics"]
PORTFOLIOS = {"Digital Workplace": "Operations", "Customer Platform": "Growth",
              "Finance Transformation": "Operations", "Data & Analytics": "Growth"}
PEOPLE = ["Ana Silva", "Ben Okafor", "Chloé Martin", "Dev Patel", "Eva Novak", "Farid Haddad", "Grace Lee",
          "Hiro Tanaka", "Ines Garcia", "Jonas Berg"]
COST_CENTERS = ["CC-1001", "CC-1002", "CC-2001", "CC-2002", "CC-3001"]
CATEGORIES = ["Labour", "Contractors", "Hardware", "Software", "Travel", "Training"]
RISK_CATEGORIES = ["Schedule", "Cost", "Scope", "Technical", "Resource", "External"]


@dataclass
class SampleProject:
    """One project's data, table by table, as rows of Python values."""

    project: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def project_id(self) -> str:
        return str(self.project["project_id"])


def _month_add(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    return dt.date(day.year + index // 12, index % 12 + 1, 1)


def sample_project(number: int, *, seed: int = 0, tasks: int = 40, budget_lines: int = 4, months: int = 6,
                   risks: int = 12, currency: str = "USD", program: str | None = None,
                   today: dt.date = dt.date(2026, 6, 1), people: int = 0, raid: int = 0, changes: int = 0,
                   status: bool = False, allocations: tuple[float, ...] = (0.2, 0.25, 0.4, 0.5, 0.6, 0.8)) -> SampleProject:
    """A valid project: ``tasks`` tasks, ``budget_lines`` x ``months`` budget rows, ``risks`` risks.

    The template 2.0 tables are left empty unless asked for: ``people`` people allocated over the
    ``months`` months (each month's allocation one of ``allocations``), ``raid`` RAID items, ``changes``
    change requests, and with ``status`` one status row a month up to the month before ``today``. They
    are valid when validated on ``today``.
    """
    rng = random.Random(seed * 100_003 + number)
    program = program or PROGRAMS[number % len(PROGRAMS)]
    start = dt.date(2026, 1, 5) + dt.timedelta(days=7 * (number % 8))
    finish = start + dt.timedelta(days=7 * max(26, tasks // 2 + 4))
    project = {
        "project_id": f"PRJ-{number:04d}",
        "project_name": f"{program.split()[0]} initiative {number}",
        "program": program,
        "portfolio": PORTFOLIOS.get(program, "Operations"),
        "project_manager": PEOPLE[number % len(PEOPLE)],
        "pm_email": PEOPLE[number % len(PEOPLE)].split()[0].lower().replace("é", "e") + "@example.com",
        "sponsor": PEOPLE[(number + 3) % len(PEOPLE)],
        "start_date": start,
        "finish_date": finish,
        "status": "In Progress",
        "rag": rng.choice(["Green", "Green", "Amber", "Red"]),
        "priority": rng.choice(["High", "Medium", "Low"]),
        "currency": currency,
        "approved_budget": 0.0,
    }
    task_rows = []
    span = (finish - start).days - 14
    for i in range(tasks):
        task_start = start + dt.timedelta(days=int(span * i / max(tasks, 1)))
        length = rng.randint(3, 20)
        task_finish = task_start + dt.timedelta(days=length)
        done = 1.0 if task_finish < today else (0.0 if task_start > today else round(rng.random(), 2))
        slip = min(rng.choice([0, 0, 0, 3, 12]), length - 1)
        task_rows.append({
            "task_id": f"{i // 10 + 1}.{i % 10 + 1}",
            "task_name": f"Deliverable {i + 1}",
            "owner": rng.choice(PEOPLE),
            "start": task_start,
            "finish": task_finish,
            "baseline_start": task_start,
            "baseline_finish": task_finish - dt.timedelta(days=slip),
            "percent_complete": done,
            "status": "Completed" if done >= 1 else ("Not Started" if done == 0 else "In Progress"),
            "milestone": "Yes" if i % 10 == 9 else "No",
            "predecessors": task_rows[-1]["task_id"] if task_rows and i % 10 else "",
        })
    budget_rows = []
    total = 0.0
    for line in range(budget_lines):
        category = CATEGORIES[line % len(CATEGORIES)]
        monthly = float(rng.randrange(2_000, 40_000, 500))
        for month in range(months):
            period = _month_add(start, month)
            spent = period < today.replace(day=1)
            actual = round(monthly * rng.uniform(0.8, 1.25), 2) if spent else 0.0
            budget_rows.append({
                "line_id": f"L{line + 1:02d}",
                "category": category,
                "cost_center": COST_CENTERS[(number + line) % len(COST_CENTERS)],
                "description": f"{category} for {project['project_name']}",
                "period": period,
                "currency": currency,
                "budget": monthly,
                "actual": actual,
                "forecast": 0.0 if spent else round(monthly * rng.uniform(0.9, 1.1), 2),
            })
            total += monthly
    project["approved_budget"] = round(total * 1.05, 2)
    risk_rows = []
    for i in range(risks):
        probability, impact = rng.randint(1, 5), rng.randint(1, 5)
        risk_rows.append({
            "risk_id": f"R-{i + 1:03d}",
            "title": f"Risk {i + 1}: supplier delay affects delivery",
            "category": rng.choice(RISK_CATEGORIES),
            "owner": rng.choice(PEOPLE),
            "raised": start + dt.timedelta(days=rng.randint(0, 60)),
            "probability": probability,
            "impact": impact,
            "response": rng.choice(["Avoid", "Mitigate", "Transfer", "Accept"]),
            "mitigation": "Weekly check-in with the supplier",
            "due_date": start + dt.timedelta(days=rng.randint(60, 150)),
            "status": rng.choice(["Open", "Open", "Monitoring", "Closed"]),
        })
    sample = SampleProject(project, {"tasks": task_rows, "budget": budget_rows, "risks": risk_rows})
    sample.tables["resources"] = _resources(rng, project, number, people=people, months=months, choices=allocations)
    sample.tables["raid"] = _raid(rng, project, number, count=raid, today=today,
                                  tasks=[row["task_id"] for row in task_rows])
    sample.tables["changes"] = _changes(rng, project, count=changes, today=today)
    sample.tables["status"] = _status(rng, project, today=today) if status else []
    if sample.tables["status"]:
        project["rag"] = sample.tables["status"][-1]["overall_rag"]  # as a PM keeps it: the latest report's
    return sample


ROLES = ["Business analyst", "Developer", "Architect", "Tester", "Change manager", "Data engineer"]


def email_of(person: str) -> str:
    """The sample address of a person: ``chloe.martin@example.com``."""
    return person.lower().replace("é", "e").replace(" ", ".") + "@example.com"


def _resources(rng: random.Random, project: dict[str, Any], number: int, *, people: int,
               months: int, choices: tuple[float, ...]) -> list[dict[str, Any]]:
    rows = []
    start = project["start_date"]
    for index in range(people):
        person = PEOPLE[(number * 3 + index) % len(PEOPLE)]  # neighbouring projects share people
        for month in range(months):
            rows.append({
                "person": person,
                "email": email_of(person),
                "role": ROLES[index % len(ROLES)],
                "work_package": f"WP{index % 3 + 1}",
                "month": _month_add(start, month),
                "allocation": rng.choice(choices),
                "cost_rate": float(rng.randrange(400, 1200, 50)),
            })
    return rows


def _raid(rng: random.Random, project: dict[str, Any], number: int, *, count: int, today: dt.date,
          tasks: list[str]) -> list[dict[str, Any]]:
    rows = []
    kinds = ["Issue", "Assumption", "Decision", "Dependency"]
    start = project["start_date"]
    for i in range(count):
        kind = kinds[i % len(kinds)]
        raised = start + dt.timedelta(days=7 * i % 90)
        due = max(raised, today) + dt.timedelta(days=14 + 7 * (i % 6))  # open items are due after today
        closed = i % 3 == 2
        rows.append({
            "raid_id": f"{kind[0]}-{i + 1:03d}",
            "type": kind,
            "title": f"{kind} {i + 1}: {['supplier contract', 'data migration', 'test environment', 'go-live date'][i % 4]}",
            "owner": PEOPLE[(number + i) % len(PEOPLE)],
            "raised": raised,
            "due": raised + dt.timedelta(days=10) if closed else due,
            "closed": raised + dt.timedelta(days=8) if closed else None,
            "priority": ["High", "Medium", "Low", "Critical"][i % 4],
            "status": "Closed" if closed else rng.choice(["Open", "In Progress"]),
            "depends_on": f"PRJ-{(number - 1 if number > 1 else number + 1):04d}" if kind == "Dependency" else None,
            "linked_item": tasks[i % len(tasks)] if tasks and i % 2 == 0 else None,
        })
    return rows


def _changes(rng: random.Random, project: dict[str, Any], *, count: int, today: dt.date) -> list[dict[str, Any]]:
    rows = []
    start = project["start_date"]
    for i in range(count):
        decision = ["Approved", "Pending", "Rejected"][i % 3]
        raised = min(start + dt.timedelta(days=20 + 15 * i), today)
        rows.append({
            "change_id": f"CR-{i + 1:03d}",
            "title": f"Change {i + 1}: {['extra reports', 'second data centre', 'earlier pilot'][i % 3]}",
            "requester": PEOPLE[(i + 2) % len(PEOPLE)],
            "raised": raised,
            "decision": decision,
            "decision_date": raised + dt.timedelta(days=10) if decision != "Pending" else None,
            "schedule_impact_days": rng.choice([0, 5, 10, 20, -5]),
            "cost_impact": float(rng.randrange(1_000, 50_000, 500)),
            "currency": project["currency"],
        })
    return rows


def _status(rng: random.Random, project: dict[str, Any], *, today: dt.date) -> list[dict[str, Any]]:
    rows = []
    period = project["start_date"].replace(day=1)
    last = _month_add(today, -1)
    rag = "Green"
    while period <= last:
        rag = rng.choice({"Green": ["Green", "Green", "Amber"], "Amber": ["Green", "Amber", "Red"],
                          "Red": ["Amber", "Red"]}[rag])  # a trend, not noise
        rows.append({
            "period": period,
            "overall_rag": rag,
            "schedule_rag": rag,
            "budget_rag": rng.choice(["Green", "Amber"]),
            "scope_rag": "Green",
            "summary": f"{period:%B %Y}: {'on track' if rag == 'Green' else 'watch closely' if rag == 'Amber' else 'needs help'}",
            "achievements": "Design signed off; supplier onboarded",
            "next_steps": "Build and test the next release",
            "escalations": "Decision needed on the go-live date" if rag == "Red" else None,
        })
        period = _month_add(period, 1)
    return rows


def realistic_project(number: int, *, seed: int = 0, currency: str = "USD") -> SampleProject:
    """The benchmark's workbook: about 300 tasks, 120 budget rows, 60 risks."""
    return sample_project(number, seed=seed, tasks=300, budget_lines=10, months=12, risks=60, currency=currency)


def write_workbook(sample: SampleProject, path: Path, kind: str = "project") -> Path:
    """Write a sample into a copy of the ``kind`` template with openpyxl; returns ``path``."""
    workbook = fill_workbook(sample, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def fill_workbook(sample: SampleProject, kind: str = "project", version: str = TEMPLATE_VERSION) -> Workbook:
    """A copy of the ``kind`` template with the sample's rows in it, not yet saved (tests edit it further).

    ``version``: a workbook of an earlier template version, with only that version's sheets.
    """
    source = template_path(kind)
    if version == TEMPLATE_VERSION:
        workbook = load_workbook(source) if source.exists() else build_template(kind)
    else:
        workbook = build_template(kind, version)
    for spec in tables_in(kind, version):
        table_name = spec.name
        sheet = workbook[spec.sheet]
        if spec.layout == "form":
            for column in spec.columns:
                if column.name in sample.project:
                    sheet.cell(column.position, 2, sample.project[column.name])
            continue
        for offset, row in enumerate(sample.tables.get(table_name, []), start=2):
            for column in spec.columns:
                if column.name in row:
                    sheet.cell(offset, column.position, row[column.name])
    return workbook


def plant_mistakes(sample: SampleProject) -> list[str]:
    """Introduce typical mistakes into a sample (in place); returns what was planted, in plain words."""
    tasks, budget, risks = sample.tables["tasks"], sample.tables["budget"], sample.tables["risks"]
    tasks[3]["finish"] = tasks[3]["start"] - dt.timedelta(days=2)
    tasks[5]["predecessors"] = "9.9"
    tasks[6]["percent_complete"] = "half"
    budget[2]["currency"] = "EUR" if sample.project["currency"] != "EUR" else "USD"
    risks[1]["probability"] = 7
    return ["Tasks row 5: finish before start", "Tasks row 7: unknown predecessor 9.9",
            "Tasks row 8: '% Complete' typed as 'half'", "Budget row 4: wrong currency",
            "Risks row 3: probability 7 (1-5 allowed)"]


def show_empty_formulas(path: Path, target: Path) -> Path:
    """A copy in which every formula cell shows "" as its cached value, as Excel and Google Sheets save a
    template's empty rows (openpyxl writes formulas without cached values). Readers must skip them cheaply."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = _EMPTY_FORMULA.sub(rb'\1 t="str"><f>\2</f><v></v>', data)
            out.writestr(info, data)
    return target


# Hostile workbooks, for the tests and the benchmark that show they are refused (docs/trust.md).
_MiB = 1024 * 1024


def zip_bomb(path: Path, *, unpacked_mb: int = 64) -> Path:
    """A real plan workbook plus one sheet part of ``unpacked_mb`` MB of zeros, packed about 1,000 times
    (64 MB of sheet XML in about 70 KB): its zip directory tells the truth about its sizes."""
    fill_workbook(sample_project(1, tasks=12, budget_lines=2, months=3, risks=5), "plan").save(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive, \
            archive.open("xl/worksheets/sheet99.xml", "w", force_zip64=True) as part:
        zeros = b"0" * _MiB
        for _ in range(unpacked_mb):
            part.write(zeros)
    return path


def lying_zip_bomb(path: Path, *, unpacked_mb: int = 8, declared_bytes: int = 1000) -> Path:
    """A plan workbook with a part that declares ``declared_bytes`` unpacked in both of its zip headers and
    inflates to ``unpacked_mb`` MB: its directory lies, as real bombs' do. ``unpacked_mb`` stays under 4,096."""
    fill_workbook(sample_project(1, tasks=12, budget_lines=2, months=3, risks=5), "plan").save(path)
    name, real = b"xl/worksheets/sheet98.xml", unpacked_mb * _MiB
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(name.decode(), b"0" * real)
    data = bytearray(path.read_bytes())
    size = real.to_bytes(4, "little")
    # The uncompressed size sits at offset 22 of a local header (name at 30) and 24 of a central one (name at 46).
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            start = at + 4
            if data[at + name_at:at + name_at + len(name)] == name and data[at + size_at:at + size_at + 4] == size:
                data[at + size_at:at + size_at + 4] = declared_bytes.to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path
