"""What staff may see of a customer: the masked view, blind-index search, audited reveal.

* :func:`customer_view` — the masked view (masked name, mobile and ID number,
  branch, RM, dates, consent, erased or not, counts of accounts and cards). No
  key is needed: masks are stored.
* :func:`find_customers` — look a customer up by resident ID number or mobile
  through the blind index, returning masked views only. The value searched for
  is normalised like the loader does (upper-case ``X``; mobiles without
  ``+86``, spaces or dashes) so that the keyed hashes meet.
* :func:`reveal` — decrypt chosen fields of one customer for a stated reason.
  The ``reveal_audit`` row (who, when, customer, fields, why) is written and
  committed *before* anything is decrypted, so no reveal goes unrecorded even
  if the caller crashes; a reveal without a reason is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Row, func, insert, select

from lifecycle.errors import KeyringError
from lifecycle.integration.standardize import clean_mobile, clean_upper
from lifecycle.privacy.blind_index import blind_index
from lifecycle.privacy.envelope import unwrap_data_key
from lifecycle.privacy.fields import decrypt_field
from lifecycle.privacy.keyring import Keyring
from lifecycle.protection.customers import ProtectionError, check_text, customer_row
from lifecycle.store.keystore import KeyStore
from lifecycle.store.models import Account, Card, Customer, LookupAudit, RevealAudit

CUSTOMER_FIELDS = ("name", "id_no", "mobile", "email", "address", "birth_date", "legal_rep_name")
REVEALABLE = (*CUSTOMER_FIELDS, "card_no")
DEFAULT_FIELDS = ("name", "mobile", "id_no")


@dataclass(frozen=True)
class CustomerView:
    """The masked view of one customer: safe to print for staff."""

    customer_ref: str
    customer_type: str
    name_masked: str | None
    mobile_masked: str | None
    id_no_masked: str | None
    branch_code: str | None
    rm_id: str | None
    open_date: date | None
    marketing_consent: bool | None
    erased_at: datetime | None
    accounts: int
    cards: int


def _view(conn: Connection, row: Row[Any]) -> CustomerView:
    customer_id = int(row.customer_id)
    accounts = conn.execute(select(func.count()).select_from(Account)
                            .where(Account.customer_id == customer_id)).scalar_one()
    cards = conn.execute(select(func.count()).select_from(Card).where(Card.customer_id == customer_id)).scalar_one()
    return CustomerView(
        customer_ref=row.customer_ref, customer_type=row.customer_type, name_masked=row.name_masked,
        mobile_masked=row.mobile_masked, id_no_masked=row.id_no_masked, branch_code=row.branch_code,
        rm_id=row.rm_id, open_date=row.open_date, marketing_consent=row.marketing_consent,
        erased_at=row.erased_at, accounts=int(accounts), cards=int(cards))


def customer_view(conn: Connection, customer_ref: str) -> CustomerView:
    """The masked view of ``customer_ref``; UnknownCustomerError when there is none."""
    return _view(conn, customer_row(conn, customer_ref))


def find_customers(conn: Connection, keyring: Keyring, *, id_no: str | None = None,
                   mobile: str | None = None) -> list[CustomerView]:
    """Customers whose resident ID number or mobile equals the value (exactly one given)."""
    if (id_no is None) == (mobile is None):
        raise ProtectionError("give exactly one of id_no or mobile")
    purpose, column, clean = (("id_no", Customer.id_no_bidx, clean_upper) if id_no is not None
                              else ("mobile", Customer.mobile_bidx, clean_mobile))
    normalised = clean(pd.Series([id_no if id_no is not None else mobile], dtype=object)).iloc[0]
    if normalised is None or normalised is pd.NA:
        raise ProtectionError(f"the {purpose} to search for is empty")
    index = blind_index(keyring, purpose, str(normalised))
    rows = conn.execute(select(Customer.__table__).where(column == index).order_by(Customer.customer_id)).all()
    return [_view(conn, row) for row in rows]


def audited_find(engine: Engine, keyring: Keyring, *, actor: str, reason: str, now: datetime,
                 id_no: str | None = None, mobile: str | None = None) -> list[CustomerView]:
    """:func:`find_customers`, recorded in ``lookup_audit`` (who, when, why, by what, which customers) in the
    same transaction: a search by a personal value is as sensitive as a reveal."""
    if not reason.strip():
        raise ProtectionError('a search by ID number or mobile needs --reason "…": every search is recorded')
    with engine.begin() as conn:
        found = find_customers(conn, keyring, id_no=id_no, mobile=mobile)
        refs = [v.customer_ref for v in found]
        ids = [int(r) for r in conn.execute(select(Customer.customer_id).where(
            Customer.customer_ref.in_(refs))).scalars()] if refs else []
        conn.execute(insert(LookupAudit).values(at=now, actor=actor[:64], purpose="id_no" if id_no is not None
                                                else "mobile", matches=len(found), customer_ids=sorted(ids),
                                                reason=reason[:512]))
    return found


def _audit(engine: Engine, customer_ref: str, fields: list[str], actor: str, reason: str,
           now: datetime) -> Row[Any]:
    with engine.begin() as conn:
        row = customer_row(conn, customer_ref)
        conn.execute(insert(RevealAudit).values(at=now, actor=actor, customer_id=int(row.customer_id),
                                                fields=fields, reason=reason))
    return row


def _fields(fields: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(f.strip() for f in fields if f.strip()))
    unknown = [f for f in chosen if f not in REVEALABLE]
    if unknown:
        raise ProtectionError(f"cannot reveal {', '.join(unknown)}; revealable fields: {', '.join(REVEALABLE)}")
    if not chosen:
        raise ProtectionError("no field to reveal")
    return chosen


def reveal(engine: Engine, keystore: KeyStore, keyring: Keyring, customer_ref: str, fields: Sequence[str],
           *, actor: str, reason: str, now: datetime) -> list[tuple[str, str | None]]:
    """Decrypt ``fields`` of one customer after recording the reveal; see the module doc.

    Returns (field, plaintext) pairs in the order asked, one ``card_no`` pair per
    card. An erased customer, or one whose key is gone, raises after the audit row
    is written: the attempt is recorded too.
    """
    reason = check_text("a reason for the reveal", reason, 512)
    actor = check_text("actor", actor, 64)
    chosen = _fields(fields)
    row = _audit(engine, customer_ref, chosen, actor, reason, now)
    customer_id = int(row.customer_id)
    if row.erased_at is not None:
        raise ProtectionError(f"customer {customer_ref} was erased: there is nothing to reveal")
    wrapped = keystore.customer_keys([customer_id])
    if wrapped.empty:
        raise KeyringError(f"no data key for customer {customer_ref} in the key store "
                           "(erased, or the key store lacks it)")
    dek = unwrap_data_key(keyring, wrapped["wrapped_key"].iloc[0], customer_id)
    out: list[tuple[str, str | None]] = []
    for name in chosen:
        if name == "card_no":
            with engine.connect() as conn:
                cards = conn.execute(select(Card.card_no_enc).where(Card.customer_id == customer_id)
                                     .order_by(Card.card_ref)).scalars().all()
            out += [(name, decrypt_field(dek, c, table="cards", column="card_no", customer_id=customer_id))
                    for c in cards]
        else:
            out.append((name, decrypt_field(dek, getattr(row, f"{name}_enc"), table="customers", column=name,
                                            customer_id=customer_id)))
    return out
