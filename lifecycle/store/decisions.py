"""What the platform decides and does: lifecycle/tier decisions with their
reasons and rule version (history kept per as-of date), retention tasks for
RMs, and the outbox of care messages with its delivery log.

Every side effect outside the database goes through the outbox under a unique
key, so retries and crashes never send twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lifecycle.store.base import Base, BigId, customer_fk


class CustomerDecision(Base):
    """Stage, tiers, score, labels and segment of one customer as of one date."""

    __tablename__ = "customer_decisions"
    __table_args__ = (UniqueConstraint("customer_id", "as_of"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    as_of: Mapped[date] = mapped_column(index=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(12))
    value_tier: Mapped[str | None] = mapped_column(String(16))
    risk_tier: Mapped[str | None] = mapped_column(String(8))
    need_tier: Mapped[str | None] = mapped_column(String(16))
    composite_score: Mapped[float | None]
    labels: Mapped[list[Any] | None]
    segment: Mapped[str | None] = mapped_column(String(64))
    reasons: Mapped[list[Any]] = mapped_column(doc='[{"rule": ..., "value": ..., "threshold": ...}]')
    rule_version: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[str] = mapped_column(String(36))


class RetentionTask(Base):
    """Work for a relationship manager, created once per customer and trigger."""

    __tablename__ = "retention_tasks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_key: Mapped[str] = mapped_column(String(96), unique=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    rm_id: Mapped[str | None] = mapped_column(String(16), index=True)
    as_of: Mapped[date]
    due_date: Mapped[date]
    reasons: Mapped[list[Any]]
    suggested_action: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | done | cancelled
    created_at: Mapped[datetime]
    notified_at: Mapped[datetime | None]


class CareMessage(Base):
    """The outbox: one row per message to send, unique by its message key."""

    __tablename__ = "care_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_key: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int | None] = mapped_column(customer_fk(), index=True)
    campaign: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(64))
    body_enc: Mapped[bytes | None]
    scheduled_for: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_key: Mapped[str] = mapped_column(String(128), index=True)
    attempted_at: Mapped[datetime]
    ok: Mapped[bool]
    detail: Mapped[str | None] = mapped_column(String(512))
