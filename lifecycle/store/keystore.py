"""The key store: wrapped data keys, kept in a database of their own.

Customer data keys (and each ingestion run's quarantine key) live apart from
the data they protect, so that a backup of the main database holds
ciphertexts but no keys. Erasure deletes a customer's wrapped key here
(crypto-shredding): from then on no copy of the main database, however old,
yields that customer's PII. The key store is backed up on its own, short
schedule, and erasures are replayed after any restore of it (the ``erasures``
table in the main database lists them).

Its schema is two small tables, created by ``bank-lifecycle db upgrade``
(:meth:`KeyStore.create_schema`) and checked when a context is built.

**Write order, safe by construction.** A customer's data key is written to
the key store, and committed, *before* any ciphertext under it reaches the
main database; a key is only ever added, never replaced; and whoever encrypts
uses the key the key store holds, not the one it generated. So a crash between
the two databases' commits leaves at most a key without its customer — which
the re-run of the day finds and reuses (same customer ids), instead of
encrypting under a fresh key the key store would refuse to keep.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import pandas as pd
from sqlalchemy import Engine, LargeBinary, String, Table, delete, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lifecycle.errors import ConfigError
from lifecycle.privacy.envelope import new_data_keys, unwrap_data_key, unwrap_data_keys, wrap_data_key, wrap_data_keys
from lifecycle.privacy.keyring import Keyring
from lifecycle.store.base import BigId
from lifecycle.store.upsert import frame_records

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

    def create_schema(self) -> None:
        """Create the key store's tables where missing (idempotent; run by ``db upgrade``)."""
        KeyBase.metadata.create_all(self.engine)

    def check_schema(self) -> None:
        """Refuse a key store without its tables, saying how to create them."""
        present = set(inspect(self.engine).get_table_names())
        missing = sorted(set(KeyBase.metadata.tables) - present)
        if missing:
            raise ConfigError(f"the key store ({self.engine.url.render_as_string(hide_password=True)}) has no "
                              f"table {', '.join(missing)}: run `bank-lifecycle db upgrade` first")

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

    def add_customer_keys(self, rows: pd.DataFrame) -> int:
        """Store new wrapped keys, committed; an existing key is never replaced.

        Returns how many rows were inserted (fewer than given when some customer
        already had a key)."""
        if rows.empty:
            return 0
        table = cast(Table, CustomerKey.__table__)
        with self.engine.begin() as conn:  # the bulk path: no per-value type processing
            insert: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[conn.dialect.name]
            names, records = frame_records(rows, table)
            sql = str(insert(table).on_conflict_do_nothing().compile(dialect=conn.dialect, column_keys=names))
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            inserted = 0
            try:
                for start in range(0, len(records), ID_CHUNK):
                    batch = records[start:start + ID_CHUNK]
                    if conn.dialect.paramstyle == "qmark":
                        cursor.executemany(sql, batch)
                    else:
                        cursor.executemany(sql, [dict(zip(names, r, strict=True)) for r in batch])
                    inserted += max(int(cursor.rowcount), 0)
            finally:
                cursor.close()
        return inserted

    def customer_data_keys(self, keyring: Keyring, customer_ids: Sequence[int], now: datetime) -> dict[int, bytes]:
        """Every given customer's data key, creating (and committing) those that have none.

        The keys returned are those the key store holds once this returns: an
        existing key — including one left by a run that crashed before its
        customers reached the main database — is reused, and a new key is
        returned only after its wrapped form is durably stored. Ciphertexts made
        with these keys therefore always refer to a stored key.
        """
        ids = sorted({int(i) for i in customer_ids})
        keys = self._unwrapped(keyring, ids)
        missing = [i for i in ids if i not in keys]
        if missing:
            fresh = new_data_keys(len(missing))
            rows = pd.DataFrame({"customer_id": missing, "wrapped_key": wrap_data_keys(keyring, fresh, missing),
                                 "master_version": keyring.active_version, "created_at": now})
            if self.add_customer_keys(rows) == len(missing):
                keys.update(zip(missing, fresh, strict=True))
            else:  # another writer stored some first: use what the key store kept
                keys.update(self._unwrapped(keyring, missing))
        return keys

    def existing_data_keys(self, keyring: Keyring, customer_ids: Sequence[int]) -> dict[int, bytes]:
        """The data keys the key store holds for these customers (none is created: an erased
        customer's key is gone, and so is the customer from the result)."""
        return self._unwrapped(keyring, sorted({int(i) for i in customer_ids}))

    def _unwrapped(self, keyring: Keyring, ids: Sequence[int]) -> dict[int, bytes]:
        stored = self.customer_keys(ids)
        found = stored["customer_id"].astype(int).tolist()
        return dict(zip(found, unwrap_data_keys(keyring, stored["wrapped_key"].tolist(), found), strict=True))

    def quarantine_key(self, keyring: Keyring, run_id: str, now: datetime) -> bytes:
        """The run's quarantine data key, created (and committed) on first use."""
        wrapped = self.run_key(run_id)
        if wrapped is None:
            dek = new_data_keys(1)[0]
            self.add_run_key(run_id, wrap_data_key(keyring, dek, run_number(run_id)), keyring.active_version, now)
            wrapped = self.run_key(run_id)  # the stored one, should another writer have won
            assert wrapped is not None
        return unwrap_data_key(keyring, wrapped, run_number(run_id))

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


def run_number(run_id: str) -> int:
    """A 63-bit number standing for the run in associated data."""
    return uuid.UUID(run_id).int >> 65


def quarantine_table(run_id: str) -> str:
    """The associated-data table name under which a run's quarantined rows are sealed."""
    return f"quarantine_{run_id}"
