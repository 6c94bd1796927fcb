"""Fixtures of the end-to-end tests: a supervised Prefect server, pool, deployment and worker.

``prefect_stack`` is shared by the session (a server takes ~20 s to start here);
tests that need a server of their own (other settings, a clean log) build one with
``supervisor`` + :func:`~tests.e2e.prefect_server.start_prefect_server`. Either way
teardown stops every process, also when the test failed, and fails if any process
the test started is still alive.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.prefect_server import PrefectServer, migrate_database, start_prefect_server, write_prefect_yaml
from tests.e2e.processes import ManagedProcess, ProcessSupervisor

E2E_DIR = Path(__file__).resolve().parent
POOL = "e2e-process"
GREETING = "e2e-greeting/greet"
#: Passed to the greeting's flow runs through the deployment's ``job_variables.env``.
DEPLOYMENT_PROBE = "set-by-job-variables"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The e2e tests read /proc and use Linux's parent-death signal."""
    if sys.platform.startswith("linux"):
        return
    skip = pytest.mark.skip(reason="end-to-end tests need Linux (/proc, PR_SET_PDEATHSIG)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def _stop_and_check(supervisor: ProcessSupervisor) -> None:
    supervisor.stop_all()
    left = supervisor.survivors()
    assert left == [], f"processes started by the test are still alive: {left}"


@pytest.fixture(scope="session")
def server_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated server database, copied by every test server (saves ~10 s each)."""
    return migrate_database(tmp_path_factory.mktemp("prefect-database") / "server.db")


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[ProcessSupervisor]:
    """A process supervisor whose children are all gone when the test ends."""
    supervisor = ProcessSupervisor(tmp_path / "logs")
    try:
        yield supervisor
    finally:
        _stop_and_check(supervisor)


@dataclass(frozen=True)
class PrefectStack:
    server: PrefectServer
    worker: ManagedProcess
    pool: str


@pytest.fixture(scope="session")
def prefect_stack(tmp_path_factory: pytest.TempPathFactory, server_database: Path) -> Iterator[PrefectStack]:
    """Server + process pool + the greeting deployment + a worker, for the session."""
    base = tmp_path_factory.mktemp("prefect-stack")
    supervisor = ProcessSupervisor(base / "logs")
    try:
        server = start_prefect_server(supervisor, base / "home", database_template=server_database)
        server.create_process_pool(POOL)
        prefect_file = write_prefect_yaml(
            base / "prefect.yaml",
            [{
                "name": "greet",
                "entrypoint": "fixture_flows.py:greeting",
                "work_pool": {"name": POOL, "job_variables": {"env": {"LIFECYCLE_E2E_PROBE": DEPLOYMENT_PROBE}}},
            }],
            working_directory=E2E_DIR,
        )
        server.deploy(prefect_file, cwd=E2E_DIR)
        worker = server.start_worker(POOL, cwd=base)
        yield PrefectStack(server, worker, POOL)
    finally:
        _stop_and_check(supervisor)
