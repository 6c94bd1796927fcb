"""Test-wide set-up: a private Prefect home, no telemetry, database fixtures."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="lifecycle-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["GX_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

POSTGRES_ENV = "LIFECYCLE_TEST_POSTGRES_URL"


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/lifecycle.db"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (CI requires PostgreSQL)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get("LIFECYCLE_REQUIRE_POSTGRES"):
            pytest.fail(f"{POSTGRES_ENV} is not set but PostgreSQL tests are required")
        pytest.skip(f"{POSTGRES_ENV} not set")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bench.database import drop_database

    name = f"lifecycle_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        admin.dispose()
        drop_database(base, name)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Both back-ends: the same code path must work on each."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))
