"""What customers hold and do: accounts, balances, transactions, loans, cards,
digital activity, feedback, interactions. Facts, not PII: they are kept for regulatory
retention (AML: ≥ 5 years) even after a customer's erasure.

``file_id`` names the ingested file that last wrote a row, so a corrected file
for the same source and day can replace the earlier load exactly.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lifecycle.store.base import Base, customer_fk


class Account(Base):
    __tablename__ = "accounts"
    file_id: Mapped[int | None] = mapped_column(index=True, doc="ingested file that last wrote the row")

    account_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    product_code: Mapped[str] = mapped_column(String(32))
    product_category: Mapped[str | None] = mapped_column(String(16))
    currency: Mapped[str | None] = mapped_column(String(3))
    open_date: Mapped[date]
    close_date: Mapped[date | None]
    status: Mapped[str | None] = mapped_column(String(12))


class AccountHolder(Base):
    """Who holds an account and how: the rows of a link extract. The account's primary
    owner stays on ``accounts.customer_id``; joint holders and authorised users are here."""

    __tablename__ = "account_holders"
    file_id: Mapped[int | None] = mapped_column(index=True, doc="ingested file that last wrote the row")

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_no: Mapped[str] = mapped_column(ForeignKey("accounts.account_no"), index=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    holder_role: Mapped[str] = mapped_column(String(16))  # OWNER | JOINT_HOLDER | AUTHORISED_USER


class BalanceSnapshot(Base):
    __tablename__ = "balance_snapshots"
    file_id: Mapped[int | None] = mapped_column(index=True, doc="ingested file that last wrote the row")

    account_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    balance_date: Mapped[date] = mapped_column(primary_key=True, index=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    balance: Mapped[Decimal]
    balance_cny: Mapped[Decimal]


class Transaction(Base):
    __tablename__ = "transactions"
    file_id: Mapped[int | None] = mapped_column(index=True, doc="ingested file that last wrote the row")

    txn_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_no: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    txn_time: Mapped[datetime] = mapped_column(index=True)
    amount: Mapped[Decimal]
    direction: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str | None] = mapped_column(String(8))
    txn_type: Mapped[str | None] = mapped_column(String(20))
    counterparty_country: Mapped[str | None] = mapped_column(String(2))
    currency: Mapped[str | None] = mapped_column(String(3))


class Card(Base):
    """A card, keyed by the blind index of its number (the number itself is PII)."""

    __tablename__ = "cards"
    file_id: Mapped[int | None] = mapped_column(index=True, doc="ingested file that last wrote the row")

    card_ref: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    card_no_enc: Mapped[bytes | None]
    card_no_masked: Mapped[str | None] = mapped_column(String(24))
    card_product: Mapped[str | None] = mapped_column(String(12))
    credit_limit: Mapped[Decimal | None]
    open_date: Mapped[date | None]
    card_status: Mapped[str | None] = mapped_column(String(8))


class CardTransaction(Base):
    __tablename__ = "card_transactions"
    file_id: Mapped[int | None] = mapped_column(index=True, doc="ingested file that last wrote the row")

    txn_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    card_ref: Mapped[str] = mapped_column(String(32), index=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    txn_time: Mapped[datetime]
    amount: Mapped[Decimal]
    mcc: Mapped[str | None] = mapped_column(String(4))
    merchant_city: Mapped[str | None] = mapped_column(String(32))


class Loan(Base):
    __tablename__ = "loans"
    file_id: Mapped[int | None] = mapped_column(index=True, doc="ingested file that last wrote the row")

    loan_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    product: Mapped[str | None] = mapped_column(String(12))
    principal: Mapped[Decimal]
    outstanding: Mapped[Decimal]
    interest_rate: Mapped[float | None]
    start_date: Mapped[date]
    maturity_date: Mapped[date | None]
    status: Mapped[str | None] = mapped_column(String(8))
    overdue_days: Mapped[int | None]
    max_overdue_days_12m: Mapped[int | None]
    five_class: Mapped[str | None] = mapped_column(String(16))


class DigitalEvent(Base):
    __tablename__ = "digital_events"
    file_id: Mapped[int | None] = mapped_column(index=True, doc="ingested file that last wrote the row")

    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    event_time: Mapped[datetime]
    channel: Mapped[str | None] = mapped_column(String(8))
    event_type: Mapped[str | None] = mapped_column(String(16))


class Feedback(Base):
    __tablename__ = "feedback"
    file_id: Mapped[int | None] = mapped_column(index=True, doc="ingested file that last wrote the row")

    feedback_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    feedback_date: Mapped[date]
    kind: Mapped[str] = mapped_column(String(12))
    nps_score: Mapped[int | None]
    category: Mapped[str | None] = mapped_column(String(32))
    severity: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str | None] = mapped_column(String(12))


class Interaction(Base):
    """One contact with a customer (call, visit, message, email, survey, complaint) on their timeline.

    A survey's or complaint's row names its feedback record (``case_ref``), which
    holds the score or the category and severity; a complaint's rows carry its
    status (``complaint_status``: open, in_progress, resolved — see
    :mod:`lifecycle.complaints`). A contact made for a campaign names it.
    """

    __tablename__ = "interactions"
    file_id: Mapped[int | None] = mapped_column(index=True, doc="ingested file that last wrote the row")

    interaction_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    interaction_time: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str | None] = mapped_column(String(8))
    outcome: Mapped[str | None] = mapped_column(String(16))
    case_ref: Mapped[str | None] = mapped_column(String(40), index=True)
    complaint_status: Mapped[str | None] = mapped_column(String(12))
    campaign_code: Mapped[str | None] = mapped_column(String(32))


class ExtraFact(Base):
    """A row of an extract the canonical model has no entity for (standing orders, …),
    declared in the sources config as ``entity: extra_fact``: its key, its customer,
    and its typed columns as a JSON object (numbers, text, ISO dates)."""

    __tablename__ = "extra_facts"
    file_id: Mapped[int | None] = mapped_column(index=True, doc="ingested file that last wrote the row")

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    fact_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    customer_id: Mapped[int] = mapped_column(customer_fk(), index=True)
    account_no: Mapped[str | None] = mapped_column(String(32), index=True)
    values: Mapped[dict[str, Any]]
