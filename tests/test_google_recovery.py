"""Google sources that fail, and what the coordinator sees when they do and once the cause is fixed.

Everything goes over HTTP to the local Sheets/Drive/token server of :mod:`fake_google`, through the
real gspread and google-auth clients; faults are injected in the server, in the shapes Google
answers. Nothing sleeps for real: retry delays are a few milliseconds, and where a test is about a
long wait (Retry-After) the reader's ``sleep`` is a recorder.
"""

from __future__ import annotations

import email.utils
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fake_google import FakeGoogle, tabs_from_workbook
from typer.testing import CliRunner

from pmo_sheets.cli import app
from pmo_sheets.config import PortfolioConfig, SourceSpec, load_config
from pmo_sheets.discovery import DiscoveredSource
from pmo_sheets.grid import SourceError
from pmo_sheets.readers.gsheets import GoogleSheets
from pmo_sheets.samples import sample_project, write_workbook
from pmo_sheets.sync import SyncResult, run_sync
from pmo_sheets.validate import validate_grid

runner = CliRunner()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Projects 1-5 as workbooks, written once."""
    folder = tmp_path_factory.mktemp("recovery-workbooks")
    return {n: write_workbook(sample_project(n, tasks=8, budget_lines=2, months=2, risks=3), folder / f"p{n}.xlsx")
            for n in range(1, 6)}


class Portfolio:
    """Project 1 as an .xlsx file, projects 3 and 4 in a shared Drive folder, 5 listed by URL."""

    def __init__(self, root: Path, server: FakeGoogle, written: dict[int, Path]):
        self.server, self.root = server, root
        (root / "projects").mkdir()
        shutil.copy(written[1], root / "projects" / "project-1.xlsx")
        self.folder = server.add_folder("PMO - project workbooks")
        self.ids: dict[int, str] = {}
        for n in (3, 4, 5):
            tabs, hidden = tabs_from_workbook(written[n])
            self.ids[n] = server.add_spreadsheet(f"Project {n} (Google)", tabs, hidden=hidden,
                                                 folder=self.folder if n != 5 else "root")
        (root / "portfolio.toml").write_text(f"""
name = "Mixed portfolio"
reporting_currency = "USD"
master = "master.xlsx"
workers = 1

[[sources]]
kind = "excel"
path = "projects/*.xlsx"

[[sources]]
kind = "google_folder"
id = "https://drive.google.com/drive/folders/{self.folder}"

[[sources]]
kind = "google_sheet"
id = "https://docs.google.com/spreadsheets/d/{self.ids[5]}/edit"

[google]
api_base = "{server.url}"
requests_per_minute = 100000
max_retries = 2
retry_base_seconds = 0.001
retry_max_seconds = 0.004
retry_after_max_seconds = 60
""")
        self.config: PortfolioConfig = load_config(root / "portfolio.toml")

    def sync(self, **options: Any) -> SyncResult:
        self.server.reset_log()
        return run_sync(self.config, **options)

    def cli(self, *args: str) -> Any:
        self.server.reset_log()
        return runner.invoke(app, ["sync", "--config", str(self.config.path), *args])


@pytest.fixture
def portfolio(tmp_path: Path, google: FakeGoogle, written: dict[int, Path]) -> Portfolio:
    return Portfolio(tmp_path, google, written)


def statuses(result: SyncResult) -> dict[str, str]:
    return {o.source.label: o.state.status for o in result.outcomes}


def findings(result: SyncResult, label: str) -> list[dict[str, Any]]:
    [outcome] = [o for o in result.outcomes if o.source.label == label]
    return outcome.state.findings


def settings(server: FakeGoogle, **overrides: Any) -> dict[str, Any]:
    return {"api_base": server.url, "requests_per_minute": 100_000, "timeout_seconds": 5, "max_retries": 2,
            "retry_base_seconds": 0.001, "retry_max_seconds": 0.004} | overrides


def upload(server: FakeGoogle, path: Path, title: str) -> str:
    tabs, hidden = tabs_from_workbook(path)
    return server.add_spreadsheet(title, tabs, hidden=hidden)


def read(reader: GoogleSheets, ident: str, title: str) -> Any:
    return reader.read(DiscoveredSource(f"gsheet:{ident}", "google_sheet", title, ident, None))


# --- a source that failed is read again once the cause is fixed ------------------------------------


def _forbid(p: Portfolio) -> None:
    p.server.forbid(p.ids[3])


def _not_found(p: Portfolio) -> None:
    p.server.fail(404, times=None)


def _api_disabled(p: Portfolio) -> None:
    p.server.disable_api("sheets")


def _fix(p: Portfolio) -> None:
    p.server.share_again(p.ids[3])
    p.server.heal()
    p.server.enable_api("sheets")


@pytest.mark.parametrize(("fault", "rule"), [(_forbid, "source-forbidden"), (_not_found, "source-not-found"),
                                             (_api_disabled, "source-forbidden")], ids=["403", "404", "api-disabled"])
def test_a_spreadsheet_that_failed_is_read_again_once_the_cause_is_fixed(portfolio: Portfolio, fault: Any,
                                                                         rule: str) -> None:
    portfolio.sync()
    portfolio.server.update(portfolio.ids[3], "Project", 2, 2, "Renamed in Google Sheets")
    fault(portfolio)
    failed = portfolio.sync()
    assert statuses(failed)["Project 3 (Google)"] == "unreadable, last good data kept"
    assert [f["rule"] for f in findings(failed, "Project 3 (Google)")] == [rule]

    _fix(portfolio)  # shared again, or enabled again: the spreadsheet itself is not touched
    recovered = portfolio.sync()

    assert recovered.exit_code == 0 and statuses(recovered)["Project 3 (Google)"] == "ok"
    assert [(r.api, r.path) for r in portfolio.server.requests()] == [
        ("drive", "/drive/v3/files"), ("sheets", f"/v4/spreadsheets/{portfolio.ids[3]}/values:batchGet")]


def test_a_spreadsheet_still_failing_is_asked_again_but_the_master_is_left_alone(portfolio: Portfolio) -> None:
    portfolio.sync()
    portfolio.server.update(portfolio.ids[4], "Project", 2, 2, "Edited")
    portfolio.server.forbid(portfolio.ids[4])
    assert portfolio.sync().written  # the first failure is news for the master
    master = portfolio.config.master.read_bytes()

    again = portfolio.sync()

    assert portfolio.server.count("sheets") == 1  # asked once more (a 403 is not retried within a sync)
    assert statuses(again)["Project 4 (Google)"] == "unreadable, last good data kept"
    assert not again.written and portfolio.config.master.read_bytes() == master  # same failure, nothing new to show


# --- --prune-missing and folders that cannot be listed ----------------------------------------------


def test_prune_missing_keeps_the_spreadsheets_of_a_folder_no_longer_shared(portfolio: Portfolio) -> None:
    portfolio.sync()
    portfolio.server.unshare(portfolio.folder)  # its owner stopped sharing it with the service account

    result = portfolio.cli("--prune-missing")

    assert result.exit_code == 1, result.output
    assert "removed (gone" not in result.output
    assert ("kept although missing (their folder is not there either: a share offline, or a Drive folder no longer "
            "shared?): Project 3 (Google), Project 4 (Google)") in result.output
    assert f"Drive folder {portfolio.folder}: not found, or not shared with" in result.output
    after = run_sync(portfolio.config)
    assert after.figures["projects"] == 4  # projects 1, 3, 4 and 5: nothing was dropped


def test_prune_missing_keeps_everything_when_the_folder_cannot_be_listed(portfolio: Portfolio) -> None:
    portfolio.sync()
    portfolio.server.fail(500, times=None, api="drive")

    result = portfolio.sync(prune_missing=True)

    assert result.pruned == [] and result.figures["projects"] == 4
    assert {statuses(result)[f"Project {n} (Google)"] for n in (3, 4, 5)} == {"unreadable, last good data kept"}


def test_prune_missing_still_drops_a_spreadsheet_deleted_from_a_listed_folder(portfolio: Portfolio) -> None:
    portfolio.sync()
    portfolio.server.delete(portfolio.ids[4])

    result = portfolio.sync(prune_missing=True)

    assert result.pruned == ["Project 4 (Google)"] and result.not_pruned == []
    assert result.figures["projects"] == 3


# --- saying what really happened ---------------------------------------------------------------------


def test_a_disabled_sheets_api_says_so_with_googles_link(google: FakeGoogle, written: dict[int, Path]) -> None:
    ident = upload(google, written[3], "Finance forecast 2026")
    google.disable_api("sheets")

    with pytest.raises(SourceError) as caught:
        read(GoogleSheets(settings(google)), ident, "Finance forecast 2026")

    assert caught.value.code == "source-forbidden"
    assert caught.value.message == (
        f"'Finance forecast 2026' (spreadsheet {ident}): Google Sheets API is disabled for this project; enable it at "
        f"https://console.developers.google.com/apis/api/sheets.googleapis.com/overview?project={google.project_number}, "
        "wait a few minutes, and the next sync tries again")
    assert google.count("sheets") == 1  # not retried: waiting seconds does not switch an API on


def test_a_disabled_drive_api_leaves_every_google_source_unchecked_with_googles_link(portfolio: Portfolio) -> None:
    portfolio.sync()
    portfolio.server.disable_api("drive")

    result = portfolio.sync()

    assert result.written and result.exit_code == 1
    assert len(result.outcomes) == 4 and result.counts["unreadable"] == 3  # no extra source for the folder
    [finding] = findings(result, "Project 4 (Google)")
    assert finding["rule"] == "source-forbidden"
    assert finding["message"] == (
        "Project 4 (Google): not checked, because Google Drive: Google Drive API is disabled for this project; "
        f"enable it at {portfolio.server.activation_url('drive')}, wait a few minutes, and the next sync tries again")
    assert portfolio.server.counts() == {"drive": 1}

    portfolio.server.enable_api("drive")
    assert portfolio.sync().exit_code == 0


def test_a_drive_that_cannot_be_listed_on_the_first_sync_is_still_reported(portfolio: Portfolio) -> None:
    portfolio.server.disable_api("drive")

    result = portfolio.sync()

    assert result.exit_code == 1
    failed = {o.source.label: o.state.findings[0]["message"] for o in result.outcomes if o.problem == "unreadable"}
    assert sorted(failed) == sorted(spec.target for spec in portfolio.config.sources if spec.kind != "excel")
    assert all("Google Drive API is disabled for this project" in message for message in failed.values())


@pytest.fixture(scope="module")
def service_account(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path = tmp_path_factory.mktemp("key") / "key.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "pmo-test", "private_key_id": "key-id-1", "private_key": pem,
        "client_email": "pmo-sync@pmo-test.iam.gserviceaccount.com", "client_id": "100000000000000000002",
        "token_uri": "https://oauth2.googleapis.com/token"}))
    return path


def test_a_token_endpoint_answering_503_is_unreachable_not_rejected_credentials(
        google: FakeGoogle, written: dict[int, Path], service_account: Path) -> None:
    ident = upload(google, written[3], "Signed in")
    google.require_auth = True
    google.fail(503, times=None, api="token")
    reader = GoogleSheets(settings(google, credentials=str(service_account)))

    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        read(reader, ident, "Signed in")

    assert caught.value.code == "source-unreachable"
    assert caught.value.message == (f"'Signed in' (spreadsheet {ident}): Google's token endpoint answered 503; "
                                    "tried 3 times, the next sync tries again")
    assert google.count("token") == 3 and google.count("sheets") == 0  # our retries only: google-auth's are cut short
    assert time.monotonic() - started < 2  # google-auth alone would have slept about 3 s
    google.heal()
    assert validate_grid(read(reader, ident, "Signed in")).valid


def test_a_token_endpoint_that_does_not_answer_is_unreachable(google: FakeGoogle, written: dict[int, Path],
                                                               service_account: Path) -> None:
    google.require_auth = True
    google.token_delay = 5.0

    found, [(_, error)] = GoogleSheets(settings(google, credentials=str(service_account), timeout_seconds=0.2,
                                                max_retries=1)).discover([SourceSpec("google_folder", "F" * 33)])

    assert found == [] and error.code == "source-unreachable"
    assert error.message == ("Google Drive: Google's token endpoint did not answer within 0.2 s; tried 2 times, "
                             "the next sync tries again")
    assert google.count("token") == 2


def test_a_refused_key_is_still_reported_as_rejected_credentials(google: FakeGoogle, written: dict[int, Path],
                                                                 service_account: Path) -> None:
    ident = upload(google, written[3], "Refused")
    google.require_auth = True
    google.fail(400, times=None, api="token")  # invalid_grant: a revoked or deleted key

    with pytest.raises(SourceError) as caught:
        read(GoogleSheets(settings(google, credentials=str(service_account))), ident, "Refused")

    assert caught.value.code == "source-forbidden" and "Google rejected the credentials" in caught.value.message
    assert google.count("token") == 1


def test_retry_after_is_honoured_up_to_the_cap(google: FakeGoogle, written: dict[int, Path]) -> None:
    ident = upload(google, written[3], "Busy")
    google.fail(429, times=1, retry_after="45")
    waits: list[float] = []

    grid = read(GoogleSheets(settings(google), sleep=waits.append), ident, "Busy")

    assert validate_grid(grid).valid
    assert waits == [45.0]  # Google's wait, longer than retry_max_seconds (4 ms), under the 60 s cap
    assert google.count("sheets") == 2


def test_retry_after_as_an_http_date_is_honoured(google: FakeGoogle, written: dict[int, Path]) -> None:
    ident = upload(google, written[3], "Busy")
    google.fail(503, times=1, retry_after=email.utils.formatdate(time.time() + 30, usegmt=True))
    waits: list[float] = []

    read(GoogleSheets(settings(google), sleep=waits.append), ident, "Busy")

    [wait] = waits
    assert 25 <= wait <= 31


def test_a_retry_after_beyond_the_cap_gives_up_until_the_next_sync(google: FakeGoogle, written: dict[int, Path]) -> None:
    ident = upload(google, written[3], "Throttled")
    google.fail(429, times=None, retry_after="120")
    waits: list[float] = []

    with pytest.raises(SourceError) as caught:
        read(GoogleSheets(settings(google, retry_after_max_seconds=60), sleep=waits.append), ident, "Throttled")

    assert caught.value.code == "source-unreachable"
    assert caught.value.message.endswith("asked to wait 120 s, longer than the 60 s pmo-sheets waits "
                                         "([google] retry_after_max_seconds); the next sync tries again")
    assert waits == [] and google.count("sheets") == 1
