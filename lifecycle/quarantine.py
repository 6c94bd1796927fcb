"""The quarantine for data stewards: list rejected rows (masked), release them.

A released row is fed again, raw, to the next run that stages its source
(daily extracts bring a new file every day): it is standardised and validated
like the file's own rows; if it passes it is loaded and its quarantine row is
marked ``reprocessed``; if it fails again it is quarantined again with its
new reasons. Nothing is lost either way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, select, update

from lifecycle import runs
from lifecycle.errors import ConfigError
from lifecycle.ingest.read import ROW_ID
from lifecycle.privacy import masking
from lifecycle.privacy.fields import decrypt_column
from lifecycle.privacy.keyring import Keyring
from lifecycle.sources import SourcesConfig, SourceSpec
from lifecycle.store.keystore import KeyStore
from lifecycle.store.models import QuarantinedRow

MASKERS = {
    "name": masking.mask_name, "legal_rep_name": masking.mask_name, "mobile": masking.mask_mobile,
    "id_no": masking.mask_id_no, "card_no": masking.mask_card, "email": masking.mask_email,
}


@dataclass(frozen=True)
class Released:
    """Released rows of one source, ready to stage again.

    ``raw`` holds rows rejected by validation, in the source's own columns, to
    be standardised and validated again; ``checked`` holds rows that passed
    validation but had no known owner, in canonical columns, to be loaded
    again. Both carry ``row_id`` = minus the quarantine id.
    """

    quarantine_ids: list[int]
    raw: pd.DataFrame
    checked: pd.DataFrame
    origin: pd.DataFrame  # row_id -> file, row_number of the original rejection


def _decrypt_payloads(rows: pd.DataFrame, keystore: KeyStore, keyring: Keyring, now: datetime) -> list[dict[str, str]]:
    payloads: list[dict[str, str]] = []
    for (run_id, source), group in rows.groupby(["run_id", "source"], sort=False):
        dek = runs.run_key(keystore, keyring, str(run_id), now)
        numbers = group["row_number"].astype(int).tolist()
        texts = decrypt_column(group["raw_enc"].tolist(), [dek] * len(numbers), numbers,
                               table=runs.quarantine_table(str(run_id)), column=str(source))
        payloads.extend(json.loads(t) if t else {} for t in texts)
    return payloads


def _mask(spec: SourceSpec, payload: dict[str, str]) -> dict[str, str | None]:
    """The payload with PII masked (by canonical meaning) — for display only."""
    out: dict[str, str | None] = {}
    for column, value in payload.items():
        col = spec.columns.get(column)
        canonical = col.to if col else column
        if (col and col.pii) or canonical in MASKERS:
            out[column] = MASKERS.get(canonical, lambda _v: "***")(value)
        else:
            out[column] = value
    return out


def list_rows(conn: Connection, keystore: KeyStore, keyring: Keyring, sources: SourcesConfig, *,
              source: str | None = None, status: str = "open", limit: int = 100) -> pd.DataFrame:
    """Quarantined rows with their rules and the raw row masked."""
    cols = ["id", "run_id", "source", "file", "row_number", "source_key", "failures", "raw_enc", "created_at"]
    stmt = select(*[getattr(QuarantinedRow, c) for c in cols]).where(QuarantinedRow.status == status)
    if source:
        stmt = stmt.where(QuarantinedRow.source == source)
    frame = pd.DataFrame(conn.execute(stmt.order_by(QuarantinedRow.id).limit(limit)).all(), columns=cols)
    if frame.empty:
        return frame.drop(columns=["raw_enc"])
    payloads = _decrypt_payloads(frame, keystore, keyring, datetime.now())
    frame["row"] = [_mask(sources[s], p) for s, p in zip(frame["source"], payloads, strict=True)]
    frame["rules"] = [", ".join(sorted({f"{f['rule']}({f['column']})" for f in fs})) for fs in frame["failures"]]
    return frame.drop(columns=["raw_enc", "failures"])


def release(conn: Connection, ids: Sequence[int], *, actor: str, note: str, now: datetime) -> int:
    """Mark open quarantine rows released so the next run reprocesses them."""
    if not note.strip():
        raise ConfigError("a release needs a note saying what was fixed")
    result = conn.execute(update(QuarantinedRow)
                          .where(QuarantinedRow.id.in_(list(ids)), QuarantinedRow.status == "open")
                          .values(status="released", released_at=now, released_by=actor, release_note=note))
    return int(result.rowcount or 0)


def released_rows(conn: Connection, keystore: KeyStore, keyring: Keyring, spec: SourceSpec,
                  now: datetime) -> Released | None:
    """The released rows of ``spec``'s source, or None when there are none."""
    cols = ["id", "run_id", "source", "file", "row_number", "raw_enc"]
    frame = pd.DataFrame(conn.execute(select(*[getattr(QuarantinedRow, c) for c in cols]).where(
        QuarantinedRow.source == spec.name, QuarantinedRow.status == "released")).all(), columns=cols)
    if frame.empty:
        return None
    payloads = _decrypt_payloads(frame, keystore, keyring, now)
    row_ids = -frame["id"].astype("int64").to_numpy()
    is_raw = [all(c in spec.columns for c in p) for p in payloads]
    raw = pd.DataFrame([p for p, r in zip(payloads, is_raw, strict=True) if r], columns=list(spec.columns))
    raw = raw.astype(object).where(raw.notna(), None)
    raw.insert(0, ROW_ID, [i for i, r in zip(row_ids, is_raw, strict=True) if r])
    checked = pd.DataFrame([p for p, r in zip(payloads, is_raw, strict=True) if not r])
    if len(checked):
        checked.insert(0, ROW_ID, [i for i, r in zip(row_ids, is_raw, strict=True) if not r])
    origin = pd.DataFrame({ROW_ID: row_ids, "file": frame["file"], "row_number": frame["row_number"]})
    return Released(frame["id"].astype(int).tolist(), raw, checked, origin)


def mark_reprocessed(conn: Connection, ids: Sequence[int], superseded: Sequence[int], run_id: str) -> None:
    """Close released rows fed again by ``run_id``: ``reprocessed`` (loaded, or
    quarantined anew with fresh reasons) or ``superseded`` (the run's file held a
    newer row with the same key, which won)."""
    tag = f" [run {run_id[:8]}]"
    done = [i for i in ids if i not in set(superseded)]
    for status, chosen in (("reprocessed", done), ("superseded", list(superseded))):
        if chosen:
            conn.execute(update(QuarantinedRow).where(QuarantinedRow.id.in_(chosen))
                         .values(status=status, release_note=QuarantinedRow.release_note + tag))
