"""Start the real ``pmo serve`` in a subprocess on a free loopback port, and talk to it over HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

STARTED = re.compile(r"on http://(\S+?):(\d+)/")


class ServiceProcess:
    """``python -m pmo_sheets.cli serve --config CONFIG --port 0 ARGS...``; its stderr goes to a file."""

    def __init__(self, config: Path, *args: str, env: dict[str, str] | None = None, host: str = "127.0.0.1"):
        self.log = config.parent / f"serve-{time.monotonic_ns()}.log"
        self.handle = open(self.log, "wb")  # noqa: SIM115 (closed in stop())
        environment = {key: value for key, value in os.environ.items() if key != "PMO_SERVE_TOKEN"}
        environment.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pmo_sheets.cli", "serve", "--config", str(config), "--host", host, "--port", "0", *args],
            stdout=self.handle, stderr=subprocess.STDOUT, env=environment)
        self.base = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            match = STARTED.search(self.text())
            if match:
                self.base = f"http://127.0.0.1:{match[2]}"
                break
            if self.process.poll() is not None:
                raise AssertionError(f"pmo serve exited with {self.process.returncode}: {self.text()}")
            time.sleep(0.05)
        else:
            raise AssertionError(f"pmo serve did not start: {self.text()}")
        self.wait_for(lambda: self.get("/healthz")[0] in (200, 401, 503), what="the HTTP server")

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                data: bytes | None = None) -> tuple[int, bytes, dict[str, str]]:
        request = urllib.request.Request(self.base + path, method=method, headers=headers or {}, data=data)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)
        except (urllib.error.URLError, ConnectionError):
            return 0, b"", {}

    def get(self, path: str, **kwargs: Any) -> tuple[int, bytes]:
        status, body, _ = self.request("GET", path, **kwargs)
        return status, body

    def json(self, path: str, **kwargs: Any) -> Any:
        status, body = self.get(path, **kwargs)
        assert status == 200, (path, status, body)
        return json.loads(body)

    def wait_for(self, condition: Callable[[], Any], *, timeout: float = 20, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; service log:\n{self.text()}")

    def wait_idle(self, *, syncs: int = 1) -> dict[str, Any]:
        """The status once at least ``syncs`` syncs ran and none is running or queued."""
        def idle() -> dict[str, Any] | None:
            status = self.json("/api/status")
            done = status["syncs"] >= syncs and not status["syncing"] and not status["queued"] and status["last_sync"]
            return status if done else None
        return self.wait_for(idle, what=f"{syncs} sync(s) to finish")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.handle.close()
        return code

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
