"""The key store: wrapped data keys, kept in a database of their own.

Customer data keys (and each ingestion run's quarantine key) live apart from
the data they protect, so that a backup of the main database holds
ciphertexts but no keys. Erasure deletes a customer's wrapped key here
(crypto-shredding): from then on no copy of the main database, however old,
yields that customer's PII. The key store is backed up on its own, short
schedule, and erasures are replayed after any restore of it (the ``erasures``
table in the main database lists them).

Its schema is two small tables, created on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import pandas as pd
from sqlalchemy import Engine, LargeBinary, String, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lifecycle.store.base import BigId
from lifecycle.store.upsert import upsert_frame

ID_CHUNK = 20_000


class KeyBase(DeclarativeBase):
    type_annotation_map = {bytes: LargeBinary}


class CustomerKey(KeyBase):
    __tablename__ = "customer_keys"

    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    wrapped_key: Mapped[bytes]
    master_version: Mapped[int] = mapped_column(index=True)
    created_at: Mapped[datetime]


class RunKey(KeyBase):
    __tablename__ = "run_keys"

    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    wrapped_key: Mapped[bytes]
    master_version: Mapped[int] = mapped_column(index=True)
    created_at: Mapped[datetime]


class KeyStore:
    """Wrapped keys by customer id or run id (bulk reads, insert-only writes)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        KeyBase.metadata.create_all(engine)

    def customer_keys(self, customer_ids: Sequence[int]) -> pd.DataFrame:
        """customer_id, wrapped_key of the customers that have a key."""
        parts = []
        with self.engine.connect() as conn:
            for start in range(0, len(customer_ids), ID_CHUNK):
                chunk = [int(i) for i in customer_ids[start : start + ID_CHUNK]]
                rows = conn.execute(select(CustomerKey.customer_id, CustomerKey.wrapped_key)
                                    .where(CustomerKey.customer_id.in_(chunk))).all()
                parts.append(pd.DataFrame(rows, columns=["customer_id", "wrapped_key"]))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["customer_id", "wrapped_key"])

    def add_customer_keys(self, rows: pd.DataFrame) -> None:
        """Store new wrapped keys; an existing key is never replaced."""
        if rows.empty:
            return
        with self.engine.begin() as conn:  # the bulk path: no per-value type processing
            upsert_frame(conn, cast(Table, CustomerKey.__table__), rows, update_columns=[])

    def run_key(self, run_id: str) -> bytes | None:
        with self.engine.connect() as conn:
            return conn.execute(select(RunKey.wrapped_key).where(RunKey.run_id == run_id)).scalar()

    def add_run_key(self, run_id: str, wrapped: bytes, master_version: int, now: datetime) -> None:
        self._insert_new(RunKey, [{"run_id": run_id, "wrapped_key": wrapped, "master_version": master_version,
                                   "created_at": now}])

    def destroy_customer_key(self, customer_id: int) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(delete(CustomerKey).where(CustomerKey.customer_id == customer_id)).rowcount)

    def versions(self) -> dict[int, int]:
        """Number of customer keys per master-key version."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(CustomerKey.master_version, func.count())
                                .group_by(CustomerKey.master_version)).all()
        return {int(v): int(n) for v, n in rows}

    def _insert_new(self, model: type[KeyBase], records: list[dict[str, object]]) -> None:
        with self.engine.begin() as conn:
            insert: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[conn.dialect.name]
            conn.execute(insert(model).on_conflict_do_nothing(), records)
