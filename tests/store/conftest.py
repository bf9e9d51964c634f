"""Store URLs: SQLite in a temporary folder, and the real PostgreSQL of ``.ci/postgres.sh``.

PostgreSQL tests run when ``BIORELEX_TEST_POSTGRES_URL`` is set (``.ci/run`` starts a server and
sets it); in CI (``CI`` set) its absence is an error, never a silent skip.
"""

from __future__ import annotations

import os

import pytest

POSTGRES_URL = os.environ.get("BIORELEX_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kg.db'}"
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must test the store on PostgreSQL: BIORELEX_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server (set BIORELEX_TEST_POSTGRES_URL; .ci/postgres.sh starts one)")
    from sqlalchemy import create_engine

    from biorelex.store.db import Base

    engine = create_engine(POSTGRES_URL)
    Base.metadata.drop_all(engine)  # each test starts from an empty schema
    engine.dispose()
    return POSTGRES_URL
