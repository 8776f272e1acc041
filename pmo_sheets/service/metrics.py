"""Prometheus metrics at ``/metrics``: sync durations and outcomes, sources by status, requests to Google.

A registry of our own (not prometheus-client's global one), so that two services in one process (the
tests) never share counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from pmo_sheets.service.scheduler import SyncRun
from pmo_sheets.service.status import STATUSES, Snapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ServiceMetrics:
    """The service's metrics; :meth:`after_sync` and :meth:`after_poll` keep them current."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.duration = Histogram("pmo_sync_duration_seconds", "How long each sync took", registry=self.registry,
                                  buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600))
        self.syncs = Counter("pmo_syncs", "Sync attempts by outcome (ok, attention, failed, busy)", ["outcome"],
                             registry=self.registry)
        self.sources = Gauge("pmo_sources", "Sources by status after the last sync", ["status"], registry=self.registry)
        self.google = Counter("pmo_google_requests", "Requests made to Google, by API (drive, sheets)", ["api"],
                              registry=self.registry)
        self.last_success = Gauge("pmo_last_successful_sync_timestamp_seconds",
                                  "When the last sync that did not fail finished (Unix time)", registry=self.registry)
        self.next_due = Gauge("pmo_next_sync_timestamp_seconds", "When the next scheduled sync is due (Unix time)",
                              registry=self.registry)
        for outcome in ("ok", "attention", "failed", "busy"):
            self.syncs.labels(outcome=outcome)
        for api in ("drive", "sheets"):
            self.google.labels(api=api)

    def after_sync(self, run: SyncRun) -> None:
        self.syncs.labels(outcome=run.outcome).inc()
        if run.outcome != "busy":
            self.duration.observe(run.seconds)
        if run.outcome in ("ok", "attention") and run.finished:
            self.last_success.set(run.finished)
        self.after_poll(run.google_requests)

    def after_poll(self, requests: dict[str, int]) -> None:
        for api, count in requests.items():
            if count:
                self.google.labels(api=api).inc(count)

    def render(self, snapshot: Snapshot, next_due: float) -> bytes:
        counts = snapshot.counts()
        for status in STATUSES:
            self.sources.labels(status=status).set(counts[status])
        self.next_due.set(next_due)
        return generate_latest(self.registry)
