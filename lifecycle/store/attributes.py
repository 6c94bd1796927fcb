"""Extra attributes: source columns the canonical customer model has no place for.

A bank's extract often carries what the golden record does not model (a credit
score, a tenure, a churn flag). Rather than validating such a column and then
dropping it, the sources configuration marks it ``extra: true`` and it is kept
here, typed, one row per customer, source and attribute. A PII attribute is
stored only as ciphertext under the customer's data key (so an erasure shreds
it with the rest); the others in a typed value column, readable by features,
labels and rules through :func:`read_extra_attributes`. The rows of an extract the
model has no entity for (``entity: extra_fact``, in ``extra_facts``) are read by
:func:`read_extra_facts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy import Connection, String, select
from sqlalchemy.orm import Mapped, mapped_column

from lifecycle.store.base import Base, customer_fk
from lifecycle.store.holdings import ExtraFact

VALUE_TYPES = ("text", "number", "date")


class CustomerAttribute(Base):
    """One extra attribute of one customer, as the named source last delivered it."""

    __tablename__ = "customer_attributes"

    customer_id: Mapped[int] = mapped_column(customer_fk(), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    attribute: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    value_type: Mapped[str] = mapped_column(String(8))  # text | number | date
    value_text: Mapped[str | None] = mapped_column(String(512))
    value_number: Mapped[float | None]
    value_date: Mapped[date | None]
    value_enc: Mapped[bytes | None]  # PII: AES-GCM under the customer's data key; the typed columns stay empty
    file_id: Mapped[int | None] = mapped_column(index=True)
    updated_run_id: Mapped[str] = mapped_column(String(36))


def read_extra_attributes(conn: Connection, attributes: Sequence[str],
                          customer_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """A frame indexed by customer_id with one column per requested attribute (clear
    attributes only: a PII attribute reads as missing). Where several sources deliver
    one attribute, the source named first in alphabetical order wins, so the result
    does not depend on load order."""
    table = CustomerAttribute.__table__
    stmt = select(table.c.customer_id, table.c.attribute, table.c.source, table.c.value_type,
                  table.c.value_text, table.c.value_number, table.c.value_date).where(
        table.c.attribute.in_(list(attributes)), table.c.value_enc.is_(None))
    if customer_ids is not None:
        stmt = stmt.where(table.c.customer_id.in_([int(i) for i in customer_ids]))
    rows = pd.DataFrame(conn.execute(stmt).all(), columns=["customer_id", "attribute", "source", "value_type",
                                                             "value_text", "value_number", "value_date"])
    out = pd.DataFrame(index=pd.Index([], name="customer_id", dtype="int64"))
    if rows.empty:
        return out.reindex(columns=list(attributes))
    rows = rows.sort_values(["customer_id", "attribute", "source"]).drop_duplicates(["customer_id", "attribute"])
    columns = {}
    for attribute, group in rows.groupby("attribute"):
        kind = group["value_type"].iloc[0]
        values = group.set_index("customer_id")[f"value_{kind}"]
        columns[str(attribute)] = pd.to_numeric(values) if kind == "number" else values
    frame = pd.DataFrame(columns)
    frame.index.name = "customer_id"
    return frame.reindex(columns=list(attributes))


def read_extra_facts(conn: Connection, source: str) -> pd.DataFrame:
    """The rows of extra fact source ``source``: customer_id, account_no, fact_key, and
    one column per declared column of the source (dates as ISO text)."""
    table = ExtraFact.__table__
    rows = conn.execute(select(table.c.customer_id, table.c.account_no, table.c.fact_key, table.c["values"])
                        .where(table.c.source == source)).all()
    keys = pd.DataFrame([(r.customer_id, r.account_no, r.fact_key) for r in rows],
                        columns=["customer_id", "account_no", "fact_key"])
    values = pd.DataFrame([dict(r[3] or {}) for r in rows], index=keys.index)
    return keys.join(values.drop(columns=[c for c in values.columns if c in keys.columns]))
