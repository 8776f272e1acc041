"""The add-in's worksheet functions give what the templates' formula columns show in a spreadsheet.

The formulas are recalculated by LibreOffice (a real engine, with recalculation forced), then every
row's Rating / RAG cell is compared with the UDF called on the same inputs, including the
boundaries (score 7/8 and 14/15, 10 and 11 days late, exactly 10% over budget) and blanks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from soffice import recalculate

from pmo_sheets.addin import pmo_budget_rag, pmo_risk_rating, pmo_risk_score, pmo_schedule_rag
from pmo_sheets.samples import SampleProject, sample_project, write_workbook
from pmo_sheets.schemas import load_tables

START = dt.date(2026, 3, 2)
SLIPS = [-3, 0, 1, 9, 10, 11, 40, None]  # days late against the baseline; None: no baseline
EACS = [None, 0.0, 900.0, 1000.0, 1000.01, 1050.0, 1099.99, 1100.0, 1100.01, 1250.0]  # against a budget of 1000


def rating_sample() -> SampleProject:
    sample = sample_project(1, tasks=0, budget_lines=0, risks=0)
    sample.tables["risks"] = [
        {"risk_id": f"R-{p}{i}", "title": "t", "probability": p, "impact": i} for p in range(1, 6) for i in range(1, 6)]
    sample.tables["risks"].append({"risk_id": "R-blank", "title": "no impact yet", "probability": 3})
    sample.tables["tasks"] = [
        {"task_id": f"1.{n + 1}", "task_name": "t", "start": START, "finish": START + dt.timedelta(days=30),
         **({"baseline_finish": START + dt.timedelta(days=30 - slip)} if slip is not None else {})}
        for n, slip in enumerate(SLIPS)]
    sample.tables["budget"] = [
        {"line_id": f"L{n:02d}", "period": START, "budget": 1000.0,
         **({"actual": eac / 2, "forecast": eac / 2} if eac is not None else {})}
        for n, eac in enumerate(EACS)]
    return sample


def as_excel_passes(value: object) -> object:
    """What xlwings hands a UDF: floats for numbers, datetimes for dates."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def column_values(sheet: Any, table: str, fields: list[str], rows: int) -> list[dict[str, object]]:
    spec = load_tables()[table]
    return [{name: sheet.cell(row, spec.column(name).position).value for name in fields} for row in range(2, rows + 2)]


@pytest.mark.soffice
def test_rating_functions_agree_with_the_template_formulas_as_libreoffice_calculates_them(tmp_path: Path) -> None:
    sample = rating_sample()
    source = write_workbook(sample, tmp_path / "ratings.xlsx")
    workbook = load_workbook(recalculate(source, tmp_path / "calc"), data_only=True)

    risks = column_values(workbook["Risks"], "risks", ["probability", "impact", "score", "rating"], len(sample.tables["risks"]))
    tasks = column_values(workbook["Tasks"], "tasks", ["finish", "baseline_finish", "schedule_rag"], len(SLIPS))
    budget = column_values(workbook["Budget"], "budget", ["budget", "eac", "budget_rag"], len(EACS))

    def shown(value: object) -> object:
        return "" if value is None else value  # LibreOffice saves a formula's "" as an empty cell

    assert [pmo_risk_rating(*map(as_excel_passes, (r["probability"], r["impact"]))) for r in risks] == \
        [shown(r["rating"]) for r in risks]
    assert [pmo_risk_score(*map(as_excel_passes, (r["probability"], r["impact"]))) for r in risks] == \
        [shown(r["score"]) for r in risks]
    assert [pmo_schedule_rag(*map(as_excel_passes, (t["finish"], t["baseline_finish"]))) for t in tasks] == \
        [shown(t["schedule_rag"]) for t in tasks]
    assert [pmo_budget_rag(*map(as_excel_passes, (b["budget"], b["eac"]))) for b in budget] == \
        [shown(b["budget_rag"]) for b in budget]
    # the comparison saw every outcome, so it would notice a shifted threshold
    assert {r["rating"] for r in risks} >= {"High", "Medium", "Low"}
    assert {t["schedule_rag"] for t in tasks} >= {"Green", "Amber", "Red"}
    assert {b["budget_rag"] for b in budget} >= {"Green", "Amber", "Red"}


def test_rating_functions_accept_what_excel_and_xlwings_lite_send() -> None:
    assert pmo_schedule_rag(46100.0, 46090.0) == "Amber"  # Lite sends serial numbers: 10 days late
    assert pmo_schedule_rag("2026-03-31", "2026-03-15") == "Red"
    assert pmo_risk_rating(None, 4.0) == ""
    assert pmo_budget_rag("1,000", 1100.0) == "Amber"
    with pytest.raises(ValueError):
        pmo_schedule_rag("next week", "2026-03-15")
