"""Marketing consent per channel, opt-outs, and the preferences a greeting needs.

**Effective consent** of a customer for a channel: their ``customer_consents``
row for that channel if there is one (an opt-out or a later opt-in, from the
opt-out extract or the command line), otherwise the source system's
``customers.marketing_consent`` flag. No flag means no consent. Corporate and
erased customers get no care messages.

**An opt-out is honoured from the next dispatch on**: recording it cancels, in
the same transaction, every care message of the customer on that channel still
waiting in the outbox; and the dispatcher checks consent again for every care
message it claims, so a message claimed a moment before the opt-out is
withdrawn too.

**The opt-out extract** (CSV, UTF-8): ``customer_ref``, ``channel`` (one of the
configured channels or ``all``), ``opted_out_at`` (``YYYY-MM-DD HH:MM:SS``) and
optionally ``reference`` (the request's id in the channel that took it). It is
applied all or nothing; every bad row is named (file, row, column, rule).
Applying a file twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from lifecycle.care.csvfile import RowProblemsError, csv_rows
from lifecycle.care.outbox import ClaimedMessage
from lifecycle.errors import LifecycleError, SourceError
from lifecycle.status import OUTBOX, OutboxStatus
from lifecycle.store.base import table_of
from lifecycle.store.frames import read_frame
from lifecycle.store.models import Customer, CustomerConsent, CustomerPreference, OutboxMessage

CARE_KIND_PREFIX = "care_"
CONSENTS = table_of(CustomerConsent)
PREFERENCES = table_of(CustomerPreference)
OUTBOX_TABLE = table_of(OutboxMessage)
LANGUAGES = ("zh_CN", "en")


class ConsentError(LifecycleError):
    """A consent or preference change that cannot be made (unknown customer or channel)."""


class OptOutImportError(RowProblemsError):
    """One or more rows of an opt-out file are wrong; nothing of the file was applied."""


def consent_frame(conn: Connection, channels: Sequence[str]) -> pd.DataFrame:
    """Per individual, non-erased customer and channel: ``consent`` (bool) and ``why_not``.

    ``why_not`` is ``opted_out`` (a consent row says no), ``no_consent`` (the
    source's flag is no or missing) or ``None`` when consent is given.
    """
    c = Customer.__table__
    customers = read_frame(conn, select(c.c.customer_id, c.c.marketing_consent).where(
        c.c.customer_type == "individual", c.c.erased_at.is_(None)))
    rows = read_frame(conn, select(CONSENTS.c.customer_id, CONSENTS.c.channel, CONSENTS.c.granted).where(
        CONSENTS.c.channel.in_(list(channels))))
    parts = []
    for channel in channels:
        explicit = rows[rows["channel"] == channel].set_index("customer_id")["granted"]
        frame = customers[["customer_id"]].copy()
        frame["channel"] = channel
        row = frame["customer_id"].map(explicit)
        source = customers["marketing_consent"].map(lambda v: bool(v) if v is not None and v == v else False)
        has_row = row.notna()
        frame["consent"] = (row.where(has_row, source)).astype(bool)
        frame["why_not"] = None
        frame.loc[has_row & ~frame["consent"], "why_not"] = "opted_out"
        frame.loc[~has_row & ~frame["consent"], "why_not"] = "no_consent"
        parts.append(frame)
    if not parts:
        return pd.DataFrame(columns=["customer_id", "channel", "consent", "why_not"])
    return pd.concat(parts, ignore_index=True)


def preferences_frame(conn: Connection) -> pd.DataFrame:
    return read_frame(conn, select(PREFERENCES.c.customer_id, PREFERENCES.c.language,
                                   PREFERENCES.c.lunar_birthday))


@dataclass(frozen=True)
class ConsentChange:
    customer_ref: str
    channel: str
    granted: bool
    cancelled: int  # queued care messages withdrawn


def _customer_id(conn: Connection, customer_ref: str) -> int:
    row = conn.execute(select(Customer.customer_id, Customer.erased_at, Customer.customer_type)
                       .where(Customer.customer_ref == customer_ref)).first()
    if row is None:
        raise ConsentError(f"no customer {customer_ref}")
    return int(row.customer_id)


def _upsert(conn: Connection, rows: list[dict[str, object]]) -> None:
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[conn.dialect.name]
    stmt = dialect.insert(CONSENTS)
    stmt = stmt.on_conflict_do_update(index_elements=["customer_id", "channel"], set_={
        "granted": stmt.excluded.granted, "source": stmt.excluded.source, "changed_at": stmt.excluded.changed_at,
        "reference": stmt.excluded.reference}, where=CONSENTS.c.changed_at <= stmt.excluded.changed_at)
    conn.execute(stmt, rows)


def cancel_queued(conn: Connection, customer_ids: Sequence[int], channels: Sequence[str], why: str) -> int:
    """Withdraw the waiting care messages of these customers on these channels."""
    if not customer_ids:
        return 0
    o = OUTBOX_TABLE
    total = 0
    ids = sorted({int(i) for i in customer_ids})
    for start in range(0, len(ids), 500):
        total += int(conn.execute(update(o).where(
            o.c.customer_id.in_(ids[start:start + 500]), o.c.channel.in_(list(channels)),
            o.c.kind.like(f"{CARE_KIND_PREFIX}%"),
            o.c.status.in_([s for s in OUTBOX.sources_of(OutboxStatus.CANCELLED) if s != OutboxStatus.SENDING]))
            .values(status=OutboxStatus.CANCELLED, last_error=why)).rowcount or 0)
    return total


def set_consent(conn: Connection, customer_ref: str, channels: Sequence[str], granted: bool, *, source: str,
                reference: str | None, now: datetime) -> ConsentChange:
    """Record an opt-out (``granted=False``) or opt-in for the channels, cancelling queued messages on opt-out."""
    customer_id = _customer_id(conn, customer_ref)
    _upsert(conn, [{"customer_id": customer_id, "channel": ch, "granted": granted, "source": source,
                    "changed_at": now, "reference": reference} for ch in channels])
    cancelled = 0 if granted else cancel_queued(conn, [customer_id], channels, f"opted out ({source})")
    return ConsentChange(customer_ref, ",".join(channels), granted, cancelled)


def set_preferences(conn: Connection, customer_ref: str, *, language: str | None, lunar_birthday: bool | None,
                    now: datetime) -> None:
    if language is not None and language not in LANGUAGES:
        raise ConsentError(f"language must be one of {', '.join(LANGUAGES)}")
    customer_id = _customer_id(conn, customer_ref)
    current = conn.execute(select(PREFERENCES).where(PREFERENCES.c.customer_id == customer_id)).first()
    values = {"language": language if language is not None else (current.language if current else None),
              "lunar_birthday": lunar_birthday if lunar_birthday is not None
              else (bool(current.lunar_birthday) if current else False), "changed_at": now}
    if current is None:
        conn.execute(PREFERENCES.insert().values(customer_id=customer_id, **values))
    else:
        conn.execute(update(PREFERENCES).where(PREFERENCES.c.customer_id == customer_id).values(**values))


def withheld(conn: Connection, messages: Sequence[ClaimedMessage]) -> dict[int, str]:
    """Of these claimed messages, the care messages whose customer no longer consents (id -> why)."""
    care = [m for m in messages if m.kind.startswith(CARE_KIND_PREFIX) and m.customer_id is not None]
    if not care:
        return {}
    ids = sorted({int(m.customer_id) for m in care if m.customer_id is not None})
    c = Customer.__table__
    flags = {int(r.customer_id): r for r in conn.execute(select(
        c.c.customer_id, c.c.marketing_consent, c.c.erased_at).where(c.c.customer_id.in_(ids)))}
    explicit = {(int(r.customer_id), r.channel): bool(r.granted) for r in conn.execute(
        select(CONSENTS.c.customer_id, CONSENTS.c.channel, CONSENTS.c.granted).where(
            CONSENTS.c.customer_id.in_(ids)))}
    out: dict[int, str] = {}
    for m in care:
        assert m.customer_id is not None
        flag = flags.get(int(m.customer_id))
        if flag is None or flag.erased_at is not None:
            out[m.id] = "customer erased"
            continue
        granted = explicit.get((int(m.customer_id), m.channel))
        if granted is False:
            out[m.id] = "opted out"
        elif granted is None and not flag.marketing_consent:
            out[m.id] = "no marketing consent"
    return out


# --- the opt-out extract --------------------------------------------------------------------------

REQUIRED = ("customer_ref", "channel", "opted_out_at")


@dataclass(frozen=True)
class OptOut:
    row: int
    customer_ref: str
    channels: tuple[str, ...]
    at: datetime
    reference: str | None


def parse_optouts(file: Path, channels: Sequence[str]) -> list[OptOut]:
    name = str(file)
    out, problems = [], []
    for number, row in csv_rows(file, REQUIRED, "customer_ref, channel, opted_out_at[, reference]"):
        ref, channel, at = row.get("customer_ref", ""), row.get("channel", "").lower(), row.get("opted_out_at", "")
        if not ref:
            problems.append(SourceError(name, number, "customer_ref", "required", "a customer reference is needed"))
            continue
        if channel != "all" and channel not in channels:
            problems.append(SourceError(name, number, "channel", "code_in_set",
                                        f"channel must be one of {', '.join([*channels, 'all'])}"))
            continue
        moment = None
        for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"):
            try:
                moment = datetime.strptime(at, pattern)
                break
            except ValueError:
                continue
        if moment is None:
            problems.append(SourceError(name, number, "opted_out_at", "datetime_format",
                                        "expected YYYY-MM-DD HH:MM[:SS] (bank time)"))
            continue
        reference = (row.get("reference") or None)
        if reference and len(reference) > 48:
            problems.append(SourceError(name, number, "reference", "max_length", "at most 48 characters"))
            continue
        out.append(OptOut(number, ref, tuple(channels) if channel == "all" else (channel,), moment, reference))
    if problems:
        raise OptOutImportError(name, problems)
    return out


def apply_optouts(conn: Connection, file: Path, optouts: list[OptOut]) -> tuple[int, int]:
    """Check every row against the store, then record them all; returns (customers, messages cancelled)."""
    name = Path(file).name
    refs = sorted({o.customer_ref for o in optouts})
    c = Customer.__table__
    known: dict[str, int] = {}
    for start in range(0, len(refs), 500):
        known.update({str(r[0]): int(r[1]) for r in conn.execute(select(c.c.customer_ref, c.c.customer_id).where(
            c.c.customer_ref.in_(refs[start:start + 500])))})
    problems = [SourceError(str(file), o.row, "customer_ref", "known_customer", f"no customer {o.customer_ref}")
                for o in optouts if o.customer_ref not in known]
    if problems:
        raise OptOutImportError(str(file), problems)
    rows = [{"customer_id": known[o.customer_ref], "channel": ch, "granted": False, "source": "optout_extract",
             "changed_at": o.at, "reference": f"{name}:{o.row}"[:64] if o.reference is None else o.reference}
            for o in optouts for ch in o.channels]
    if rows:
        _upsert(conn, rows)
    cancelled = 0
    for ch in sorted({ch for o in optouts for ch in o.channels}):
        ids = [known[o.customer_ref] for o in optouts if ch in o.channels]
        cancelled += cancel_queued(conn, ids, [ch], "opted out (extract)")
    return len({o.customer_ref for o in optouts}), cancelled


def consent_rows(conn: Connection, customer_id: int) -> list[dict[str, object]]:
    return [dict(r._mapping) for r in conn.execute(select(CONSENTS).where(and_(
        CONSENTS.c.customer_id == customer_id)).order_by(CONSENTS.c.channel))]
