"""The service's small parts on their own: statuses, what the page may show of paths, durations, start-up errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from portfolio_fixtures import config_text, make_portfolio

from pmo_sheets.config import load_config
from pmo_sheets.service.server import parse_duration
from pmo_sheets.service.status import Redactor, short_status
from pmo_sheets.sources import UsageError


@pytest.mark.parametrize(("stored", "shown"), [
    ("ok", "ok"),
    ("invalid, last good data kept", "stale"),
    ("unreadable, last good data kept", "stale"),
    ("invalid, never valid", "invalid"),
    ("unreadable, never valid", "unreadable"),
    ("no files match", "unreadable"),
    ("missing", "missing"),
    ("missing, last good data kept", "missing"),
    ("conflict: tasks of PRJ-0001 already comes from projects/a.xlsx; this source contributes nothing", "conflict"),
])
def test_each_status_the_sync_records_has_its_place_on_the_page(stored: str, shown: str) -> None:
    assert short_status(stored) == shown


def test_the_page_shows_paths_inside_the_portfolio_relative_and_none_from_outside(tmp_path: Path) -> None:
    (tmp_path / "portfolio.toml").write_text(config_text(sources='path = "/srv/share/pmo/**/*.xlsx"'), encoding="utf-8")
    config = load_config(tmp_path / "portfolio.toml")
    redact = Redactor(config).text
    assert redact(f"{tmp_path}/projects/PRJ-0001.xlsx: the workbook is damaged") == \
        "projects/PRJ-0001.xlsx: the workbook is damaged"
    assert redact("cannot write the state store /var/lib/secret/state.sqlite (disk full)") == \
        "cannot write the state store state.sqlite (disk full)"
    assert redact("credentials /home/jane/.config/key.json cannot be read") == "credentials key.json cannot be read"
    assert redact("/srv/share/pmo/2026/PRJ-9.xlsx: not a template") == "/srv/share/pmo/2026/PRJ-9.xlsx: not a template"
    assert redact("Finish 2026-01-29 is before Start 2026-01-31 (D5)") == "Finish 2026-01-29 is before Start 2026-01-31 (D5)"
    assert redact("a/b ratio 3/4") == "a/b ratio 3/4"


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("15m", 900), ("1h", 3600), ("1.5h", 5400), ("90", 90)])
def test_durations_read_as_people_write_them(text: str, seconds: float) -> None:
    assert parse_duration(text, what="--every") == seconds


@pytest.mark.parametrize("text", ["", "0", "5x", "-1m", "m"])
def test_a_duration_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="--every"):
        parse_duration(text, what="--every")


def _serve(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pmo_sheets.cli", "serve", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=60)


def test_start_up_problems_are_one_line_and_exit_code_2(tmp_path: Path) -> None:
    config, _ = make_portfolio(tmp_path, 1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = _serve(config.path, "--port", port)
    bad_every = _serve(config.path, "--every", "5x")
    missing = _serve(tmp_path / "nowhere.toml")
    for result, words in ((busy, f"cannot listen on 127.0.0.1:{port}"), (bad_every, "--every '5x'"),
                          (missing, "cannot read the configuration")):
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert not load_config(config.path).master.exists()  # nothing started, nothing synced
