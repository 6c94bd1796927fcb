"""The data purge: delete what is kept longer than its period (PIPL art. 19: no longer
than necessary).

("Purge" is deleting old data; "retention" in this platform means keeping
customers — retention tasks for relationship managers.)

Periods come from a validated YAML file (default: the packaged
``lifecycle/config/purge.yaml``). Three kinds are purged, each by its own
function so the flow can log a count per kind:

* **Landing day-folders** — ``<landing dir>/YYYY-MM-DD/`` folders whose date is
  more than ``landing_files_days`` before today are deleted with their files (the
  raw extracts hold plaintext PII). Anything else in the landing dir is left alone.
* **Quarantine** — rows created more than ``quarantine_days`` ago are deleted,
  whatever their status; then each run key in the key store that is older than
  the period and has no quarantine row left is deleted, so what remains of an old
  run's rejects (in backups) can no longer be decrypted. The age condition on
  keys also protects a run that is writing its quarantine right now.
* **Facts** — dated events (transactions, card spending, balance snapshots,
  digital events, feedback, interactions) older than ``fact_retention_days``, and
  history versions whose validity ended before then, are deleted. AML rules keep
  transaction records at least five years, so a shorter period is refused when
  the file is read; the period counts back from the purge day, and decisions for
  dates inside it stay reproducible.
* **Delivered message bodies** — the template context (clear for staff
  messages, encrypted for customers') of outbox messages sent more than
  ``delivered_message_body_days`` ago is cleared; the row stays as the record of
  the delivery.

Everything is idempotent: a second purge on the same day finds nothing.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, delete, select, update

from lifecycle.status import OutboxStatus
from lifecycle.store.base import table_of
from lifecycle.store.history import HISTORY
from lifecycle.store.keystore import ID_CHUNK, KeyStore, RunKey
from lifecycle.store.models import (
    BalanceSnapshot,
    CardTransaction,
    DigitalEvent,
    Feedback,
    Interaction,
    OutboxMessage,
    QuarantinedRow,
    Transaction,
)
from lifecycle.yamlconfig import load_yaml_model

DEFAULT_PURGE_FILE = Path(__file__).resolve().parents[1] / "config" / "purge.yaml"
_DAY_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")
AML_MINIMUM_DAYS = 5 * 366  # transaction records are kept at least five years (AML); leap days counted generously
# Dated facts and the column that dates them.
DATED_FACTS = ((Transaction, "txn_time"), (CardTransaction, "txn_time"), (BalanceSnapshot, "balance_date"),
               (DigitalEvent, "event_time"), (Feedback, "feedback_date"), (Interaction, "interaction_time"))


class PurgePolicy(BaseModel):
    """How long each kind of data is kept before the purge deletes it, in whole days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    landing_files_days: int = Field(ge=1, description="landing day-folders (raw extracts)")
    quarantine_days: int = Field(ge=1, description="quarantined rows and their run keys")
    delivered_message_body_days: int = Field(ge=1, description="bodies of sent care messages")
    fact_retention_days: int = Field(
        ge=AML_MINIMUM_DAYS, description="dated facts and ended history versions (AML: at least five years)")


def load_purge_policy(path: Path | str | None = None) -> PurgePolicy:
    """Read and validate the purge file; ConfigError naming the file and field."""
    return load_yaml_model(Path(path) if path else DEFAULT_PURGE_FILE, PurgePolicy, "purge file")


def purge_landing(landing_dir: Path, today: date, days: int) -> list[str]:
    """Delete day-folders dated more than ``days`` before ``today``; their names, sorted."""
    cutoff = today - timedelta(days=days)
    if not landing_dir.is_dir():
        return []
    deleted = []
    for folder in sorted(landing_dir.iterdir()):
        if not (_DAY_FOLDER.fullmatch(folder.name) and folder.is_dir() and not folder.is_symlink()):
            continue
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if day < cutoff:
            shutil.rmtree(folder)
            deleted.append(folder.name)
    return deleted


@dataclass(frozen=True)
class QuarantinePurge:
    rows: int
    run_keys: int


def purge_quarantine(engine: Engine, keystore: KeyStore, now: datetime, days: int) -> QuarantinePurge:
    """Delete quarantine rows older than ``days``, then the run keys left without rows."""
    cutoff = now - timedelta(days=days)
    with engine.begin() as conn:
        rows = int(conn.execute(delete(QuarantinedRow).where(QuarantinedRow.created_at < cutoff)).rowcount or 0)
    with keystore.engine.connect() as conn:
        old_runs = conn.execute(select(RunKey.run_id).where(RunKey.created_at < cutoff)).scalars().all()
    orphaned: list[str] = []
    with engine.connect() as conn:
        for start in range(0, len(old_runs), ID_CHUNK):
            chunk = list(old_runs[start : start + ID_CHUNK])
            kept = set(conn.execute(select(QuarantinedRow.run_id).distinct()
                                    .where(QuarantinedRow.run_id.in_(chunk))).scalars())
            orphaned += [run_id for run_id in chunk if run_id not in kept]
    with keystore.engine.begin() as conn:
        for start in range(0, len(orphaned), ID_CHUNK):
            conn.execute(delete(RunKey).where(RunKey.run_id.in_(orphaned[start : start + ID_CHUNK])))
    return QuarantinePurge(rows, len(orphaned))


def clear_delivered_bodies(engine: Engine, now: datetime, days: int) -> int:
    """Clear the context of outbox messages sent more than ``days`` ago; the count cleared."""
    cutoff = now - timedelta(days=days)
    with engine.begin() as conn:
        result = conn.execute(update(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < cutoff,
            (OutboxMessage.context_enc.is_not(None)) | (OutboxMessage.context.is_not(None)))
            .values(context=None, context_enc=None))
    return int(result.rowcount or 0)


def purge_facts(engine: Engine, today: date, days: int) -> dict[str, int]:
    """Delete dated facts older than ``days`` and history versions that ended before then, in one
    transaction (a purge is all or nothing); rows deleted per table."""
    if days < AML_MINIMUM_DAYS:
        raise ValueError(f"facts are kept at least {AML_MINIMUM_DAYS} days (AML), not {days}")
    cutoff = today - timedelta(days=days)
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for model, column in DATED_FACTS:
            table = table_of(model)
            dated = table.c[column]
            bound = datetime.combine(cutoff, datetime.min.time()) if column.endswith("_time") else cutoff
            counts[table.name] = int(conn.execute(delete(table).where(dated < bound)).rowcount or 0)
        for history in HISTORY.values():
            ended = history.c.valid_to.is_not(None) & (history.c.valid_to <= cutoff)
            counts[history.name] = int(conn.execute(delete(history).where(ended)).rowcount or 0)
    return counts
