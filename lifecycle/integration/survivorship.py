"""Survivorship: build the golden record from every source's view of a customer.

Per attribute, the value from the most trusted source wins (lower ``trust``),
then the most recent (``updated_at``). The winner's provenance
``[source, trust, timestamp]`` is kept on the golden record, so a later batch
can be judged against it without decrypting the stored value. Disagreements
between sources in a batch are reported (attribute and sources, never values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

INDIVIDUAL_ATTRIBUTES = ("name", "id_no", "mobile", "email", "address", "birth_date", "gender",
                         "branch_code", "rm_id", "open_date", "marketing_consent", "occupation", "income_band",
                         "marital_status", "dependants",
                         "passport_no", "customer_key")  # these two: only their blind indexes are stored
CORPORATE_ATTRIBUTES = ("name", "uscc", "industry_code", "legal_rep_name", "mobile", "registered_capital",
                        "address", "branch_code", "rm_id", "open_date")
_OLDEST = pd.Timestamp.min
# Attributes where sources legitimately differ (each system's own opening date):
# survivorship still picks one, but a difference is not a conflict.
NOT_CONFLICTS = frozenset({"open_date", "branch_code", "rm_id"})


@dataclass(frozen=True)
class Survivors:
    values: pd.DataFrame  # customer_id, attribute, value, source, trust, ts — one row per winner
    conflicts: pd.DataFrame  # customer_id, attribute, kept_source, other_source


def _as_text(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").astype(object).where(values.notna(), None)
    return values.astype(object).where(values.notna(), None).map(lambda v: v if v is None else str(v))


def candidates(records: pd.DataFrame, attributes: tuple[str, ...]) -> pd.DataFrame:
    """Long form: one row per (record, attribute) with a value."""
    present = [a for a in attributes if a in records]
    frame = records[["customer_id", "source", "trust", "updated_at", *present]].copy()
    for a in present:
        frame[a] = _as_text(frame[a])
    long = frame.melt(id_vars=["customer_id", "source", "trust", "updated_at"], value_vars=present,
                      var_name="attribute", value_name="value")
    long = long[long["value"].notna()]
    return long.rename(columns={"updated_at": "ts"})


def survive(records: pd.DataFrame, attributes: tuple[str, ...],
            existing_provenance: dict[int, dict[str, Any]]) -> Survivors:
    """Winners among this batch's records that also beat what the store holds."""
    long = candidates(records, attributes)
    long["ts"] = pd.to_datetime(long["ts"], errors="coerce").fillna(_OLDEST)
    long = long.sort_values(["customer_id", "attribute", "trust", "ts", "source"],
                            ascending=[True, True, True, False, True], kind="stable")
    best = long.drop_duplicates(["customer_id", "attribute"], keep="first")

    disagree = long.merge(best[["customer_id", "attribute", "value", "source"]],
                          on=["customer_id", "attribute"], suffixes=("", "_kept"))
    disagree = disagree[(disagree["value"] != disagree["value_kept"]) & ~disagree["attribute"].isin(NOT_CONFLICTS)]
    conflicts = disagree.rename(columns={"source_kept": "kept_source", "source": "other_source"})[
        ["customer_id", "attribute", "kept_source", "other_source"]].drop_duplicates()

    if existing_provenance:
        old = pd.DataFrame(
            [(cid, attr, p[1], pd.Timestamp(p[2]) if p[2] else _OLDEST)
             for cid, prov in existing_provenance.items() for attr, p in (prov or {}).items()],
            columns=["customer_id", "attribute", "old_trust", "old_ts"],
        )
        best = best.merge(old, how="left", on=["customer_id", "attribute"])
        beats = (best["old_trust"].isna() | (best["trust"] < best["old_trust"])
                 | ((best["trust"] == best["old_trust"]) & (best["ts"] > best["old_ts"])))
        best = best[beats].drop(columns=["old_trust", "old_ts"])
    return Survivors(best.reset_index(drop=True), conflicts.reset_index(drop=True))


def provenance_entry(source: str, trust: int, ts: pd.Timestamp) -> list[Any]:
    return [source, int(trust), None if ts == _OLDEST else ts.isoformat()]


def provenance_by_customer(winners: pd.DataFrame) -> pd.Series:
    """customer_id -> {attribute: [source, trust, timestamp]} of the winners.

    The same entries as :func:`provenance_entry` gives, with the timestamps formatted
    in one vectorised pass (a per-value ``Timestamp.isoformat`` cost seconds per 100k
    customers).
    """
    out: dict[int, dict[str, list[Any]]] = {}
    entries = zip(winners["source"].tolist(), winners["trust"].astype("int64").tolist(),
                  _iso_text(winners["ts"]), strict=True)
    for cid, attr, (source, trust, ts) in zip(winners["customer_id"].astype("int64").tolist(),
                                              winners["attribute"].tolist(), entries, strict=True):
        by_attribute = out.get(cid)
        if by_attribute is None:
            out[cid] = by_attribute = {}
        by_attribute[attr] = [source, trust, ts]
    return pd.Series(out, dtype=object)


def _iso_text(ts: pd.Series) -> list[str | None]:
    """``Timestamp.isoformat()`` of each value, ``None`` for the oldest-time marker."""
    if not pd.api.types.is_datetime64_dtype(ts.dtype) or getattr(ts.dtype, "tz", None) is not None:
        return [None if t == _OLDEST else pd.Timestamp(t).isoformat() for t in ts.tolist()]
    values = ts.to_numpy(dtype="datetime64[ns]")
    oldest = values == np.datetime64(_OLDEST.value, "ns")
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s").astype(object)
    fraction = (values.astype("int64") % 1_000_000_000 != 0) & ~oldest
    if fraction.any():  # isoformat shows sub-second digits only where there are some
        text[fraction] = [pd.Timestamp(v).isoformat() for v in values[fraction]]
    text[oldest] = None
    return list(text.tolist())
