"""Shared test set-up: helper modules importable, no Google settings leaking in, the local Google server."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # lets tests import the helper modules beside them

from fake_google import FakeGoogle


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test` runs -n 2 --dist loadgroup), tests that share a module-scoped
    fixture (a synced portfolio, a LibreOffice recalculation) stay on one worker, so the fixture is built once."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        definitions = info.name2fixturedefs.values() if info is not None else []
        if any(defs and defs[-1].scope == "module" for defs in definitions):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__ if item.module else item.nodeid))


@pytest.fixture(autouse=True)
def _no_google_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own PMO_GOOGLE_* settings."""
    for name in list(os.environ):
        if name.startswith("PMO_GOOGLE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    """The local Sheets v4 + Drive v3 server, for one test."""
    with FakeGoogle() as server:
        yield server
