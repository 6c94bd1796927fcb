"""Erasure of a customer's personal data (PIPL art. 47): crypto-shredding plus clean-up.

What erasure does, in this order:

1. In the main database, one transaction: the customer's ciphertexts, masked
   forms, blind indexes and personal attributes (gender, birth year, occupation,
   income band, marital status, dependants) are cleared
   with their survivorship provenance, marketing consent is set to false and
   ``erased_at`` is set; each of their cards loses its ciphertext and mask and
   gets a random ``card_ref`` in place of the card number's blind index (card
   transactions follow it); pending outbox messages are cancelled and every message
   context of the customer is cleared; open retention tasks are cancelled; the
   customer's labels and extra attributes are deleted and open group memberships end;
   quarantined rows of the customer's own source records (matched on their
   source links) are deleted; an ``erasures`` row records who asked, why and when.
2. In the key store: the customer's wrapped data key is deleted. From then on
   no copy of the main database, however old, yields their PII: the ciphertexts
   in backups cannot be decrypted (crypto-shredding).

The database goes first so that a crash between the two steps leaves an erased
customer whose key still exists — never a live customer without a key, which
would make the next load fail. Running the erasure again (or
:func:`replay_erasures`, after a key store is restored from a backup) finishes
the job: erasure is idempotent and a second run reports ``already_erased``.

Kept on purpose: the customer row (reference, type, branch, RM, dates), source
links and all facts — accounts, balances, transactions, loans — which AML rules
keep for at least five years; they are marked by the customer's ``erased_at``.
A source record of an erased customer that arrives again must become a *new*
customer (see :func:`erased_customer_ids` and ``ERASED_MATCH_RULE``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, or_, select, update
from sqlalchemy import delete as sql_delete

from lifecycle.protection.customers import check_text, customer_row
from lifecycle.protection.erasure_log import ErasureLog
from lifecycle.status import OUTBOX, TASK, OutboxStatus, TaskStatus
from lifecycle.store.keystore import KeyStore
from lifecycle.store.models import (
    Card,
    CardTransaction,
    Customer,
    CustomerAttribute,
    CustomerLabel,
    Erasure,
    GroupMembership,
    OutboxMessage,
    QuarantinedRow,
    RetentionTask,
    RetentionTaskEvent,
    SourceLink,
)
from lifecycle.store.parties import erased_customer_ids

CLEARED_COLUMNS = (
    "name_enc", "id_no_enc", "mobile_enc", "email_enc", "address_enc", "birth_date_enc", "legal_rep_name_enc",
    "name_masked", "mobile_masked", "id_no_masked", "id_no_bidx", "mobile_bidx", "name_mobile_bidx", "name_bidx",
    "email_bidx", "passport_bidx", "customer_key_bidx", "name_birth_date_bidx", "gender", "birth_year",
    "occupation", "income_band", "marital_status", "dependants",
)
# Survivorship state of the attributes that erasure clears goes too: it would
# say which source supplied a value that no longer exists.
ERASED_ATTRIBUTES = frozenset({"name", "id_no", "mobile", "email", "address", "birth_date", "legal_rep_name",
                               "gender", "marketing_consent", "occupation", "income_band", "marital_status",
                               "dependants", "passport_no", "customer_key"})


@dataclass(frozen=True)
class ErasureResult:
    customer_ref: str
    customer_id: int
    already_erased: bool
    erased_at: datetime
    key_destroyed: bool  # a wrapped key was deleted by this call
    cards_cleared: int = 0
    messages_cancelled: int = 0
    tasks_cancelled: int = 0
    quarantine_rows_deleted: int = 0

    def as_dict(self) -> dict[str, object]:
        """Counts and references only: safe for logs, artifacts and task results."""
        return {"customer_ref": self.customer_ref, "already_erased": self.already_erased,
                "erased_at": self.erased_at.isoformat(), "key_destroyed": self.key_destroyed,
                "cards_cleared": self.cards_cleared, "messages_cancelled": self.messages_cancelled,
                "tasks_cancelled": self.tasks_cancelled, "quarantine_rows_deleted": self.quarantine_rows_deleted}


def _clear_cards(conn: Connection, customer_id: int) -> int:
    refs = conn.execute(select(Card.card_ref).where(Card.customer_id == customer_id)).scalars().all()
    for ref in refs:
        # The card_ref is the card number's blind index: replace it by a random one.
        token = secrets.token_hex(16)
        conn.execute(update(Card).where(Card.card_ref == ref)
                     .values(card_ref=token, card_no_enc=None, card_no_masked=None))
        conn.execute(update(CardTransaction).where(CardTransaction.card_ref == ref).values(card_ref=token))
    return len(refs)


def _delete_quarantined_records(conn: Connection, customer_id: int) -> int:
    links = conn.execute(select(SourceLink.source, SourceLink.source_key)
                         .where(SourceLink.customer_id == customer_id)).all()
    if not links:
        return 0
    own = or_(*[and_(QuarantinedRow.source == s, QuarantinedRow.source_key == k) for s, k in links])
    return int(conn.execute(sql_delete(QuarantinedRow).where(own)).rowcount or 0)


def _cancel_tasks(conn: Connection, customer_id: int, now: datetime) -> int:
    """Open retention tasks of an erased customer are cancelled (their events say why)."""
    open_tasks = conn.execute(select(RetentionTask.id, RetentionTask.status).where(
        RetentionTask.customer_id == customer_id,
        RetentionTask.status.in_(TASK.sources_of(TaskStatus.CANCELLED)))).all()
    if open_tasks:
        conn.execute(update(RetentionTask).where(RetentionTask.id.in_([t.id for t in open_tasks])).values(
            status=TaskStatus.CANCELLED, updated_at=now, closed_on=now.date()))
        conn.execute(insert(RetentionTaskEvent), [
            {"task_id": t.id, "at": now, "from_status": t.status, "to_status": TaskStatus.CANCELLED,
             "actor": "erasure", "via": "erasure", "note": "customer erased"} for t in open_tasks])
    return len(open_tasks)


def _erase_in_main_db(conn: Connection, customer_id: int, provenance: dict[str, Any] | None, requested_by: str,
                      reason: str, now: datetime) -> tuple[int, int, int, int]:
    kept = {k: v for k, v in (provenance or {}).items() if k not in ERASED_ATTRIBUTES}
    conn.execute(update(Customer).where(Customer.customer_id == customer_id).values(
        **dict.fromkeys(CLEARED_COLUMNS), marketing_consent=False, provenance=kept or None, erased_at=now))
    cards = _clear_cards(conn, customer_id)
    messages = int(conn.execute(update(OutboxMessage).where(
        OutboxMessage.customer_id == customer_id,
        OutboxMessage.status.in_(OUTBOX.sources_of(OutboxStatus.CANCELLED))).values(
        status=OutboxStatus.CANCELLED, last_error="customer erased")).rowcount or 0)
    conn.execute(update(OutboxMessage).where(OutboxMessage.customer_id == customer_id).values(
        context=None, context_enc=None))
    tasks = _cancel_tasks(conn, customer_id, now)
    # Labels profile the person (age band, gender, life stage): gone. Group memberships end.
    conn.execute(sql_delete(CustomerLabel).where(CustomerLabel.customer_id == customer_id))
    # Extra attributes are the person's attributes a source delivered (a credit score, a salary): gone.
    conn.execute(sql_delete(CustomerAttribute).where(CustomerAttribute.customer_id == customer_id))
    conn.execute(update(GroupMembership).where(GroupMembership.customer_id == customer_id,
                                               GroupMembership.left_on.is_(None)).values(
        left_on=now.date(), leave_reason="customer erased"))
    quarantined = _delete_quarantined_records(conn, customer_id)
    conn.execute(insert(Erasure).values(customer_id=customer_id, erased_at=now, requested_by=requested_by,
                                        reason=reason, messages_cancelled=messages))
    return cards, messages, tasks, quarantined


def erase_customer(engine: Engine, keystore: KeyStore, customer_ref: str, requested_by: str, reason: str,
                   now: datetime, *, log: ErasureLog | None = None) -> ErasureResult:
    """Erase one customer's personal data; see the module docstring for what and why.

    ``requested_by`` and ``reason`` are required (they go to the ``erasures``
    row); an unknown reference raises UnknownCustomerError. With ``log`` the
    erasure is appended to the erasure log (lifecycle/protection/erasure_log.py)
    before the main database commits it.
    """
    requested_by = check_text("requested_by", requested_by, 64)
    reason = check_text("reason", reason, 512)
    with engine.begin() as conn:
        row = customer_row(conn, customer_ref)
        customer_id = int(row.customer_id)
        if row.erased_at is not None:
            erased_at = row.erased_at
            counts = None
        else:
            erased_at = now
            counts = _erase_in_main_db(conn, customer_id, row.provenance, requested_by, reason, now)
            if log is not None:
                log.append(customer_ref, customer_id, now)
    destroyed = keystore.destroy_customer_key(customer_id)
    if counts is None:
        return ErasureResult(customer_ref, customer_id, True, erased_at, destroyed)
    return ErasureResult(customer_ref, customer_id, False, erased_at, destroyed, *counts)


def replay_erasures(engine: Engine, keystore: KeyStore) -> int:
    """Destroy the keys of every erased customer still present in the key store.

    Run after restoring the key store from a backup (the backup may predate
    erasures recorded since). Returns the number of keys destroyed.
    """
    with engine.connect() as conn:
        erased = sorted(erased_customer_ids(conn)
                        | set(conn.execute(select(Erasure.customer_id)).scalars()))
    present = keystore.customer_keys(erased)["customer_id"].astype(int).tolist()
    return sum(keystore.destroy_customer_key(i) for i in present)
