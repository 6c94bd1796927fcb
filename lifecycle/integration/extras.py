"""Store the extra attributes of customer records (columns marked ``extra: true``).

Each extra attribute of a loaded record becomes one ``customer_attributes`` row
(customer, source, attribute), typed by its column type; a PII one is encrypted
under the customer's data key, bound to the table, the attribute and the
customer, and its typed columns stay empty. Where several records of one source
resolve to one customer, the most recently updated record's value is kept.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from lifecycle.integration.sources import ColumnSpec, ColumnType
from lifecycle.privacy.fields import encrypt_column
from lifecycle.privacy.keyring import Keyring
from lifecycle.store.attributes import CustomerAttribute
from lifecycle.store.base import table_of
from lifecycle.store.keystore import KeyStore
from lifecycle.store.upsert import upsert_frame

TABLE = "customer_attributes"


def value_type(column: ColumnSpec) -> str:
    """The typed value column an extra attribute is stored in."""
    if column.type in (ColumnType.DECIMAL, ColumnType.INTEGER):
        return "number"
    if column.type is ColumnType.DATE:
        return "date"
    return "text"  # string, code, datetime (ISO text)


def _typed(values: pd.Series, kind: str) -> pd.Series:
    if kind == "number":
        return pd.to_numeric(values, errors="coerce").astype(object).where(values.notna(), None)
    if kind == "date":
        return pd.to_datetime(values).dt.date.astype(object).where(values.notna(), None)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object).where(values.notna(), None)
    return values.astype(object).where(values.notna(), None).map(lambda v: v if v is None else str(v))


def store_extra_attributes(conn: Connection, keystore: KeyStore, keyring: Keyring, records: pd.DataFrame,
                           extras: dict[str, dict[str, ColumnSpec]], deks: dict[int, bytes], run_id: str,
                           now: datetime) -> int:
    """Upsert the extra attributes of ``records`` (resolved: with ``customer_id``); ``extras``
    maps each source to its extra columns. Returns the rows written."""
    frames = []
    for source, columns in extras.items():
        if not columns:
            continue
        group = records[records["source"] == source]
        if group.empty:
            continue
        if "updated_at" in group:
            group = group.sort_values("updated_at", kind="stable", na_position="first")
        group = group.drop_duplicates("customer_id", keep="last")
        ids = group["customer_id"].to_numpy(dtype=np.int64)
        for attribute, column in columns.items():
            kind = value_type(column)
            values = _typed(group[attribute], kind) if attribute in group else pd.Series(None, index=group.index)
            frame = pd.DataFrame({"customer_id": ids, "source": source, "attribute": attribute, "value_type": kind,
                                  "value_text": None, "value_number": None, "value_date": None, "value_enc": None,
                                  "file_id": group["file_id"].to_numpy(), "updated_run_id": run_id})
            if column.pii:
                missing = sorted({int(i) for i in ids} - set(deks))
                if missing:
                    deks.update(keystore.customer_data_keys(keyring, missing, now))
                texts = [None if v is None else str(v) for v in values]
                frame["value_enc"] = encrypt_column(texts, [deks[int(i)] for i in ids], ids.tolist(), table=TABLE,
                                                    column=attribute)
            else:
                frame[f"value_{kind}"] = values.to_numpy()
            frames.append(frame)
    if not frames:
        return 0
    return upsert_frame(conn, table_of(CustomerAttribute), pd.concat(frames, ignore_index=True))
