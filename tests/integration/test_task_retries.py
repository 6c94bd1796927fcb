"""Every I/O step of the daily flow is safe to retry: each one fails once, after doing its work, and the
run still ends with the store an untroubled run makes.

The fault is injected *after* the step's function has run (its writes committed),
the harsher case: a retry must not add a second copy of anything. Steps inside
the day's transaction (register-files, load-customers, load-facts, record-history)
never retry themselves — their failure is retried by the enclosing ``load`` in a
new transaction; one of them fails (the first), then ``load`` itself fails after
committing. Retry delays
are shortened; which errors retry is not (a LifecycleError still fails at once).
"""

from __future__ import annotations

import dataclasses
import shutil
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import tasks.steps
from lifecycle.privacy.keyring import Keyring, generate_keyring, write_keyring
from lifecycle.store.models import DecisionRun, IngestionRun
from tests.support.store_snapshot import StoreSnapshot, snapshot

AS_OF = date(2026, 6, 30)
NOT_RETRIED = {"quality-gate"}  # deterministic (GX over staged frames): fails fast by design
IN_TRANSACTION = {"register-files", "load-customers", "load-facts", "record-history"}  # retried through ``load``
pytestmark = pytest.mark.slow


class InjectedFault(ConnectionError):
    """A transient error, as a dropped database connection raises."""


def _faulty_steps(failed: Counter[str]) -> type[tasks.steps.PrefectSteps]:
    class FailOnceAfterWork(tasks.steps.PrefectSteps):
        def task(self, name: str, fn: Callable[..., Any]) -> Any:
            kind = tasks.steps.kind_of(name)

            def once(*a: Any, **kw: Any) -> Any:
                result = fn(*a, **kw)
                nested_done = kind in IN_TRANSACTION and any(tasks.steps.kind_of(n) in IN_TRANSACTION for n in failed)
                if kind not in NOT_RETRIED and failed[name] == 0 and not nested_done:
                    failed[name] += 1
                    raise InjectedFault(f"injected after {name}")
                return result

            once.__name__ = getattr(fn, "__name__", kind)
            return super().task(name, once)

    return FailOnceAfterWork


def _run(mp: pytest.MonkeyPatch, use_home: Callable[..., None], home: Path, landing: Path,
         keyring_file: Path) -> tuple[dict[str, object], StoreSnapshot, list[str]]:
    from flows.daily import daily_lifecycle
    from tasks.context import flow_context, reset

    home.mkdir(parents=True)
    shutil.copy(keyring_file, home / "keyring.json")
    use_home(mp, home, landing)
    summary = daily_lifecycle(AS_OF)
    ctx = flow_context()
    shot = snapshot(ctx.engine, ctx.keystore, ctx.keyring)
    with ctx.engine.connect() as conn:
        statuses = sorted(conn.execute(select(IngestionRun.status)).scalars())
        statuses += sorted(f"decision:{s}" for s in conn.execute(select(DecisionRun.status)).scalars())
    reset()
    return summary, shot, statuses


def test_each_io_step_failing_once_after_its_work_is_retried_to_the_same_store(
        prefect_api: None, generated_bank: Path, tmp_path: Path, use_home: Callable[..., None]) -> None:
    keyring_file = write_keyring(generate_keyring(development_only=True), tmp_path / "keyring.json")
    with pytest.MonkeyPatch.context() as mp:
        clean, expected, _ = _run(mp, use_home, tmp_path / "clean", generated_bank / "landing", keyring_file)
    failed: Counter[str] = Counter()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("flows.daily.PrefectSteps", _faulty_steps(failed))
        mp.setattr(tasks.steps, "POLICIES", {k: dataclasses.replace(p, backoff_seconds=0.05)
                                             for k, p in tasks.steps.POLICIES.items()})
        mp.setattr(tasks.steps, "DEFAULT_POLICY", dataclasses.replace(tasks.steps.DEFAULT_POLICY,
                                                                      backoff_seconds=0.05))
        troubled, resumed, statuses = _run(mp, use_home, tmp_path / "troubled", generated_bank / "landing",
                                           keyring_file)
    kinds = {tasks.steps.kind_of(name) for name in failed}
    assert len(kinds & IN_TRANSACTION) == 1  # one fault inside the transaction: ``load`` has two retries
    assert kinds >= {"plan", "stage-source", "load", "register-files", "report",
                     "plan-decisions", "features", "fit-models", "decide", "finish-decisions", "labels",
                     "management-report", "retention", "loyalty"}, sorted(kinds)
    assert troubled["status"] == clean["status"] == "succeeded"
    assert resumed.undecryptable == []
    differ = sorted(t for t in expected.tables if resumed.tables.get(t) != expected.tables[t])
    assert differ == [], {t: (expected.tables[t], resumed.tables.get(t)) for t in differ}
    assert resumed.pii == expected.pii and resumed.quarantine == expected.quarantine
    assert "running" not in statuses and "decision:running" not in statuses, statuses
    assert statuses.count("succeeded") == 1 and statuses.count("decision:succeeded") == 1, statuses
    assert Keyring.from_file(keyring_file)  # the keyring file was used as is
