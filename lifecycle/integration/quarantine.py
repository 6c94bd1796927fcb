"""The quarantine: rejected rows stored encrypted with their reasons; stewards list and release them.

Writes (:func:`write_quarantine`, :func:`supersede`) and reads
(:func:`list_rows`, :func:`released_rows`) of the one ``quarantine`` table live
here. Each run's rows are sealed under the run's own data key (key store), with
the row's number as associated data.

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
from sqlalchemy import Connection, func, insert, select, update

from lifecycle.errors import ConfigError, DecryptionError, LifecycleError
from lifecycle.integration.quality.rules import derived_base_column
from lifecycle.integration.read import ROW_ID
from lifecycle.integration.sources import SourcesConfig, SourceSpec
from lifecycle.privacy import masking
from lifecycle.privacy.fields import decrypt_column, encrypt_column
from lifecycle.privacy.keyring import Keyring
from lifecycle.status import QUARANTINE, QuarantineStatus
from lifecycle.store.keystore import KeyStore, quarantine_table
from lifecycle.store.models import IngestionRun, QuarantinedRow

MASKERS = {
    "name": masking.mask_name, "legal_rep_name": masking.mask_name, "mobile": masking.mask_mobile,
    "id_no": masking.mask_id_no, "card_no": masking.mask_card, "email": masking.mask_email,
}


class QuarantineError(LifecycleError):
    """A request names quarantine rows that do not exist or are not in the state it needs."""


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


def decrypt_payloads(rows: pd.DataFrame, keystore: KeyStore, keyring: Keyring, now: datetime) -> list[dict[str, str]]:
    payloads: list[dict[str, str]] = []
    for (run_id, source), group in rows.groupby(["run_id", "source"], sort=False):
        dek = keystore.quarantine_key(keyring, str(run_id), now)
        numbers = group["row_number"].astype(int).tolist()
        try:
            texts = decrypt_column(group["raw_enc"].tolist(), [dek] * len(numbers), numbers,
                                   table=quarantine_table(str(run_id)), column=str(source))
        except DecryptionError as exc:  # the row number travels as the sealed "customer id": name it as a row
            where = group.loc[group["row_number"] == exc.customer_id, ["id", "file"]].head(1)
            quarantine_id, file = (int(where["id"].iloc[0]), where["file"].iloc[0]) if len(where) else (None, None)
            raise DecryptionError(
                f"quarantined row {quarantine_id} (source {source}, file {file}, row {exc.customer_id}, run {run_id}) "
                "does not decrypt: tampered, or moved from another row", table="quarantined_rows",
                column="raw_enc") from None
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


def count_rows(conn: Connection, *, source: str | None = None,
               status: QuarantineStatus = QuarantineStatus.OPEN) -> int:
    """How many rows :func:`list_rows` would list without a limit."""
    stmt = select(func.count()).select_from(QuarantinedRow).where(QuarantinedRow.status == status)
    if source:
        stmt = stmt.where(QuarantinedRow.source == source)
    return int(conn.execute(stmt).scalar_one())


def list_rows(conn: Connection, keystore: KeyStore, keyring: Keyring, sources: SourcesConfig, *,
              source: str | None = None, status: QuarantineStatus = QuarantineStatus.OPEN,
              limit: int | None = 100, ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Quarantined rows with their rules, the run's business date (``as_of``) and the raw row masked.

    ``limit=None`` lists them all, ``ids`` only those; an unknown ``source`` is a :class:`ConfigError`.
    """
    if source:
        sources[source]  # names the configured sources when it is not one of them
    cols = ["id", "run_id", "source", "file", "row_number", "source_key", "failures", "raw_enc", "created_at"]
    stmt = (select(*[getattr(QuarantinedRow, c) for c in cols], IngestionRun.as_of)
            .outerjoin(IngestionRun, IngestionRun.run_id == QuarantinedRow.run_id)
            .where(QuarantinedRow.status == status))
    if source:
        stmt = stmt.where(QuarantinedRow.source == source)
    if ids is not None:
        stmt = stmt.where(QuarantinedRow.id.in_(list(ids)))
    frame = pd.DataFrame(conn.execute(stmt.order_by(QuarantinedRow.id).limit(limit)).all(), columns=[*cols, "as_of"])
    if frame.empty:
        return frame.drop(columns=["raw_enc"])
    payloads = decrypt_payloads(frame, keystore, keyring, datetime.now())
    frame["row"] = [_mask(sources[s], p) for s, p in zip(frame["source"], payloads, strict=True)]
    frame["rules"] = [", ".join(sorted({_reason(sources[s], f) for f in fs}))
                      for s, fs in zip(frame["source"], frame["failures"], strict=True)]
    return frame.drop(columns=["raw_enc", "failures"])


def release(conn: Connection, ids: Sequence[int], *, actor: str, note: str, now: datetime) -> int:
    """Mark open quarantine rows released so the next run reprocesses them."""
    if not note.strip():
        raise ConfigError("a release needs a note saying what was fixed")
    require_status(conn, ids, QUARANTINE.sources_of(QuarantineStatus.RELEASED), "released")
    result = conn.execute(update(QuarantinedRow).where(
        QuarantinedRow.id.in_(list(ids)), QuarantinedRow.status.in_(QUARANTINE.sources_of(QuarantineStatus.RELEASED)))
        .values(status=QuarantineStatus.RELEASED, released_at=now, released_by=actor, release_note=note))
    return int(result.rowcount or 0)


def require_status(conn: Connection, ids: Sequence[int], allowed: Sequence[QuarantineStatus], action: str) -> None:
    """Refuse, naming them, ids that are not in the quarantine or not in an ``allowed`` status.

    All or nothing: a steward who mistypes one id of ten learns it before any is changed.
    """
    wanted = sorted({int(i) for i in ids})
    found = dict(conn.execute(select(QuarantinedRow.id, QuarantinedRow.status)
                              .where(QuarantinedRow.id.in_(wanted))).tuples().all())
    unknown = [i for i in wanted if i not in found]
    wrong = [f"#{i} is {found[i]}" for i in wanted if i in found and found[i] not in allowed]
    problems = ([f"no quarantined row {', '.join(f'#{i}' for i in unknown)}"] if unknown else []) + wrong
    if problems:
        allowed_text = " or ".join(sorted(allowed))
        raise QuarantineError(f"nothing {action}: {'; '.join(problems)} (only {allowed_text} rows can be)")


def released_rows(conn: Connection, keystore: KeyStore, keyring: Keyring, spec: SourceSpec,
                  now: datetime) -> Released | None:
    """The released rows of ``spec``'s source, or None when there are none."""
    cols = ["id", "run_id", "source", "file", "row_number", "raw_enc"]
    frame = pd.DataFrame(conn.execute(select(*[getattr(QuarantinedRow, c) for c in cols]).where(
        QuarantinedRow.source == spec.name, QuarantinedRow.status == QuarantineStatus.RELEASED)).all(), columns=cols)
    if frame.empty:
        return None
    payloads = decrypt_payloads(frame, keystore, keyring, now)
    row_ids = -frame["id"].astype("int64").to_numpy()
    is_raw = [all(c in spec.read_columns for c in p) for p in payloads]
    raw = pd.DataFrame([p for p, r in zip(payloads, is_raw, strict=True) if r], columns=list(spec.read_columns))
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
    for status, chosen in ((QuarantineStatus.REPROCESSED, done), (QuarantineStatus.SUPERSEDED, list(superseded))):
        if chosen:
            conn.execute(update(QuarantinedRow).where(QuarantinedRow.id.in_(chosen),
                                                      QuarantinedRow.status.in_(QUARANTINE.sources_of(status)))
                         .values(status=status, release_note=QuarantinedRow.release_note + tag))


def supersede(conn: Connection, source: str, run_ids: Sequence[str]) -> None:
    """Open rows of ``source`` quarantined by ``run_ids``: a later run quarantined their file anew."""
    if run_ids:
        conn.execute(update(QuarantinedRow).where(
            QuarantinedRow.source == source, QuarantinedRow.run_id.in_(list(run_ids)),
            QuarantinedRow.status == QuarantineStatus.OPEN).values(status=QuarantineStatus.SUPERSEDED))


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
    reasons = failure_lists(failures, spec)
    reasons = reasons[reasons.index.isin(raw.index)]
    rows = raw.loc[reasons.index]
    dek = keystore.quarantine_key(keyring, run_id, now)
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
         "raw_enc": e, "status": QuarantineStatus.OPEN, "created_at": now}
        for f, n, key_value, why, e in zip(files, numbers, rows[key_column].tolist(), reasons.tolist(), enc,
                                          strict=True)
    ]
    conn.execute(insert(QuarantinedRow), records)
    return len(records)


def _reason(spec: SourceSpec, failure: dict[str, str]) -> str:
    """``rule(SOURCE_COLUMN)``; rows quarantined before reasons named the source column are named now."""
    return f"{failure['rule']}({failure.get('source_column') or steward_column(spec, failure['column'])})"


def steward_column(spec: SourceSpec, column: str) -> str:
    """A failure's column as the extract names it (``BIRTH_DT`` for ``chk_date_valid__birth_date``);
    several columns stay comma-separated; a column the extract does not have keeps its name."""
    return ",".join(spec.source_column(derived_base_column(part) or part) for part in str(column).split(","))


def failure_lists(failures: pd.DataFrame, spec: SourceSpec | None = None) -> pd.Series:
    """row_id -> [{"rule", "expectation", "column", "source_column"}, …] without repeats (vectorised):
    ``column`` is the canonical or check column, ``source_column`` (with ``spec``) the extract's."""
    unique = failures[[ROW_ID, "rule", "expectation", "column"]].drop_duplicates().sort_values(ROW_ID, kind="stable")
    shown = {c: steward_column(spec, c) for c in unique["column"].unique()} if spec is not None else {}
    out: dict[int, list[dict[str, str]]] = {}
    for row_id, rule, expectation, column in zip(unique[ROW_ID].tolist(), unique["rule"].tolist(),
                                                 unique["expectation"].tolist(), unique["column"].tolist(),
                                                 strict=True):
        reason = {"rule": rule, "expectation": expectation, "column": column}
        if spec is not None:
            reason["source_column"] = shown[column]
        out.setdefault(int(row_id), []).append(reason)
    return pd.Series(out, dtype=object)


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))
