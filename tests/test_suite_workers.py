"""`make test` builds each module's shared fixture (a demo, a synced portfolio) once, on one worker.

tests/conftest.py marks every test that uses a module-scoped fixture with ``xdist_group`` (its module),
and ``--dist loadgroup`` keeps a group on one worker. When that silently stops working, nothing fails:
every such fixture is simply built on both workers, and `make test` takes a minute longer. It stopped
twice: our marks were added after xdist had read them, and pytest 9.2 ignores the group suffix xdist
writes into the test id (pytest-dev/pytest-xdist#1386; pyproject.toml keeps pytest below 9.2).
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def shared() -> str:
    return "built once"


def test_a_test_using_a_module_fixture_carries_its_modules_worker_group(shared: str,
                                                                       request: pytest.FixtureRequest) -> None:
    if not request.config.getoption("loadgroup", default=False):
        pytest.skip("runs under `make test` (pytest-xdist with --dist loadgroup)")
    assert request.node.nodeid.endswith("@test_suite_workers"), request.node.nodeid
