"""Shared fixtures: the tiny committed corpora and the shared benchmark data."""

from __future__ import annotations

from pathlib import Path

import pytest

from biorelex.data.corpora import data_dir

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or $BIORELEX_DATA); tests needing it are skipped where it is absent."""
    root = data_dir()
    if not (root / "README.md").exists():
        pytest.skip(f"shared corpora not found at {root}")
    return root
