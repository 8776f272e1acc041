"""Run the service until SIGTERM or Ctrl-C: uvicorn serving :mod:`.app`, the scheduler's thread syncing.

Stopping: uvicorn stops taking requests, then the scheduler starts no new sync and waits up to
``grace`` seconds for the one running. A sync still running after that is abandoned: the process
exits without finishing it. That is safe by the sync's own design: the new master is written to a
temporary file and renamed only after the state store committed, and SQLite rolls back an
uncommitted transaction when the store is next opened; the lock goes with the process. So the
previous master and state store stay as they were, and the next sync (of the service or by hand)
starts cleanly and removes the temporary file.

Logs go to stderr, one line per event: ``2026-12-02T04:30:00Z INFO sync ok in 0.4 s: ...``.
"""

from __future__ import annotations

import logging
import logging.config
import os
import re
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmo_sheets.config import load_config
from pmo_sheets.service.auth import TOKEN_ENV, Guard, is_loopback, load_token, token_file_for
from pmo_sheets.sources import UsageError

log = logging.getLogger("pmo.serve")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, *, what: str) -> float:
    """``15m``, ``30s``, ``1h``, ``1.5h`` or plain seconds; raises :class:`UsageError`."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if not match or float(match[1]) <= 0:
        raise UsageError(f"{what} {text!r}: give a duration such as 30s, 15m or 1h")
    return float(match[1]) * _UNITS[match[2] or "s"]


@dataclass
class ServeOptions:
    """How ``pmo serve`` runs (every duration in seconds)."""

    config: Path
    every: float = 15 * 60
    host: str = "127.0.0.1"
    port: int = 8750
    debounce: float = 30.0
    max_delay: float = 300.0
    poll: float = 60.0
    stale_after: float | None = None  # default: two missed schedules plus five minutes
    grace: float = 30.0
    token_file: Path | None = None
    watch_events: bool = True

    @property
    def health_threshold(self) -> float:
        return self.stale_after if self.stale_after is not None else 2 * self.every + 300


class OneLine(logging.Formatter):
    """``2026-12-02T04:30:00Z INFO message``: one line per event, whatever the message holds."""

    def format(self, record: logging.LogRecord) -> str:
        moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        text = " ".join(record.getMessage().split())
        if record.exc_info and os.environ.get("PMO_TRACEBACK"):
            text += " | " + " | ".join(self.formatException(record.exc_info).splitlines())
        return f"{moment} {record.levelname} {text}"


def log_config() -> dict[str, Any]:
    """logging configuration for our loggers and uvicorn's: one line per event on stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": "one_line", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"one_line": {"()": OneLine}},
        "handlers": {"stderr": handler},
        "loggers": {
            "pmo": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }


class _Abandon(Exception):
    """A second SIGTERM or Ctrl-C while waiting for the sync in progress: stop waiting."""


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port or --host") from None


def serve(options: ServeOptions) -> int:
    """Run the service until stopped; the exit code (0 after SIGTERM or Ctrl-C).

    Configuration, token and address problems raise :class:`UsageError` before anything starts.
    """
    import uvicorn

    from pmo_sheets.masterfile import check_master_path
    from pmo_sheets.service.app import Service, build_app
    from pmo_sheets.service.metrics import ServiceMetrics
    from pmo_sheets.service.scheduler import SyncScheduler
    from pmo_sheets.service.status import StatusView
    from pmo_sheets.service.watch import FolderWatch

    config = load_config(options.config)
    check_master_path(config.master, config_path=config.path, state_path=config.state)
    generated = options.token_file is None and not os.environ.get(TOKEN_ENV, "").strip()
    token = load_token(host=options.host, token_file=options.token_file, state=config.state)
    listener = _listen(options.host, options.port)
    metrics = ServiceMetrics()
    view = StatusView(config)

    def finished(run: Any, result: Any) -> None:
        metrics.after_sync(run)
        view.snapshot(force=True)  # read the new state now, not at the next page view

    scheduler = SyncScheduler(config.path, every=options.every, debounce=options.debounce, max_delay=options.max_delay,
                              poll=options.poll, on_finished=finished, on_poll=metrics.after_poll)
    service = Service(config=config, scheduler=scheduler, view=view, metrics=metrics,
                      guard=Guard(token, open_reads=is_loopback(options.host)), stale_after=options.health_threshold,
                      started=time.time())
    watch = FolderWatch(config, scheduler.changed, events=options.watch_events)
    logging.config.dictConfig(log_config())
    server = uvicorn.Server(uvicorn.Config(build_app(service), log_config=None, lifespan="off", server_header=False,
                                           proxy_headers=True))
    stops: list[int] = []

    def on_signal(number: int, frame: Any) -> None:
        # uvicorn handles the first signal while it serves and raises it again once it has stopped: that
        # lands here, and the sync in progress gets its grace period. A further one abandons it at once.
        stops.append(number)
        if len(stops) > 1 and waiting:
            raise _Abandon

    waiting = False
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, on_signal)
    service.watch_mode = watch.start()
    scheduler.start()
    address, port = listener.getsockname()[:2]
    log.info("pmo serve: %s on http://%s:%d/ (sync every %gs; changes: %s)%s", config.name,
             f"[{address}]" if ":" in address else address, port, options.every, service.watch_mode,
             f"; token for scripts in {token_file_for(config.state).name}" if generated else "")
    try:
        server.run(sockets=[listener])
    finally:
        watch.stop()
        waiting = True
        if scheduler.running is not None:
            log.info("stopping: waiting up to %gs for the sync in progress", options.grace)
        try:
            finished_cleanly = scheduler.stop(options.grace)
        except _Abandon:
            finished_cleanly = False
    if not finished_cleanly:
        log.warning("stopped during a sync, which was abandoned: the previous master and state store are kept, "
                    "and the next sync starts afresh")
        logging.shutdown()
        sys.stderr.flush()
        os._exit(0)  # the sync thread cannot be interrupted; leaving now keeps its half-done work unwritten
    log.info("stopped")
    return 0
