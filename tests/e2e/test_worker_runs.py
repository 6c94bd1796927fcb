"""A deployment run through a real server and process worker: states, tasks, artifacts, logs."""

from __future__ import annotations

import pytest
from prefect.exceptions import PrefectHTTPStatusError

from tests.e2e.conftest import DEPLOYMENT_PROBE, GREETING, PrefectStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_run_with_the_deployment_defaults_completes_and_shows_its_retries(
    prefect_stack: PrefectStack,
) -> None:
    server = prefect_stack.server
    run_id = server.run_deployment(GREETING)
    run = server.wait_for_final_state(run_id, logs_of=[prefect_stack.worker])
    assert run.state is not None and run.state.is_completed(), run.state

    task_runs = sorted(server.wait_for_task_runs(run_id, 2), key=lambda t: t.name)
    assert [t.name for t in task_runs] == ["letters-lifecycle-0", "letters-lifecycle-1"]
    assert [t.run_count for t in task_runs] == [2, 2]  # the failed first attempt is kept
    assert all(t.state is not None and t.state.is_completed() for t in task_runs)

    [artifact] = server.artifacts(run_id)
    assert artifact.key == "e2e-greeting" and artifact.type == "markdown"
    assert "lifecycle: 18 letters" in str(artifact.data)

    # The deployment's job_variables.env reached the flow-run process; the retries are logged.
    logs = server.wait_for_logs(run_id, "greeting lifecycle x2", "Retry 1/2")
    assert f"greeting lifecycle x2 (probe={DEPLOYMENT_PROBE})" in [log.message for log in logs]


def test_a_run_with_given_parameters_uses_them(prefect_stack: PrefectStack) -> None:
    server = prefect_stack.server
    run_id = server.run_deployment(GREETING, {"word": "bank", "times": 3})
    run = server.wait_for_final_state(run_id, logs_of=[prefect_stack.worker])
    assert run.state is not None and run.state.is_completed(), run.state
    assert run.parameters == {"word": "bank", "times": 3}
    assert sorted(t.name for t in server.wait_for_task_runs(run_id, 3)) == [f"letters-bank-{i}" for i in range(3)]
    [artifact] = server.artifacts(run_id)
    assert "bank: 12 letters" in str(artifact.data)


def test_parameters_that_break_the_flow_schema_are_refused_by_the_api(prefect_stack: PrefectStack) -> None:
    """``prefect deploy`` enforces the parameter schema: a bad run is never created."""
    server = prefect_stack.server
    before = len(server.flow_runs_of(server.deployment_id(GREETING)))
    with pytest.raises(PrefectHTTPStatusError) as refused:
        server.run_deployment(GREETING, {"times": "many"})
    assert refused.value.response.status_code == 409
    assert "times" in refused.value.response.text
    assert len(server.flow_runs_of(server.deployment_id(GREETING))) == before
