"""What the platform does for customers and their relationship managers: tasks, entitlements, the outbox.

* ``retention_tasks`` — work for an RM (or a branch queue) to keep a customer,
  with its trigger, reasons, priority, suggested action and due date; at most
  one open task per customer (a partial unique index enforces it). Every
  status change is a row in ``retention_task_events``.
* ``entitlement_changes`` — a customer's service entitlements granted or
  withdrawn when the value tier changes.
* ``outbox`` — every outbound message, written first under a unique key and
  sent later by the dispatcher: status, attempts, lease, error, sent time.
  Staff messages hold their (masked) template context in clear; customer
  messages hold it encrypted under the customer's data key. Each send attempt
  is a row in ``delivery_attempts``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from lifecycle.store.base import Base, BigId, customer_fk

OPEN_TASK_STATUSES = ("open", "contacted")


class RetentionTask(Base):
    __tablename__ = "retention_tasks"
    __table_args__ = (
        Index("uq_retention_tasks_one_open_per_customer", "customer_id", unique=True,
              sqlite_where=text("status IN ('open', 'contacted')"),
              postgresql_where=text("status IN ('open', 'contacted')")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_key: Mapped[str] = mapped_column(String(96), unique=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    as_of: Mapped[date] = mapped_column(index=True)
    trigger: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(2))  # P1 | P2 | P3
    suggested_action: Mapped[str] = mapped_column(String(32))
    assignee: Mapped[str] = mapped_column(String(32), index=True)  # rm-<id> or branch-<code>
    rm_id: Mapped[str | None] = mapped_column(String(16), index=True)
    branch_code: Mapped[str | None] = mapped_column(String(16))
    value_tier: Mapped[str | None] = mapped_column(String(16))
    lifecycle_stage: Mapped[str | None] = mapped_column(String(12))
    due_date: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)  # lifecycle.status.TaskStatus
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_on: Mapped[date | None]
    rules_version: Mapped[str] = mapped_column(String(48))


class RetentionTaskEvent(Base):
    __tablename__ = "retention_task_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(index=True)
    at: Mapped[datetime]
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))  # created | cli | csv | expiry | erasure
    note: Mapped[str | None] = mapped_column(String(512))


class EntitlementChange(Base):
    __tablename__ = "entitlement_changes"

    customer_id: Mapped[int] = mapped_column(customer_fk(), primary_key=True)
    as_of: Mapped[date] = mapped_column(primary_key=True, index=True)
    entitlement: Mapped[str] = mapped_column(String(32), primary_key=True)
    change: Mapped[str] = mapped_column(String(8))  # granted | withdrawn
    from_tier: Mapped[str] = mapped_column(String(16))
    to_tier: Mapped[str] = mapped_column(String(16))


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)  # rm_digest | care_message
    channel: Mapped[str] = mapped_column(String(16))
    route: Mapped[list[Any]]  # tag entries (see lifecycle.care.notifier)
    template: Mapped[str] = mapped_column(String(48))
    locale: Mapped[str] = mapped_column(String(8))
    context: Mapped[str | None] = mapped_column(Text)  # staff messages: the masked template context, JSON
    context_enc: Mapped[bytes | None]  # customer messages: the context encrypted under their data key
    customer_id: Mapped[int | None] = mapped_column(customer_fk(), index=True)
    recipient: Mapped[str] = mapped_column(String(32))  # rm id, branch queue or customer reference
    as_of: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)  # lifecycle.status.OutboxStatus
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime]  # not sent earlier (quiet hours, back-off)
    held_for_quiet_hours: Mapped[bool] = mapped_column(default=False, server_default=false())  # queued at night
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(index=True)
    message_key: Mapped[str] = mapped_column(String(128), index=True)
    attempt: Mapped[int]
    worker: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(12))  # sent | transient | permanent | lost_lease | unknown | withheld
    error: Mapped[str | None] = mapped_column(String(512))


class CustomerConsent(Base):
    """A customer's marketing consent for one channel, when it differs from the source's flag.

    Without a row the source system's ``customers.marketing_consent`` applies; an
    opt-out (extract or command) writes ``granted = false`` and wins from then on.
    """

    __tablename__ = "customer_consents"

    customer_id: Mapped[int] = mapped_column(customer_fk(), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted: Mapped[bool]
    source: Mapped[str] = mapped_column(String(24))  # optout_extract | cli
    changed_at: Mapped[datetime]
    reference: Mapped[str | None] = mapped_column(String(64))  # e.g. the opt-out file and row


class CustomerPreference(Base):
    """How a customer likes to be addressed: language, lunar birthday."""

    __tablename__ = "customer_preferences"

    customer_id: Mapped[int] = mapped_column(customer_fk(), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8))  # zh_CN | en
    lunar_birthday: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime]


class CampaignSuppression(Base):
    """A care message that was planned and not queued, and why (consent, opt-out, frequency cap)."""

    __tablename__ = "campaign_suppressions"

    customer_id: Mapped[int] = mapped_column(customer_fk(), primary_key=True)
    as_of: Mapped[date] = mapped_column(primary_key=True, index=True)
    campaign: Mapped[str] = mapped_column(String(24), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(24))  # no_consent | opted_out | frequency_cap


class PointsEntry(Base):
    """The loyalty ledger: one row per earning, redemption, expiry or adjustment, idempotent on its key.

    ``entry_key`` names the entry's source (``earn:txn:<id>``, ``redeem:<request>``,
    ``expire:<customer>:<cutoff>``): a transaction earns once however often its day
    is run again. A customer's balance is the sum of their entries; it never goes
    below zero (redemptions are checked in the same transaction).
    """

    __tablename__ = "points_ledger"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_key: Mapped[str] = mapped_column(String(96), unique=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # earn | redeem | expire | adjust
    points: Mapped[int]
    as_of: Mapped[date] = mapped_column(index=True)
    source: Mapped[str | None] = mapped_column(String(32))  # transaction type, card, offer …
    reason: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]


class PointsBalance(Base):
    """Each customer's points balance, kept in the same transaction as the ledger entries that change it.

    ``bank-lifecycle loyalty reconcile`` checks ``balance`` = sum of the customer's entries.
    """

    __tablename__ = "points_balances"

    customer_id: Mapped[int] = mapped_column(customer_fk(), primary_key=True)
    balance: Mapped[int]
    earned: Mapped[int]
    redeemed: Mapped[int]
    expired: Mapped[int]
    updated_at: Mapped[datetime]
