"""Shared fixtures: sample workbooks written into the real templates."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # lets tests import the helper modules beside them


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
