"""pmo sync as a coordinator sees it: incremental, never losing data, atomic, with exact exit codes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from portfolio_fixtures import config_text, make_portfolio
from typer.testing import CliRunner

from pmo_sheets import sync as sync_module
from pmo_sheets.cli import app
from pmo_sheets.config import ConfigError, load_config
from pmo_sheets.master import MasterWriter
from pmo_sheets.samples import plant_mistakes, sample_project, write_workbook
from pmo_sheets.settings import DEFAULT_SETTINGS, ValidationSettings
from pmo_sheets.sync import run_sync

runner = CliRunner()


def sheet_rows(path: Path, sheet: str) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = [tuple(r) for r in book[sheet].iter_rows(values_only=True)]
    book.close()
    return rows


def portfolio_rows(path: Path) -> dict[str, dict[str, object]]:
    rows = sheet_rows(path, "Portfolio")
    header = rows[0]
    return {r[0]: dict(zip(header, r, strict=False)) for r in rows[1:] if r[0] and r[0] != "Total"}


def quality(path: Path) -> dict[str, str]:
    return {r[0]: r[3] for r in sheet_rows(path, "Data quality")[1:]}


@pytest.fixture
def counted_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every workbook the sync opens (the real reader runs; this only records the path)."""
    opened: list[str] = []
    real = sync_module.check_excel

    def counting(path: str, settings: ValidationSettings = DEFAULT_SETTINGS, limits=None):  # type: ignore[no-untyped-def]
        opened.append(Path(path).name)
        return real(path, settings) if limits is None else real(path, settings, limits)

    monkeypatch.setattr(sync_module, "check_excel", counting)
    return opened


def test_first_sync_writes_every_project_with_lineage(tmp_path: Path) -> None:
    config, samples = make_portfolio(tmp_path)
    result = run_sync(config)
    assert result.exit_code == 0 and result.written
    projects = portfolio_rows(config.master)
    assert sorted(projects) == sorted(s.project_id for s in samples)
    tasks = sheet_rows(config.master, "Task data")
    assert tasks[0][-3:] == ("Source", "Source Sheet", "Source Row")
    first = tasks[1]
    assert first[-3:] == ("projects/PRJ-0001.xlsx", "Tasks", 2)
    assert len(tasks) - 1 == sum(len(s.tables["tasks"]) for s in samples)


def test_unchanged_sources_are_not_opened_again(tmp_path: Path, counted_reads: list[str]) -> None:
    config, _ = make_portfolio(tmp_path)
    run_sync(config)
    assert sorted(counted_reads) == ["PRJ-0001.xlsx", "PRJ-0002.xlsx", "PRJ-0003.xlsx", "PRJ-0004.xlsx"]
    counted_reads.clear()
    before = config.master.stat().st_mtime_ns

    again = run_sync(config)

    assert counted_reads == []
    assert again.counts["unchanged"] == 4 and not again.written
    assert config.master.stat().st_mtime_ns == before

    changed = sample_project(2, currency="GBP", tasks=12, budget_lines=3, months=4, risks=6)
    changed.project["project_name"] = "Renamed project"
    write_workbook(changed, tmp_path / "projects" / "PRJ-0002.xlsx")
    third = run_sync(config)
    assert counted_reads == ["PRJ-0002.xlsx"]
    assert third.written and portfolio_rows(config.master)["PRJ-0002"]["Project Name"] == "Renamed project"


def test_invalid_source_keeps_last_good_data_marked_stale(tmp_path: Path) -> None:
    config, samples = make_portfolio(tmp_path)
    run_sync(config)
    good_budget = portfolio_rows(config.master)["PRJ-0002"]["Budget"]

    broken = samples[1]
    plant_mistakes(broken)
    write_workbook(broken, tmp_path / "projects" / "PRJ-0002.xlsx")
    (tmp_path / "projects" / "PRJ-0003.xlsx").write_bytes(b"PK\x03\x04 cut short")
    result = run_sync(config)

    assert result.exit_code == 1
    assert result.counts["invalid"] == 1 and result.counts["unreadable"] == 1
    projects = portfolio_rows(config.master)
    assert projects["PRJ-0002"]["Budget"] == pytest.approx(good_budget)
    assert projects["PRJ-0002"]["Data Status"] == "stale"
    assert "PRJ-0003" in projects
    status = quality(config.master)
    assert status["projects/PRJ-0002.xlsx"] == "invalid, last good data kept"
    assert status["projects/PRJ-0003.xlsx"] == "unreadable, last good data kept"
    findings = {r[0]: r[6] for r in sheet_rows(config.master, "Data quality")[1:]}
    assert "Tasks!E5 finish-before-start" in findings["projects/PRJ-0002.xlsx"]


def test_never_valid_source_is_listed_and_contributes_nothing(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    newcomer = sample_project(9, currency="USD", tasks=12, budget_lines=3, months=4, risks=6)
    plant_mistakes(newcomer)
    write_workbook(newcomer, tmp_path / "projects" / "PRJ-0009.xlsx")

    result = run_sync(config)

    assert result.exit_code == 1
    assert "PRJ-0009" not in portfolio_rows(config.master)
    assert quality(config.master)["projects/PRJ-0009.xlsx"] == "invalid, never valid"


def test_vanished_source_is_missing_and_keeps_its_data(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path)
    run_sync(config)
    (tmp_path / "projects" / "PRJ-0004.xlsx").unlink()

    result = run_sync(config)

    assert result.exit_code == 1 and result.counts["missing"] == 1 and result.written
    assert quality(config.master)["projects/PRJ-0004.xlsx"] == "missing, last good data kept"
    assert "PRJ-0004" in portfolio_rows(config.master)


def test_a_vanished_source_under_a_linked_folder_is_missing_too(tmp_path: Path) -> None:
    # Discovery keys a file by its real path; the glob names the linked folder. The source used to leave the
    # portfolio silently (exit 0, its project gone from the master) instead of being reported missing.
    make_portfolio(tmp_path, count=2)
    (tmp_path / "shared").symlink_to(tmp_path / "projects")
    (tmp_path / "portfolio.toml").write_text(config_text(sources='path = "shared/*.xlsx"'))
    config = load_config(tmp_path / "portfolio.toml")
    run_sync(config)
    (tmp_path / "projects" / "PRJ-0002.xlsx").unlink()

    result = run_sync(config)

    assert result.exit_code == 1 and result.counts["missing"] == 1
    assert quality(config.master)["projects/PRJ-0002.xlsx"] == "missing, last good data kept"
    assert "PRJ-0002" in portfolio_rows(config.master)


def test_a_deleted_link_to_a_workbook_elsewhere_is_missing_and_keeps_its_data(tmp_path: Path) -> None:
    # projects/PRJ-0002.xlsx is a link to a workbook outside the portfolio's folder; discovery keys it by the
    # real path, which the glob does not name. Deleting the link used to drop the project silently (exit 0,
    # gone from the master, no finding) instead of reporting it missing.
    config, _ = make_portfolio(tmp_path / "pmo", count=2)
    outside = tmp_path / "elsewhere" / "PRJ-0002.xlsx"
    outside.parent.mkdir()
    (tmp_path / "pmo" / "projects" / "PRJ-0002.xlsx").rename(outside)
    (tmp_path / "pmo" / "projects" / "PRJ-0002.xlsx").symlink_to(outside)
    first = run_sync(config)
    assert first.exit_code == 0 and sorted(portfolio_rows(config.master)) == ["PRJ-0001", "PRJ-0002"]
    budget = portfolio_rows(config.master)["PRJ-0002"]["Budget"]
    (tmp_path / "pmo" / "projects" / "PRJ-0002.xlsx").unlink()  # the workbook itself is still there

    result = runner.invoke(app, ["sync", "--config", str(config.path)])

    assert result.exit_code == 1, result.output
    assert f"{outside}: missing, last good data kept (found as projects/PRJ-0002.xlsx, which is gone)" in result.output
    assert quality(config.master)[str(outside)] == "missing, last good data kept"
    gone = tmp_path / "pmo" / "projects" / "PRJ-0002.xlsx"
    findings = {r[0]: r[6] for r in sheet_rows(config.master, "Data quality")[1:]}
    assert findings == {str(outside): f"found as {gone}, which is gone", "projects/PRJ-0001.xlsx": None}
    summary = json.loads(runner.invoke(app, ["sync", "--config", str(config.path), "--format", "json"]).output)
    assert {s["source"]: s["found_as_gone"] for s in summary["sources"]} == {
        str(outside): str(gone), "projects/PRJ-0001.xlsx": None}
    assert portfolio_rows(config.master)["PRJ-0002"]["Budget"] == budget
    assert portfolio_rows(config.master)["PRJ-0002"]["Data Status"] == "stale"


def test_a_deleted_workbook_under_a_double_star_glob_is_missing_and_keeps_its_data(tmp_path: Path) -> None:
    # `projects/**/*.xlsx` names projects/PRJ-0001.xlsx too (`**` standing for no folder at all); a deleted
    # workbook there once counted as no longer configured and left the master silently, exit 0.
    make_portfolio(tmp_path, count=3)
    (tmp_path / "projects" / "team-b").mkdir()
    (tmp_path / "projects" / "PRJ-0002.xlsx").rename(tmp_path / "projects" / "team-b" / "PRJ-0002.xlsx")
    (tmp_path / "portfolio.toml").write_text(config_text(sources='path = "projects/**/*.xlsx"'))
    config = load_config(tmp_path / "portfolio.toml")
    first = run_sync(config)
    assert first.exit_code == 0 and sorted(portfolio_rows(config.master)) == ["PRJ-0001", "PRJ-0002", "PRJ-0003"]
    budgets = {project: row["Budget"] for project, row in portfolio_rows(config.master).items()}
    (tmp_path / "projects" / "PRJ-0001.xlsx").unlink()
    (tmp_path / "projects" / "team-b" / "PRJ-0002.xlsx").unlink()

    result = run_sync(config)

    assert result.exit_code == 1 and result.counts["missing"] == 2
    assert quality(config.master) == {"projects/PRJ-0001.xlsx": "missing, last good data kept",
                                      "projects/team-b/PRJ-0002.xlsx": "missing, last good data kept",
                                      "projects/PRJ-0003.xlsx": "ok"}
    assert {project: row["Budget"] for project, row in portfolio_rows(config.master).items()} == budgets


def test_prune_missing_drops_a_vanished_source_and_archives_its_comments(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path)
    run_sync(config)
    book = openpyxl.load_workbook(config.master)
    sheet = book["Portfolio"]
    comment_col = [c.value for c in sheet[1]].index("Finance comment") + 1
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "PRJ-0004")
    sheet.cell(row, comment_col, "Closed in October")
    book.save(config.master)
    (tmp_path / "projects" / "PRJ-0004.xlsx").unlink()

    result = runner.invoke(app, ["sync", "--config", str(config.path), "--prune-missing"])

    assert result.exit_code == 0, result.output
    assert "removed (gone, --prune-missing): projects/PRJ-0004.xlsx" in result.output
    assert "PRJ-0004" not in portfolio_rows(config.master)
    assert "projects/PRJ-0004.xlsx" not in quality(config.master)
    archive = sheet_rows(config.master, "Comments archive")
    assert ("PRJ-0004", "Finance comment", "Closed in October") in [r[:3] for r in archive]
    # it stays gone: the next ordinary sync does not bring it back as "missing"
    again = run_sync(config)
    assert again.exit_code == 0 and again.counts["missing"] == 0


def test_prune_missing_keeps_everything_when_the_projects_folder_itself_is_gone(tmp_path: Path) -> None:
    config, samples = make_portfolio(tmp_path)
    run_sync(config)
    (tmp_path / "projects").rename(tmp_path / "projects-offline")  # the share is not mounted

    result = runner.invoke(app, ["sync", "--config", str(config.path), "--prune-missing"])

    assert result.exit_code == 1
    assert "removed (gone" not in result.output
    assert "kept although missing (their folder is not there either" in result.output
    assert sorted(portfolio_rows(config.master)) == sorted(s.project_id for s in samples)
    statuses = quality(config.master)
    assert statuses.pop("projects/*.xlsx") == "no files match"  # the glob itself is reported too
    assert set(statuses.values()) == {"missing, last good data kept"}


def test_two_sources_claiming_one_table_is_a_conflict(tmp_path: Path) -> None:
    config, samples = make_portfolio(tmp_path, count=2)
    run_sync(config)
    duplicate = sample_project(1, currency="EUR", tasks=5, budget_lines=1, months=1, risks=1)
    write_workbook(duplicate, tmp_path / "projects" / "PRJ-0001-plan.xlsx", kind="plan")

    result = run_sync(config)

    assert result.exit_code == 1
    assert result.conflicts == [{"project_id": "PRJ-0001", "table": "tasks", "kept": "projects/PRJ-0001.xlsx",
                                 "ignored": "projects/PRJ-0001-plan.xlsx"}]
    status = quality(config.master)["projects/PRJ-0001-plan.xlsx"]
    assert status.startswith("conflict: tasks of PRJ-0001 already comes from projects/PRJ-0001.xlsx")
    tasks = [r for r in sheet_rows(config.master, "Task data")[1:] if r[0] == "PRJ-0001"]
    assert len(tasks) == len(samples[0].tables["tasks"])  # the first claimant's rows only, nothing merged
    assert portfolio_rows(config.master)["PRJ-0001"]["Data Status"] == "conflict"


def test_finance_comments_and_added_columns_survive_resync(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path)
    run_sync(config)
    book = openpyxl.load_workbook(config.master)
    sheet = book["Portfolio"]
    header = [c.value for c in sheet[1]]
    comment_col = header.index("Finance comment") + 1
    extra_col = comment_col + 1
    sheet.cell(1, extra_col, "Reviewer")
    rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
    sheet.cell(rows["PRJ-0001"], comment_col, "Capex approved in Q2")
    sheet.cell(rows["PRJ-0001"], extra_col, "M. Jones")
    sheet.cell(rows["PRJ-0004"], comment_col, "Watch the contractor costs")
    book.save(config.master)

    # PRJ-0004 leaves the portfolio (its folder is no longer configured); PRJ-0002 changes.
    (tmp_path / "projects" / "PRJ-0004.xlsx").rename(tmp_path / "PRJ-0004.xlsx")
    changed = sample_project(2, currency="GBP", tasks=12, budget_lines=3, months=4, risks=6)
    write_workbook(changed, tmp_path / "projects" / "PRJ-0002.xlsx")
    (tmp_path / "portfolio.toml").write_text(config_text(sources='path = "projects/PRJ-000[1-3].xlsx"'))
    result = run_sync(load_config(tmp_path / "portfolio.toml"))

    assert result.written
    projects = portfolio_rows(config.master)
    assert projects["PRJ-0001"]["Finance comment"] == "Capex approved in Q2"
    assert projects["PRJ-0001"]["Reviewer"] == "M. Jones"
    assert "PRJ-0004" not in projects
    archive = sheet_rows(config.master, "Comments archive")
    assert ("PRJ-0004", "Finance comment", "Watch the contractor costs") in [r[:3] for r in archive]


def test_interrupted_sync_leaves_master_and_state_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config, samples = make_portfolio(tmp_path)
    run_sync(config)
    master_bytes = config.master.read_bytes()
    state_rows = sqlite3.connect(config.state).execute("SELECT key, fingerprint, status FROM sources ORDER BY key").fetchall()

    plant_mistakes(samples[0])
    write_workbook(samples[0], tmp_path / "projects" / "PRJ-0001.xlsx")

    def interrupted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # Ctrl-C while the data sheets are being written

    monkeypatch.setattr(MasterWriter, "_write_data", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sync(config)

    assert config.master.read_bytes() == master_bytes
    assert [p.name for p in config.master.parent.iterdir() if p.name.endswith(".tmp")] == []
    after = sqlite3.connect(config.state).execute("SELECT key, fingerprint, status FROM sources ORDER BY key").fetchall()
    assert after == state_rows
    monkeypatch.undo()
    assert run_sync(config).counts["read"] == 1  # the interrupted change is picked up next time


def test_master_whose_folder_is_a_file_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the master's folder should be")
    (tmp_path / "portfolio.toml").write_text(config_text().replace('master = "out/master.xlsx"',
                                                                    'master = "reports/master.xlsx"'))
    result = runner.invoke(app, ["sync", "--config", str(config.path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"pmo: master {blocker / 'master.xlsx'}: {blocker} is a file, not a folder; "
                                     "nothing was written")
    assert blocker.read_text() == "a file where the master's folder should be"
    assert not config.state.exists()


def test_master_path_that_is_a_folder_is_refused_and_the_folder_kept(tmp_path: Path) -> None:
    config, _samples = make_portfolio(tmp_path, count=2)
    config.master.mkdir(parents=True)  # say, a folder someone named master.xlsx
    (config.master / "keep").write_text("x")
    result = runner.invoke(app, ["sync", "--config", str(config.path)])
    assert result.exit_code == 2
    assert "that is a folder, not a workbook; nothing was written" in result.stderr
    assert (config.master / "keep").read_text() == "x"


def test_sync_cli_exit_codes_and_json(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    ok = runner.invoke(app, ["sync", "--config", str(config.path), "--format", "json"])
    assert ok.exit_code == 0, ok.output
    assert '"read": 2' in ok.output and '"written": true' in ok.output
    text = runner.invoke(app, ["sync", "--config", str(config.path)])
    assert text.exit_code == 0 and "nothing changed" in text.output

    bad = tmp_path / "bad.toml"
    bad.write_text(config_text(extra='colour = "blue"'))
    result = runner.invoke(app, ["sync", "--config", str(bad)])
    assert result.exit_code == 2
    assert "unknown key 'colour'" in result.output


def test_config_errors_name_the_key_and_write_nothing(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('name = "x"\nreporting_currency = "usd"\nmaster = "m.xlsx"\n'
                                     '[[sources]]\nkind = "excel"\nid = "3"\n')
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path / "p.toml")
    message = str(error.value)
    assert "reporting_currency: 'usd' is not a currency code such as USD (three capital letters)" in message
    assert "sources[0]: unknown key 'id' (allowed: kind, path); sources[0]: missing key 'path'" in message
    (tmp_path / "q.toml").write_text("name = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path / "q.toml")
    assert not (tmp_path / "m.xlsx").exists()


def test_missing_fx_rate_is_a_configuration_error_and_nothing_is_written(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    config.fx.pop("GBP")  # PRJ-0002 is in GBP
    with pytest.raises(ConfigError, match="no rate for GBP"):
        run_sync(config)
    assert not config.master.exists()


def test_task_rows_beyond_the_sheet_limit_continue_on_numbered_sheets(tmp_path: Path) -> None:
    config, samples = make_portfolio(tmp_path, count=3, extra="max_rows_per_sheet = 15")
    run_sync(config)
    book = openpyxl.load_workbook(config.master, read_only=True)
    parts = [name for name in book.sheetnames if name.startswith("Task data")]
    book.close()
    total = sum(len(s.tables["tasks"]) for s in samples)  # 36 rows, 14 a sheet
    assert parts == ["Task data", "Task data (2)", "Task data (3)"]
    counts = [len(sheet_rows(config.master, name)) - 1 for name in parts]
    assert counts == [14, 14, 8] and sum(counts) == total
    formula_book = openpyxl.load_workbook(config.master)
    formula = formula_book["Portfolio"]["K2"].value
    assert "'Task data (3)'!" in formula


def test_state_is_sqlite_and_survives_reopen(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    run_sync(config)
    database = sqlite3.connect(config.state)
    assert database.execute("SELECT COUNT(*) FROM history").fetchone()[0] == 2  # one row per sync, unchanged or not
    assert database.execute("SELECT COUNT(*) FROM sources WHERE payload IS NOT NULL").fetchone()[0] == 2
    assert config.state.read_bytes()[:16] == b"SQLite format 3\x00"
