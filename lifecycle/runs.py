"""Ingestion bookkeeping: runs, files by SHA-256, supersession, quarantine.

Each landing file is identified by (source, as-of date, SHA-256): the same
file twice is a no-op; a corrected file for the same source and day
supersedes the earlier load, whose rows not rewritten by the new file are
removed (every fact row carries the ``file_id`` that last wrote it).
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Connection, delete, insert, select, update

from lifecycle.ingest.read import ROW_ID, LandingFile
from lifecycle.load.facts import ENTITY_TABLES
from lifecycle.privacy.envelope import new_data_keys, unwrap_data_key, wrap_data_key
from lifecycle.privacy.fields import encrypt_column
from lifecycle.privacy.keyring import Keyring
from lifecycle.sources import SourceSpec
from lifecycle.store.keystore import KeyStore
from lifecycle.store.models import IngestedFile, IngestionRun, QuarantinedRow


def start_run(conn: Connection, as_of: date, flow_run_id: str | None, now: datetime) -> str:
    run_id = str(uuid.uuid4())
    conn.execute(insert(IngestionRun).values(run_id=run_id, as_of=as_of, started_at=now, status="running",
                                             flow_run_id=flow_run_id))
    return run_id


def finish_run(conn: Connection, run_id: str, status: str, summary: dict[str, object], now: datetime,
               error: str | None = None) -> None:
    conn.execute(update(IngestionRun).where(IngestionRun.run_id == run_id).values(
        status=status, finished_at=now, summary=summary, error=error[:2000] if error else None))


def already_loaded(conn: Connection, source: str, as_of: date, sha256: str) -> bool:
    stmt = select(IngestedFile.id).where(IngestedFile.source == source, IngestedFile.as_of == as_of,
                                         IngestedFile.sha256 == sha256, IngestedFile.status == "loaded")
    return conn.execute(stmt).first() is not None


def refuse_files(conn: Connection, file_ids: list[int]) -> None:
    """The quality gate refused the run: its files were read but nothing of them was loaded."""
    if file_ids:
        conn.execute(update(IngestedFile).where(IngestedFile.id.in_(file_ids)).values(status="refused"))


def register_file(conn: Connection, run_id: str, as_of: date, landing: LandingFile, now: datetime) -> int:
    """Record the file as being loaded by this run; returns its file_id.

    The same file may come again after a run that did not load it (refused by the
    quality gate, failed, or superseded by a correction that was itself withdrawn):
    its registration is taken over by this run, and the rows that run quarantined
    become history, since this run quarantines them anew.
    """
    earlier = conn.execute(select(IngestedFile.id, IngestedFile.run_id).where(
        IngestedFile.source == landing.source, IngestedFile.as_of == as_of,
        IngestedFile.sha256 == landing.sha256)).first()
    values = {"run_id": run_id, "path": str(landing.path), "encoding": landing.encoding, "rows_read": 0,
              "rows_loaded": 0, "rows_quarantined": 0, "status": "loading", "loaded_at": now}
    if earlier is not None:
        supersede_quarantine(conn, landing.source, [earlier.run_id])
        conn.execute(update(IngestedFile).where(IngestedFile.id == earlier.id).values(**values))
        return int(earlier.id)
    result = conn.execute(insert(IngestedFile).values(source=landing.source, as_of=as_of, sha256=landing.sha256,
                                                      **values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def supersede_quarantine(conn: Connection, source: str, run_ids: list[str]) -> None:
    """Open quarantine rows of ``source`` from ``run_ids``: a later run quarantined its file anew."""
    if run_ids:
        conn.execute(update(QuarantinedRow).where(
            QuarantinedRow.source == source, QuarantinedRow.run_id.in_(run_ids),
            QuarantinedRow.status == "open").values(status="superseded"))


def complete_file(conn: Connection, file_id: int, entity: str, *, rows_read: int, rows_loaded: int,
                  rows_quarantined: int) -> int:
    """Mark the file loaded; supersede earlier loads of its source and day.

    Returns the number of rows removed because the corrected file no longer has them.
    """
    row = conn.execute(select(IngestedFile.source, IngestedFile.as_of).where(IngestedFile.id == file_id)).one()
    previous = conn.execute(select(IngestedFile.id, IngestedFile.run_id, IngestedFile.status).where(
        IngestedFile.source == row.source, IngestedFile.as_of == row.as_of, IngestedFile.id != file_id,
        IngestedFile.status.in_(("loaded", "loading", "refused")))).all()
    earlier = [p.id for p in previous if p.status == "loaded"]
    if previous:  # this run quarantined its file's bad rows: the earlier files' copies are history
        supersede_quarantine(conn, row.source, sorted({p.run_id for p in previous}))
        conn.execute(update(IngestedFile).where(
            IngestedFile.id.in_([p.id for p in previous if p.status != "loaded"])).values(status="superseded"))
    removed = 0
    table = ENTITY_TABLES.get(entity)
    if earlier and table is not None and "file_id" in table.c:
        removed = conn.execute(delete(table).where(table.c.file_id.in_(earlier))).rowcount or 0
    if earlier:
        conn.execute(update(IngestedFile).where(IngestedFile.id.in_(earlier)).values(status="superseded"))
    conn.execute(update(IngestedFile).where(IngestedFile.id == file_id).values(
        status="loaded", rows_read=rows_read, rows_loaded=rows_loaded, rows_quarantined=rows_quarantined))
    return removed


def run_key(keystore: KeyStore, keyring: Keyring, run_id: str, now: datetime) -> bytes:
    """The run's quarantine data key, created on first use."""
    wrapped = keystore.run_key(run_id)
    if wrapped is not None:
        return unwrap_data_key(keyring, wrapped, run_number(run_id))
    dek = new_data_keys(1)[0]
    keystore.add_run_key(run_id, wrap_data_key(keyring, dek, run_number(run_id)), keyring.active_version, now)
    return run_key(keystore, keyring, run_id, now)


def run_number(run_id: str) -> int:
    """A 63-bit number standing for the run in associated data."""
    return uuid.UUID(run_id).int >> 65


def quarantine_table(run_id: str) -> str:
    return f"quarantine_{run_id}"


def write_quarantine(conn: Connection, keystore: KeyStore, keyring: Keyring, run_id: str, spec: SourceSpec, file: str,
                     raw_rows: pd.DataFrame, failures: pd.DataFrame, now: datetime,
                     origin: pd.DataFrame | None = None) -> int:
    """Store rejected rows (``raw_rows``, with ``row_id``) encrypted under the run's
    key, each with its failures; returns the number of rows quarantined.

    Rows with a negative ``row_id`` were released from the quarantine and fed
    again: ``origin`` gives their original file and row number."""
    if failures.empty:
        return 0
    raw = raw_rows.set_index(ROW_ID)
    reasons = failure_lists(failures)
    reasons = reasons[reasons.index.isin(raw.index)]
    rows = raw.loc[reasons.index]
    dek = run_key(keystore, keyring, run_id, now)
    payloads = [json.dumps({k: v for k, v in r.items() if not _missing(v)}, ensure_ascii=False, default=str)
                for r in rows.to_dict("records")]
    numbers = [int(i) for i in rows.index]
    files = [file] * len(numbers)
    if origin is not None and (rows.index < 0).any():
        where = origin.set_index(ROW_ID)
        files = [str(where.at[n, "file"]) if n < 0 else file for n in numbers]
        numbers = [int(where.at[n, "row_number"]) if n < 0 else n for n in numbers]
    enc = encrypt_column(payloads, [dek] * len(numbers), numbers, table=quarantine_table(run_id),
                         column=spec.name)
    key_column = spec.key[0] if spec.key[0] in rows else spec.canonical_key[0]
    records = [
        {"run_id": run_id, "source": spec.name, "file": f, "row_number": n,
         "source_key": None if key_value is None else str(key_value)[:64], "failures": why,
         "raw_enc": e, "status": "open", "created_at": now}
        for f, n, key_value, why, e in zip(files, numbers, rows[key_column].tolist(), reasons.tolist(), enc,
                                          strict=True)
    ]
    conn.execute(insert(QuarantinedRow), records)
    return len(records)


def failure_lists(failures: pd.DataFrame) -> pd.Series:
    """row_id -> [{"rule", "expectation", "column"}, …] without repeats (vectorised)."""
    unique = failures[[ROW_ID, "rule", "expectation", "column"]].drop_duplicates().sort_values(ROW_ID, kind="stable")
    out: dict[int, list[dict[str, str]]] = {}
    for row_id, rule, expectation, column in zip(unique[ROW_ID].tolist(), unique["rule"].tolist(),
                                                 unique["expectation"].tolist(), unique["column"].tolist(),
                                                 strict=True):
        out.setdefault(int(row_id), []).append({"rule": rule, "expectation": expectation, "column": column})
    return pd.Series(out, dtype=object)


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))
