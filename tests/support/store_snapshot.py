"""A comparable picture of the whole store: what an interrupted-then-resumed run must equal.

Per table of the main database: the row count and a checksum of every row's
content, leaving out what legitimately differs between two runs of the same
day — timestamps, run ids, ciphertexts (random nonces and data keys) and the
bookkeeping of runs themselves — and, in their place, every customer's PII
and every quarantined row *decrypted*: a store whose ciphertexts cannot be
decrypted does not equal one whose can.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, Engine, LargeBinary, select

from lifecycle.privacy.envelope import unwrap_data_key, unwrap_data_keys
from lifecycle.privacy.fields import decrypt_column
from lifecycle.privacy.keyring import Keyring
from lifecycle.store.keystore import KeyStore, quarantine_table, run_number
from lifecycle.store.models import Base, Card, Customer, IngestionRun, QuarantinedRow

# Whole tables that differ by design between a killed-and-resumed day and an uninterrupted one.
RUN_TABLES = {"ingestion_runs", "decision_runs", "alembic_version"}
VOLATILE_COLUMNS = {"provenance"}  # holds load times
PII_COLUMNS = ("name_enc", "id_no_enc", "mobile_enc", "email_enc", "address_enc", "birth_date_enc",
               "legal_rep_name_enc")


@dataclass(frozen=True)
class StoreSnapshot:
    tables: dict[str, tuple[int, str]]  # table -> (rows, checksum of the comparable content)
    pii: dict[int, dict[str, str | None]]  # customer_id -> decrypted PII fields (cards included)
    quarantine: list[tuple[Any, ...]]  # (source, file, row_number, status, decrypted raw row)
    run_statuses: list[str]
    undecryptable: list[str]  # what could not be decrypted, by table/column/customer


def _comparable(table: Any) -> list[Any]:
    return [c for c in table.columns
            if not isinstance(c.type, (DateTime, LargeBinary)) and not c.name.endswith("run_id")
            and c.name not in VOLATILE_COLUMNS]


def _checksum(rows: list[tuple[Any, ...]]) -> str:
    digest = hashlib.sha256()
    for row in sorted(json.dumps(list(r), default=str, ensure_ascii=False) for r in rows):
        digest.update(row.encode())
    return digest.hexdigest()


def _customer_keys(keystore: KeyStore, keyring: Keyring, ids: list[int]) -> dict[int, bytes]:
    stored = keystore.customer_keys(ids)
    found = stored["customer_id"].astype(int).tolist()
    return dict(zip(found, unwrap_data_keys(keyring, stored["wrapped_key"].tolist(), found), strict=True))


def snapshot(engine: Engine, keystore: KeyStore, keyring: Keyring) -> StoreSnapshot:
    tables: dict[str, tuple[int, str]] = {}
    undecryptable: list[str] = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in RUN_TABLES:
                continue
            rows = [tuple(r) for r in conn.execute(select(*_comparable(table)))]
            tables[table.name] = (len(rows), _checksum(rows))
        customers = conn.execute(select(Customer.customer_id, *[getattr(Customer, c) for c in PII_COLUMNS])).all()
        cards = conn.execute(select(Card.customer_id, Card.card_ref, Card.card_no_enc)).all()
        quarantined = conn.execute(select(QuarantinedRow.run_id, QuarantinedRow.source, QuarantinedRow.file,
                                          QuarantinedRow.row_number, QuarantinedRow.status,
                                          QuarantinedRow.raw_enc)).all()
        run_statuses = sorted(conn.execute(select(IngestionRun.status)).scalars())
    ids = sorted({int(r[0]) for r in customers})
    deks = _customer_keys(keystore, keyring, ids)
    pii: dict[int, dict[str, str | None]] = {i: {} for i in ids}
    for position, column in enumerate(PII_COLUMNS, start=1):
        present = [(int(r[0]), r[position]) for r in customers if r[position] is not None]
        for cid, _ in present:
            if cid not in deks:
                undecryptable.append(f"customers.{column}: customer {cid} has no data key")
        usable = [(cid, value) for cid, value in present if cid in deks]
        try:
            plain = decrypt_column([v for _, v in usable], [deks[c] for c, _ in usable], [c for c, _ in usable],
                                   table="customers", column=column.removesuffix("_enc"))
        except Exception as exc:
            undecryptable.append(f"customers.{column}: {type(exc).__name__}")
            continue
        for (cid, _), value in zip(usable, plain, strict=True):
            pii[cid][column] = value
    for cid, ref, enc in cards:
        if enc is None:
            continue
        if int(cid) not in deks:
            undecryptable.append(f"cards.card_no_enc: customer {cid} has no data key")
            continue
        try:
            value = decrypt_column([enc], [deks[int(cid)]], [int(cid)], table="cards", column="card_no")[0]
        except Exception as exc:
            undecryptable.append(f"cards.card_no_enc: {type(exc).__name__}")
            continue
        pii.setdefault(int(cid), {})[f"card:{ref}"] = value
    raws = []
    for run_id, source, file, row_number, status, enc in quarantined:
        wrapped = keystore.run_key(str(run_id))
        if wrapped is None:
            undecryptable.append(f"quarantine: run {run_id} has no key")
            continue
        dek = unwrap_data_key(keyring, wrapped, run_number(str(run_id)))
        text = decrypt_column([enc], [dek], [int(row_number)], table=quarantine_table(str(run_id)),
                              column=str(source))[0]
        raws.append((str(source), str(file), int(row_number), str(status), text))
    return StoreSnapshot(tables, pii, sorted(raws), run_statuses, undecryptable)
