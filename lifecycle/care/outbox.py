"""The outbox: every outbound message is written first, under a unique key, and sent exactly once.

**Enqueue.** A service writes a message row (``INSERT … ON CONFLICT DO
NOTHING`` on ``message_key``) in its own transaction: a retried task or a
re-run flow enqueues nothing twice.

**Dispatch.** A dispatcher repeatedly

1. *claims* a batch: one ``UPDATE … RETURNING`` sets ``status = sending``, its
   worker id as ``lease_owner``, ``lease_until = now + lease`` and counts the
   attempt, on rows that are due (``pending`` and ``not_before`` passed) or whose
   lease expired (their dispatcher died). On PostgreSQL the candidates are
   locked with ``FOR UPDATE SKIP LOCKED``; SQLite has one writer at a time, so
   the statement is atomic. Two dispatchers never hold the same row;
2. *sends* each claimed message through the :class:`~lifecycle.care.notifier.Notifier`
   port, outside any transaction (rendered first by a :class:`Renderer`);
3. *records* the outcome at once, per message, fenced on its lease
   (``WHERE id = ? AND status = 'sending' AND lease_owner = worker``): sent;
   back to pending with exponential back-off and jitter (transient); failed
   (permanent, or out of attempts). A dispatcher that lost its lease changes
   nothing. Every attempt is a ``delivery_attempts`` row.

**The residual window.** A dispatcher killed *after* a channel accepted a
message and *before* step 3 committed leaves the row ``sending``; when the lease
expires another claim sends it again. That is the one at-least-once window. It
is closed where the channel accepts an idempotency key: the message key travels
as ``Idempotency-Key`` on the generic HTTP channels (``json://`` to the bank's
gateway), which deduplicates. Email and bot webhooks cannot deduplicate; for them
the window is the time between the channel's answer and the commit (milliseconds),
and the lease keeps a second dispatcher from sending while the first is alive.
"""

from __future__ import annotations

import json
import random
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from lifecycle.care.config import DispatcherRules, QuietHours
from lifecycle.care.notifier import Delivery, Notifier, OutboundMessage
from lifecycle.care.quiet import in_quiet_hours
from lifecycle.clock import Clock
from lifecycle.errors import LifecycleError
from lifecycle.status import OUTBOX, OutboxStatus
from lifecycle.store.base import table_of
from lifecycle.store.models import DeliveryAttempt, OutboxMessage

OUTBOX_TABLE = table_of(OutboxMessage)


@dataclass(frozen=True)
class NewMessage:
    """A message to enqueue: staff messages carry ``context`` (masked, clear), customer
    messages ``context_enc`` (encrypted under the customer's data key)."""

    message_key: str
    kind: str
    channel: str
    route: tuple[str, ...]
    template: str
    locale: str
    recipient: str
    as_of: date
    not_before: datetime
    context: dict[str, Any] | None = None
    context_enc: bytes | None = None
    customer_id: int | None = None
    held_for_quiet_hours: bool = False  # queued in quiet hours: waits for their end


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    message_key: str
    kind: str
    channel: str
    route: tuple[str, ...]
    template: str
    locale: str
    recipient: str
    customer_id: int | None
    context: str | None = field(repr=False)
    context_enc: bytes | None = field(repr=False)
    attempts: int


class Renderer(Protocol):
    """Turns a claimed row into the message to send (templates live in ``notifications/``)."""

    def render(self, row: ClaimedMessage) -> OutboundMessage: ...


@dataclass
class DispatchSummary:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost_lease: int = 0
    withheld: int = 0  # cancelled at the last moment: the customer opted out or was erased
    quiet: bool = False  # quiet hours: nothing was sent
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)  # "kind/channel" -> outcome -> messages
    queued: dict[str, int] = field(default_factory=dict)  # "kind/channel" -> messages still waiting afterwards

    def count(self, kind: str, channel: str, outcome: str) -> None:
        counts = self.by_kind.setdefault(f"{kind}/{channel}", {})
        counts[outcome] = counts.get(outcome, 0) + 1


def enqueue(conn: Connection, messages: Sequence[NewMessage], now: datetime) -> int:
    """Write messages to the outbox; a key already there is left as it is. Returns the rows added."""
    if not messages:
        return 0
    rows = [{"message_key": m.message_key, "kind": m.kind, "channel": m.channel, "route": list(m.route),
             "template": m.template, "locale": m.locale, "recipient": m.recipient, "as_of": m.as_of,
             "not_before": m.not_before, "context": json.dumps(m.context, ensure_ascii=False) if m.context else None,
             "context_enc": m.context_enc, "customer_id": m.customer_id, "status": OutboxStatus.PENDING,
             "held_for_quiet_hours": m.held_for_quiet_hours,
             "attempts": 0, "created_at": now} for m in messages]
    dialect: Any = {"sqlite": sqlite, "postgresql": postgresql}[conn.dialect.name]
    stmt = dialect.insert(OUTBOX_TABLE).on_conflict_do_nothing(index_elements=["message_key"])
    result = conn.execute(stmt.execution_options(preserve_rowcount=True), rows)
    return int(result.rowcount or 0) if result.rowcount is not None and result.rowcount >= 0 else len(rows)


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{uuid.uuid4().hex[:12]}"


def claim(engine: Engine, worker: str, now: datetime, rules: DispatcherRules,
          kinds: Sequence[str] | None = None) -> list[ClaimedMessage]:
    """Claim up to ``rules.batch`` due messages for ``worker`` (see the module's docstring)."""
    o = OUTBOX_TABLE
    due = or_(and_(o.c.status == OutboxStatus.PENDING, o.c.not_before <= now),
              and_(o.c.status == OutboxStatus.SENDING, o.c.lease_until < now))
    candidates = select(o.c.id).where(due, *([o.c.kind.in_(list(kinds))] if kinds else [])).order_by(o.c.id) \
        .limit(rules.batch)
    if engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    stmt = (update(o).where(o.c.id.in_(candidates.scalar_subquery()))
            .values(status=OutboxStatus.SENDING, lease_owner=worker,
                    lease_until=now + timedelta(seconds=rules.lease_seconds), attempts=o.c.attempts + 1)
            .returning(o.c.id, o.c.message_key, o.c.kind, o.c.channel, o.c.route, o.c.template, o.c.locale,
                       o.c.recipient, o.c.customer_id, o.c.context, o.c.context_enc, o.c.attempts))
    with engine.begin() as conn:
        rows = conn.execute(stmt).all()
    return sorted((ClaimedMessage(int(r.id), r.message_key, r.kind, r.channel, tuple(r.route or ()), r.template,
                                  r.locale, r.recipient, r.customer_id, r.context, r.context_enc, int(r.attempts))
                   for r in rows), key=lambda m: m.id)


def backoff(attempts: int, rules: DispatcherRules, rng: random.Random) -> timedelta:
    """Delay before attempt ``attempts + 1``: exponential, with ±jitter so retries spread out."""
    base = rules.backoff_seconds * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=base * (1 + rng.uniform(-rules.jitter, rules.jitter)))


def record(engine: Engine, message: ClaimedMessage, delivery: Delivery | None, error: str | None, worker: str,
           started: datetime, now: datetime, rules: DispatcherRules, rng: random.Random) -> str:
    """Store the outcome of one send (fenced on the lease); returns sent | retried | failed | lost_lease."""
    o = OUTBOX_TABLE
    why = (delivery.error if delivery is not None else error) or "unknown"
    values: dict[str, Any]
    if delivery is not None and delivery.ok:
        outcome, status, values = "sent", OutboxStatus.SENT, {"sent_at": now, "last_error": None}
    elif delivery is not None and not delivery.retryable:
        outcome, status, values = "failed", OutboxStatus.FAILED, {"last_error": why}
    elif message.attempts >= rules.max_attempts:
        outcome, status = "failed", OutboxStatus.FAILED
        values = {"last_error": f"out of attempts ({message.attempts}): {why}"[:512]}
    else:
        outcome, status = "retried", OutboxStatus.PENDING
        values = {"not_before": now + backoff(message.attempts, rules, rng), "last_error": why[:512]}
    OUTBOX.check(OutboxStatus.SENDING, status)
    attempt_outcome = {"sent": "sent", "failed": "permanent" if delivery and not delivery.retryable else "transient",
                       "retried": "transient" if delivery else "unknown"}[outcome]
    with engine.begin() as conn:
        updated = conn.execute(update(o).where(o.c.id == message.id, o.c.status == OutboxStatus.SENDING,
                                               o.c.lease_owner == worker)
                               .values(**values, status=status, lease_owner=None, lease_until=None)).rowcount
        if not updated:
            outcome = attempt_outcome = "lost_lease"
        conn.execute(insert(DeliveryAttempt).values(
            message_id=message.id, message_key=message.message_key, attempt=message.attempts, worker=worker,
            started_at=started, finished_at=now, outcome=attempt_outcome,
            error=None if delivery is not None and delivery.ok else (delivery.error if delivery else error)))
    return outcome


Withhold = Callable[[Connection, Sequence[ClaimedMessage]], dict[int, str]]


def withdraw(engine: Engine, message: ClaimedMessage, why: str, worker: str, now: datetime) -> str:
    """Cancel a claimed message instead of sending it (fenced on the lease); ``withheld`` or ``lost_lease``."""
    o = OUTBOX_TABLE
    OUTBOX.check(OutboxStatus.SENDING, OutboxStatus.CANCELLED)
    with engine.begin() as conn:
        updated = conn.execute(update(o).where(o.c.id == message.id, o.c.status == OutboxStatus.SENDING,
                                               o.c.lease_owner == worker)
                               .values(status=OutboxStatus.CANCELLED, last_error=why[:512], lease_owner=None,
                                       lease_until=None)).rowcount
        outcome = "withheld" if updated else "lost_lease"
        conn.execute(insert(DeliveryAttempt).values(
            message_id=message.id, message_key=message.message_key, attempt=message.attempts, worker=worker,
            started_at=now, finished_at=now, outcome=outcome, error=why[:512]))
    return outcome


def dispatch(engine: Engine, clock: Clock, notifier: Notifier, renderer: Renderer, rules: DispatcherRules,
             quiet: QuietHours, *, worker: str | None = None, kinds: Sequence[str] | None = None,
             max_batches: int | None = None, seed: int | None = None,
             withhold: Withhold | None = None) -> DispatchSummary:
    """Send every due message, batch after batch, until none is due (or ``max_batches``).

    Inside quiet hours nothing is sent: the due messages wait for the morning.
    ``withhold`` names, among the claimed messages, those that must not go out any
    more (a customer who opted out after the message was queued): they are cancelled."""
    worker = worker or worker_id()
    rng = random.Random(seed)
    summary = DispatchSummary()
    if in_quiet_hours(clock.bank_now(), quiet):
        summary.quiet = True
        summary.queued = waiting(engine)
        return summary
    batches = 0
    while max_batches is None or batches < max_batches:
        claimed = claim(engine, worker, clock.now(), rules, kinds)
        if not claimed:
            break
        batches += 1
        summary.claimed += len(claimed)
        if withhold is not None:
            with engine.connect() as conn:
                held = withhold(conn, claimed)
        else:
            held = {}
        for message in claimed:
            if message.id in held:
                outcome = withdraw(engine, message, held[message.id], worker, clock.now())
                summary.count(message.kind, message.channel, outcome)
                if outcome == "withheld":
                    summary.withheld += 1
                else:
                    summary.lost_lease += 1
                continue
            started = clock.now()
            delivery: Delivery | None = None
            error: str | None = None
            try:
                outbound = renderer.render(message)
            except LifecycleError as exc:  # a missing template or context: no retry can help
                delivery = Delivery.permanent(f"cannot render: {exc}"[:500])
            else:
                try:
                    delivery = notifier.send(outbound)
                except Exception as exc:  # the outcome is unknown: retried, possibly twice (see the docstring)
                    error = f"{type(exc).__name__} while sending (outcome unknown)"
            outcome = record(engine, message, delivery, error, worker, started, clock.now(), rules, rng)
            summary.count(message.kind, message.channel, outcome)
            setattr(summary, outcome, getattr(summary, outcome) + 1)
    summary.queued = waiting(engine)
    return summary


def waiting(engine: Engine) -> dict[str, int]:
    """Messages still pending or being sent, per kind and channel."""
    o = OUTBOX_TABLE
    with engine.connect() as conn:
        rows = conn.execute(select(o.c.kind, o.c.channel, func.count()).where(
            o.c.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])).group_by(o.c.kind, o.c.channel)).all()
    return {f"{kind}/{channel}": int(n) for kind, channel, n in rows}
