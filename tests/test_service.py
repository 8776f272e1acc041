"""``pmo serve``: the real service in a subprocess on a free loopback port, driven over HTTP.

Each test starts the service once (about a second) on a small portfolio in a temporary folder.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from fake_google import FakeGoogle, tabs_from_workbook
from portfolio_fixtures import make_portfolio
from service_process import ServiceProcess

from pmo_sheets.lock import SyncLock
from pmo_sheets.samples import sample_project, write_workbook

TOKEN = "a-test-token-long-enough-0123456789"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_saved_workbook_shows_up_within_seconds_and_a_burst_of_saves_gives_one_sync(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, 2)
    projects = tmp_path / "projects"
    with ServiceProcess(config.path, "--debounce", "2s", "--every", "1h", "--poll", "1h") as service:
        first = service.wait_idle()
        assert first["sources"]["ok"] == 2 and first["figures"]["projects"] == 2

        shutil.copyfile(projects / "PRJ-0001.xlsx", projects / "PRJ-0101.xlsx.part")
        for _ in range(5):  # five saves in quick succession (the last one renames the file into place)
            (projects / "PRJ-0101.xlsx.part").touch()
            time.sleep(0.15)
        (projects / "PRJ-0101.xlsx.part").rename(projects / "PRJ-0101.xlsx")
        for _ in range(4):
            (projects / "PRJ-0101.xlsx").touch()
            time.sleep(0.15)

        def seen() -> dict | None:
            status = service.json("/api/status")
            return status if status["syncs"] >= 2 and not status["syncing"] and not status["queued"] else None

        after = service.wait_for(seen, timeout=15, what="the saved workbook to be synced")
        time.sleep(2.5)  # a second sync would have started by now
        after = service.json("/api/status")
        assert after["syncs"] == 2, service.text()
        assert after["last_sync"]["trigger"] == "change"
        labels = {s["label"]: s for s in service.json("/api/sources")["sources"]}
        # The copy claims PRJ-0001 too: the sync reports it as a conflict, which the page shows
        assert labels["projects/PRJ-0101.xlsx"]["status"] == "conflict"
        assert after["sources"] == {"ok": 2, "stale": 0, "invalid": 0, "unreadable": 0, "missing": 0, "conflict": 1}


def test_a_poll_finds_changes_without_file_events(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, 2)
    with ServiceProcess(config.path, "--no-events", "--debounce", "0.2s", "--poll", "0.5s", "--every", "1h") as service:
        service.wait_idle()
        (tmp_path / "projects" / "PRJ-0002.xlsx").write_bytes(b"PK\x03\x04 cut short")
        status = service.wait_for(lambda: (s := service.json("/api/status"))["sources"]["stale"] == 1 and s,
                                  what="the damaged workbook to be seen by the poll")
        assert status["watching"].startswith("poll only")
        source = next(s for s in service.json("/api/sources")["sources"] if s["status"] == "stale")
        detail = service.json(f"/api/sources/{source['id']}")
        assert detail["detail"] == "unreadable, last good data kept"
        assert detail["findings"][0]["rule"] == "file-corrupt"
        assert str(tmp_path) not in str(detail)  # the page and API show no path outside the portfolio
        status, body, headers = service.request("GET", "/master")  # the page's download link
        assert status == 200 and body == (tmp_path / "out" / "master.xlsx").read_bytes()
        assert 'filename="master.xlsx"' in headers["content-disposition"]


def test_post_needs_the_token_and_a_non_loopback_bind_needs_it_for_everything(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, 1)
    refused = subprocess.run([sys.executable, "-m", "pmo_sheets.cli", "serve", "--config", str(config.path),
                              "--host", "0.0.0.0", "--port", "0"], capture_output=True, text=True, timeout=60,
                             env={k: v for k, v in __import__("os").environ.items() if k != "PMO_SERVE_TOKEN"})
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "needs a token" in refused.stderr

    with ServiceProcess(config.path, host="0.0.0.0", env={"PMO_SERVE_TOKEN": TOKEN}) as service:
        assert service.request("POST", "/api/sync")[0] == 401
        assert service.get("/api/status")[0] == 401
        assert service.get("/healthz")[0] == 401
        status, _, _headers = service.request("GET", "/")
        assert status == 200 and "Log in" in service.get("/")[1].decode()  # redirected to the login page
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert service.request("POST", "/api/sync", headers={"Authorization": "Bearer wrong-token-xxxxxxxxxxxx"})[0] == 401
        assert service.request("POST", "/api/sync", headers=bearer)[0] == 202
        assert service.json("/api/status", headers=bearer)["portfolio"] == "Test portfolio"
        # A person logs in once; the cookie then opens the page, and Sync now works with the page's CSRF token
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        login = browser.open(service.base + "/login").read().decode()
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', login)
        assert csrf
        wrong = urllib.parse.urlencode({"csrf": csrf[1], "token": "not-the-token-at-all"}).encode()
        with pytest.raises(urllib.error.HTTPError) as refused_login:
            browser.open(service.base + "/login", data=wrong)
        assert refused_login.value.code == 403, service.text()
        page = browser.open(service.base + "/login", data=urllib.parse.urlencode({"csrf": csrf[1], "token": TOKEN}).encode())
        html = page.read().decode()
        assert (page.url == service.base + "/" and 'id="sources"' in html) or "No source has been synced yet" in html
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
        assert csrf
        assert browser.open(service.base + "/sync", data=urllib.parse.urlencode({"csrf": csrf[1]}).encode()).status == 200
        assert TOKEN not in service.text() and TOKEN not in html  # never logged, never shown

    with ServiceProcess(config.path) as service:  # loopback: reads are open, POST still needs the token
        service.wait_idle()
        assert service.get("/api/status")[0] == 200
        assert service.request("POST", "/api/sync")[0] == 401
        token = (tmp_path / "out" / "state.sqlite.serve-token").read_text().strip()
        assert (tmp_path / "out" / "state.sqlite.serve-token").stat().st_mode & 0o077 == 0
        assert service.request("POST", "/api/sync", headers={"Authorization": f"Bearer {token}"})[0] == 202
        # A form post without the page's CSRF token is refused
        assert service.request("POST", "/sync", data=b"csrf=forged",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 403


def test_healthz_turns_503_when_syncs_fail_and_the_service_lives_on(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, 1)
    with ServiceProcess(config.path, "--every", "0.5s", "--stale-after", "2s", "--poll", "1h") as service:
        service.wait_idle()
        assert service.get("/healthz")[0] == 200
        (tmp_path / "out" / "master.xlsx").write_bytes(b"somebody else's file")  # not our master: every sync refuses
        failing = service.wait_for(lambda: service.get("/healthz")[0] == 503, timeout=10, what="/healthz to turn 503")
        assert failing
        status = service.json("/api/status")
        assert status["last_sync"]["outcome"] == "failed"
        assert "master" in status["last_sync"]["message"]
        # retried at each tick; the page says so between ticks (during one it shows the sync running)
        service.wait_for(lambda: service.json("/api/status")["syncs"] >= 3, timeout=10, what="the sync to be retried")
        service.wait_for(lambda: "Last sync failed" in service.get("/")[1].decode(), timeout=10,
                         what="the page to say the last sync failed")
        (tmp_path / "out" / "master.xlsx").unlink()
        service.wait_for(lambda: service.get("/healthz")[0] == 200, timeout=10, what="/healthz to recover")


def test_a_hand_run_sync_holding_the_lock_makes_the_service_wait_its_turn(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, 1)
    with ServiceProcess(config.path, "--every", "1h", "--poll", "1h") as service:
        service.wait_idle()
        token = (tmp_path / "out" / "state.sqlite.serve-token").read_text().strip()
        with SyncLock(config.state, wait=0):
            service.request("POST", "/api/sync", headers={"Authorization": f"Bearer {token}"})
            busy = service.wait_idle(syncs=2)
            assert busy["last_sync"]["outcome"] == "busy"
            assert "another sync of this portfolio is running" in busy["last_sync"]["message"]
        after = service.wait_for(lambda: (s := service.json("/api/status"))["last_sync"]["outcome"] != "busy" and s,
                                 timeout=20, what="the retry after the lock is free")
        assert after["last_sync"]["outcome"] == "ok"


def test_sigterm_during_a_sync_keeps_the_previous_master_and_a_sound_state_store(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, 20, tasks=60, budget_lines=10, months=6, risks=20,
                               extra="workers = 1")
    with ServiceProcess(config.path, "--every", "1h", "--poll", "1h", "--grace", "0") as service:
        service.wait_idle()
        master = tmp_path / "out" / "master.xlsx"
        before = _digest(master)
        token = (tmp_path / "out" / "state.sqlite.serve-token").read_text().strip()
        for workbook in (tmp_path / "projects").glob("*.xlsx"):
            workbook.touch()  # every source to be read again
        service.request("POST", "/api/sync", headers={"Authorization": f"Bearer {token}"})

        def early_in_the_read() -> bool:  # well before the new master could be written
            progress = service.json("/api/status")["progress"] or {}
            return progress.get("stage") == "read" and progress.get("total") == 20 and progress["done"] <= 8

        service.wait_for(early_in_the_read, timeout=20, what="the sync to be reading")
        assert service.stop(signal.SIGTERM) == 0
    assert "abandoned" in service.text()
    assert _digest(master) == before
    database = sqlite3.connect(config.state)
    assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    database.close()
    again = subprocess.run([sys.executable, "-m", "pmo_sheets.cli", "sync", "--config", str(config.path)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "20 read" in again.stdout


def test_google_sources_are_polled_through_the_drive_listing_alone_until_one_changes(tmp_path: Path,
                                                                                    google: FakeGoogle) -> None:
    folder = google.add_folder("PMO - project workbooks")
    ids = []
    for number in (1, 2):
        workbook = write_workbook(sample_project(number, tasks=8, budget_lines=2, months=3, risks=3),
                                  tmp_path / f"project-{number}.xlsx")
        tabs, hidden = tabs_from_workbook(workbook)
        ids.append(google.add_spreadsheet(f"Project {number}", tabs, hidden=hidden, folder=folder))
    config = tmp_path / "portfolio.toml"
    config.write_text(f"""
name = "Google portfolio"
reporting_currency = "USD"
master = "master.xlsx"
[fx]
EUR = 1.08
GBP = 1.27
[[sources]]
kind = "google_folder"
id = "{folder}"
[google]
api_base = "{google.url}"
requests_per_minute = 100000
""", encoding="utf-8")
    with ServiceProcess(config, "--every", "1h", "--poll", "0.3s", "--debounce", "0.2s") as service:
        assert service.wait_idle()["sources"]["ok"] == 2
        google.reset_log()
        time.sleep(2)  # several polls: each one Drive listing, no Sheets request
        assert google.count("sheets") == 0
        assert google.count("drive") >= 3
        assert service.json("/api/status")["syncs"] == 1

        google.update(ids[1], "Project", 2, 2, "Renamed in the browser")
        status = service.wait_idle(syncs=2)
        assert status["last_sync"]["trigger"] == "change"
        assert google.count("sheets") == 1  # the changed spreadsheet only, in one batch request
        metrics = service.get("/metrics")[1].decode()
        assert 'pmo_google_requests_total{api="sheets"} 3.0' in metrics  # 2 at the first sync, 1 now


def test_the_status_pack_is_served_from_the_current_master_and_follows_each_sync(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, 2)
    with ServiceProcess(config.path, "--no-events", "--debounce", "0.2s", "--poll", "0.5s", "--every", "1h") as service:
        service.wait_idle()
        assert 'href="/report"' in service.get("/")[1].decode()

        status, body, headers = service.request("GET", "/report")
        html = body.decode()
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert "Test portfolio" in html and "PRJ-0001" in html and "PRJ-0002" in html and "PRJ-0003" not in html
        assert "<script" not in html and not re.search(r"""(?:src|href)=["']?https?://""", html)  # works offline

        write_workbook(sample_project(3), tmp_path / "PRJ-0003.xlsx").rename(tmp_path / "projects" / "PRJ-0003.xlsx")
        service.wait_for(lambda: (lambda s: s["sources"]["ok"] == 3 and not s["syncing"] and not s["queued"])(
            service.json("/api/status")), what="the new workbook to be synced")
        assert "PRJ-0003" in service.get("/report")[1].decode()  # rendered again from the new master


def test_no_status_pack_while_there_is_no_master(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, 1)
    with ServiceProcess(config.path, "--every", "1h", "--poll", "1h") as service:
        service.wait_idle()
        assert service.get("/report")[0] == 200
        config.master.unlink()  # moved away by hand: the next sync writes it again

        status, body = service.get("/report")

        assert status == 404 and "There is no master yet: the next sync writes it." in body.decode()
