"""The chase list, against a real SMTP server on loopback (aiosmtpd): who gets which problems, when.

The portfolio is the demo's, three projects: PRJ-0002 saved with mistakes (its PM, chloe@example.com, is
known from its last good data), PRJ-0003 truncated (dev@example.com), PRJ-0004 never valid (no PM known).
"""

from __future__ import annotations

import datetime as dt
import email
import shutil
import socket
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from portfolio_fixtures import scratch_folder

from pmo_sheets.chase import run_chase
from pmo_sheets.cli import app
from pmo_sheets.config import load_config
from pmo_sheets.demo import break_some, write_sample_portfolio
from pmo_sheets.sync import run_sync

SECRET = "s3cret-Pa55word-never-shown"
DAY = dt.datetime(2026, 12, 2, 7, 0, tzinfo=dt.UTC)


class Inbox:
    """An aiosmtpd handler keeping every message it receives, and the logins it saw."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.raw: list[bytes] = []
        self.logins: list[tuple[bytes, bytes]] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook
        self.raw.append(envelope.content)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == SECRET.encode())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), authenticator=handler.authenticate,
                            auth_require_tls=False)
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@cache
def _demo_folders() -> tuple[Path, Path]:
    """The demo's three valid projects, and its projects after the accidents: written once per test session
    (each workbook takes a third of a second to write), copied into each test's folder."""
    scratch = scratch_folder("pmo-chase-demo-")
    valid, broken = scratch / "valid", scratch / "broken"
    # The demo's accidents without template 2.0's tables, whose overdue RAID items and status reports (the
    # demo is dated June 2026) would add warnings for every PM: these tests are about who gets what, when.
    write_sample_portfolio(3, valid, new_tables=False)
    shutil.copytree(valid, broken)
    break_some(broken, 3, new_tables=False)
    return valid, broken


def portfolio(folder: Path, port: int, *, starttls: bool = False, outbox: str | None = None) -> Path:
    valid, broken = _demo_folders()
    shutil.copytree(valid, folder, dirs_exist_ok=True)
    config = folder / "portfolio.toml"
    run_sync(load_config(config))  # the last good data each project contributes
    shutil.copytree(broken / "projects", folder / "projects", dirs_exist_ok=True)
    run_sync(load_config(config))
    config.write_text(config.read_text() + f'\n[email]\nhost = "127.0.0.1"\nport = {port}\nstarttls = {str(starttls).lower()}\n'
                      f'user = "pmo-bot"\npassword_env = "PMO_TEST_SMTP_PASSWORD"\nfrom = "pmo@example.com"\n'
                      + (f'outbox = "{outbox}"\n' if outbox else ""))
    return config


def bodies(message: email.message.Message) -> tuple[str, str]:
    parts = {part.get_content_type(): part.get_payload(decode=True).decode() for part in message.walk()
             if part.get_content_maintype() == "text"}
    return parts["text/plain"], parts["text/html"]


def test_each_pm_gets_their_own_problems_with_the_fix_and_since_when(inbox: Inbox, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMO_TEST_SMTP_PASSWORD", SECRET)
    config = load_config(portfolio(tmp_path, inbox.port))

    result = run_chase(config, now=DAY)

    assert result.problems == []
    assert sorted(m["To"] for m in inbox.messages) == ["chloe@example.com", "dev@example.com"]
    assert inbox.logins == [(b"pmo-bot", SECRET.encode())]
    chloe = next(m for m in inbox.messages if m["To"] == "chloe@example.com")
    text, page = bodies(chloe)
    assert "projects/PRJ-0002.xlsx" in text and "PRJ-0003" not in text
    assert "Tasks!E5  error  Finish 2026-01-29 is before Start 2026-01-31 (D5)  (failing since 2026-12-02)" in text
    assert "how to fix (finish-before-start): Correct one of the two dates." in text
    assert "<b>Tasks!E5</b>" in page and "Correct one of the two dates." in page
    dev = next(m for m in inbox.messages if m["To"] == "dev@example.com")
    assert "the workbook is damaged" in bodies(dev)[0] and "PRJ-0002" not in bodies(dev)[0]
    assert result.no_address == ["projects/PRJ-0004.xlsx"]  # never valid: its PM is not known yet
    assert all(SECRET.encode() not in raw for raw in inbox.raw)


def test_nobody_is_mailed_again_when_nothing_changed_and_at_most_once_a_day(inbox: Inbox, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMO_TEST_SMTP_PASSWORD", SECRET)
    config_path = portfolio(tmp_path, inbox.port)
    config = load_config(config_path)
    run_chase(config, now=DAY)
    assert len(inbox.messages) == 2

    again = run_chase(config, now=DAY + dt.timedelta(days=3))  # days later, the same problems
    assert len(inbox.messages) == 2 and sorted(again.unchanged) == ["chloe@example.com", "dev@example.com"]

    (tmp_path / "projects" / "PRJ-0002.xlsx").write_bytes(b"PK\x03\x04 cut short")  # chloe's list changes
    run_sync(config)
    changed = run_chase(config, now=DAY + dt.timedelta(days=3, hours=2))
    assert [m["To"] for m in inbox.messages[2:]] == ["chloe@example.com"]  # changed, and not mailed that day yet
    assert changed.unchanged == ["dev@example.com"]
    text = bodies(inbox.messages[2])[0]
    assert "PRJ-0002.xlsx: the workbook is damaged" in text and "(failing since 2026-12-05)" in text

    (tmp_path / "projects" / "PRJ-0003.xlsx").write_bytes(b"PK\x03\x04 cut short again")  # same finding: no change
    (tmp_path / "projects" / "PRJ-0002.xlsx").write_bytes(b"not a zip at all")  # chloe's list changes again
    run_sync(config)
    same_day = run_chase(config, now=DAY + dt.timedelta(days=3, hours=5))
    assert len(inbox.messages) == 3 and same_day.already_today == ["chloe@example.com"]  # at most once a day
    next_day = run_chase(config, now=DAY + dt.timedelta(days=4))
    assert [m["To"] for m in inbox.messages[3:]] == ["chloe@example.com"] and next_day.unchanged == ["dev@example.com"]
    assert "(failing since 2026-12-02)" in bodies(inbox.messages[0 if inbox.messages[0]["To"] == "dev@example.com" else 1])[0]


def test_a_refused_connection_is_a_line_of_the_sync_summary_not_a_failed_sync(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    monkeypatch.setenv("PMO_TEST_SMTP_PASSWORD", SECRET)
    port = free_port()  # nothing listens there
    config = portfolio(tmp_path, port)
    result = CliRunner().invoke(app, ["sync", "--config", str(config), "--notify"])
    assert result.exit_code == 1  # as without --notify: the master was written, some sources need attention
    assert f"chase list not sent: 127.0.0.1:{port}: Connection refused; they will be sent at the next run" in result.output
    assert "master written" in result.output and SECRET not in result.output
    chase = CliRunner().invoke(app, ["chase", "--config", str(config)])
    assert chase.exit_code == 1 and "Connection refused" in chase.output  # and nothing was recorded as sent


def test_starttls_is_honoured_and_no_credential_reaches_a_message(inbox: Inbox, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMO_TEST_SMTP_PASSWORD", SECRET)
    config = load_config(portfolio(tmp_path, inbox.port, starttls=True))
    result = run_chase(config, now=DAY)
    # This server offers no STARTTLS: with starttls = true nothing goes out in clear text, not even the login.
    assert inbox.messages == [] and inbox.logins == []
    assert result.problems and "does not offer STARTTLS" in result.problems[0] and SECRET not in result.problems[0]


def test_dry_run_writes_eml_files_with_both_bodies_and_no_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    monkeypatch.setenv("PMO_TEST_SMTP_PASSWORD", SECRET)
    config = portfolio(tmp_path, free_port())
    result = CliRunner().invoke(app, ["chase", "--config", str(config), "--dry-run", str(tmp_path / "outbox")])
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert [f.name for f in files] == [f"{today}-chloe_at_example.com.eml", f"{today}-dev_at_example.com.eml"]
    message = email.message_from_bytes(files[0].read_bytes())
    text, page = bodies(message)
    assert "how to fix" in text and "<table" in page
    assert all(SECRET.encode() not in f.read_bytes() for f in files) and SECRET not in result.output


def test_the_readme_chase_commands_work_as_shown(inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each `pmo chase` / `pmo sync --notify` line of the README, run as written in the portfolio's folder."""
    import re
    import shlex

    from typer.testing import CliRunner

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### A chase list for each project manager"):]
    commands = [line.split("#")[0].strip() for line in re.findall(r"^(pmo (?:chase|sync) [^\n]*)$", section, re.M)[:3]]
    assert commands == ["pmo chase --config portfolio.toml --dry-run outbox/", "pmo chase --config portfolio.toml",
                        "pmo sync --config portfolio.toml --notify"]
    monkeypatch.setenv("PMO_TEST_SMTP_PASSWORD", SECRET)
    portfolio(tmp_path, inbox.port)
    monkeypatch.chdir(tmp_path)
    outputs = [CliRunner().invoke(app, shlex.split(command)[1:]) for command in commands]
    assert [o.exit_code for o in outputs] == [0, 0, 1]  # the sync: the demo's broken workbooks need attention
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
    assert outputs[1].output.startswith("chase list: 2 mails sent (chloe@example.com, dev@example.com)")
    assert "chase list: 0 mails sent; 2 unchanged" in outputs[2].output  # nothing changed since: nobody mailed again
    assert len(inbox.messages) == 2
