"""The master's formulas, recalculated by a real spreadsheet engine (LibreOffice Calc headless).

Checks every formula's recalculated value against the cached value we wrote and the headline
figures against totals computed here, independently, with pandas from the source workbooks. The
portfolio's programs, cost centers, managers and owners are names a SUMIFS criterion would misread
(``R&D*`` and ``r&d*``, ``<TBD>``, ``>5``, ``=X``, ``Phase ?``, ``~temp``, ``2026`` and ``2026.0``).
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from portfolio_fixtures import FX, make_portfolio, with_lookalike_names
from soffice import formula_cells, recalculate, require_soffice, same_value

from pmo_sheets.sync import run_sync

pytestmark = pytest.mark.soffice


def source_frames(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Projects, budget lines and risks read straight from the source workbooks with pandas."""
    projects, budgets, risks = [], [], []
    for path in sorted(folder.glob("*.xlsx")):
        # Converters keep text as typed: pandas would otherwise read the text "2026" as the number 2026.
        form = pd.read_excel(path, sheet_name="Project", header=None, usecols=[0, 1], engine="openpyxl",
                             converters={1: lambda value: value})
        info = dict(zip(form[0], form[1], strict=True))
        program = None if pd.isna(info["Program"]) else info["Program"]
        projects.append({"project_id": info["Project ID"], "program": program, "currency": info["Currency"]})
        budget = pd.read_excel(path, sheet_name="Budget", engine="openpyxl",
                               converters={"Cost Center": lambda value: value}).dropna(subset=["Line ID"])
        budget["project_id"] = info["Project ID"]
        budgets.append(budget)
        risk = pd.read_excel(path, sheet_name="Risks", engine="openpyxl").dropna(subset=["Risk ID"])
        risk["project_id"] = info["Project ID"]
        risks.append(risk)
    return pd.DataFrame(projects), pd.concat(budgets), pd.concat(risks)


def values(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path, data_only=True)


def plant_wrong_cached_value(path: Path, sheet_index: int, cell: str, wrong: str) -> None:
    """Rewrite one formula cell's cached <v> inside the xlsx, leaving everything else as written."""
    temp = path.with_suffix(".planted.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == f"xl/worksheets/sheet{sheet_index}.xml":
                text = data.decode()
                text, count = re.subn(rf'(<c r="{cell}"[^>]*><f>[^<]*</f><v>)[^<]*(</v>)', rf"\g<1>{wrong}\g<2>", text)
                assert count == 1
                data = text.encode()
            target.writestr(item, data)
    shutil.move(temp, path)


def finance_sections(sheet: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, dict[object, float]]:
    """The Finance sheet's sections: title -> {label: budget}; a blank group's label is None."""
    sections: dict[str, dict[object, float]] = {}
    current = None
    for r in range(1, sheet.max_row + 1):
        label, budget = sheet.cell(r, 1).value, sheet.cell(r, 2).value
        if budget == "Budget":
            current = sections.setdefault(label, {})
        elif label == "Total":
            current = None
        elif current is not None:
            current[None if label == "(blank)" else label] = budget
    return sections


def fiscal_period(day: pd.Timestamp) -> str:
    """The fiscal period of a budget month, for a fiscal year starting in April (the fixture's)."""
    return f"FY{day.year + (1 if day.month >= 4 else 0)}-P{(day.month - 4) % 12 + 1:02d}"


def assert_rollups_equal_pandas(book: openpyxl.Workbook, folder: Path) -> None:
    """Every rollup sheet's figures (Portfolio, Programs, Finance, Risks) as pandas works them out from the
    source workbooks in ``folder``: used on the cached values as written (everywhere) and on LibreOffice's
    recalculation."""
    projects, budget, risks = source_frames(folder)
    budget = budget.merge(projects, on="project_id")
    budget["rate"] = budget["Currency"].map(FX)
    for column in ("Budget", "Actual", "Forecast"):
        budget[column + " USD"] = budget[column].fillna(0) * budget["rate"]

    portfolio = book["Portfolio"]
    by_project = budget.groupby("project_id")["Budget USD"].sum()
    for row in range(2, 2 + len(projects)):
        project_id = portfolio[f"A{row}"].value
        assert portfolio[f"M{row}"].value == pytest.approx(by_project[project_id])
    assert portfolio[f"M{len(projects) + 2}"].value == pytest.approx(budget["Budget USD"].sum())

    # Groups are exact, in pandas as in the spreadsheet: R&D* is not r&d*, 2026 is not 2026.0.
    budget["Program"] = budget["program"].fillna("")
    programs = book["Programs"]
    by_program = budget.groupby("Program")[["Budget USD", "Actual USD", "Forecast USD"]].sum()
    projects_by_program = projects["program"].fillna("").value_counts()
    seen = {programs[f"A{r}"].value or "": r for r in range(2, 2 + len(by_program))}
    assert set(seen) == set(by_program.index) >= {"R&D*", "r&d*", "<TBD>", ">5", "=X", "Phase ?", "~temp", "2026",
                                                   "2026.0", ""}
    for program, figures in by_program.iterrows():
        r = seen[program]
        assert programs[f"B{r}"].value == projects_by_program[program]
        assert programs[f"C{r}"].value == pytest.approx(figures["Budget USD"])
        assert programs[f"F{r}"].value == pytest.approx(figures["Actual USD"] + figures["Forecast USD"])

    sections = finance_sections(book["Finance"])
    budget["Fiscal Period"] = pd.to_datetime(budget["Period"]).map(fiscal_period)
    budget["Program"] = budget["program"]
    for title in ("Program", "Cost Center", "Category", "Fiscal Period"):
        totals = budget.groupby(title, dropna=False)["Budget USD"].sum()
        expected = {None if pd.isna(label) else label: total for label, total in totals.items()}
        assert sections[title] == pytest.approx(expected), title
    assert {"2026", "2026.0", "02026", "1e3", "1000", "CC-1", "cc-1"} == set(sections["Cost Center"])

    heat = book["Risks"]
    open_risks = risks[risks["Status"] != "Closed"]
    for probability in range(1, 6):
        for impact in range(1, 6):
            expected = int(((open_risks["Probability"] == probability) & (open_risks["Impact"] == impact)).sum())
            assert heat.cell(4 + (5 - impact), 1 + probability).value == expected



@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    require_soffice()
    root = tmp_path_factory.mktemp("portfolio")
    config, _ = make_portfolio(root, count=11, extra="max_rows_per_sheet = 40",  # tasks span several sheets
                               edit=with_lookalike_names)
    assert run_sync(config).exit_code == 0
    return root, config.master


def test_every_formula_recalculates_to_its_cached_value_and_to_pandas_totals(synced: tuple[Path, Path],
                                                                             tmp_path: Path) -> None:
    root, master = synced
    cached = values(master)
    planted = tmp_path / "master.xlsx"
    shutil.copy(master, planted)
    plant_wrong_cached_value(planted, 1, "M2", "123456789")  # Portfolio!M2, the first project's budget
    assert values(planted)["Portfolio"]["M2"].value == 123456789

    recalculated = values(recalculate(planted, tmp_path / "out"))

    # LibreOffice really recalculated: the planted lie is gone.
    assert recalculated["Portfolio"]["M2"].value == pytest.approx(cached["Portfolio"]["M2"].value)
    formulas = formula_cells(master)
    assert len(formulas) > 200
    wrong = [(sheet, ref, cached[sheet][ref].value, recalculated[sheet][ref].value)
             for (sheet, ref) in formulas if not same_value(cached[sheet][ref].value, recalculated[sheet][ref].value)]
    assert wrong == []

    assert_rollups_equal_pandas(recalculated, root / "projects")


def test_changing_an_fx_rate_moves_the_totals(synced: tuple[Path, Path], tmp_path: Path) -> None:
    _, master = synced
    before = values(master)
    book = openpyxl.load_workbook(master)
    fx = book["FX"]
    eur_row = next(r for r in range(2, fx.max_row + 1) if fx.cell(r, 1).value == "EUR")
    fx.cell(eur_row, 2).value = 2.16  # from 1.08: every EUR amount doubles in USD
    edited = tmp_path / "edited.xlsx"
    book.save(edited)

    after = values(recalculate(edited, tmp_path / "out"))

    portfolio_before, portfolio_after = before["Portfolio"], after["Portfolio"]
    rows = [r for r in range(2, portfolio_before.max_row + 1) if portfolio_before[f"I{r}"].value in ("EUR", "USD", "GBP")]
    moved = 0.0
    for r in rows:
        factor = 2.0 if portfolio_before[f"I{r}"].value == "EUR" else 1.0
        assert portfolio_after[f"M{r}"].value == pytest.approx(portfolio_before[f"M{r}"].value * factor)
        moved += portfolio_before[f"M{r}"].value * (factor - 1)
    total_row = max(rows) + 1
    assert moved > 0
    assert portfolio_after[f"M{total_row}"].value == pytest.approx(portfolio_before[f"M{total_row}"].value + moved)
    finance_total_before = next(before["Finance"].cell(r, 2).value for r in range(1, 50)
                                if before["Finance"].cell(r, 1).value == "Total")
    finance_total_after = next(after["Finance"].cell(r, 2).value for r in range(1, 50)
                               if after["Finance"].cell(r, 1).value == "Total")
    assert finance_total_after == pytest.approx(finance_total_before + moved)

