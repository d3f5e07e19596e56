"""Shared fixtures."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data sets (``ECGAD_DATA_DIR``); tests needing them skip, saying why, without it."""
    value = os.environ.get("ECGAD_DATA_DIR")
    if not value:
        pytest.skip("ECGAD_DATA_DIR is not set: no real data set to test against")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"ECGAD_DATA_DIR={value} is not a folder")
    return path
