"""A steward's audited reveal of a quarantined row's values.

``quarantine list`` masks every PII column, so a steward cannot see why a
birth date failed ``date_valid`` or what a mobile that failed ``mobile_format``
looks like. :func:`reveal_row` shows the plaintext of chosen columns of one
quarantined row — by default the columns its rules name, as the source names
them — after recording who, when, which row and columns and why in
``quarantine_reveal_audit`` (committed before anything is decrypted, like a
customer reveal; the values are never stored). A reveal without a reason is
refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, insert, select

from lifecycle.integration.quality.rules import derived_base_column
from lifecycle.integration.quarantine import QuarantineError, decrypt_payloads
from lifecycle.integration.sources import SourcesConfig, SourceSpec
from lifecycle.privacy.keyring import Keyring
from lifecycle.protection.customers import check_text
from lifecycle.store.keystore import KeyStore
from lifecycle.store.models import QuarantinedRow, QuarantineRevealAudit


@dataclass(frozen=True)
class RevealedValue:
    """One column of a quarantined row in clear, with the rules that named it."""

    column: str  # as the source names it (canonical where the source maps nothing to it)
    rules: tuple[str, ...]
    value: str | None


def failing_columns(spec: SourceSpec, failures: Sequence[dict[str, str]]) -> dict[str, list[str]]:
    """The columns the row's failures speak about, as the source names them, each with its rules.

    A failure names a canonical or derived column (``chk_date_valid__birth_date``); the
    source's mapping gives its own name (``BIRTH_DT``). A column without a mapping (an
    owner rejection's canonical ``account_no``) keeps its name."""
    source_of = {c.to: source for source, c in spec.mapped_columns.items()}
    out: dict[str, list[str]] = {}
    for f in failures:
        column = str(f.get("column") or "")
        if not column:
            continue
        canonical = derived_base_column(column) or column
        name = column if column in spec.columns else source_of.get(canonical, canonical)
        rules = out.setdefault(name, [])
        if f["rule"] not in rules:
            rules.append(str(f["rule"]))
    return out


def _value(spec: SourceSpec, payload: dict[str, str], column: str) -> str | None:
    """The payload's value of ``column``: a raw row holds source columns, an owner rejection canonical ones."""
    if column in payload:
        return payload[column]
    mapped = spec.columns.get(column)
    return payload.get(mapped.to) if mapped is not None else None


def reveal_row(engine: Engine, keystore: KeyStore, keyring: Keyring, sources: SourcesConfig, quarantine_id: int,
               columns: Sequence[str] = (), *, actor: str, reason: str, now: datetime) -> list[RevealedValue]:
    """Decrypt ``columns`` of quarantined row ``quarantine_id`` (default: the columns its rules name)
    after recording the reveal. Raises :class:`QuarantineError` for an unknown id or a column the row
    does not have — nothing is recorded or decrypted then."""
    reason = check_text("a reason for the reveal", reason, 512)
    actor = check_text("actor", actor, 64)
    with engine.connect() as conn:
        row = conn.execute(select(QuarantinedRow.id, QuarantinedRow.run_id, QuarantinedRow.source,
                                  QuarantinedRow.row_number, QuarantinedRow.failures, QuarantinedRow.raw_enc)
                           .where(QuarantinedRow.id == quarantine_id)).first()
    if row is None:
        raise QuarantineError(f"no quarantined row #{quarantine_id}: `bank-lifecycle quarantine list` shows the ids")
    spec = sources[str(row.source)]
    failing = failing_columns(spec, row.failures or [])
    chosen = list(dict.fromkeys(c.strip() for c in columns if c.strip())) or list(failing)
    unknown = [c for c in chosen if c not in spec.columns and c not in failing]
    if unknown:
        raise QuarantineError(f"source {row.source} has no column {', '.join(unknown)}; "
                              f"its columns: {', '.join(spec.columns)}")
    if not chosen:
        raise QuarantineError(f"row #{quarantine_id}'s rules name no column; choose with --column "
                              f"(the source's columns: {', '.join(spec.columns)})")
    with engine.begin() as conn:  # recorded before anything is decrypted
        conn.execute(insert(QuarantineRevealAudit).values(
            at=now, actor=actor, quarantine_id=int(row.id), run_id=str(row.run_id), source=str(row.source),
            columns=chosen, reason=reason))
    payload = decrypt_payloads(pd.DataFrame([row._asdict()]), keystore, keyring, now)[0]
    return [RevealedValue(c, tuple(failing.get(c, ())), _value(spec, payload, c)) for c in chosen]
