"""Verify the sealed store: every ciphertext authenticates, every blind index matches its value.

AES-GCM detects an altered ciphertext, a wrapped key altered or moved to another
customer, and a ciphertext moved to another customer, column or table (the
associated data binds ``table|column|customer_id``). A blind index is a keyed
hash, not a seal: an index altered or copied from another customer would go
unnoticed until a search found the wrong person or nobody. :func:`verify_store`
therefore reads every live customer in batches, unwraps their data key,
decrypts every PII field and recomputes the blind indexes (and each card's
reference) from the plaintext, which never leaves the function.

Each problem is a :class:`Finding` naming table, row (customer id or card
reference), column and rule — never a value. Erased customers hold no PII and
no key, and are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from lifecycle.errors import DecryptionError
from lifecycle.privacy.blind_index import blind_index
from lifecycle.privacy.envelope import unwrap_data_key
from lifecycle.privacy.fields import decrypt_field
from lifecycle.privacy.keyring import Keyring
from lifecycle.store.keystore import KeyStore
from lifecycle.store.models import Card, Customer

PII_FIELDS = ("name", "id_no", "mobile", "email", "address", "birth_date", "legal_rep_name")
# blind-index column -> (purpose, how its plaintext is made from the customer's fields)
INDEXES: dict[str, tuple[str, Callable[[dict[str, str | None]], str | None], set[str]]] = {
    "id_no_bidx": ("id_no", lambda f: f.get("id_no"), {"id_no"}),
    "mobile_bidx": ("mobile", lambda f: f.get("mobile"), {"mobile"}),
    "name_bidx": ("name", lambda f: f.get("name"), {"name"}),
    "name_mobile_bidx": ("name_mobile", lambda f: f"{f['name']}|{f['mobile']}"
                         if f.get("name") is not None and f.get("mobile") is not None else None, {"name", "mobile"}),
}
DEFAULT_BATCH = 2_000


@dataclass(frozen=True)
class Finding:
    """One value that fails verification: where it is and which check failed (no value)."""

    table: str
    row: str  # customer id, or card reference
    column: str
    rule: str  # data_key_missing | data_key_invalid | ciphertext_invalid | blind_index_mismatch

    def __str__(self) -> str:
        return f"table {self.table}, row {self.row}, column {self.column}: {self.rule}"


@dataclass
class IntegrityReport:
    customers: int = 0
    values: int = 0  # ciphertexts and blind indexes checked
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _verify_customer(report: IntegrityReport, row: object, dek: bytes, cards: list[tuple[str, bytes | None]],
                     keyring: Keyring) -> None:
    customer_id = int(row.customer_id)  # type: ignore[attr-defined]
    plain: dict[str, str | None] = {}
    failed: set[str] = set()
    for name in PII_FIELDS:
        blob = getattr(row, f"{name}_enc")
        if blob is None:
            plain[name] = None
            continue
        report.values += 1
        try:
            plain[name] = decrypt_field(dek, blob, table="customers", column=name, customer_id=customer_id)
        except DecryptionError:
            report.findings.append(Finding("customers", str(customer_id), f"{name}_enc", "ciphertext_invalid"))
            failed.add(name)
    for column, (purpose, value_of, fields) in INDEXES.items():
        if failed & fields:  # its value is unknown: the ciphertext's finding says it all
            continue
        stored = getattr(row, column)
        if stored is None and value_of(plain) is None:
            continue
        report.values += 1
        if blind_index(keyring, purpose, value_of(plain)) != stored:
            report.findings.append(Finding("customers", str(customer_id), column, "blind_index_mismatch"))
    for ref, blob in cards:
        if blob is None:
            continue
        report.values += 2
        try:
            card_no = decrypt_field(dek, blob, table="cards", column="card_no", customer_id=customer_id)
        except DecryptionError:
            report.findings.append(Finding("cards", ref, "card_no_enc", "ciphertext_invalid"))
            continue
        if blind_index(keyring, "card_no", card_no) != ref:
            report.findings.append(Finding("cards", ref, "card_ref", "blind_index_mismatch"))


def verify_store(engine: Engine, keystore: KeyStore, keyring: Keyring, *, batch_size: int = DEFAULT_BATCH
                 ) -> IntegrityReport:
    """Check every live customer's key, ciphertexts and blind indexes; see the module doc."""
    report = IntegrityReport()
    columns = [Customer.customer_id, *[getattr(Customer, f"{n}_enc") for n in PII_FIELDS],
               *[getattr(Customer, c) for c in INDEXES]]
    after = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(*columns).where(Customer.erased_at.is_(None), Customer.customer_id > after)
                                .order_by(Customer.customer_id).limit(batch_size)).all()
            if not rows:
                return report
            ids = [int(r.customer_id) for r in rows]
            cards: dict[int, list[tuple[str, bytes | None]]] = {}
            for cid, ref, blob in conn.execute(select(Card.customer_id, Card.card_ref, Card.card_no_enc)
                                               .where(Card.customer_id.in_(ids))):
                cards.setdefault(int(cid), []).append((str(ref), blob))
        stored = keystore.customer_keys(ids).set_index("customer_id")["wrapped_key"].to_dict()
        for row in rows:
            customer_id = int(row.customer_id)
            report.customers += 1
            wrapped = stored.get(customer_id)
            if wrapped is None:
                report.findings.append(Finding("customer_keys", str(customer_id), "wrapped_key", "data_key_missing"))
                continue
            try:
                dek = unwrap_data_key(keyring, wrapped, customer_id)
            except DecryptionError:  # a keyring lacking the key's version raises: nothing can be verified
                report.findings.append(Finding("customer_keys", str(customer_id), "wrapped_key", "data_key_invalid"))
                continue
            _verify_customer(report, row, dek, cards.get(customer_id, []), keyring)
        after = ids[-1]
