"""Customer partitions on Dask (prefect-dask, a local cluster of 2 worker processes) decide exactly as the
flow's default runner does: the same features and decisions, row for row, by configuration alone."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from lifecycle.store.models import CustomerDecision, CustomerFeatures

AS_OF = date(2026, 6, 30)
pytestmark = pytest.mark.slow
DECISION_COLUMNS = [c.name for c in CustomerDecision.__table__.columns if c.name != "run_id"]
FEATURE_COLUMNS = [c.name for c in CustomerFeatures.__table__.columns if c.name != "run_id"]

pytest.importorskip("prefect_dask", reason="the dask extra (prefect-dask) is not installed")


@dataclass(frozen=True)
class Loaded:
    engine: Engine
    mp: pytest.MonkeyPatch


def _rows(engine: Engine, model: type, columns: list[str]) -> pd.DataFrame:
    table = model.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(select(*[table.c[c] for c in columns]).where(table.c.as_of == AS_OF)).all()
    return pd.DataFrame(rows, columns=columns).sort_values(columns[:3]).reset_index(drop=True)


@pytest.fixture(scope="module")
def loaded(prefect_api: None, generated_bank: Path, tmp_path_factory: pytest.TempPathFactory,
           use_home: Callable[[pytest.MonkeyPatch, Path, Path], None], run_day: Callable[..., object]
           ) -> Iterator[Loaded]:
    """The generated bank's day loaded (without Prefect), in 3 partitions, not yet decided."""
    from tasks.context import flow_context, reset

    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, tmp_path_factory.mktemp("dask-home"), generated_bank / "landing")
        mp.setenv("LIFECYCLE_PARTITIONS", "3")
        reset()
        assert run_day(AS_OF).status == "succeeded"  # type: ignore[attr-defined]
        yield Loaded(flow_context().engine, mp)
        reset()


def _decide(loaded: Loaded, runner: str, address: str | None = None) -> tuple[list[str], Rows]:
    """Decide the date with ``runner``; the flow run's log messages (as the UI shows them) and the rows."""
    from flows.daily import decide_dates
    from tasks.context import reset

    loaded.mp.setenv("LIFECYCLE_TASK_RUNNER", runner)
    loaded.mp.setenv("LIFECYCLE_DASK_WORKERS", "2")
    if address:
        loaded.mp.setenv("LIFECYCLE_DASK_ADDRESS", address)
    else:
        loaded.mp.delenv("LIFECYCLE_DASK_ADDRESS", raising=False)
    reset()
    flow_log, seen = logging.getLogger("prefect.flow_runs"), _Messages()
    flow_log.addHandler(seen)
    try:
        summary = decide_dates(start=AS_OF)
    finally:
        flow_log.removeHandler(seen)
    assert summary[AS_OF.isoformat()]["partitions"] == 3  # type: ignore[index]
    return seen.messages, Rows(_rows(loaded.engine, CustomerDecision, DECISION_COLUMNS),
                               _rows(loaded.engine, CustomerFeatures, FEATURE_COLUMNS))


@dataclass(frozen=True)
class Rows:
    decisions: pd.DataFrame
    features: pd.DataFrame

    def assert_equal(self, other: Rows) -> None:
        pd.testing.assert_frame_equal(self.decisions, other.decisions)
        pd.testing.assert_frame_equal(self.features, other.features)


class _Messages(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def on_threads(loaded: Loaded) -> Rows:
    """The default runner's features and decisions: what Dask must reproduce."""
    messages, rows = _decide(loaded, "threads")
    assert not any("on Dask" in m for m in messages)
    assert len(rows.decisions) > 300 and len(rows.features) == len(rows.decisions)
    return rows


def test_decisions_on_a_local_dask_cluster_equal_the_default_runners(loaded: Loaded, on_threads: Rows) -> None:
    messages, on_dask = _decide(loaded, "dask")
    for kind in ("features", "decide"):
        assert f"{kind}: 3 partition task(s) on Dask, a local cluster of 2 worker processes" in messages
    on_dask.assert_equal(on_threads)


def test_decisions_on_an_existing_dask_scheduler_equal_the_default_runners(loaded: Loaded, on_threads: Rows) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        messages, on_dask = _decide(loaded, "dask", address=cluster.scheduler_address)
    assert f"decide: 3 partition task(s) on Dask, {cluster.scheduler_address}" in messages
    on_dask.assert_equal(on_threads)


def test_what_a_partition_task_is_given_survives_pickling(loaded: Loaded) -> None:
    """The context stays home: its reference travels, and resolves to it here and to an equal one elsewhere."""
    from lifecycle.decisioning.service import DecisionPlan
    from lifecycle.features.reader import Partition
    from tasks.context import ContextRef, flow_context, reference, resolve

    ctx = flow_context()
    ref = reference(ctx)
    with pytest.raises(Exception):  # noqa: B017 - whatever refuses first (engine, lock, keyring)
        pickle.dumps(ctx)
    travelled = pickle.loads(pickle.dumps(ref))
    assert isinstance(travelled, ContextRef) and resolve(travelled) is ctx
    assert travelled.settings == ctx.settings and "postgres" not in repr(travelled)
    plan = DecisionPlan("run", AS_OF, "rules-v1", tuple(Partition(i, 3) for i in range(3)), None)
    assert pickle.loads(pickle.dumps(plan)) == plan
