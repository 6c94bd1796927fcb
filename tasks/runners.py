"""What runs the customer-partition tasks: the flow's threads, or Dask workers — by configuration alone.

``LIFECYCLE_TASK_RUNNER=threads`` (the default) submits partition tasks to the
flow run's own task runner (threads of its process). ``LIFECYCLE_TASK_RUNNER=dask``
submits them to prefect-dask's ``DaskTaskRunner`` for the duration of the fan-out:
a local cluster of ``LIFECYCLE_DASK_WORKERS`` processes started for it, or the
existing scheduler at ``LIFECYCLE_DASK_ADDRESS`` (whose workers must have this
package and the ``LIFECYCLE_*`` settings' files and databases within reach).
Everything else of a flow run stays in its process; the code path is the same
either way (:meth:`tasks.steps.PrefectSteps.map`).

The tasks must be picklable to travel: they get settings, a plan and partition
ids (a :class:`~tasks.context.ContextRef`, never the context) and rebuild their
context in the worker, once per worker process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import get_run_logger
from prefect.task_runners import TaskRunner

from lifecycle.errors import ConfigError
from lifecycle.settings import Settings


def dask_runner(settings: Settings) -> TaskRunner[Any]:
    """prefect-dask's runner for ``settings``: the configured scheduler, or a local cluster of processes."""
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise ConfigError("LIFECYCLE_TASK_RUNNER=dask needs prefect-dask: install the platform with its dask "
                          "extra (pip install 'bank-lifecycle[dask]')") from None
    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    # One thread per worker: partitions are CPU-bound pandas work. No dashboard: it would need a fixed port.
    return DaskTaskRunner(cluster_kwargs={"n_workers": settings.dask_workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": None})


@contextmanager
def partition_runner(settings: Settings, kind: str, count: int) -> Iterator[TaskRunner[Any] | None]:
    """The started runner for a fan-out of ``count`` ``kind`` tasks, or None for the flow's own runner."""
    if settings.task_runner == "threads":
        yield None
        return
    with dask_runner(settings) as runner:
        where = settings.dask_address or f"a local cluster of {settings.dask_workers} worker processes"
        get_run_logger().info("%s: %d partition task(s) on Dask, %s", kind, count, where)
        yield runner
