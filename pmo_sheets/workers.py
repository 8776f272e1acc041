"""Worker processes that die with the sync that started them.

A ``ProcessPoolExecutor`` worker waits for work on a pipe that its sibling workers also hold open,
so when the sync that owns the pool is killed (``kill -9``, the OOM killer, a service manager
stopping a unit) the workers do not notice and live on for minutes, reading workbooks nobody will
look at. Each worker therefore runs :func:`die_with_parent` first:

- on Linux it asks the kernel to send it SIGKILL when its parent exits (``prctl(PR_SET_PDEATHSIG)``);
- everywhere on POSIX a daemon thread checks twice a second that it still has the same parent and
  that the sync process is alive, and ends the worker otherwise (the portable fallback, and the
  guard for start methods such as ``forkserver`` whose workers are not the sync's own children).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH_EVERY = 0.5  # seconds between two looks at the parent


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers exit as soon as this process dies."""
    return ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),))


def die_with_parent(owner: int) -> None:
    """Worker initializer: make this process end when ``owner`` (the sync process) or its own parent dies."""
    if os.name != "posix":
        return  # Windows has no reparenting to watch for; its workers see the broken pipe and exit
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl (another libc): the watchdog below still ends the worker
    if not _alive(owner):  # the sync died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(owner, parent), name="pmo-worker-watchdog", daemon=True).start()


def _watch(owner: int, parent: int) -> None:
    while True:
        time.sleep(WATCH_EVERY)
        if os.getppid() != parent or not _alive(owner):
            os._exit(1)  # nobody is left to take our results; no cleanup is owed


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (POSIX only: on Windows ``os.kill`` would terminate it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
