"""What a newcomer meets first: pmo new's checks, a sync glob that matches nothing, the demo run twice."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from portfolio_fixtures import make_portfolio
from workbooks import pmo, report_of

from pmo_sheets.config import ConfigError, load_config
from pmo_sheets.demo import DEMO_CONFIG, run_demo
from pmo_sheets.schemas import load_tables
from pmo_sheets.sources import UsageError
from pmo_sheets.sync import run_sync
from pmo_sheets.templates import new_workbook

# --- pmo new checks what it is given as the validator would ----------------------------------------------------------


@pytest.mark.parametrize(("start", "finish"), [("31/03/2026", "30 Sep 2026"), ("2026-03-31", "30/09/2026")])
def test_pmo_new_takes_dates_in_every_form_a_date_cell_takes(start: str, finish: str, tmp_path: Path) -> None:
    target = tmp_path / "dated.xlsx"

    result = pmo("new", "plan", "--project-id", "PRJ-0042", "--name", "New CRM", "--start", start, "--finish", finish,
                 "-o", str(target))

    assert result.exit_code == 0, result.stderr
    values = report_of(target).tables["project"].rows[0].values
    assert (values["start_date"], values["finish_date"]) == ("2026-03-31", "2026-09-30")
    start_row = load_tables()["project"].column("start_date").position
    assert load_workbook(target)["Project"].cell(start_row, 2).value == dt.datetime(2026, 3, 31)  # a date, not text


def test_pmo_new_stamps_the_id_as_the_validator_reads_it(tmp_path: Path) -> None:
    target = tmp_path / "spaced.xlsx"

    result = pmo("new", "plan", "--project-id", "  PRJ-0042 ", "--name", "New CRM", "-o", str(target))

    assert result.stdout == f"wrote {target} (plan workbook for PRJ-0042)\n"
    assert report_of(target).project_id == "PRJ-0042"


def test_pmo_new_writes_a_name_that_starts_with_an_equals_sign_as_text(tmp_path: Path) -> None:
    target = tmp_path / "formula.xlsx"

    pmo("new", "plan", "--project-id", "PRJ-0042", "--name", "=HYPERLINK(\"http://x\")", "-o", str(target))

    assert report_of(target).tables["project"].rows[0].values["project_name"] == '=HYPERLINK("http://x")'


def test_pmo_new_lists_every_problem_of_its_inputs_in_the_validators_words() -> None:
    with pytest.raises(UsageError) as error:
        new_workbook("plan", "PRJ 42", "x" * 121, Path("never-written.xlsx"), start="soon", finish="2026-01-01")

    assert str(error.value) == ("Project ID 'PRJ 42' is not a valid Project ID such as PRJ-0042; "
                                "Project Name must be at most 120 characters long; "
                                "Start Date should be a date such as 2026-03-31; found 'soon'")
    assert not Path("never-written.xlsx").exists()


def test_pmo_new_never_creates_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "typo" / "PRJ-0042.xlsx"

    result = pmo("new", "plan", "--project-id", "PRJ-0042", "--name", "New CRM", "-o", str(target))

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"pmo: folder {tmp_path / 'typo'} does not exist; create it first, or choose another\n"
    assert list(tmp_path.iterdir()) == []


def test_pmo_new_default_file_name_is_the_checked_id_and_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    result = pmo("new", "risk_log", "--project-id", "PRJ-0042", "--name", "New CRM")

    assert result.exit_code == 0, result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["PRJ-0042-risk_log.xlsx"]


# --- a sync glob that matches nothing is a finding --------------------------------------------------------------------


def test_a_sync_glob_that_matches_nothing_is_reported_in_the_summary_and_on_data_quality(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=1)
    text = config.path.read_text(encoding="utf-8")
    config.path.write_text(text + '\n[[sources]]\nkind = "excel"\npath = "archive/*.xlsx"\n', encoding="utf-8")

    result = pmo("sync", "--config", str(config.path))

    assert result.exit_code == 1  # the master is written, and something needs attention
    assert "sources: 2 read, 0 unchanged, 0 invalid, 1 unreadable, 0 missing, 0 conflict" in result.stdout
    assert (f"  archive/*.xlsx: no files match (1 error) - first: file-missing: no .xlsx or .xlsm files match "
            f"archive/*.xlsx (in {tmp_path})") in result.stdout.splitlines()
    quality = {row[0]: row[1:] for row in load_workbook(config.master, read_only=True)["Data quality"].iter_rows(
        min_row=2, values_only=True)}
    assert quality["archive/*.xlsx"][2:5] == ("no files match", 1, 0)


def test_a_glob_that_matches_again_leaves_data_quality(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=1)
    (tmp_path / "projects" / "PRJ-0001.xlsx").rename(tmp_path / "PRJ-0001.xlsx")
    run_sync(config)
    (tmp_path / "PRJ-0001.xlsx").rename(tmp_path / "projects" / "PRJ-0001.xlsx")

    result = run_sync(config)

    assert [(o.source.label, o.state.status) for o in result.outcomes] == [("projects/PRJ-0001.xlsx", "ok")]
    assert result.exit_code == 0


def test_a_configuration_error_mid_sync_leaves_no_new_state_store(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    config.fx.pop("GBP")  # PRJ-0002 is in GBP: found only once the workbooks are read

    with pytest.raises(ConfigError, match="no rate for GBP"):
        run_sync(config)

    assert not config.state.exists()
    assert [path.name for path in config.state.parent.iterdir()] == ["state.sqlite.lock"]  # locks are never deleted


def test_a_configuration_error_keeps_an_existing_state_store(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, count=2)
    run_sync(config)
    before = config.state.read_bytes()
    config.fx.pop("GBP")

    with pytest.raises(ConfigError):
        run_sync(config, full=True)

    assert config.state.read_bytes() == before


def test_a_config_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "portfolio.toml"
    path.write_bytes(b'name = "x"\n# Stra\xdfe\n')

    with pytest.raises(ConfigError) as error:
        load_config(path)

    assert str(error.value) == f"{path}: not UTF-8 text (line 2 has the byte 0xdf); save it as UTF-8"


def test_a_google_setting_of_the_wrong_type_in_the_environment_is_a_configuration_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "portfolio.toml"
    path.write_text('name = "x"\nreporting_currency = "USD"\nmaster = "m.xlsx"\n'
                    '[[sources]]\nkind = "google_sheet"\nid = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789ABCDEFG"\n')
    monkeypatch.setenv("PMO_GOOGLE_TIMEOUT_SECONDS", "soon")

    result = pmo("sync", "--config", str(path))

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"pmo: {path}: PMO_GOOGLE_TIMEOUT_SECONDS: expected a float\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.state.sqlite.lock", "portfolio.toml"]


# --- the demo -----------------------------------------------------------------------------------------------------


def _without_times(text: str) -> str:
    return re.sub(r"in \d+\.\d s", "in 0.0 s", text)


def test_the_demo_can_run_twice_in_the_same_folder_and_tells_the_same_story(tmp_path: Path) -> None:
    first: list[str] = []
    second: list[str] = []

    assert run_demo(3, tmp_path / "demo", echo=first.append) == 0
    assert run_demo(3, tmp_path / "demo", echo=second.append) == 0

    assert _without_times("\n".join(second)) == _without_times("\n".join(first))
    projects = sorted(p.name for p in (tmp_path / "demo" / "projects").iterdir())
    assert projects == ["PRJ-0001.xlsx", "PRJ-0002.xlsx", "PRJ-0003.xlsx", "PRJ-0004.xlsx"]


def test_the_demo_keeps_what_it_did_not_write_when_it_starts_afresh(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    run_demo(2, folder, echo=lambda _: None)
    (folder / "PRJ-0100.xlsx").write_bytes(b"made by pmo new, as the demo suggests")
    (folder / "projects" / "notes.txt").write_text("mine")

    assert run_demo(2, folder, echo=lambda _: None) == 0

    assert (folder / "PRJ-0100.xlsx").read_bytes() == b"made by pmo new, as the demo suggests"
    assert (folder / "projects" / "notes.txt").read_text() == "mine"


def test_the_demo_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "portfolio.toml").write_text('name = "Our real portfolio"\n')

    with pytest.raises(UsageError, match="is not empty and holds no earlier demo"):
        run_demo(2, tmp_path, echo=lambda _: None)

    assert (tmp_path / "portfolio.toml").read_text() == 'name = "Our real portfolio"\n'
    assert DEMO_CONFIG.startswith("# pmo-sheets demo portfolio")


def test_the_demo_needs_at_least_one_project(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"the demo needs at least 1 project \(asked for 0\)"):
        run_demo(0, tmp_path / "demo", echo=lambda _: None)

    assert not (tmp_path / "demo").exists()


def test_config_errors_name_the_key_and_suggest_the_one_meant(tmp_path: Path) -> None:
    path = tmp_path / "portfolio.toml"
    path.write_text('nmae = "x"\nreporting_currency = "USD"\nmaster = "m.xlsx"\n'
                    '[[sources]]\nkind = "excel"\npath = "a/*.xlsx"\n'
                    '[[sources]]\nkind = "google_folder"\npth = "b"\n'
                    '[google]\napi_bse = "http://localhost"\n')

    with pytest.raises(ConfigError) as error:
        load_config(path)

    # a key reported unknown is not reported missing as well when it stands for it
    assert str(error.value) == (f"{path.resolve()}: (top level): unknown key 'nmae' (did you mean 'name'?); "
                                "google: unknown key 'api_bse' (did you mean 'api_base'?); "
                                "sources[1]: unknown key 'pth' (allowed: kind, id); sources[1]: missing key 'id'")
