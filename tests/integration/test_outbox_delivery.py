"""The outbox delivers through apprise to real local endpoints, exactly once per message key.

Receivers are an SMTP server (aiosmtpd) and an HTTP server taking apprise
``json://`` posts, both on loopback in this process; dispatchers run in this
process or as child processes (two at once, or one killed with SIGKILL and
restarted). Counts are taken at the receivers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, func, select

from lifecycle.care.config import DispatcherRules, QuietHours
from lifecycle.care.outbox import NewMessage, dispatch, enqueue
from lifecycle.store.db import make_engine, upgrade
from lifecycle.store.models import DeliveryAttempt, OutboxMessage
from notifications.apprise_notifier import AppriseNotifier
from notifications.renderer import TemplateRenderer
from tests.support.clocks import MovableClock, bank_time

if TYPE_CHECKING:
    from tests.support.http_sink import HttpSink
    from tests.support.smtp_sink import SmtpSink

pytest_plugins = ["tests.support.http_sink", "tests.support.smtp_sink"]
ROOT = Path(__file__).resolve().parents[2]
CHILD = ROOT / "tests" / "support" / "dispatch_child.py"
D = date(2026, 6, 30)
RULES = DispatcherRules(batch=10, lease_seconds=60, max_attempts=5, backoff_seconds=30, jitter=0.0)
QUIET = QuietHours()


def _store(tmp_path: Path) -> tuple[Engine, str]:
    url = f"sqlite:///{tmp_path}/lifecycle.db"
    engine = make_engine(url)
    upgrade(engine)
    return engine, url


def _digest(key: str, route: str, tasks: int = 2) -> NewMessage:
    rows = [{"task_id": i, "customer_ref": f"CUS{i:010d}", "name": "张*", "priority": "P2", "trigger": "stage_entered",
             "reasons": ["stage_entered"], "action": "call", "due_date": "2026-07-07"} for i in range(tasks)]
    return NewMessage(message_key=key, kind="rm_digest", channel="staff", route=(route,), template="rm_digest",
                      locale="zh_CN", recipient=route, as_of=D, not_before=datetime(2020, 1, 1),
                      context={"assignee": route, "rm_name": None, "as_of": D.isoformat(), "new": rows,
                               "due_soon": [], "overdue": []})


def _config(tmp_path: Path, *entries: tuple[str, str]) -> Path:
    lines = ["version: 1", "urls:"]
    for url, tags in entries:
        lines += [f'  - "{url}":', f"      tag: {tags}"]
    path = tmp_path / "apprise.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _status(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())


def test_digests_reach_email_and_the_http_gateway_with_the_message_key(
        tmp_path: Path, http_sink: HttpSink, smtp_sink: SmtpSink) -> None:
    engine, _ = _store(tmp_path)
    notifier = AppriseNotifier(_config(tmp_path, (http_sink.url("/hook"), "rm-RM1"),
                                       (smtp_sink.url("rm2@bank.example"), "rm-RM2")), timeout=5)
    with engine.begin() as conn:
        assert enqueue(conn, [_digest("rm_digest:rm-RM1:2026-06-30", "rm-RM1"),
                              _digest("rm_digest:rm-RM2:2026-06-30", "rm-RM2")], datetime.now()) == 2
    summary = dispatch(engine, MovableClock(bank_time(10)), notifier, TemplateRenderer(), RULES, QUIET)
    assert (summary.sent, summary.retried, summary.failed) == (2, 0, 0)
    post = http_sink.wait_for(1)[0]
    assert post.header("Idempotency-Key") == "rm_digest:rm-RM1:2026-06-30"
    assert "客户维护任务 2026-06-30" in post.json["title"] and "CUS0000000001" in post.json["message"]
    mail = smtp_sink.wait_for(1)[0]
    assert mail.envelope_to == ("rm2@bank.example",) and "客户维护任务" in mail.subject
    assert mail.html is not None and "<table" in mail.html
    assert _status(engine) == {"sent": 2}


def test_a_webhook_failing_twice_then_succeeding_yields_one_delivery(tmp_path: Path, http_sink: HttpSink) -> None:
    engine, _ = _store(tmp_path)
    notifier = AppriseNotifier(_config(tmp_path, (http_sink.url("/hook"), "rm-RM1")), timeout=5)
    with engine.begin() as conn:
        enqueue(conn, [_digest("k1", "rm-RM1")], datetime.now())
    http_sink.fail_next(2, status=503)
    clock = MovableClock(bank_time(10))
    for _ in range(3):
        dispatch(engine, clock, notifier, TemplateRenderer(), RULES, QUIET)
        clock.advance(3600)  # past any back-off
    assert [r.status for r in http_sink.requests] == [503, 503, 200]
    assert {r.header("Idempotency-Key") for r in http_sink.requests} == {"k1"}
    with engine.connect() as conn:
        row = conn.execute(select(OutboxMessage.status, OutboxMessage.attempts)).one()
        outcomes = conn.execute(select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id)).scalars().all()
    assert tuple(row) == ("sent", 3) and outcomes == ["transient", "transient", "sent"]


def test_back_off_waits_and_a_permanent_refusal_stops_at_once(tmp_path: Path, http_sink: HttpSink) -> None:
    engine, _ = _store(tmp_path)
    notifier = AppriseNotifier(_config(tmp_path, (http_sink.url("/hook"), "rm-RM1")), timeout=5)
    with engine.begin() as conn:
        enqueue(conn, [_digest("retry-me", "rm-RM1"), _digest("refused", "rm-RM1")], datetime.now())
    http_sink.fail_next(1, status=503)
    http_sink.fail_next(1, status=404)
    clock = MovableClock(bank_time(10))
    dispatch(engine, clock, notifier, TemplateRenderer(), RULES, QUIET)
    assert dispatch(engine, clock, notifier, TemplateRenderer(), RULES, QUIET).claimed == 0  # still backing off
    clock.advance(RULES.backoff_seconds + 1)
    dispatch(engine, clock, notifier, TemplateRenderer(), RULES, QUIET)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(OutboxMessage.message_key, OutboxMessage.status)).all())
    assert rows == {"retry-me": "sent", "refused": "failed"} and len(http_sink.requests) == 3


def test_nothing_leaves_in_quiet_hours_and_it_goes_in_the_morning(tmp_path: Path, http_sink: HttpSink) -> None:
    engine, _ = _store(tmp_path)
    notifier = AppriseNotifier(_config(tmp_path, (http_sink.url("/hook"), "rm-RM1")), timeout=5)
    with engine.begin() as conn:
        enqueue(conn, [_digest("night", "rm-RM1")], datetime.now())
    night = MovableClock(bank_time(23))
    assert dispatch(engine, night, notifier, TemplateRenderer(), RULES, QUIET).quiet
    assert http_sink.requests == [] and _status(engine) == {"pending": 1}
    assert dispatch(engine, MovableClock(bank_time(8, 5)), notifier, TemplateRenderer(), RULES, QUIET).sent == 1


def test_enqueueing_and_dispatching_again_sends_nothing_twice(tmp_path: Path, http_sink: HttpSink) -> None:
    engine, _ = _store(tmp_path)
    notifier = AppriseNotifier(_config(tmp_path, (http_sink.url("/hook"), "rm-RM1")), timeout=5)
    messages = [_digest(f"again-{i}", "rm-RM1") for i in range(5)]
    clock = MovableClock(bank_time(10))
    for _ in range(2):  # the flow, run twice
        with engine.begin() as conn:
            enqueue(conn, messages, datetime.now())
        dispatch(engine, clock, notifier, TemplateRenderer(), RULES, QUIET)
    assert Counter(r.header("Idempotency-Key") for r in http_sink.requests) == {m.message_key: 1 for m in messages}


def _children(url: str, config: Path, *extra: str, count: int = 1) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return [subprocess.Popen([sys.executable, str(CHILD), "--db", url, "--notify", str(config), *extra], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(count)]


@pytest.mark.slow
@pytest.mark.reliability
def test_two_dispatchers_started_together_deliver_each_message_once(tmp_path: Path, http_sink: HttpSink) -> None:
    engine, url = _store(tmp_path)
    config = _config(tmp_path, (http_sink.url("/hook"), "rm-RM1"))
    keys = [f"pair-{i:03d}" for i in range(60)]
    with engine.begin() as conn:
        enqueue(conn, [_digest(k, "rm-RM1", tasks=1) for k in keys], datetime.now())
    children = _children(url, config, "--batch", "5", "--barrier", str(tmp_path / "barrier"), "--parties", "2",
                         count=2)
    for child in children:
        _, err = child.communicate(timeout=300)
        assert child.returncode == 0, err[-2000:]
    received = Counter(r.header("Idempotency-Key") for r in http_sink.requests if r.status == 200)
    assert received == dict.fromkeys(keys, 1) and _status(engine) == {"sent": 60}
    with engine.connect() as conn:
        workers = set(conn.execute(select(DeliveryAttempt.worker)).scalars())
    assert len(workers) == 2  # both took part


@pytest.mark.slow
@pytest.mark.reliability
@pytest.mark.parametrize("point", ["dispatch-after-claim", "dispatch-after-send"])
def test_a_dispatcher_killed_mid_batch_and_restarted_delivers_each_message_exactly_once(
        point: str, tmp_path: Path, http_sink: HttpSink) -> None:
    engine, url = _store(tmp_path)
    config = _config(tmp_path, (http_sink.url("/hook"), "rm-RM1"))
    keys = [f"kill-{i:03d}" for i in range(12)]
    with engine.begin() as conn:
        enqueue(conn, [_digest(k, "rm-RM1", tasks=1) for k in keys], datetime.now())
    killed = _children(url, config, "--batch", "6", "--lease", "60", "--kill-at", point)[0]
    killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL
    before = len(http_sink.requests)
    restarted = _children(url, config, "--batch", "6", "--offset", "61")[0]  # the killed lease has expired
    _, err = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, err[-2000:]
    requests = Counter(r.header("Idempotency-Key") for r in http_sink.requests if r.status == 200)
    assert set(requests) == set(keys) and _status(engine) == {"sent": len(keys)}
    repeats = {k: n for k, n in requests.items() if n > 1}
    if point == "dispatch-after-claim":
        assert before == 0 and repeats == {}  # nothing had left: nothing twice
    else:
        # the one message the channel accepted before the kill, whose outcome was never recorded, is sent
        # again under the same key: the at-least-once window, closed by a gateway honouring Idempotency-Key
        assert before == 3 and repeats == {keys[2]: 2}
    assert len(set(requests)) == len(keys)  # unique deliveries at the receiver: each message once
