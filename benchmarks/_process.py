"""Run a command in a fresh process and measure it: wall time, peak memory, exit code, output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

#: Runs the command as a child of a small probe that reports the child's peak resident memory.
_PROBE = ("import resource, subprocess, sys, json; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
          "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
          "print(json.dumps([u.ru_maxrss, u.ru_utime + u.ru_stime, r.returncode, r.stdout, r.stderr]))")


@dataclass(frozen=True)
class Measured:
    """What one command cost and said."""

    seconds: float  # wall time, interpreter start included
    cpu_seconds: float  # processor time of the command and its workers: what wall time would be on an idle machine
    peak_mb: float  # the largest resident set of the command or any one of its worker processes
    exit_code: int
    stdout: str
    stderr: str

    @property
    def last_error_line(self) -> str:
        """The last line on stderr (a traceback's last line names the exception), or ''."""
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""


def measure(command: list[str], *, env: dict[str, str] | None = None) -> Measured:
    """Run ``command`` (with ``env`` added to this environment) in a fresh process and measure it."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PROBE, *command], capture_output=True, text=True, check=True,
                          env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - started
    rss_kb, cpu, code, stdout, stderr = json.loads(done.stdout)
    return Measured(seconds=seconds, cpu_seconds=cpu, peak_mb=rss_kb / 1024, exit_code=code, stdout=stdout,
                    stderr=stderr)


#: ``pmo`` as the installed command runs it, without depending on the venv's scripts folder being on PATH.
PMO = [sys.executable, "-c", "from pmo_sheets.cli import main; main()"]
