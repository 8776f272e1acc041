"""The chase list: after a sync, each project manager gets the problems of their workbooks by e-mail.

What is wrong, where (``Tasks!E5``), how to fix it (the rule's fix from the catalogue) and since when it
has been failing, as an HTML body with a plain-text alternative. At most one mail a day per PM, and
only when their list changed since the last mail they got. Settings come from ``[email]`` in
portfolio.toml; the password is read from the environment variable ``password_env`` names and never
written anywhere. ``--dry-run DIR`` writes the ``.eml`` files to look at, sending and recording
nothing; ``[email] outbox`` delivers by writing them to a folder.

It reads what the sync left in the state store (each source's findings, its project's PM e-mail from the
last good records) and keeps two small tables of its own there: when each finding was first seen,
and what was last sent to whom. A mail that cannot be sent (a refused connection, a failed login) is
reported as a problem; it never fails the sync, and the PM is tried again at the next run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from pmo_sheets.config import ConfigError, PortfolioConfig
from pmo_sheets.findings import RULES
from pmo_sheets.state import StateStore

_TABLES = """
CREATE TABLE IF NOT EXISTS chase_first_seen (
    source_key TEXT NOT NULL,
    finding TEXT NOT NULL,       -- rule, sheet, cell and message: one problem in one place
    first_seen TEXT NOT NULL,
    PRIMARY KEY (source_key, finding)
);
CREATE TABLE IF NOT EXISTS chase_sent (
    address TEXT PRIMARY KEY,
    sent_on TEXT NOT NULL,       -- the day (UTC) of the last mail
    digest TEXT NOT NULL         -- what that mail listed
);
"""


@dataclass(frozen=True)
class EmailSettings:
    """``[email]`` of portfolio.toml."""

    sender: str
    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password_env: str | None = None
    coordinator: str | None = None  # gets the problems of workbooks whose PM is not known (never valid)
    outbox: Path | None = None  # dry run: .eml files here, nothing sent

    @classmethod
    def from_config(cls, config: PortfolioConfig) -> EmailSettings:
        """The settings of ``config``; a :class:`ConfigError` when ``[email]`` is missing."""
        data = config.email
        if not data:
            raise ConfigError(f"{config.path}: no [email] section: add host, port, starttls, user, password_env "
                              "and from (see README, 'A chase list for each project manager')")
        outbox = data.get("outbox")
        return cls(sender=data["from"], host=data.get("host", "localhost"), port=data.get("port", 587),
                   starttls=data.get("starttls", True), user=data.get("user"), password_env=data.get("password_env"),
                   coordinator=data.get("coordinator"), outbox=config.resolve(outbox) if outbox else None)


@dataclass(frozen=True)
class Problem:
    """One finding of one workbook, as a PM reads it."""

    workbook: str
    location: str  # Tasks!E5, Tasks, or "(file)"
    rule: str
    severity: str
    message: str
    fix: str
    since: str  # the day it was first seen failing


@dataclass
class ChaseResult:
    """What a chase run did: mails sent (or written) per address, who was skipped, and any problem."""

    sent: dict[str, list[Problem]] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)  # dry run: the .eml files
    unchanged: list[str] = field(default_factory=list)  # nothing new since their last mail
    already_today: list[str] = field(default_factory=list)  # changed, but mailed today already
    no_address: list[str] = field(default_factory=list)  # workbooks with problems and no PM e-mail known
    problems: list[str] = field(default_factory=list)  # sending failed: one line each, no credential

    def lines(self) -> list[str]:
        """The summary a coordinator reads after ``pmo chase`` or ``pmo sync --notify``."""
        verb = "written" if self.written else "sent"
        out = [f"chase list: {len(self.sent)} mail{'s' * (len(self.sent) != 1)} {verb}"
               + (f" ({', '.join(sorted(self.sent))})" if self.sent else "")
               + (f"; {len(self.unchanged)} unchanged" if self.unchanged else "")
               + (f"; {len(self.already_today)} already mailed today" if self.already_today else "")]
        out += [f"  no PM e-mail known for {label}" for label in self.no_address]
        out += [f"  chase list not sent: {problem}" for problem in self.problems]
        return out


def _finding_key(item: dict[str, Any]) -> str:
    return json.dumps([item.get("rule"), item.get("sheet"), item.get("cell"), item.get("message")])


def _location(item: dict[str, Any]) -> str:
    if item.get("sheet") and item.get("cell"):
        return f"{item['sheet']}!{item['cell']}"
    return item.get("sheet") or "(file)"


def chase_lists(store: StateStore, *, now: dt.datetime,
                coordinator: str | None = None) -> tuple[dict[str, list[Problem]], list[str]]:
    """Address -> the problems of that PM's workbooks, and the workbooks whose PM is unknown.

    Records when each finding was first seen (and forgets fixed ones), so that ``since`` survives runs.
    """
    db = store.db
    db.executescript(_TABLES)
    lists: dict[str, list[Problem]] = {}
    unknown: list[str] = []
    today = now.date().isoformat()
    for key, state in sorted(store.sources().items(), key=lambda kv: kv[1].label):
        current = {_finding_key(item): item for item in state.findings}
        known = dict(db.execute("SELECT finding, first_seen FROM chase_first_seen WHERE source_key = ?", (key,)))
        for gone in set(known) - set(current):
            db.execute("DELETE FROM chase_first_seen WHERE source_key = ? AND finding = ?", (key, gone))
        for new in set(current) - set(known):
            db.execute("INSERT INTO chase_first_seen VALUES (?, ?, ?)", (key, new, today))
            known[new] = today
        if not current:
            continue
        payload = store.payload(key) if state.has_payload else None
        address = ((payload or {}).get("project") or {}).get("pm_email") or coordinator
        if not address:
            unknown.append(state.label)
            continue
        for finding_key, item in current.items():
            rule = RULES.get(str(item.get("rule")))
            lists.setdefault(address, []).append(Problem(
                workbook=state.label, location=_location(item), rule=str(item.get("rule")),
                severity=str(item.get("severity")), message=str(item.get("message")),
                fix=rule.fix if rule else "", since=known[finding_key]))
    return lists, unknown


def _digest(problems: list[Problem]) -> str:
    text = json.dumps(sorted((p.workbook, p.location, p.rule, p.message) for p in problems))
    return hashlib.sha256(text.encode()).hexdigest()


def compose(settings: EmailSettings, address: str, problems: list[Problem], *, portfolio: str,
            now: dt.datetime) -> EmailMessage:
    """The mail to one PM: a plain-text body and its HTML alternative, the same list in both."""
    message = EmailMessage()
    workbooks = sorted({p.workbook for p in problems})
    message["Subject"] = f"{portfolio}: {len(problems)} problem{'s' * (len(problems) != 1)} to fix in " + (
        workbooks[0] if len(workbooks) == 1 else f"{len(workbooks)} workbooks")
    message["From"] = settings.sender
    message["To"] = address
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain="pmo-sheets")
    lines = [f"The last sync of {portfolio} found these problems in your workbooks.", ""]
    for workbook in workbooks:
        lines.append(workbook)
        for p in (p for p in problems if p.workbook == workbook):
            lines.append(f"  {p.location}  {p.severity}  {p.message}  (failing since {p.since})")
            if p.fix:
                lines.append(f"    how to fix ({p.rule}): {p.fix}")
        lines.append("")
    lines.append("Fix them and save the workbook; the next sync checks it again.")
    message.set_content("\n".join(lines))
    rows = []
    for workbook in workbooks:
        rows.append(f"<h3>{html.escape(workbook)}</h3><table border='1' cellpadding='4' cellspacing='0'>"
                    "<tr><th>Where</th><th>What is wrong</th><th>How to fix it</th><th>Failing since</th></tr>")
        for p in (p for p in problems if p.workbook == workbook):
            rows.append(f"<tr><td><b>{html.escape(p.location)}</b></td><td>{html.escape(p.message)}</td>"
                        f"<td>{html.escape(p.fix)} <i>({html.escape(p.rule)})</i></td><td>{html.escape(p.since)}</td></tr>")
        rows.append("</table>")
    message.add_alternative(f"<html><body><p>The last sync of <b>{html.escape(portfolio)}</b> found these problems "
                            f"in your workbooks.</p>{''.join(rows)}<p>Fix them and save the workbook; the next sync "
                            "checks it again.</p></body></html>", subtype="html")
    return message


def _send(settings: EmailSettings, messages: list[EmailMessage]) -> None:
    """Send over one SMTP connection; raises OSError / smtplib.SMTPException."""
    password = os.environ.get(settings.password_env, "") if settings.password_env else ""
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, password)
        for message in messages:
            smtp.send_message(message)


def _failure(settings: EmailSettings, exc: BaseException) -> str:
    """One line about a failed delivery; never the password (smtplib's messages do not carry it, and the
    server's reply is cut to its first line)."""
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        reason = "the server does not offer STARTTLS (set starttls = false only for a server on this machine)"
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        reason = f"login as {settings.user} refused"
    elif isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror
    else:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    secret = os.environ.get(settings.password_env, "") if settings.password_env else ""
    if secret:
        reason = reason.replace(secret, "***")
    return f"{settings.host}:{settings.port}: {reason}; they will be sent at the next run"


def run_chase(config: PortfolioConfig, *, now: dt.datetime | None = None, dry_run: Path | None = None) -> ChaseResult:
    """Mail each PM whose list changed since their last mail and who was not mailed today.

    ``[email] outbox``: deliver by writing one ``.eml`` file per mail into that folder (for a mail
    system that picks them up), recorded as sent. ``dry_run``: write them into that folder to look at,
    recording nothing, so that the real run afterwards sends the same mails. A failed delivery is in
    ``problems`` and nothing is recorded as sent.
    """
    settings = EmailSettings.from_config(config)
    outbox = dry_run or settings.outbox
    now = now or dt.datetime.now(dt.UTC)
    result = ChaseResult()
    with StateStore(config.state) as store:  # its errors are one-line StateErrors
        lists, result.no_address = chase_lists(store, now=now, coordinator=settings.coordinator)
        today = now.date().isoformat()
        last = {address: (sent_on, digest) for address, sent_on, digest in store.db.execute(
            "SELECT address, sent_on, digest FROM chase_sent")}
        due: dict[str, tuple[list[Problem], str]] = {}
        for address, problems in lists.items():
            digest = _digest(problems)
            sent_on, sent_digest = last.get(address, ("", ""))
            if digest == sent_digest:
                result.unchanged.append(address)
            elif sent_on == today:
                result.already_today.append(address)
            else:
                due[address] = (problems, digest)
        messages = [compose(settings, address, problems, portfolio=config.name, now=now)
                    for address, (problems, _) in due.items()]
        if not messages:
            return result
        try:
            if outbox is not None:
                outbox.mkdir(parents=True, exist_ok=True)
                for address, message in zip(due, messages, strict=True):
                    path = outbox / f"{now:%Y-%m-%d}-{address.replace('@', '_at_').replace('/', '_')}.eml"
                    path.write_bytes(bytes(message))
                    result.written.append(path)
            else:
                _send(settings, messages)
        except (OSError, smtplib.SMTPException) as exc:
            result.problems.append(_failure(settings, exc))
            return result
        for address, (problems, digest) in due.items():
            if dry_run is None:  # a preview sends nothing, so it remembers nothing either
                store.db.execute("INSERT OR REPLACE INTO chase_sent VALUES (?, ?, ?)", (address, today, digest))
            result.sent[address] = problems
    return result
