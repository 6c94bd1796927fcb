"""The repository's prefect.yaml on a real server: scheduled runs appear, and the daily deployment runs with
no parameters at all — as its schedule will — to Completed, with its tasks, artifacts and the store filled.

What the README's operator procedure does, on loopback: a server (SQLite), the
``lifecycle-process`` pool, ``prefect --no-prompt deploy --all`` of the real
prefect.yaml with ``LIFECYCLE_CHECKOUT`` set, a process worker whose environment
carries the ``LIFECYCLE_*`` settings, then a run of ``daily-lifecycle/daily``
created through the API without parameters: ``as_of`` must default to yesterday in
Asia/Shanghai, the date the landing folder is generated for.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
import yaml
from prefect.client.schemas.objects import FlowRun, TaskRun
from prefect.events.filters import EventFilter, EventNameFilter
from sqlalchemy import func, select

from lifecycle.bootstrap import upgrade_stores
from lifecycle.clock import SystemClock, previous_day
from lifecycle.privacy.keyring import generate_keyring, write_keyring
from lifecycle.settings import Settings
from lifecycle.store.db import make_engine
from lifecycle.store.models import Customer, CustomerDecision, DecisionRun, IngestionRun
from lifecycle.synth.cli import main as synth
from tasks.limits import DATABASE_WRITERS
from tasks.steps import POLICIES
from tests.e2e.prefect_server import PrefectServer, poll_until, start_prefect_server
from tests.e2e.processes import ProcessSupervisor

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAILY = "daily-lifecycle/daily"
CUSTOMERS = 150
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
#: Task kinds every daily run has (each partition and source adds runs of its kind).
DAILY_KINDS = {"plan", "stage-source", "quality-gate", "load", "report", "plan-decisions",
               "features", "fit-models", "decide", "finish-decisions", "labels", "management-report",
               "retention", "loyalty"}
DAILY_ARTIFACTS = {"ingestion-summary", "data-docs", "decision-summary", "lifecycle-funnel", "labels-and-groups",
                   "management-report", "retention-tasks", "loyalty-ledger"}


def _prefect_yaml() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return document


def _scheduled_deployments() -> dict[str, str]:
    """``flow name/deployment name`` of every scheduled deployment, mapped to its cron."""
    names = {}
    for deployment in _prefect_yaml()["deployments"]:
        if deployment.get("schedules"):
            flow_name = _flow_name(deployment["entrypoint"])
            names[f"{flow_name}/{deployment['name']}"] = deployment["schedules"][0]["cron"]
    return names


def _flow_name(entrypoint: str) -> str:
    import importlib

    path, attribute = entrypoint.split(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return str(getattr(module, attribute).name)


def _bank_home(base: Path) -> dict[str, str]:
    """A generated bank's landing folder for yesterday (Shanghai), a keyring, migrated stores: the worker's
    ``LIFECYCLE_*`` settings."""
    day = previous_day(SystemClock())
    generated = base / "generated"
    # No planted flaws: the date changes every day, and at 150 customers one quarantined card holder's
    # transactions are enough to put a small source over its error budget (the gate is tested elsewhere).
    assert synth(["--customers", str(CUSTOMERS), "--seed", "19", "--as-of", day.isoformat(), "--out",
                  str(generated), "--flaw-rate", "0", "--txns-per-customer", "6"]) == 0
    home = base / "home"
    home.mkdir()
    keyring = home / "keyring.json"
    write_keyring(generate_keyring(development_only=True), keyring)
    upgrade_stores(Settings(home=home, landing_dir=generated / "landing"))
    return {"LIFECYCLE_HOME": str(home), "LIFECYCLE_KEYRING_FILE": str(keyring),
            "LIFECYCLE_LANDING_DIR": str(generated / "landing")}


def _scheduled_runs(server: PrefectServer, ids: dict[str, UUID]) -> dict[str, list[FlowRun]] | None:
    if problems := server.log_problems():
        raise AssertionError("the server logged errors:\n" + "\n".join(problems[:20]))
    runs = {name: server.flow_runs_of(deployment_id) for name, deployment_id in ids.items()}
    return runs if all(runs.values()) else None


def _stop_scheduling(server: PrefectServer, ids: dict[str, UUID]) -> None:
    """Pause every deployment and delete its scheduled runs: a dispatch-outbox run falling due (every 5
    minutes) must not share the store with the run under test."""
    with server.client() as client:
        for deployment_id in ids.values():
            client.pause_deployment(deployment_id)
        for deployment_id in ids.values():
            for run in server.flow_runs_of(deployment_id):
                if run.state is not None and run.state.is_scheduled():
                    client.delete_flow_run(run.id)


def _slot_takers(server: PrefectServer) -> set[UUID]:
    """Task runs that took a slot of the writer limit, from the server's concurrency-limit events."""
    wanted = EventFilter(event=EventNameFilter(name=["prefect.concurrency-limit.acquired"]))
    events = []
    with server.client() as client:
        page = client.read_events(filter=wanted, limit=50)  # the API's largest page
        events.extend(page.events)
        while page.next_page is not None:
            page = client.read_events_page(str(page.next_page))
            events.extend(page.events)
    return {UUID(r.id.removeprefix("prefect.task-run.")) for e in events
            if e.resource.get("prefect.resource.name") == DATABASE_WRITERS
            for r in e.related if r.id.startswith("prefect.task-run.")}


def _kind(task_run: TaskRun) -> str:
    """``stage-source: transactions`` -> ``stage-source`` (runs are named kind: detail)."""
    return task_run.name.split(":", 1)[0]


def _final_task_runs(server: PrefectServer, run_id: UUID) -> list[TaskRun]:
    """The run's task runs once the last kind has been recorded and every one is final."""
    seen: list[TaskRun] = []

    def recorded() -> list[TaskRun] | None:
        seen[:] = server.task_runs(run_id)
        kinds = {_kind(t) for t in seen}
        final = all(t.state is not None and t.state.is_final() for t in seen)
        return list(seen) if kinds >= DAILY_KINDS and final else None

    return poll_until(recorded, timeout=30, interval=0.5,
                      failure=lambda: f"task runs {sorted((t.name, str(t.state_name)) for t in seen)}")


def test_the_daily_deployment_runs_from_prefect_yaml_without_parameters(
    tmp_path: Path, supervisor: ProcessSupervisor, server_database: Path
) -> None:
    with ThreadPoolExecutor(1) as background:  # the bank is made while the server starts (~20 s each here)
        bank = background.submit(_bank_home, tmp_path)
        server = start_prefect_server(supervisor, tmp_path / "prefect", database_template=server_database)
        settings = bank.result()
    server.create_process_pool("lifecycle-process")
    server.prefect("gcl", "create", DATABASE_WRITERS, "--limit", "1", cwd=ROOT)  # what `make writer-limit` runs
    server.deploy(ROOT / "prefect.yaml", cwd=ROOT, env={"LIFECYCLE_CHECKOUT": str(ROOT)})

    # The server's scheduler gives every cron deployment its runs, in Shanghai time, without an error.
    scheduled = _scheduled_deployments()
    ids = {name: server.deployment_id(name) for name in scheduled}
    runs = poll_until(lambda: _scheduled_runs(server, ids), timeout=60, interval=0.5,
                      failure=lambda: f"not every scheduled deployment got runs:\n{server.process.log_tail()}")
    daily_starts = [r.expected_start_time for r in runs[DAILY] if r.expected_start_time is not None]
    assert daily_starts and all(r.state is not None and r.state.is_scheduled() for r in runs[DAILY])
    assert {s.astimezone(SHANGHAI).time() for s in daily_starts} == {time(2, 30)}
    assert all(s > datetime.now(SHANGHAI) for s in daily_starts)
    _stop_scheduling(server, ids)

    worker = server.start_worker("lifecycle-process", cwd=ROOT, env={"LIFECYCLE_CHECKOUT": str(ROOT), **settings})
    run_id = server.run_deployment(DAILY)  # no parameters: what the schedule does
    run = server.wait_for_final_state(run_id, timeout=150, logs_of=[worker])
    assert run.state is not None and run.state.is_completed(), f"{run.state!r}\n{worker.log_tail(80)}"
    assert run.parameters == {}

    task_runs = _final_task_runs(server, run_id)
    assert all(t.state is not None and t.state.is_completed() for t in task_runs), \
        sorted((t.name, str(t.state_name)) for t in task_runs if not (t.state and t.state.is_completed()))
    sources = sorted(t.name for t in task_runs if _kind(t) == "stage-source")
    from lifecycle.integration.sources import load_sources

    configured = len(load_sources().sources)
    assert len(sources) == configured and len(set(sources)) == configured  # one per source, told apart by name

    # Every writing task found the writer limit and gave its slot back.
    messages = [log.message for log in server.wait_for_logs(run_id, "partition 2/2")]
    assert not [m for m in messages if "do not exist" in m]
    with server.client() as client:
        limit = client.read_global_concurrency_limit_by_name(DATABASE_WRITERS)
    assert (limit.limit, limit.active_slots) == (1, 0)
    writers = {t.id for t in task_runs if POLICIES[_kind(t)].writes}
    assert len(writers) >= 12  # plan, load, report, the decision steps and partitions, labels, care
    poll_until(lambda: True if _slot_takers(server) >= writers else None, timeout=30, interval=0.5,
               failure=lambda: f"writer tasks without a slot: {writers - _slot_takers(server)}")

    artifacts = server.artifacts(run_id)
    assert {a.key for a in artifacts} >= DAILY_ARTIFACTS
    texts = [str(a.data) for a in artifacts]
    assert not any(MOBILE.search(text) for text in texts), "an artifact holds a mobile number"

    day = previous_day(SystemClock())
    engine = make_engine(f"sqlite:///{Path(settings['LIFECYCLE_HOME']) / 'lifecycle.db'}")
    try:
        with engine.connect() as conn:
            ingested = conn.execute(select(IngestionRun.as_of, IngestionRun.status)).all()
            decided = conn.execute(select(DecisionRun.as_of, DecisionRun.status)).all()
            customers = conn.execute(select(func.count()).select_from(Customer)).scalar_one()
            decisions = conn.execute(select(func.count()).select_from(CustomerDecision)
                                     .where(CustomerDecision.as_of == day)).scalar_one()
    finally:
        engine.dispose()
    assert [(a, str(s)) for a, s in ingested] == [(day, "succeeded")]
    assert [(a, str(s)) for a, s in decided] == [(day, "succeeded")]
    assert customers > 0.8 * CUSTOMERS and decisions == customers
    assert server.log_problems(tolerate_locked_heartbeats=True) == []
