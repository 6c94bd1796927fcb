"""Who the bank serves: golden customer records, their keys, source links, RMs.

PII lives only in ``*_enc`` columns (AES-GCM under the customer's data key,
bound to table, column and customer) and in masked display columns. Matching
uses blind indexes (keyed HMAC), never plaintext.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from lifecycle.store.base import Base, BigId

Bidx = String(32)


class Customer(Base):
    """The golden record: one row per real customer, individual or corporate."""

    __tablename__ = "customers"

    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    customer_ref: Mapped[str] = mapped_column(String(16), unique=True)
    customer_type: Mapped[str] = mapped_column(String(12))  # individual | corporate
    name_enc: Mapped[bytes | None]
    id_no_enc: Mapped[bytes | None]
    mobile_enc: Mapped[bytes | None]
    email_enc: Mapped[bytes | None]
    address_enc: Mapped[bytes | None]
    birth_date_enc: Mapped[bytes | None]
    legal_rep_name_enc: Mapped[bytes | None]
    name_masked: Mapped[str | None] = mapped_column(String(64))
    mobile_masked: Mapped[str | None] = mapped_column(String(16))
    id_no_masked: Mapped[str | None] = mapped_column(String(24))
    id_no_bidx: Mapped[str | None] = mapped_column(Bidx, index=True)
    mobile_bidx: Mapped[str | None] = mapped_column(Bidx, index=True)
    name_mobile_bidx: Mapped[str | None] = mapped_column(Bidx, index=True)
    name_bidx: Mapped[str | None] = mapped_column(Bidx, index=True)  # finds a name inside free text (group names)
    # Keys of identity rules a bank configures (lifecycle.integration.identity_keys); NULL unless configured.
    email_bidx: Mapped[str | None] = mapped_column(Bidx, index=True)
    passport_bidx: Mapped[str | None] = mapped_column(Bidx, index=True)
    customer_key_bidx: Mapped[str | None] = mapped_column(Bidx, index=True)
    name_birth_date_bidx: Mapped[str | None] = mapped_column(Bidx, index=True)
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    gender: Mapped[str | None] = mapped_column(String(1))
    birth_year: Mapped[int | None]
    occupation: Mapped[str | None] = mapped_column(String(16))  # GB/T 6565 major group, or student / retired
    income_band: Mapped[str | None] = mapped_column(String(8))  # monthly income band
    marital_status: Mapped[str | None] = mapped_column(String(10))  # GB/T 2261.2
    dependants: Mapped[int | None]
    industry_code: Mapped[str | None] = mapped_column(String(4))
    registered_capital: Mapped[Decimal | None]
    branch_code: Mapped[str | None] = mapped_column(String(16))
    rm_id: Mapped[str | None] = mapped_column(String(16), index=True)
    open_date: Mapped[date | None]
    marketing_consent: Mapped[bool | None]
    provenance: Mapped[dict[str, Any] | None] = mapped_column(
        doc="attribute -> [source, trust, source timestamp]: survivorship state"
    )
    source_updated_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    created_run_id: Mapped[str | None] = mapped_column(String(36))
    updated_run_id: Mapped[str | None] = mapped_column(String(36))


class SourceLink(Base):
    """Which customer a source system's record belongs to, and why."""

    __tablename__ = "source_links"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    system: Mapped[str] = mapped_column(String(16))
    match_rule: Mapped[str] = mapped_column(String(24))  # new | id_no | name_mobile | uscc | known
    first_run_id: Mapped[str] = mapped_column(String(36))
    last_run_id: Mapped[str] = mapped_column(String(36))
    file_id: Mapped[int | None] = mapped_column(index=True)


class IdentityConflict(Base):
    """Two sources disagree on an attribute of one customer (values are not stored)."""

    __tablename__ = "identity_conflicts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    attribute: Mapped[str] = mapped_column(String(32))
    kept_source: Mapped[str] = mapped_column(String(64))
    other_source: Mapped[str] = mapped_column(String(64))


class RelationshipManager(Base):
    __tablename__ = "relationship_managers"

    rm_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    rm_name: Mapped[str] = mapped_column(String(64))
    branch_code: Mapped[str] = mapped_column(String(16))
    branch_name: Mapped[str | None] = mapped_column(String(128))
    city: Mapped[str | None] = mapped_column(String(64))
    notify_tag: Mapped[str | None] = mapped_column(String(64))


Index("ix_customers_branch_rm", Customer.branch_code, Customer.rm_id)


# The match rule a loader records on a source link that pointed to an erased
# customer and now points to the new customer made for the returning record.
ERASED_MATCH_RULE = "new_after_erasure"


def erased_customer_ids(conn: Connection, among: Iterable[int] | None = None) -> set[int]:
    """Ids of erased customers (optionally only those ``among`` the given ids).

    Identity resolution must not link a source record to one of these: their key
    is destroyed, so loading into them would fail or, worse, start a new PII
    history under an erased identity.
    """
    stmt = select(Customer.customer_id).where(Customer.erased_at.is_not(None))
    if among is not None:
        ids = sorted({int(i) for i in among})
        if not ids:
            return set()
        stmt = stmt.where(Customer.customer_id.in_(ids))
    return {int(i) for i in conn.execute(stmt).scalars()}
