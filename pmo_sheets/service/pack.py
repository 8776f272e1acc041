"""The status pack (``pmo report``'s HTML form) as the service shows it at ``/report``.

Rendering reads the whole master and draws charts with matplotlib (a second or so), so the page is
rendered once per master file and kept until a sync replaces the master. matplotlib's pyplot keeps
global state, so renderings never overlap.
"""

from __future__ import annotations

import threading

from pmo_sheets.config import PortfolioConfig


class PackUnavailable(Exception):
    """The pack cannot be shown; the message says why and what to do."""


class StatusPackPage:
    """The current master's status pack as one self-contained HTML page."""

    def __init__(self, config: PortfolioConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._made_from: tuple[int, int] | None = None  # the master's (mtime_ns, size) the HTML was made from
        self._html = ""

    def html(self) -> str:
        """The pack's HTML; raises :class:`PackUnavailable` (no master yet, report extra missing, master unreadable)."""
        master = self.config.master
        try:
            status = master.stat()
        except OSError:
            raise PackUnavailable("There is no master yet: the next sync writes it.") from None
        key = (status.st_mtime_ns, status.st_size)
        with self._lock:
            if key != self._made_from:
                try:
                    from pmo_sheets.statuspack import render_html
                except ModuleNotFoundError as missing:
                    raise PackUnavailable("The status pack needs the report extra: "
                                          f"pip install \"pmo-sheets[report]\" ({missing}).") from None
                from pmo_sheets.sources import UsageError

                try:
                    self._html = render_html(self.config)
                except UsageError as exc:  # a master that cannot be read: its message names the file
                    raise PackUnavailable(str(exc)) from None
                self._made_from = key
            return self._html
