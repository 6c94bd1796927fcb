"""The server's scheduler gives a cron deployment its runs, in Asia/Shanghai, without errors.

With SQLAlchemy 2.1 the scheduler of Prefect 3.8 fails every loop
(``InvalidRequestError: Can't evaluate bulk DML statement``) and no scheduled
deployment ever runs, while the API answers normally: only a real server shows it.
"""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prefect.client.schemas.objects import FlowRun

from tests.e2e.conftest import E2E_DIR, POOL
from tests.e2e.prefect_server import poll_until, start_prefect_server, write_prefect_yaml
from tests.e2e.processes import ProcessSupervisor

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_cron_deployments_get_scheduled_runs_in_shanghai_time(
    tmp_path: Path, supervisor: ProcessSupervisor, server_database: Path
) -> None:
    server = start_prefect_server(supervisor, tmp_path / "home", database_template=server_database)
    server.create_process_pool(POOL)
    schedules = {"every-minute": "* * * * *", "nightly": "30 2 * * *"}
    prefect_file = write_prefect_yaml(
        tmp_path / "prefect.yaml",
        [{"name": name, "entrypoint": "fixture_flows.py:tick", "work_pool": {"name": POOL},
          "schedules": [{"cron": cron, "timezone": "Asia/Shanghai"}]}
         for name, cron in schedules.items()],
        working_directory=E2E_DIR,
    )
    server.deploy(prefect_file, cwd=E2E_DIR)
    ids = {name: server.deployment_id(f"e2e-tick/{name}") for name in schedules}

    def every_deployment_has_runs() -> dict[str, list[FlowRun]] | None:
        if problems := server.log_problems():  # a failing scheduler never recovers: stop early
            raise AssertionError("the server logged errors:\n" + "\n".join(problems[:20]))
        runs = {name: server.flow_runs_of(deployment_id) for name, deployment_id in ids.items()}
        return runs if all(runs.values()) else None

    runs = poll_until(every_deployment_has_runs, timeout=60, interval=0.5,
                      failure=lambda: f"no scheduled runs; server log tail:\n{server.process.log_tail()}")

    starts: dict[str, list[datetime]] = {}
    for name, deployment_runs in runs.items():
        assert all(r.state is not None and r.state.is_scheduled() for r in deployment_runs), name
        starts[name] = [r.expected_start_time for r in deployment_runs if r.expected_start_time]
        assert len(starts[name]) == len(deployment_runs), f"{name}: a run without a start time"
        assert all(s.second == 0 and s.microsecond == 0 for s in starts[name]), name
    # 02:30 in Shanghai is 18:30 UTC: the cron was read in the deployment's timezone.
    assert {s.astimezone(SHANGHAI).time() for s in starts["nightly"]} == {time(2, 30)}
    with server.client() as client:
        schedule = client.read_deployment(ids["nightly"]).schedules[0].schedule
    assert getattr(schedule, "timezone", None) == "Asia/Shanghai"
    assert server.log_problems() == []
