"""Service steps as Prefect tasks: retries, timeouts and run logging, nothing else.

:class:`PrefectSteps` is the :class:`~lifecycle.steps.Step` the flows pass to a
service: each step becomes a task run named for its kind (``stage-source``)
with its detail in the run's name (``stage-source: transactions``), so the
UI tells the runs apart. Policies per kind:

* **I/O steps retry** (reading sources, database writes, the report) with
  exponential backoff and jitter — but only for errors that may pass:
  a :class:`~lifecycle.errors.LifecycleError` (bad input, bad configuration, a
  refused gate) is deterministic and fails at once, with its message.
* **Steps inside the day's transaction** (``register-files``, ``load-customers``,
  ``load-facts``, ``record-history``) never retry on their own: their enclosing ``load`` is retried as a whole,
  in a new transaction.
* **Every step has a timeout.**
* **Steps that write the database take a slot of the database-writer limit**
  (:mod:`tasks.limits`; SQLite has one writer) for as long as they run.
* **A deliberate refusal logs its message, not a traceback** (:class:`QuietRefusals`).

No task persists its result or hashes its inputs for a cache key: staged
frames hold plaintext PII in memory, and Prefect would otherwise pickle them
under ``PREFECT_HOME``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from prefect import Task, get_run_logger
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import exponential_backoff
from prefect.utilities.callables import get_call_parameters

from lifecycle.bootstrap import Context
from lifecycle.errors import LifecycleError
from lifecycle.settings import get_settings
from lifecycle.steps import detail_of, kind_of
from tasks.context import ContextRef, reference, resolve
from tasks.limits import database_writer
from tasks.runners import partition_runner

R = TypeVar("R")
T = TypeVar("T")
HOUR = 3600.0


@dataclass(frozen=True)
class TaskPolicy:
    retries: int = 0
    timeout_seconds: float = HOUR
    backoff_seconds: float = 10.0
    writes: bool = False  # takes a slot of the database-writer limit (tasks/limits.py) for its duration


POLICIES: dict[str, TaskPolicy] = {
    "plan": TaskPolicy(retries=3, timeout_seconds=0.5 * HOUR, writes=True),
    "stage-source": TaskPolicy(retries=2, timeout_seconds=2 * HOUR),
    "quality-gate": TaskPolicy(timeout_seconds=0.25 * HOUR),
    "record-refusal": TaskPolicy(retries=3, timeout_seconds=0.5 * HOUR, writes=True),
    "record-failure": TaskPolicy(retries=3, timeout_seconds=0.25 * HOUR, writes=True),
    "load": TaskPolicy(retries=2, timeout_seconds=6 * HOUR, backoff_seconds=30.0, writes=True),
    # inside the day's transaction, so inside ``load``'s slot: ``load`` retries them, and they take no slot
    "register-files": TaskPolicy(timeout_seconds=HOUR),
    "load-customers": TaskPolicy(timeout_seconds=4 * HOUR),
    "load-facts": TaskPolicy(timeout_seconds=4 * HOUR),
    "record-history": TaskPolicy(timeout_seconds=HOUR),
    "report": TaskPolicy(retries=3, timeout_seconds=0.5 * HOUR, writes=True),
    "finish-run": TaskPolicy(retries=3, timeout_seconds=0.25 * HOUR, writes=True),
    "plan-decisions": TaskPolicy(retries=3, timeout_seconds=0.25 * HOUR, writes=True),
    "features": TaskPolicy(retries=2, timeout_seconds=2 * HOUR, writes=True),
    "fit-models": TaskPolicy(retries=2, timeout_seconds=HOUR, writes=True),
    "decide": TaskPolicy(retries=2, timeout_seconds=2 * HOUR, writes=True),
    "finish-decisions": TaskPolicy(retries=3, timeout_seconds=0.25 * HOUR, writes=True),
    "labels": TaskPolicy(retries=2, timeout_seconds=HOUR, writes=True),
    "management-report": TaskPolicy(retries=2, timeout_seconds=0.25 * HOUR),
    "retention": TaskPolicy(retries=2, writes=True),
    "loyalty": TaskPolicy(retries=2, writes=True),
    "digests": TaskPolicy(retries=2, writes=True),
    "campaigns": TaskPolicy(retries=2, writes=True),
    "dispatch": TaskPolicy(retries=2, writes=True),
}
DEFAULT_POLICY = TaskPolicy(retries=2)
JITTER = 0.5  # each delay varies by up to ±50 %, so retries of parallel runs do not align


class QuietRefusals(logging.Filter):
    """Prefect logs a failed run's exception with its traceback. For the platform's own
    errors (bad input, configuration, a refused gate) the message is the whole answer
    — file, row, column, rule — and a traceback only buries it: drop it, keep the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, LifecycleError) or _ends_in_refusal(record.exc_text):
            record.exc_info, record.exc_text = None, None
        return True


def _lifecycle_error_names(cls: type[BaseException] = LifecycleError) -> tuple[str, ...]:
    return (f"{cls.__module__}.{cls.__qualname__}",
            *(name for sub in cls.__subclasses__() for name in _lifecycle_error_names(sub)))


def _ends_in_refusal(exc_text: str | None) -> bool:
    """Whether an already rendered traceback (Prefect re-emits some records that way)
    ends in one of the platform's own errors."""
    if not exc_text:
        return False
    last = exc_text.rstrip().rsplit("\n", 1)[-1]
    return last.split(":", 1)[0] in _lifecycle_error_names()


QUIET_REFUSALS = QuietRefusals()
for _name in ("prefect.task_runs", "prefect.flow_runs"):
    logging.getLogger(_name).addFilter(QUIET_REFUSALS)  # the same object twice is added once


def retry_unless_deterministic(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a failed task unless its error is one of the platform's own (bad input,
    configuration or a refused gate: the same call would fail the same way)."""
    try:
        state.result(raise_on_failure=True)
    except LifecycleError:
        return False
    except BaseException:
        return True
    return True


def _log_outcome(kind: str, result: Any) -> None:
    """One line per step in the run log: counts and names, never values."""
    log = get_run_logger()
    if kind == "plan":
        log.info("run %s for %s: %d source file(s) to load, %d unchanged (%s)%s", result.run_id, result.as_of,
                 len(result.files), len(result.unchanged), ", ".join(result.unchanged) or "none",
                 f"; closed interrupted run(s) {', '.join(r[:8] for r in result.interrupted)}"
                 if result.interrupted else "")
    elif kind == "stage-source":
        log.info("%s: %d rows read, %d failed checks (%.2f%%, budget %.2f%%)", result.spec.name, result.rows_read,
                 result.rows_failed, 100 * result.error_rate, 100 * result.spec.error_budget)
    elif kind == "load-customers":
        log.info("customers: %s", {k: v for k, v in result.items() if k != "seconds"})
    elif kind == "load-facts":
        log.info("%d rows loaded, %d quarantined", result.rows_loaded, result.rows_quarantined)
    elif kind == "features":
        log.info("features of %d customers", result)
    elif kind == "fit-models":
        log.info("models: fit %s%s", result.fit_id, f" (not fitted: {result.why_missing})" if result.why_missing
                 else "")
    elif kind == "decide":
        log.info("partition %s: %d customers decided, %d stage transitions, %d tier events", result.partition,
                 result.customers, result.transitions, result.tier_events)


class PrefectSteps:
    """Run each step as a Prefect task (see the module's docstring for the policies).

    ``after`` maps a step kind to a function called inside the task with its result
    (e.g. to publish artifacts).
    """

    def __init__(self, after: dict[str, Callable[[Any], None]] | None = None) -> None:
        self.after = after or {}

    def __call__(self, name: str, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
        return self.task(name, fn)(*args, **kwargs)

    def map(self, kind: str, fn: Callable[..., R], items: Sequence[T], label: Callable[[T], str],
            *args: Any) -> list[R]:
        """``fn(*args, item)`` for every item as concurrent task runs; results in the items' order.

        Where they run is configuration (:mod:`tasks.runners`): the flow's threads by default, Dask
        workers with ``LIFECYCLE_TASK_RUNNER=dask``. Either way a :class:`Context` argument travels
        as a :class:`ContextRef` (picklable) and each task resolves it where it runs.
        """
        contexts = [a for a in args if isinstance(a, Context)]
        settings = contexts[0].settings if contexts else get_settings()
        travelling = tuple(reference(a) if isinstance(a, Context) else a for a in args)
        with partition_runner(settings, kind, len(items)) as runner:
            futures = []
            for item in items:
                task = self.task(f"{kind}:{label(item)}", fn)
                if runner is None:
                    futures.append(task.submit(*travelling, item))
                else:
                    futures.append(runner.submit(task, get_call_parameters(task.fn, (*travelling, item), {})))
            return [future.result() for future in futures]

    def task(self, name: str, fn: Callable[..., R]) -> Task[..., R]:
        kind = kind_of(name)
        policy = POLICIES.get(kind, DEFAULT_POLICY)
        hook = self.after.get(kind)

        def step(*a: Any, **kw: Any) -> R:
            a = tuple(resolve(x) if isinstance(x, ContextRef) else x for x in a)
            with database_writer() if policy.writes else nullcontext():
                result = fn(*a, **kw)
            _log_outcome(kind, result)
            if hook is not None:
                hook(result)
            return result

        step.__name__ = getattr(fn, "__name__", kind)
        return Task(fn=step, name=kind, task_run_name=f"{kind}: {detail_of(name)}" if detail_of(name) else kind,
                    persist_result=False, cache_policy=NO_CACHE, retries=policy.retries,
                    retry_delay_seconds=exponential_backoff(policy.backoff_seconds) if policy.retries else 0,
                    retry_jitter_factor=JITTER if policy.retries else None,
                    retry_condition_fn=retry_unless_deterministic, timeout_seconds=policy.timeout_seconds)
