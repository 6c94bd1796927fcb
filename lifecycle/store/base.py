"""Declarative base and shared column types.

Types are chosen to behave the same on SQLite and PostgreSQL: amounts are
``Numeric(18, 2)``, ciphertexts ``LargeBinary``, reasons and labels ``JSON``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import JSON, BigInteger, DateTime, Double, ForeignKey, Integer, LargeBinary, MetaData, Numeric, Table
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 2)
# SQLite only auto-increments an INTEGER PRIMARY KEY; elsewhere a BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        bytes: LargeBinary,
        Decimal: Money,
        float: Double(),  # double precision on both databases (and the same across SQLAlchemy releases)
        datetime: DateTime(timezone=False),
    }


def customer_fk() -> ForeignKey:
    """A fresh foreign key to the golden record (a ForeignKey has one parent)."""
    return ForeignKey("customers.customer_id")


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class (typed as a Table for bulk statements)."""
    return cast(Table, model.__table__)
