"""What the platform decides, kept per customer and as-of date with its reasons.

* ``customer_features`` — the features a decision read, per (customer, as-of
  date, feature-set version): a decision can be explained and re-derived.
* ``customer_decisions`` — stage, value / risk / need tiers, composite score,
  probability active, expected transactions and lifetime value, each with its
  machine-readable reasons, the rules version and the model fit used.
* ``stage_transitions`` and ``tier_events`` — each change against the
  customer's previous decision (from, to, reasons): the retention and care
  services act on these.
* ``customer_labels`` — labels per customer and date, long form (several per
  customer), filled by the label service.
* ``model_fits`` — fitted BG/NBD and Gamma-Gamma parameters with their fit date
  and data window.
* ``decision_runs`` — one row per deciding of a date.

Reasons are JSON text (``[{"rule": …, "value": …, "threshold": …}]``), built in
bulk; no PII is ever among them. Retention tasks and the outbox are in
:mod:`lifecycle.store.care`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lifecycle.store.base import Base, BigId, customer_fk


class CustomerFeatures(Base):
    __tablename__ = "customer_features"

    customer_id: Mapped[int] = mapped_column(customer_fk(), primary_key=True)
    as_of: Mapped[date] = mapped_column(primary_key=True, index=True)
    feature_set: Mapped[str] = mapped_column(String(16), primary_key=True)
    customer_type: Mapped[str] = mapped_column(String(12))
    branch_code: Mapped[str | None] = mapped_column(String(16))
    rm_id: Mapped[str | None] = mapped_column(String(16))
    tenure_days: Mapped[int | None]
    aum: Mapped[float]
    aum_avg_window: Mapped[float]
    aum_change_30d: Mapped[float | None]
    aum_change_90d: Mapped[float | None]
    aum_change_180d: Mapped[float | None]
    deposit_balance: Mapped[float]
    wealth_balance: Mapped[float]
    loan_outstanding: Mapped[float]
    products_held: Mapped[int]
    relationships: Mapped[int]  # accounts and cards ever held, open or closed, as of the date
    active_accounts: Mapped[int]
    closed_accounts: Mapped[int]
    active_cards: Mapped[int]
    closed_cards: Mapped[int]
    txn_recency_days: Mapped[int | None]
    txn_count_90d: Mapped[int]
    txn_amount_90d: Mapped[float]
    txn_count_365d: Mapped[int]
    activity_trend: Mapped[float | None]
    last_activity_days: Mapped[int | None]
    salary_365d: Mapped[float]
    income_365d: Mapped[float]
    rfm_x: Mapped[int]
    rfm_t_x: Mapped[float]
    rfm_age: Mapped[float]
    rfm_monetary: Mapped[float]
    card_spend_365d: Mapped[float]
    card_txn_90d: Mapped[int]
    digital_logins_30d: Mapped[int]
    digital_logins_90d: Mapped[int]
    loans_active: Mapped[int]
    worst_loan_status: Mapped[str | None] = mapped_column(String(8))
    max_overdue_days: Mapped[int]
    max_overdue_days_12m: Mapped[int]
    worst_five_class: Mapped[str | None] = mapped_column(String(16))
    debt_ratio: Mapped[float | None]
    large_cash_days_365d: Mapped[int]
    cross_border_180d: Mapped[int]
    rapid_flow_days_90d: Mapped[int]
    complaints_90d: Mapped[int]
    open_complaints: Mapped[int]
    serious_open_complaints: Mapped[int]
    nps_latest: Mapped[int | None]
    nps_avg_365d: Mapped[float | None]
    profitability: Mapped[float]
    registered_capital: Mapped[float | None]
    run_id: Mapped[str] = mapped_column(String(36))


class CustomerDecision(Base):
    """Stage, tiers, score, P(active) and CLV of one customer as of one date."""

    __tablename__ = "customer_decisions"

    customer_id: Mapped[int] = mapped_column(customer_fk(), primary_key=True)
    as_of: Mapped[date] = mapped_column(primary_key=True, index=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(12), index=True)
    value_tier: Mapped[str] = mapped_column(String(16))
    risk_tier: Mapped[str] = mapped_column(String(8))
    credit_risk: Mapped[str] = mapped_column(String(8))
    aml_risk: Mapped[str] = mapped_column(String(8))
    operational_risk: Mapped[str] = mapped_column(String(8))
    need_tier: Mapped[str] = mapped_column(String(16))
    composite_score: Mapped[float]
    p_active: Mapped[float | None]
    expected_txns: Mapped[float | None]
    clv: Mapped[float | None]
    reasons: Mapped[str] = mapped_column(Text, doc='{"lifecycle_stage": [{"rule", "value", "threshold"}], ...}')
    rules_version: Mapped[str] = mapped_column(String(48))
    feature_set: Mapped[str] = mapped_column(String(16))
    model_fit_id: Mapped[int | None]
    run_id: Mapped[str] = mapped_column(String(36))


class StageTransition(Base):
    __tablename__ = "stage_transitions"

    customer_id: Mapped[int] = mapped_column(customer_fk(), primary_key=True)
    as_of: Mapped[date] = mapped_column(primary_key=True, index=True)
    from_stage: Mapped[str | None] = mapped_column(String(12))
    to_stage: Mapped[str] = mapped_column(String(12))
    previous_as_of: Mapped[date | None]
    reasons: Mapped[str] = mapped_column(Text)
    rules_version: Mapped[str] = mapped_column(String(48))


class TierEvent(Base):
    """A tier moved up or down against the customer's previous decision."""

    __tablename__ = "tier_events"

    customer_id: Mapped[int] = mapped_column(customer_fk(), primary_key=True)
    as_of: Mapped[date] = mapped_column(primary_key=True, index=True)
    dimension: Mapped[str] = mapped_column(String(12), primary_key=True)  # value_tier | risk_tier | need_tier
    from_tier: Mapped[str] = mapped_column(String(16))
    to_tier: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(10), index=True)  # upgrade | downgrade
    previous_as_of: Mapped[date]
    reasons: Mapped[str] = mapped_column(Text)
    rules_version: Mapped[str] = mapped_column(String(48))


class CustomerLabel(Base):
    """One label of one customer as of one date (several per customer)."""

    __tablename__ = "customer_labels"

    customer_id: Mapped[int] = mapped_column(customer_fk(), primary_key=True)
    as_of: Mapped[date] = mapped_column(primary_key=True, index=True)
    label: Mapped[str] = mapped_column(String(48), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(24), index=True)
    value: Mapped[str] = mapped_column(String(48))
    reasons: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(String(48))


class CustomerGroup(Base):
    """A named customer group of the labels file; its names are checked for personal data when set."""

    __tablename__ = "customer_groups"

    code: Mapped[str] = mapped_column(String(48), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(96), unique=True)
    definition_hash: Mapped[str] = mapped_column(String(16))  # a new definition is named (and checked) again
    rationale: Mapped[str] = mapped_column(Text)
    named_at: Mapped[datetime]


class GroupMembership(Base):
    """A customer's membership of a group: joined on a date, left on a later one (never deleted)."""

    __tablename__ = "group_memberships"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    group_code: Mapped[str] = mapped_column(String(48), index=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    joined_on: Mapped[date]
    left_on: Mapped[date | None]
    join_reason: Mapped[str] = mapped_column(String(255))
    leave_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]


class ModelFit(Base):
    __tablename__ = "model_fits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fit_date: Mapped[date] = mapped_column(index=True)
    window_start: Mapped[date]
    window_end: Mapped[date]
    customers: Mapped[int]
    bgnbd: Mapped[dict[str, Any]]
    gamma_gamma: Mapped[dict[str, Any] | None]
    period_days: Mapped[int]
    rules_version: Mapped[str] = mapped_column(String(48))
    created_at: Mapped[datetime]


class DecisionRun(Base):
    __tablename__ = "decision_runs"
    __table_args__ = (UniqueConstraint("run_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36))
    as_of: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12))  # lifecycle.status.DecisionStatus
    rules_version: Mapped[str] = mapped_column(String(48))
    feature_set: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    summary: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(String(2000))
