"""When the service syncs: on a schedule, on change (debounced), on request; one sync at a time.

One worker thread runs every sync through :func:`pmo_sheets.sync.run_sync`, which takes the
portfolio's lock (:mod:`pmo_sheets.lock`) like ``pmo sync`` does: a hand-run ``pmo sync`` waits for
the service's sync, and the service, finding the lock held by a hand-run sync, does not wait (its
thread would be stuck) but tries again a few seconds later and says so on the page.

Changes arrive two ways. File-system events (:mod:`.watch`) report saves in the Excel folders at
once; a burst of them (Excel writes a temporary file, renames it, a PM saves five times in a minute)
is debounced: the sync starts once the folder has been quiet for ``debounce`` seconds, or at the
latest ``max_delay`` after the first save. A poll every ``poll`` seconds compares the sources'
fingerprints (file size and time, Drive's ``modifiedTime`` from one Drive listing, no Sheets
request) with the state store's: it catches what events cannot (Google Sheets, network shares
whose changes raise no local event).

A sync that raises does not stop the service: the error is logged as one line, kept for the page,
and the next tick tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pmo_sheets.config import PortfolioConfig, load_config
from pmo_sheets.lock import SyncBusy
from pmo_sheets.sources import UsageError
from pmo_sheets.sync import SyncResult, discover, run_sync

log = logging.getLogger("pmo.serve")

BUSY_RETRY = 10.0  # seconds before trying again when a hand-run sync holds the lock
RUNS_KEPT = 200  # sync attempts remembered for the page and the API (the state store keeps the history)


def iso(moment: float | None) -> str | None:
    """A wall-clock time as ISO 8601 UTC (``2026-12-02T04:30:00Z``), or None."""
    if moment is None:
        return None
    return dt.datetime.fromtimestamp(moment, dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class SyncRun:
    """One sync attempt as the service saw it."""

    trigger: str  # start, schedule, change, request
    started: float
    finished: float | None = None
    outcome: str = "running"  # ok, attention (written, some source needs attention), failed, busy, running
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    google_requests: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return round((self.finished or time.time()) - self.started, 3)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(started=iso(self.started), finished=iso(self.finished), seconds=self.seconds)
        return data


@dataclass
class Progress:
    stage: str = ""
    done: int = 0
    total: int = 0


class SyncScheduler:
    """Decides when to sync and runs each sync in its own thread; all times are wall-clock seconds.

    ``sync`` is :func:`run_sync` (a parameter so that the service's own tests can count calls of the
    real thing); ``on_finished(run, result)`` is told after every attempt (metrics, snapshot).
    """

    def __init__(self, config_path: Path, *, every: float, debounce: float, max_delay: float, poll: float,
                 sync: Callable[..., SyncResult] = run_sync,
                 on_finished: Callable[[SyncRun, SyncResult | None], None] | None = None,
                 on_poll: Callable[[dict[str, int]], None] | None = None):
        self.config_path = config_path
        self.every, self.debounce, self.max_delay, self.poll = every, debounce, max(max_delay, debounce), poll
        self._sync = sync
        self._on_finished = on_finished
        self._on_poll = on_poll
        self._cond = threading.Condition()
        self._stopping = False
        self._requested: str | None = "start"  # the first sync runs at once
        self._change_first: float | None = None
        self._change_last: float | None = None
        self._change_why = ""
        self.next_due = time.time() + every
        self._next_poll = time.time() + poll
        self.running: SyncRun | None = None
        self.progress = Progress()
        self.runs: deque[SyncRun] = deque(maxlen=RUNS_KEPT)
        self.last_success: float | None = None  # finished, master written or nothing to write
        self.last_failure: SyncRun | None = None
        self.syncs = 0  # sync attempts, whatever their outcome
        self._seen: dict[str, str | None] = {}  # fingerprints at the last poll
        self._thread = threading.Thread(target=self._loop, name="pmo-sync", daemon=True)

    # -- what the rest of the service calls --

    def start(self) -> None:
        self._thread.start()

    def request(self, trigger: str = "request") -> bool:
        """Sync as soon as the current sync (if any) is done; False when one is already queued."""
        with self._cond:
            if self._requested is not None:
                return False
            self._requested = trigger
            self._cond.notify_all()
            return True

    def changed(self, why: str) -> None:
        """Something in a watched folder changed: sync once things have been quiet for ``debounce`` s."""
        now = time.time()
        with self._cond:
            if self._change_first is None:
                self._change_first = now
                self._change_why = why
            self._change_last = now
            self._cond.notify_all()

    def recent_runs(self) -> list[SyncRun]:
        """The attempts remembered, oldest first (a copy: the sync thread appends while pages read)."""
        with self._cond:
            return list(self.runs)

    @property
    def queued(self) -> str | None:
        """Why a sync is about to start (a request, or a change waiting for its quiet period)."""
        with self._cond:
            return self._requested or ("change" if self._change_first is not None else None)

    def stop(self, grace: float) -> bool:
        """Start no new sync; wait up to ``grace`` s for the one running. True when none is left running."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=grace)
        return not self._thread.is_alive()

    # -- the worker thread --

    def _loop(self) -> None:
        while True:
            with self._cond:
                trigger, poll_now = self._wait_for_work()
                if trigger is None and not poll_now:
                    return  # stopping
            if trigger is not None:
                self._run(trigger)
            elif poll_now:
                self._poll()

    def _change_due(self) -> float | None:
        if self._change_first is None or self._change_last is None:
            return None
        return min(self._change_last + self.debounce, self._change_first + self.max_delay)

    def _wait_for_work(self) -> tuple[str | None, bool]:
        """Under the condition: wait until something is due; (trigger, poll now)."""
        while not self._stopping:
            now = time.time()
            if self._requested is not None:
                trigger, self._requested = self._requested, None
                self._clear_change()  # this sync sees those changes too
                return trigger, False
            change_due = self._change_due()
            if change_due is not None and now >= change_due:
                self._clear_change()
                return "change", False
            if now >= self.next_due:
                return "schedule", False
            if now >= self._next_poll:
                self._next_poll = now + self.poll
                return None, True
            wake = min(t for t in (change_due, self.next_due, self._next_poll) if t is not None)
            self._cond.wait(timeout=max(0.01, wake - now))
        return None, False

    def _clear_change(self) -> None:
        self._change_first = self._change_last = None

    def _set_progress(self, stage: str, done: int, total: int) -> None:
        self.progress = Progress(stage, done, total)

    def _run(self, trigger: str) -> None:
        run = SyncRun(trigger=trigger, started=time.time())
        self.running, self.progress = run, Progress("starting")
        result: SyncResult | None = None
        log.info("sync started (%s)", _TRIGGERS.get(trigger, trigger))
        self.syncs += 1
        try:
            config = load_config(self.config_path)  # read again each time: an edited portfolio.toml takes effect
            result = self._sync(config, wait=0, progress=self._set_progress)
        except SyncBusy as busy:
            run.outcome, run.message = "busy", f"{busy}; trying again in {BUSY_RETRY:g} s"
        except UsageError as exc:
            run.outcome, run.message = "failed", str(exc)
        except Exception as exc:  # a bug or an unforeseen OS error: the service lives on and says so
            detail = " ".join(str(exc).split()) or "no details"
            run.outcome, run.message = "failed", f"internal error ({type(exc).__name__}: {detail})"
            if os.environ.get("PMO_TRACEBACK"):
                log.exception("sync raised")
        else:
            run.counts = result.counts
            stats = result.google_stats
            if stats is not None:
                run.google_requests = {"drive": stats.drive_requests, "sheets": stats.sheets_requests}
            if result.error:
                run.outcome, run.message = "failed", result.error
            else:
                run.outcome = "attention" if result.exit_code else "ok"
                run.message = _done_message(result)
        run.finished = time.time()
        with self._cond:
            self.runs.append(run)
            self.running, self.progress = None, Progress()
            if run.outcome == "busy":
                self.next_due = min(self.next_due, run.finished + BUSY_RETRY)
            else:
                self.next_due = run.finished + self.every
                if run.outcome == "failed":
                    self.last_failure = run
                else:
                    self.last_success = run.finished
        line = f"sync {run.outcome} in {run.seconds:.1f} s: {run.message}"
        (log.warning if run.outcome in ("failed", "busy") else log.info)(line)
        if self._on_finished is not None:
            try:
                self._on_finished(run, result)
            except Exception as exc:  # metrics or the page's snapshot: never the sync loop's end
                log.warning("after the sync: %s: %s", type(exc).__name__, exc)

    def _poll(self) -> None:
        """Compare the sources' fingerprints with the state store's; a difference is a change."""
        try:
            config = load_config(self.config_path)
            changed, google_requests = changed_sources(config, self._seen)
        except Exception as exc:  # a config being edited, Drive unreachable: the scheduled sync will say why
            log.info("poll skipped: %s", " ".join(str(exc).split()) or type(exc).__name__)
            return
        if self._on_poll is not None and google_requests:
            self._on_poll(google_requests)
        if changed:
            self.changed(f"poll: {changed[0]}" + (f" and {len(changed) - 1} more" if len(changed) > 1 else ""))
            log.info("poll found changes: %s", ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else ""))


_TRIGGERS = {"start": "service started", "schedule": "scheduled", "change": "sources changed", "request": "Sync now"}


def _done_message(result: SyncResult) -> str:
    counts = result.counts
    what = "master written" if result.written else "nothing changed"
    parts = ", ".join(f"{counts[k]} {k}" for k in ("read", "unchanged", "invalid", "unreadable", "missing", "conflict")
                      if counts[k] or k in ("read", "unchanged"))
    return f"{what}; sources: {parts}"


def changed_sources(config: PortfolioConfig, seen: dict[str, str | None]) -> tuple[list[str], dict[str, int]]:
    """Labels of sources whose fingerprint differs from what the last sync recorded (or, for a source the
    last sync could not read, from the previous poll); updates ``seen``. Lists folders and Drive only:
    no workbook is opened and no Sheets request is made."""
    from pmo_sheets.service.status import stored_fingerprints

    sources, _failures, google = discover(config)
    stored = stored_fingerprints(config.state)
    changed = []
    now = {source.key: source.fingerprint for source in sources}
    for source in sources:
        if source.key not in stored:
            changed.append(source.label)  # new since the last sync
        elif stored[source.key] is not None:
            if source.fingerprint != stored[source.key]:
                changed.append(source.label)
        elif source.key in seen and seen[source.key] != source.fingerprint:
            changed.append(source.label)  # failed last time (no stored fingerprint): changed since the last poll
    changed.extend(key.partition(":")[2] for key in seen if key not in now and key in stored)  # gone since the last poll
    seen.clear()
    seen.update(now)
    requests = {}
    if google is not None:
        requests = {"drive": google.stats.drive_requests, "sheets": google.stats.sheets_requests}
    return changed, requests
