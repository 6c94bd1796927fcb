"""A real Prefect server, work pool and process worker for end-to-end tests.

What the platform team runs, on loopback: ``prefect server start`` (SQLite, a free
port, a private ``PREFECT_HOME``, its log in a file), ``prefect work-pool create
--type process``, ``prefect --no-prompt deploy --all`` from a given prefect.yaml,
``prefect worker start``; runs are triggered and read through the Python client.

Every process is started by a :class:`~tests.e2e.processes.ProcessSupervisor`, which
the caller stops (the ``prefect_stack`` fixtures do, on failure too). Waits are
bounded polls with deadlines; a missed deadline fails with the state reached and
the tail of the relevant log.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import Artifact, FlowRun, Log, TaskRun

from tests.e2e.processes import ManagedProcess, ProcessSupervisor

T = TypeVar("T")

#: What a healthy server never logs. ``InvalidRequestError`` is the SQLAlchemy 2.1
#: failure of the scheduler loop; the others catch any service crashing.
SERVER_LOG_PROBLEMS = re.compile(r"\bERROR\b|Traceback|InvalidRequestError")

#: How every record of the server log begins (a record's traceback lines follow it).
LOG_RECORD_START = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| ", re.M)
#: The one error a healthy server with a SQLite database writes on a loaded machine: a worker's heartbeat
#: could not take the database lock while a flow run was writing (the worker reconnects and beats again).
#: Production servers use PostgreSQL; the test servers use SQLite, as the README's quick procedure does.
LOCKED_HEARTBEAT = ("Worker channel heartbeat persistence failed", "sqlite3.OperationalError: database is locked")

#: Scheduler loop of the test servers (default 60 s): the first loop runs at
#: start-up, before anything is deployed, so the default would add a minute.
DEFAULT_SCHEDULER_LOOP_SECONDS = 2


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def clean_environment(home: Path) -> dict[str, str]:
    """The test process's environment without its ``PREFECT_*`` settings, plus ours.

    The test session has its own ``PREFECT_HOME`` (tests/conftest.py) and may have an
    API URL; children get a private home and only the settings given here.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        GX_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
    )
    return env


def poll_until(
    probe: Callable[[], T | None], *, timeout: float, interval: float, failure: Callable[[], str]
) -> T:
    """Call ``probe`` every ``interval`` s until it returns non-None; fail after ``timeout``.

    ``failure`` builds the message (state reached, log tail) only when needed.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{failure()} (gave up after {timeout:.0f} s)")
        time.sleep(interval)


@dataclass
class PrefectServer:
    """A running ``prefect server start`` and the means to drive it."""

    home: Path
    port: int
    process: ManagedProcess
    supervisor: ProcessSupervisor

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for a CLI call or worker that talks to this server."""
        return {**clean_environment(self.home), "PREFECT_API_URL": self.api_url, **(extra or {})}

    @contextmanager
    def client(self) -> Iterator[SyncPrefectClient]:
        """A synchronous API client bound to this server (not to the session's settings)."""
        with SyncPrefectClient(self.api_url) as client:
            yield client

    def log_text(self) -> str:
        return self.process.log_text()

    def log_problems(self, *, tolerate_locked_heartbeats: bool = False) -> list[str]:
        """Lines of the server log that a healthy server never writes.

        With ``tolerate_locked_heartbeats`` the records of :data:`LOCKED_HEARTBEAT` (and their
        tracebacks) are left out: SQLite contention under load, not a failing service.
        """
        text = self.log_text()
        if tolerate_locked_heartbeats:
            starts = [m.start() for m in LOG_RECORD_START.finditer(text)]
            records = [text[a:b] for a, b in zip([0, *starts], [*starts, len(text)], strict=True)]
            text = "".join(r for r in records if not all(marker in r for marker in LOCKED_HEARTBEAT))
        return [line for line in text.splitlines() if SERVER_LOG_PROBLEMS.search(line)]

    def prefect(
        self,
        *args: str,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run a ``prefect`` CLI command against this server; fail with its output."""
        result = subprocess.run(
            [sys.executable, "-m", "prefect", *args],
            cwd=cwd,
            env=self.environment(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"prefect {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def create_process_pool(self, name: str) -> None:
        """What ``prefect work-pool create NAME --type process`` does, through the API.

        The same default job template as the CLI, without a CLI process (~4 s here).
        """
        from prefect.client.schemas.actions import WorkPoolCreate
        from prefect.workers.process import ProcessWorker

        template = ProcessWorker.get_default_base_job_template()
        with self.client() as client:
            client.create_work_pool(WorkPoolCreate(name=name, type="process", base_job_template=template))

    def deploy(
        self, prefect_file: Path, *, cwd: Path, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``prefect --no-prompt deploy --all`` of ``prefect_file``, run in ``cwd``.

        Entrypoints are resolved relative to ``cwd``; ``env`` is what the
        prefect.yaml's ``{{ $VAR }}`` templates see.
        """
        return self.prefect(
            "--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file), cwd=cwd, env=env
        )

    def start_worker(
        self,
        pool: str,
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        name: str = "worker",
        timeout: float = 60,
    ) -> ManagedProcess:
        """Start a process worker on ``pool`` and wait until the server has seen it.

        It polls every second (default 10 s) so runs start promptly. Flow runs it
        spawns inherit ``env`` (the worker's environment).
        """
        worker_env = {"PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_HEARTBEAT_SECONDS": "5",
                      **(env or {})}
        worker = self.supervisor.start(
            name,
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--name", name],
            env=self.environment(worker_env),
            cwd=cwd,
        )

        def registered() -> bool | None:
            if not worker.alive():
                raise AssertionError(f"worker exited {worker.popen.returncode}:\n{worker.log_tail()}")
            with self.client() as client:
                workers = client.read_workers_for_work_pool(pool)
            return True if any(w.name == name for w in workers) else None

        poll_until(registered, timeout=timeout, interval=0.5,
                   failure=lambda: f"worker {name} never registered:\n{worker.log_tail()}")
        return worker

    def deployment_id(self, name: str) -> UUID:
        """The id of ``"<flow name>/<deployment name>"``."""
        with self.client() as client:
            return client.read_deployment_by_name(name).id

    def run_deployment(self, name: str, parameters: Mapping[str, Any] | None = None) -> UUID:
        """Create a flow run of deployment ``name`` now; parameters merge over its own."""
        with self.client() as client:
            deployment = client.read_deployment_by_name(name)
            run = client.create_flow_run_from_deployment(
                deployment.id, parameters=dict(parameters) if parameters is not None else None
            )
        return run.id

    def wait_for_final_state(
        self, flow_run_id: UUID, *, timeout: float = 120, logs_of: Sequence[ManagedProcess] = ()
    ) -> FlowRun:
        """Poll the flow run until its state is final (completed, failed, crashed …)."""
        last: list[FlowRun] = []

        def final() -> FlowRun | None:
            with self.client() as client:
                run = client.read_flow_run(flow_run_id)
            last[:] = [run]
            return run if run.state is not None and run.state.is_final() else None

        def failure() -> str:
            state = last[0].state if last else None
            tails = "\n".join(f"--- {p.name}:\n{p.log_tail()}" for p in logs_of)
            return f"flow run {flow_run_id} did not finish; last state {state!r}\n{tails}"

        return poll_until(final, timeout=timeout, interval=0.25, failure=failure)

    def flow_runs_of(self, deployment_id: UUID) -> list[FlowRun]:
        with self.client() as client:
            return client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )

    def task_runs(self, flow_run_id: UUID) -> list[TaskRun]:
        with self.client() as client:
            return client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )

    def artifacts(self, flow_run_id: UUID) -> list[Artifact]:
        with self.client() as client:
            return client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
            )

    def logs(self, flow_run_id: UUID) -> list[Log]:
        """The run's log records the API has so far (flow and task loggers)."""
        with self.client() as client:
            return client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))

    def wait_for_logs(self, flow_run_id: UUID, *fragments: str, timeout: float = 30) -> list[Log]:
        """The run's logs once each of ``fragments`` is in some message.

        A flow run's state turns final before its process has shipped its last log
        batch, so logs read at that moment can lack the end of the run.
        """
        seen: list[Log] = []

        def arrived() -> list[Log] | None:
            seen[:] = self.logs(flow_run_id)
            messages = [log.message for log in seen]
            return list(seen) if all(any(f in m for m in messages) for f in fragments) else None

        return poll_until(arrived, timeout=timeout, interval=0.25,
                          failure=lambda: f"logs of {flow_run_id} lack some of {fragments}: "
                                          f"{[log.message for log in seen]}")

    def wait_for_task_runs(self, flow_run_id: UUID, count: int, *, timeout: float = 30) -> list[TaskRun]:
        """The run's ``count`` task runs once each is in a final state.

        Prefect 3 records task runs from events (the server's task-run recorder),
        so they can trail the flow run's own final state.
        """
        seen: list[TaskRun] = []

        def recorded() -> list[TaskRun] | None:
            seen[:] = self.task_runs(flow_run_id)
            final = [t for t in seen if t.state is not None and t.state.is_final()]
            return list(seen) if len(seen) == count and len(final) == count else None

        return poll_until(recorded, timeout=timeout, interval=0.25,
                          failure=lambda: f"flow run {flow_run_id}: task runs "
                                          f"{[(t.name, t.state_name) for t in seen]}, expected {count} final")


def _database_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def migrate_database(path: Path, *, timeout: float = 180) -> Path:
    """Create a SQLite server database at ``path``, migrated to Prefect's head revision.

    A fresh server spends about half its start-up (~10 s of ~21 s here) running
    migrations; servers started from a copy of this file skip them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    env = {**clean_environment(path.parent), "PREFECT_API_DATABASE_CONNECTION_URL": _database_url(path)}
    result = subprocess.run(
        [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
        env=env, cwd=path.parent, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=timeout, check=False,
    )
    if result.returncode != 0 or not path.exists():
        raise AssertionError(f"prefect server database upgrade failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    return path


def start_prefect_server(
    supervisor: ProcessSupervisor,
    home: Path,
    *,
    settings: Mapping[str, str] | None = None,
    database_template: Path | None = None,
    timeout: float = 120,
) -> PrefectServer:
    """Start ``prefect server start`` on 127.0.0.1 with SQLite under ``home``.

    ``settings`` are extra ``PREFECT_*`` variables for the server;
    ``database_template`` a database from :func:`migrate_database` to start from
    (copied, so servers share nothing). Returns once ``/api/health`` answers;
    fails early with the log if the server exits.
    """
    home.mkdir(parents=True, exist_ok=True)
    database = home / "server.db"
    if database_template is not None:
        shutil.copyfile(database_template, database)
    port = free_port()
    env = {
        **clean_environment(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": _database_url(database),
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": str(DEFAULT_SCHEDULER_LOOP_SECONDS),
        "PREFECT_UI_ENABLED": "false",
        **(settings or {}),
    }
    process = supervisor.start(
        "server",
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=home,
    )
    server = PrefectServer(home, port, process, supervisor)

    def healthy() -> bool | None:
        if not process.alive():
            raise AssertionError(f"server exited {process.popen.returncode}:\n{process.log_tail()}")
        try:
            response = httpx.get(f"{server.api_url}/health", timeout=2)
        except httpx.TransportError:
            return None
        return True if response.status_code == 200 else None

    poll_until(healthy, timeout=timeout, interval=0.25,
               failure=lambda: f"server on port {port} never became healthy:\n{process.log_tail()}")
    return server


def write_prefect_yaml(
    path: Path, deployments: Sequence[Mapping[str, Any]], *, working_directory: Path
) -> Path:
    """Write a prefect.yaml whose pull step moves flow runs into ``working_directory``.

    That step is how a process worker finds the code (as in the repository's own
    prefect.yaml); entrypoints are relative to it.
    """
    import yaml

    document = {
        "name": "lifecycle-e2e",
        "prefect-version": "3.8.8",
        "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": str(working_directory)}}],
        "deployments": [dict(d) for d in deployments],
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path
