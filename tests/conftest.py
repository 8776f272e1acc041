"""Shared test set-up: helper modules importable, no Google settings leaking in, the local Google server."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # lets tests import the helper modules beside them

import soffice
from fake_google import FakeGoogle

_SOFFICE_FIXTURES: set[int] = set()  # fixtures whose set-up ran LibreOffice (a module-scoped recalculation)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test` runs -n 2 --dist loadgroup), tests that share a module-scoped
    fixture (a synced portfolio, a LibreOffice recalculation) stay on one worker, so the fixture is built once.

    ``tryfirst``: xdist's worker reads the ``xdist_group`` marks in its own hook of this name; run after it,
    the marks came too late and every module-scoped fixture was built on both workers."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        definitions = info.name2fixturedefs.values() if info is not None else []
        if any(defs and defs[-1].scope == "module" for defs in definitions):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__ if item.module else item.nodeid))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    soffice.USES.clear()  # before any fixture of this test is set up


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest) -> object:
    before = len(soffice.USES)
    result = yield
    if len(soffice.USES) > before:
        _SOFFICE_FIXTURES.add(id(fixturedef))  # by definition: two modules may each have a "synced"
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    """The `soffice` marker means what it says: every test that runs LibreOffice carries it, and only those."""
    result = yield
    marked = item.get_closest_marker("soffice") is not None
    info = getattr(item, "_fixtureinfo", None)
    used_fixtures = {id(defs[-1]) for defs in info.name2fixturedefs.values() if defs} if info is not None else set()
    uses = bool(soffice.USES) or bool(_SOFFICE_FIXTURES & used_fixtures)
    if uses and not marked:
        pytest.fail(f"{item.nodeid} runs LibreOffice but has no @pytest.mark.soffice", pytrace=False)
    if marked and not uses:
        pytest.fail(f"{item.nodeid} is marked soffice but never runs LibreOffice", pytrace=False)
    return result


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


@pytest.fixture
def fresh_schema_gates() -> Iterator[None]:
    """Each test compiles the schema gates afresh, so that every test meets a bug planted in the compiler.

    `make mutate` runs each mutant's tests in a process forked from one that already ran them: a gate
    cached there would hide a planted bug in ``schema_check._compile`` from every test.
    """
    from pmo_sheets import schema_check

    schema_check._compiled.cache_clear()
    yield
    schema_check._compiled.cache_clear()
