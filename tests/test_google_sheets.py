"""Google Sheets sources, through the real gspread client against the local Sheets/Drive server.

Nothing here mocks gspread or our reader: requests go over HTTP to :mod:`fake_google`, reached only
through the documented ``api_base`` setting. Retry delays are made tiny through the settings, so
the tests stay fast without asserting on time.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fake_google import FakeGoogle, tabs_from_workbook
from typer.testing import CliRunner

from pmo_sheets.cli import app
from pmo_sheets.config import SourceSpec
from pmo_sheets.discovery import DiscoveredSource
from pmo_sheets.grid import SourceError
from pmo_sheets.readers.excel import read_excel
from pmo_sheets.readers.google_refs import folder_id, is_google_sheet, spreadsheet_id
from pmo_sheets.readers.gsheets import GoogleSheets, HostRefused, RateLimiter, google_session
from pmo_sheets.samples import plant_mistakes, sample_project, write_workbook
from pmo_sheets.validate import validate_grid

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A clean project workbook, one with planted mistakes, and a plan-only workbook."""
    folder = tmp_path_factory.mktemp("google-workbooks")
    planted = sample_project(2, tasks=12, budget_lines=2, months=3, risks=5)
    plant_mistakes(planted)
    return {
        "clean": write_workbook(sample_project(1, tasks=12, budget_lines=2, months=3, risks=5), folder / "clean.xlsx"),
        "planted": write_workbook(planted, folder / "planted.xlsx"),
        "plan": write_workbook(sample_project(3, tasks=12), folder / "plan.xlsx", kind="plan"),
    }


def settings(server: FakeGoogle, **overrides: Any) -> dict[str, Any]:
    """Settings for the local server: no rate limit to speak of, retries after a millisecond or so."""
    return {"api_base": server.url, "requests_per_minute": 100_000, "timeout_seconds": 5, "max_retries": 3,
            "retry_base_seconds": 0.001, "retry_max_seconds": 0.005} | overrides


def upload(server: FakeGoogle, path: Path, title: str, folder: str = "root") -> str:
    """Put an .xlsx file on the fake Drive as Google would hold it after conversion; returns the ID."""
    tabs, hidden = tabs_from_workbook(path)
    return server.add_spreadsheet(title, tabs, hidden=hidden, folder=folder)


def located(findings: list[Any]) -> list[tuple[str, str, str | None, str | None]]:
    return [(f["severity"], f["rule"], f["sheet"], f["cell"]) if isinstance(f, dict) else (f.severity, f.rule, f.sheet, f.cell)
            for f in findings]


def read_one(server: FakeGoogle, ident: str, **overrides: Any) -> Any:
    reader = GoogleSheets(settings(server, **overrides))
    return reader.read(DiscoveredSource(f"gsheet:{ident}", "google_sheet", ident, ident, None))


# --- what a project manager sees ------------------------------------------------------------------


def test_pmo_validate_a_sheet_url_finds_the_same_cells_as_the_xlsx(google: FakeGoogle, workbooks: dict[str, Path],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ident = upload(google, workbooks["planted"], "PRJ-0002 project workbook")
    monkeypatch.setenv("PMO_GOOGLE_API_BASE", google.url)
    url = f"https://docs.google.com/spreadsheets/d/{ident}/edit#gid=0"
    runner = CliRunner()

    from_google = runner.invoke(app, ["validate", url, "--format", "json"])
    from_excel = runner.invoke(app, ["validate", str(workbooks["planted"]), "--format", "json"])

    assert from_google.exit_code == from_excel.exit_code == 1, from_google.output
    google_file, excel_file = json.loads(from_google.output)["files"][0], json.loads(from_excel.output)["files"][0]
    assert google_file["source"] == url
    assert located(google_file["findings"]) == located(excel_file["findings"])
    assert [(f["rule"], f["sheet"], f["cell"]) for f in google_file["findings"]] == [
        ("finish-before-start", "Tasks", "E5"), ("predecessor-unknown", "Tasks", "K7"), ("type-invalid", "Tasks", "H8"),
        ("currency-mismatch", "Budget", "F4"), ("value-not-in-list", "Risks", "F3")]
    assert (google_file["template"], google_file["template_version"], google_file["project_id"]) == \
        (excel_file["template"], excel_file["template_version"], excel_file["project_id"]) == ("project", "2.0", "PRJ-0002")
    [request] = google.requests("sheets")  # every tab in one batchGet, values unformatted, dates as serials
    assert request.path == f"/v4/spreadsheets/{ident}/values:batchGet"
    assert request.params["valueRenderOption"] == ["UNFORMATTED_VALUE"]
    assert request.params["dateTimeRenderOption"] == ["SERIAL_NUMBER"]
    assert request.params["ranges"] == ["'_pmo'", "'Project'", "'Tasks'", "'Budget'", "'Risks'", "'Resources'", "'RAID'",
                                        "'Changes'", "'Status'"]


def test_annotate_makes_no_copy_of_a_google_sheet_and_says_so(google: FakeGoogle, workbooks: dict[str, Path],
                                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ident = upload(google, workbooks["planted"], "PRJ-0002 project workbook")
    monkeypatch.setenv("PMO_GOOGLE_API_BASE", google.url)
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(app, ["validate", ident, "--annotate", "."])

    assert result.exit_code == 1, result.output  # the sheet's findings decide, as without --annotate
    assert f"no annotated copy of {ident}" in result.stderr
    assert "finish-before-start" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_clean_google_sheet_is_valid_and_reads_dates_as_dates(google: FakeGoogle, workbooks: dict[str, Path]) -> None:
    ident = upload(google, workbooks["clean"], "Clean")
    report = validate_grid(read_one(google, ident))
    excel = validate_grid(read_excel(workbooks["clean"]))
    assert report.valid and located(report.findings) == located(excel.findings)
    assert report.tables["tasks"].rows[0].values["start"] == excel.tables["tasks"].rows[0].values["start"]
    assert report.tables["budget"].rows[0].values == excel.tables["budget"].rows[0].values


def test_template_and_version_survive_even_when_google_made_the_version_a_number(
        google: FakeGoogle, workbooks: dict[str, Path]) -> None:
    ident = upload(google, workbooks["clean"], "Typed over")
    google.update(ident, "_pmo", 2, 2, 1.0)  # someone retyped "1.0" in Sheets: it is now the number 1
    report = validate_grid(read_one(google, ident))
    assert (report.template, report.template_version) == ("project", "1.0")
    assert report.valid


def test_a_plan_workbook_reads_its_tabs_after_one_metadata_request(google: FakeGoogle, workbooks: dict[str, Path]) -> None:
    ident = upload(google, workbooks["plan"], "Plan only")
    grid = read_one(google, ident)
    report = validate_grid(grid)
    assert located(report.findings) == located(validate_grid(read_excel(workbooks["plan"])).findings)
    assert report.template == "plan" and report.valid
    # the batch naming a Budget tab fails (400), the metadata says which tabs exist, those are read
    assert [r.path for r in google.requests("sheets")] == [f"/v4/spreadsheets/{ident}/values:batchGet",
                                                          f"/v4/spreadsheets/{ident}",
                                                          f"/v4/spreadsheets/{ident}/values:batchGet"]
    assert google.requests("sheets")[2].params["ranges"] == ["'Project'", "'Tasks'", "'_pmo'"]
    assert grid.sheets["_pmo"].hidden and "Instructions" in grid.sheets


def test_a_deleted_tab_is_reported_as_a_missing_sheet_like_in_excel(google: FakeGoogle, workbooks: dict[str, Path],
                                                                     tmp_path: Path) -> None:
    book = openpyxl.load_workbook(workbooks["clean"])
    del book["Risks"]
    book.save(tmp_path / "no-risks.xlsx")
    ident = upload(google, tmp_path / "no-risks.xlsx", "No risks")
    report = validate_grid(read_one(google, ident))
    assert ("error", "sheet-missing", "Risks", None) in located(report.findings)
    assert located(report.findings) == located(validate_grid(read_excel(tmp_path / "no-risks.xlsx")).findings)
    assert google.count("sheets") == 3


# --- faults ---------------------------------------------------------------------------------------


def test_429_then_success_backs_off_and_reads(google: FakeGoogle, workbooks: dict[str, Path]) -> None:
    ident = upload(google, workbooks["clean"], "Busy")
    google.fail(429, times=2)
    reader = GoogleSheets(settings(google))
    grid = reader.read(DiscoveredSource(f"gsheet:{ident}", "google_sheet", "Busy", ident, None))
    assert validate_grid(grid).valid
    assert google.count("sheets") == 3
    assert reader.stats.retries == 2
    # jittered exponential backoff: attempt 1 waits 0.5-1 x base, attempt 2 0.5-1 x 2 x base
    assert 0.0015 <= reader.stats.backoff_seconds <= 0.003


def test_an_html_502_from_a_front_end_is_retried(google: FakeGoogle, workbooks: dict[str, Path]) -> None:
    ident = upload(google, workbooks["clean"], "Front end")
    google.fail(502, times=1, html=True)
    assert validate_grid(read_one(google, ident)).valid
    assert google.count("sheets") == 2


def test_persistent_500_gives_up_after_the_retries_as_unreachable(google: FakeGoogle, workbooks: dict[str, Path]) -> None:
    ident = upload(google, workbooks["clean"], "Broken")
    google.fail(500, times=None)
    with pytest.raises(SourceError) as caught:
        read_one(google, ident, max_retries=2)
    assert caught.value.code == "source-unreachable"
    assert "500" in caught.value.message and "3 times" in caught.value.message
    assert google.count("sheets") == 3


def test_permission_denied_names_the_spreadsheet_and_is_not_retried(google: FakeGoogle, workbooks: dict[str, Path]) -> None:
    ident = upload(google, workbooks["clean"], "Finance forecast 2026")
    reader = GoogleSheets(settings(google))
    [source], _ = reader.discover([SourceSpec("google_sheet", ident)])
    google.forbid(ident)  # its owner stopped sharing it after the listing
    with pytest.raises(SourceError) as caught:
        reader.read(source)
    assert caught.value.code == "source-forbidden"
    assert "'Finance forecast 2026'" in caught.value.message and ident in caught.value.message
    assert google.count("sheets") == 1


def test_not_found_names_the_spreadsheet_and_is_not_retried(google: FakeGoogle, workbooks: dict[str, Path]) -> None:
    ident = upload(google, workbooks["clean"], "Old plan")
    reader = GoogleSheets(settings(google))
    [source], _ = reader.discover([SourceSpec("google_sheet", ident)])
    google.delete(ident)
    with pytest.raises(SourceError) as caught:
        reader.read(source)
    assert caught.value.code == "source-not-found" and "'Old plan'" in caught.value.message
    assert google.count("sheets") == 1


def test_an_unknown_id_through_pmo_validate_is_one_not_found_finding(google: FakeGoogle,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMO_GOOGLE_API_BASE", google.url)
    result = CliRunner().invoke(app, ["validate", "1" + "N" * 43, "--format", "json"])
    assert result.exit_code == 1
    [finding] = json.loads(result.output)["files"][0]["findings"]
    assert (finding["rule"], finding["sheet"], finding["cell"]) == ("source-not-found", None, None)


def test_a_slow_server_hits_the_timeout(google: FakeGoogle, workbooks: dict[str, Path]) -> None:
    ident = upload(google, workbooks["clean"], "Slow")
    google.delay = 5.0
    with pytest.raises(SourceError) as caught:
        read_one(google, ident, timeout_seconds=0.2, max_retries=1)
    assert caught.value.code == "source-unreachable"
    assert "did not answer within 0.2 s" in caught.value.message
    assert google.count("sheets") == 2


def test_drive_rate_limit_403_is_retried_not_reported_as_forbidden(google: FakeGoogle, workbooks: dict[str, Path]) -> None:
    ident = upload(google, workbooks["clean"], "Listed")
    google.fail(403, api="drive", reason="userRateLimitExceeded")
    found, errors = GoogleSheets(settings(google)).discover([SourceSpec("google_sheet", ident)])
    assert [s.label for s in found] == ["Listed"] and errors == []
    assert google.count("drive") == 2


# --- discovery and change detection -----------------------------------------------------------------


def test_a_drive_folder_gaining_a_spreadsheet_shows_up(google: FakeGoogle, workbooks: dict[str, Path]) -> None:
    folder = google.add_folder("PMO projects")
    upload(google, workbooks["clean"], "Alpha", folder)
    upload(google, workbooks["clean"], "Elsewhere")  # not in the folder
    specs = [SourceSpec("google_folder", f"https://drive.google.com/drive/folders/{folder}?usp=sharing")]

    first, errors = GoogleSheets(settings(google)).discover(specs)
    assert [s.label for s in first] == ["Alpha"] and errors == []

    beta = upload(google, workbooks["plan"], "Beta", folder)
    second, _ = GoogleSheets(settings(google)).discover(specs)
    assert [s.label for s in second] == ["Alpha", "Beta"]
    modified = google.files[beta].drive_resource()["modifiedTime"]
    assert second[1] == DiscoveredSource(f"gsheet:{beta}", "google_sheet", "Beta", beta, modified)
    assert google.count("sheets") == 0 and google.count("drive") == 2


def test_a_folder_nobody_shared_is_reported_not_found(google: FakeGoogle) -> None:
    found, [(_, error)] = GoogleSheets(settings(google)).discover([SourceSpec("google_folder", "F" * 33)])
    assert found == [] and error.code == "source-not-found" and "not shared" in error.message


def sync_cycle(server: FakeGoogle, specs: list[SourceSpec], seen: dict[str, str | None]) -> list[str]:
    """What the sync does with Google sources: discover, then read only what changed."""
    reader = GoogleSheets(settings(server))
    found, errors = reader.discover(specs)
    assert errors == []
    read = []
    for source in found:
        if source.fingerprint is None or seen.get(source.key) != source.fingerprint:
            validate_grid(reader.read(source))
            seen[source.key] = source.fingerprint
            read.append(source.label)
    return read


def test_nothing_changed_costs_no_sheets_request_and_one_change_costs_one(google: FakeGoogle,
                                                                          workbooks: dict[str, Path]) -> None:
    folder = google.add_folder("Portfolio")
    ids = [upload(google, workbooks["clean"], f"Project {n}", folder) for n in range(3)]
    single = upload(google, workbooks["planted"], "Listed by ID")
    specs = [SourceSpec("google_folder", folder), SourceSpec("google_sheet", single)]
    seen: dict[str, str | None] = {}

    assert sync_cycle(google, specs, seen) == ["Project 0", "Project 1", "Project 2", "Listed by ID"]
    assert google.counts() == {"sheets": 4, "drive": 1}

    google.reset_log()
    assert sync_cycle(google, specs, seen) == []
    assert google.counts() == {"drive": 1}  # one files.list, zero Sheets API requests

    google.update(ids[1], "Project", 2, 2, "Renamed project")
    google.reset_log()
    assert sync_cycle(google, specs, seen) == ["Project 1"]
    assert [(r.api, r.path) for r in google.requests()] == [
        ("drive", "/drive/v3/files"), ("sheets", f"/v4/spreadsheets/{ids[1]}/values:batchGet")]


def test_the_client_keeps_under_the_per_minute_limit(google: FakeGoogle, workbooks: dict[str, Path]) -> None:
    ids = [upload(google, workbooks["clean"], f"P{n}") for n in range(3)]
    now = [0.0]

    def sleep(seconds: float) -> None:  # a virtual clock: the test measures the imposed wait, not real time
        now[0] += seconds

    reader = GoogleSheets(settings(google, requests_per_minute=2), clock=lambda: now[0], sleep=sleep)
    for ident in ids:
        reader.read(DiscoveredSource(f"gsheet:{ident}", "google_sheet", ident, ident, None))
    assert reader.stats.sheets_requests == 3
    assert reader.stats.rate_limit_seconds == pytest.approx(60.0)


def test_rate_limiter_sliding_window() -> None:
    now = [0.0]
    limiter = RateLimiter(50, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    waits = [limiter.acquire() for _ in range(120)]
    assert waits.count(0.0) == 118 and sum(waits) == pytest.approx(120.0)
    assert RateLimiter(0.5).window == pytest.approx(120.0)


# --- the session, the credentials ------------------------------------------------------------------


def test_the_session_reaches_only_the_rewritten_google_hosts(google: FakeGoogle) -> None:
    session = google_session(google.url)
    with pytest.raises(HostRefused):
        session.get("https://example.com/")
    with pytest.raises(HostRefused):
        session.get(google.url + "/v4/spreadsheets/x")  # even the stand-in only through Google's names
    response = session.get("https://sheets.googleapis.com/v4/spreadsheets/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["status"] == "NOT_FOUND"
    assert [r.path for r in google.requests()] == ["/v4/spreadsheets/nothing-here"]


def _service_account_key(path: Path) -> tuple[Path, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "pmo-test", "private_key_id": "key-id-0123456789", "private_key": pem,
        "client_email": "pmo-sync@pmo-test.iam.gserviceaccount.com", "client_id": "100000000000000000001",
        "token_uri": "https://oauth2.googleapis.com/token"}))
    return path, pem


def test_service_account_credentials_are_used_and_never_shown(google: FakeGoogle, workbooks: dict[str, Path],
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    key_file, pem = _service_account_key(tmp_path / "key.json")
    monkeypatch.setenv("PMO_GOOGLE_CREDENTIALS", str(key_file))
    google.require_auth = True
    ident = upload(google, workbooks["clean"], "Shared with the robot")
    caplog.set_level(logging.DEBUG)

    reader = GoogleSheets(settings(google))
    [source], _ = reader.discover([SourceSpec("google_sheet", ident)])
    assert validate_grid(reader.read(source)).valid
    [token] = google.issued_tokens
    assert {r.authorization for r in google.requests() if r.api != "token"} == {f"Bearer {token}"}
    assert google.count("token") == 1

    google.forbid(ident)
    with pytest.raises(SourceError) as caught:
        reader.read(source)
    assert "pmo-sync@pmo-test.iam.gserviceaccount.com" in caught.value.message  # whom to share it with
    secret_bits = [token, "key-id-0123456789", pem.splitlines()[1]]
    for text in (caught.value.message, caplog.text):
        assert not any(bit in text for bit in secret_bits)


def test_a_broken_key_file_is_forbidden_without_quoting_it(google: FakeGoogle, tmp_path: Path) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps({"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\nSECRETSTUFF"}))
    found, [(_, error)] = GoogleSheets(settings(google, credentials=str(key_file))).discover(
        [SourceSpec("google_sheet", "1" + "K" * 43)])
    assert found == [] and error.code == "source-forbidden"
    assert "SECRETSTUFF" not in error.message and str(key_file) in error.message


def test_oauth_uses_gspreads_stored_token_for_a_person(google: FakeGoogle, workbooks: dict[str, Path], tmp_path: Path) -> None:
    token_file = tmp_path / "authorized_user.json"
    token_file.write_text(json.dumps({"type": "authorized_user", "client_id": "pmo.apps.googleusercontent.com",
                                      "client_secret": "client-secret-xyz", "refresh_token": "1//refresh-secret"}))
    google.require_auth = True
    ident = upload(google, workbooks["clean"], "Mine")
    grid = read_one(google, ident, oauth=True, oauth_token=str(token_file))
    assert validate_grid(grid).valid
    assert google.count("token") == 1


def test_settings_come_from_the_environment_when_the_config_leaves_them_out(google: FakeGoogle,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMO_GOOGLE_API_BASE", google.url)
    monkeypatch.setenv("PMO_GOOGLE_MAX_RETRIES", "7")
    reader = GoogleSheets({"max_retries": 2})
    assert reader.settings["api_base"] == google.url and reader.settings["max_retries"] == 2
    monkeypatch.setenv("PMO_GOOGLE_TIMEOUT_SECONDS", "soon")
    with pytest.raises(ValueError, match="PMO_GOOGLE_TIMEOUT_SECONDS"):
        GoogleSheets({})


# --- references and the house rules ------------------------------------------------------------------


def test_sheet_and_folder_references() -> None:
    ident = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd"
    assert spreadsheet_id(f"https://docs.google.com/spreadsheets/d/{ident}/edit?usp=sharing#gid=0") == ident
    assert spreadsheet_id(ident) == ident
    assert folder_id(f"https://drive.google.com/drive/u/0/folders/{ident[:33]}") == ident[:33]
    assert is_google_sheet(f"https://docs.google.com/spreadsheets/d/{ident}/edit")
    assert is_google_sheet(ident)
    assert not is_google_sheet("projects/alpha.xlsx") and not is_google_sheet("budget.xlsx")


def test_validation_core_imports_without_gspread_or_requests() -> None:
    code = ("import sys; sys.modules['gspread'] = None; sys.modules['requests'] = None; "
            "import pmo_sheets.validate, pmo_sheets.sources, pmo_sheets.readers.google_refs")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
