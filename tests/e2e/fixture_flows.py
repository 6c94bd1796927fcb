"""Tiny flows that the end-to-end tests deploy to a real server and worker.

They exercise what the platform's flows rely on (tasks with retries, parameters
with defaults, artifacts, run logs) without the platform's data, so a failure here
is Prefect's set-up, not the lifecycle code.
"""

from __future__ import annotations

import os

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

#: Set by the test in the worker's environment; a flow run sees it only if the
#: deployment's process worker passes its environment on.
WORKER_ENV_PROBE = "LIFECYCLE_E2E_PROBE"


@task(retries=2, retry_delay_seconds=0, task_run_name="letters-{word}-{attempt}", persist_result=False)
def count_letters(word: str, attempt: int) -> int:
    """Letters in ``word``; fails on its first attempt so the run shows a retry."""
    from prefect.runtime import task_run

    if task_run.run_count == 1:
        raise RuntimeError("first attempt fails on purpose")
    return len(word)


@flow(name="e2e-greeting", persist_result=False)
def greeting(word: str = "lifecycle", times: int = 2) -> int:
    """Count the letters of ``word`` ``times`` times and report the total.

    Args:
        word: what to count.
        times: how many task runs to make.
    """
    log = get_run_logger()
    log.info("greeting %s x%d (probe=%s)", word, times, os.environ.get(WORKER_ENV_PROBE, "unset"))
    total = sum(count_letters(word, attempt) for attempt in range(times))
    create_markdown_artifact(key="e2e-greeting", markdown=f"# Greeting\n\n{word}: {total} letters")
    return total


@flow(name="e2e-tick", persist_result=False)
def tick() -> None:
    """Nothing but a log line: the scheduler test only needs a deployable flow."""
    get_run_logger().info("tick")
