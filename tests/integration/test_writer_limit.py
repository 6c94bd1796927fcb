"""Writing tasks take a slot of the database-writer limit: with one slot they never overlap; without the
limit they run anyway."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest
from prefect import flow, get_client
from prefect.exceptions import ObjectNotFound

from lifecycle.steps import each
from tasks.limits import DATABASE_WRITERS, ensure_writer_limit
from tasks.steps import POLICIES, PrefectSteps

WORK_SECONDS = 0.4  # long enough that three concurrent task runs overlap unless something serialises them


@pytest.fixture
def no_writer_limit(prefect_api: None) -> Iterator[None]:
    with get_client(sync_client=True) as client:
        with contextlib.suppress(ObjectNotFound):
            client.delete_global_concurrency_limit_by_name(DATABASE_WRITERS)
        yield
        with contextlib.suppress(ObjectNotFound):
            client.delete_global_concurrency_limit_by_name(DATABASE_WRITERS)


def _intervals(kind: str) -> list[tuple[float, float]]:
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def work(label: str) -> int:  # what a features partition returns: its customer count
        start = time.monotonic()
        time.sleep(WORK_SECONDS)
        with lock:
            spans.append((start, time.monotonic()))
        return int(label[1:])

    @flow(name=f"writer-limit-{kind}", persist_result=False)
    def three_partitions() -> list[int]:
        return each(PrefectSteps(), kind, work, ["p1", "p2", "p3"], str)

    assert three_partitions() == [1, 2, 3]
    return sorted(spans)


def _overlaps(spans: list[tuple[float, float]]) -> bool:
    return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))


@pytest.mark.usefixtures("no_writer_limit")
def test_with_one_slot_writing_partitions_run_one_at_a_time() -> None:
    assert POLICIES["features"].writes and not POLICIES["management-report"].writes
    with get_client(sync_client=True) as client:
        assert ensure_writer_limit(client, 1) is True
        assert ensure_writer_limit(client, 5) is False  # an existing limit is left as it is
        assert client.read_global_concurrency_limit_by_name(DATABASE_WRITERS).limit == 1
    assert not _overlaps(_intervals("features"))
    assert _overlaps(_intervals("management-report"))  # readers are not held back
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(DATABASE_WRITERS).active_slots == 0


@pytest.mark.usefixtures("no_writer_limit")
def test_without_the_limit_writers_run_unhindered() -> None:
    assert len(_intervals("features")) == 3


@pytest.mark.usefixtures("no_writer_limit")
def test_a_writing_step_nested_in_a_writing_step_runs_inside_its_slot() -> None:
    # A day whose orphans put it over budget records its refusal from inside ``load``: with one slot,
    # the nested writer must not wait on the slot its own parent holds (the deployed run hung there).
    assert POLICIES["load"].writes and POLICIES["record-refusal"].writes
    with get_client(sync_client=True) as client:
        ensure_writer_limit(client, 1)
    steps = PrefectSteps()
    outcome: list[str] = []

    @flow(name="writer-limit-nested", persist_result=False)
    def refused_day() -> str:
        return steps("load", lambda: steps("record-refusal", lambda: "refusal recorded"))

    runner = threading.Thread(target=lambda: outcome.append(refused_day()), daemon=True)
    runner.start()
    runner.join(timeout=60)
    assert outcome == ["refusal recorded"], "the nested writer waited on its parent's slot"
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(DATABASE_WRITERS).active_slots == 0
