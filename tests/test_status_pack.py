"""The portfolio status pack: a PDF of 1 + N pages whose figures are the master's cached values.

The demo portfolio of 5 projects: PRJ-0002 was saved with mistakes and PRJ-0003 truncated, so both show
their last good data, and their pages must say so. The figures are checked against the master read
independently here with openpyxl, page by page (pypdf reads the PDF back).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest
from portfolio_fixtures import make_portfolio
from typer.testing import CliRunner

from pmo_sheets.cli import app
from pmo_sheets.config import load_config
from pmo_sheets.demo import run_demo
from pmo_sheets.samples import SampleProject, sample_project
from pmo_sheets.statuspack.data import latest_status, read_pack
from pmo_sheets.statuspack.render import pack_html
from pmo_sheets.sync import run_sync

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("weasyprint")


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("pack") / "demo"
    # The demo as `make demo` makes it: template 2.0's tables filled, status reports with their narrative.
    assert run_demo(5, folder, echo=lambda line: None) == 0
    target = folder / "out" / "status-pack.pdf"
    (folder / "out").mkdir()
    result = CliRunner().invoke(app, ["report", "--config", str(folder / "portfolio.toml"), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {target}"
    pages = [" ".join((page.extract_text() or "").split()) for page in pypdf.PdfReader(target).pages]
    return folder, pages


def portfolio_rows(master: Path) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(master, data_only=True)["Portfolio"]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


def money(value: object) -> str:
    return f"{float(value):,.2f}"


def test_one_summary_page_then_one_page_per_project_with_the_masters_figures(pack: tuple[Path, list[str]]) -> None:
    folder, pages = pack
    rows = portfolio_rows(folder / "master.xlsx")
    projects = [row for row in rows if row["Project ID"] != "Total"]
    total = next(row for row in rows if row["Project ID"] == "Total")
    assert len(projects) == 5 and len(pages) == 1 + 5
    summary = pages[0]
    assert "Demo portfolio: portfolio status" in summary and "Budget vs EAC by program (USD)" in summary
    for key in ("Approved Budget", "Budget", "Actuals", "Forecast", "EAC", "Variance"):
        assert money(total[key]) in summary, key
    for row, page in zip(projects, pages[1:], strict=True):
        assert page.startswith(f"{row['Project ID']} · {row['Project Name']}"), page[:80]
        for key in ("Approved Budget", "Budget", "Actuals", "Forecast", "EAC", "Variance"):
            assert f"{key} {money(row[key])}" in page, (row["Project ID"], key)
        assert f"{row['Open Risks']} open, {row['High Risks']} high" in page


def test_a_project_with_last_good_data_is_marked_stale_on_its_page(pack: tuple[Path, list[str]]) -> None:
    _, pages = pack
    by_project = {page.split(" ")[0]: page for page in pages[1:]}
    assert "Stale: last good data of" in by_project["PRJ-0002"] and "invalid, last good data kept" in by_project["PRJ-0002"]
    assert "Stale: last good data of" in by_project["PRJ-0003"] and "unreadable" in by_project["PRJ-0003"]
    assert all("Stale" not in by_project[pid] for pid in ("PRJ-0001", "PRJ-0004", "PRJ-0005"))
    assert "2 projects shown with last good data: PRJ-0002, PRJ-0003" in pages[0]
    # The demo's status reports (template 2.0): every project page shows its latest one, on the same page
    assert all("Latest status report (2026-05-01, overall" in page for page in pages[1:])


def test_the_latest_status_narrative_shows_when_the_master_has_a_status_table(pack: tuple[Path, list[str]]) -> None:
    """Template 2.0's status table reaches the master as a status data sheet: the newest report of each
    project is shown on its page, and a project without one shows none."""
    folder, _ = pack
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Status data"
    sheet.append(["Project ID", "Period", "Overall RAG", "Summary", "Next Steps", "Source"])
    sheet.append(["PRJ-0001", dt.date(2026, 10, 31), "Amber", "October: vendor late", "Escalate", "a.xlsx"])
    sheet.append(["PRJ-0001", dt.date(2026, 11, 30), "Green", "November: back on track <b>really</b>", "", "a.xlsx"])
    statuses = latest_status(book)
    assert statuses == {"PRJ-0001": {"when": "2026-11-30", "rag": "Green",
                                     "narrative": [("Summary", "November: back on track <b>really</b>")]}}
    config = load_config(folder / "portfolio.toml")
    content = read_pack(config)
    content.projects[0].status = statuses["PRJ-0001"]
    long_summary = "word " * 200  # 1,000 characters: shown cut, so that the project keeps to one page
    content.projects[1].status = {"when": "2026-11-30", "rag": "Red", "narrative": [("Summary", long_summary)]}
    html = pack_html(content)
    shown = re.search(r"<b>Summary:</b> ((?:word )+)word… \(the rest on the workbook&#39;s Status sheet\)", html)
    assert shown and 250 <= len(shown[1]) + 4 < 300 and long_summary not in html
    assert "Latest status report (2026-11-30, overall Green)" in html
    assert "November: back on track &lt;b&gt;really&lt;/b&gt;" in html  # escaped, as typed
    assert html.count("Latest status report (2026-11-30, overall Green)") == 1 and "October" not in html


def test_the_html_form_is_one_self_contained_page(pack: tuple[Path, list[str]], tmp_path: Path) -> None:
    folder, _ = pack
    target = tmp_path / "pack.html"
    result = CliRunner().invoke(app, ["report", "--config", str(folder / "portfolio.toml"), "--format", "html",
                                      "-o", str(target)])
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    assert html.count('<section class="page project"') == 5 and html.count("<svg") == 6  # a chart a page
    assert "<script" not in html and 'src="http' not in html and "<link" not in html  # works offline


def test_no_master_yet_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "portfolio.toml"
    config.write_text('name = "P"\nreporting_currency = "USD"\nmaster = "master.xlsx"\n'
                      '[[sources]]\nkind = "excel"\npath = "*.xlsx"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["report", "--config", str(config), "-o", str(tmp_path / "p.pdf")])
    assert result.exit_code == 2 and "no master workbook yet; run pmo sync" in result.output
    assert not (tmp_path / "p.pdf").exists()


def newest_first_reports(sample: SampleProject) -> None:
    """Monthly status reports for PRJ-0001 and PRJ-0002, typed newest first (the latest is not the last
    row), the latest one's summary in words a spreadsheet or HTML would misread; PRJ-0003 has none."""
    number = int(sample.project_id.removeprefix("PRJ-"))
    if number == 3:
        return
    reports = sample_project(number, tasks=4, budget_lines=1, months=2, risks=2, status=True).tables["status"]
    reports[-1].update(overall_rag="Amber", summary=f"{sample.project_id}: vendor <b>late</b> & R&D* =X, see ~notes?")
    sample.tables["status"] = reports[::-1]


def test_the_project_page_shows_the_summary_typed_in_the_latest_status_row(tmp_path: Path) -> None:
    config, samples = make_portfolio(tmp_path, count=3, tasks=4, budget_lines=1, months=2, risks=2,
                                     edit=newest_first_reports)
    assert run_sync(config).exit_code == 0
    latest = {s.project_id: max(s.tables["status"], key=lambda r: r["period"]) for s in samples if s.tables["status"]}
    assert latest["PRJ-0001"]["period"] == dt.date(2026, 5, 1) and len(samples[0].tables["status"]) == 5

    # The Portfolio sheet shows each project's latest report (cached values of live formulas).
    rows = {row["Project ID"]: row for row in portfolio_rows(config.master)}
    for pid, report in latest.items():
        assert rows[pid]["Status Month"] == dt.datetime(2026, 5, 1)
        assert (rows[pid]["Status RAG"], rows[pid]["Status Summary"]) == ("Amber", report["summary"])
    assert not any(rows["PRJ-0003"][key] for key in ("Status Month", "Status RAG", "Status Summary"))  # blank: none

    target = tmp_path / "pack.pdf"
    result = CliRunner().invoke(app, ["report", "--config", str(config.path), "-o", str(target)])
    assert result.exit_code == 0, result.output
    pages = {page.split(" ")[0]: page for page in
             (" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(target).pages[1:])}
    for pid, report in latest.items():
        assert "Latest status report (2026-05-01, overall Amber)" in pages[pid]
        assert f"Summary: {report['summary']}" in pages[pid]
        assert "Next Steps: Build and test the next release" in pages[pid]
    assert "Latest status" not in pages["PRJ-0003"]
