"""The outbox's state machine on the database: claims, leases, fencing, back-off, attempts, rendering errors."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from lifecycle.care.config import DispatcherRules, QuietHours
from lifecycle.care.notifier import InMemoryNotifier, OutboundMessage, SimulatedCrash
from lifecycle.care.outbox import ClaimedMessage, NewMessage, claim, dispatch, enqueue
from lifecycle.errors import ConfigError
from lifecycle.store.db import make_engine, upgrade
from lifecycle.store.models import DeliveryAttempt, OutboxMessage
from tests.support.clocks import MovableClock, bank_time

RULES = DispatcherRules(batch=10, lease_seconds=60, max_attempts=3, backoff_seconds=10, jitter=0.0)
QUIET = QuietHours()


class PlainRenderer:
    def render(self, row: ClaimedMessage) -> OutboundMessage:
        if row.template == "broken":
            raise ConfigError("no template 'broken'")
        return OutboundMessage(key=row.message_key, kind=row.kind, channel=row.channel, route=row.route,
                               title="t", text=row.context or "-")


def _engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    upgrade(engine)
    return engine


def _add(engine: Engine, *keys: str, template: str = "plain") -> None:
    with engine.begin() as conn:
        enqueue(conn, [NewMessage(k, "rm_digest", "staff", ("rm-RM1",), template, "en", "rm-RM1", date(2026, 6, 30),
                                  datetime(2020, 1, 1), context={"k": k}) for k in keys], datetime.now())


def _rows(engine: Engine) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        return {k: (s, a) for k, s, a in conn.execute(select(OutboxMessage.message_key, OutboxMessage.status,
                                                             OutboxMessage.attempts))}


def test_a_claim_leases_rows_that_no_other_claim_gets_until_the_lease_expires(database_url: str) -> None:
    engine = _engine(database_url)
    _add(engine, "a", "b", "c")
    now = bank_time(10)
    first = claim(engine, "w1", now, RULES)
    assert [m.message_key for m in first] == ["a", "b", "c"]
    assert claim(engine, "w2", now, RULES) == []
    later = claim(engine, "w2", now.replace(minute=5), RULES)  # 5 minutes later: w1's lease ran out
    assert [m.message_key for m in later] == ["a", "b", "c"] and all(m.attempts == 2 for m in later)


def test_a_dispatcher_that_lost_its_lease_changes_nothing(database_url: str) -> None:
    engine = _engine(database_url)
    _add(engine, "x")
    clock = MovableClock(bank_time(10))
    notifier = InMemoryNotifier()

    class Stealing(PlainRenderer):
        def render(self, row: ClaimedMessage) -> OutboundMessage:  # another worker takes the row meanwhile
            with engine.begin() as conn:
                conn.execute(update(OutboxMessage).values(lease_owner="thief"))
            return super().render(row)

    summary = dispatch(engine, clock, notifier, Stealing(), RULES, QUIET, worker="w1")
    assert summary.lost_lease == 1 and _rows(engine)["x"][0] == "sending"
    with engine.connect() as conn:
        assert conn.execute(select(DeliveryAttempt.outcome)).scalar_one() == "lost_lease"


def test_transient_failures_back_off_then_fail_after_the_last_attempt(database_url: str) -> None:
    engine = _engine(database_url)
    _add(engine, "flaky")
    notifier = InMemoryNotifier()
    notifier.fail_next("flaky", times=5)
    clock = MovableClock(bank_time(10))
    for _ in range(4):
        dispatch(engine, clock, notifier, PlainRenderer(), RULES, QUIET)
        clock.advance(3600)
    assert _rows(engine)["flaky"] == ("failed", 3) and notifier.count("flaky") == 0


def test_an_unrenderable_message_fails_at_once_and_an_exception_while_sending_is_retried(database_url: str) -> None:
    engine = _engine(database_url)
    _add(engine, "broken", template="broken")
    _add(engine, "boom")
    notifier = InMemoryNotifier()
    notifier.raise_next("boom", RuntimeError("socket closed"))
    clock = MovableClock(bank_time(10))
    dispatch(engine, clock, notifier, PlainRenderer(), RULES, QUIET)
    rows = _rows(engine)
    assert rows["broken"] == ("failed", 1) and rows["boom"] == ("pending", 1)
    clock.advance(3600)
    dispatch(engine, clock, notifier, PlainRenderer(), RULES, QUIET)
    assert _rows(engine)["boom"] == ("sent", 2) and notifier.count("boom") == 1


def test_a_crash_after_the_channel_accepted_is_the_one_window_where_a_repeat_can_happen(database_url: str) -> None:
    engine = _engine(database_url)
    _add(engine, "once")
    notifier = InMemoryNotifier()
    notifier.crash_after_next("once")
    clock = MovableClock(bank_time(10))
    with pytest.raises(SimulatedCrash):
        dispatch(engine, clock, notifier, PlainRenderer(), RULES, QUIET)
    assert _rows(engine)["once"][0] == "sending" and notifier.count("once") == 1
    clock.advance(RULES.lease_seconds + 1)
    dispatch(engine, clock, notifier, PlainRenderer(), RULES, QUIET)
    assert _rows(engine)["once"] == ("sent", 2) and notifier.count("once") == 2  # same key both times


def test_cancelled_messages_are_never_claimed(database_url: str, tmp_path: Path) -> None:
    engine = _engine(database_url)
    _add(engine, "keep", "drop")
    with engine.begin() as conn:
        conn.execute(update(OutboxMessage).where(OutboxMessage.message_key == "drop").values(status="cancelled"))
    notifier = InMemoryNotifier()
    dispatch(engine, MovableClock(bank_time(10)), notifier, PlainRenderer(), RULES, QUIET)
    assert notifier.delivered_keys() == ["keep"] and _rows(engine)["drop"][0] == "cancelled"
