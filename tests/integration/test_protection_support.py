"""Helpers for the protection tests (no tests here): hand-made customers loaded for real.

Customers go through the production path — standardise the raw source rows,
then ``load_parties`` (identity, golden record, encryption, key store) — so
the tests see exactly the ciphertexts, masks, blind indexes and wrapped keys the
daily flow writes, in a fraction of its time. The key store is a database of
its own: a second SQLite file, or on PostgreSQL the same server database
(its tables are distinct).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, insert, select

from lifecycle.errors import KeyringError
from lifecycle.integration.parties import PartyBatch, load_parties
from lifecycle.integration.read import ROW_ID
from lifecycle.integration.sources import load_sources
from lifecycle.integration.standardize import standardize
from lifecycle.privacy.envelope import unwrap_data_key
from lifecycle.privacy.fields import decrypt_field
from lifecycle.privacy.keyring import Keyring, generate_keyring
from lifecycle.store.db import make_engine, upgrade
from lifecycle.store.keystore import KeyStore
from lifecycle.store.models import Customer

AS_OF = date(2026, 6, 30)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def resident_id(area: str, birth: str, sequence: int) -> str:
    """A GB 11643 resident ID number with its ISO 7064 MOD 11-2 check character."""
    body = f"{area}{birth}{sequence:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def luhn_card(prefix: str, number: int) -> str:
    """A 16-digit Luhn-valid card number."""
    body = f"{prefix}{number:09d}"
    total = 0
    for i, digit in enumerate(reversed(body)):
        d = int(digit) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Person:
    cust_no: str
    name: str
    id_no: str
    mobile: str
    email: str
    birth: str  # YYYYMMDD
    card_no: str | None  # a card in the card system too


def people(n: int, *, with_cards: bool = True) -> list[Person]:
    """``n`` distinct people with valid IDs, unique mobiles, and a card for every other one."""
    out = []
    for i in range(n):
        birth = f"19{70 + i % 25}0{1 + i % 9}1{i % 9}"
        name = _SURNAMES[i % len(_SURNAMES)] + _GIVEN[(i * 7) % len(_GIVEN)] + _GIVEN[(i * 3 + 1) % len(_GIVEN)]
        out.append(Person(f"1{i:011d}", name, resident_id("110101", birth, 100 + 2 * i + 1), f"139{i:08d}",
                          f"person{i}@example.com", birth,
                          luhn_card("622588", i + 1) if with_cards and i % 2 == 0 else None))
    return out


@dataclass
class Stores:
    engine: Engine
    keystore: KeyStore
    keyring: Keyring
    keystore_url: str


def make_stores(database_url: str, tmp_path: Path, keyring: Keyring | None = None) -> Stores:
    """A migrated main database and a key store apart from it."""
    engine = make_engine(database_url)
    upgrade(engine)
    keystore_url = f"sqlite:///{tmp_path}/keystore.db" if database_url.startswith("sqlite") else database_url
    keystore = KeyStore(make_engine(keystore_url))
    keystore.create_schema()
    return Stores(engine, keystore, keyring or generate_keyring(), keystore_url)


def _core_rows(persons: list[Person]) -> pd.DataFrame:
    return pd.DataFrame({
        ROW_ID: range(1, len(persons) + 1), "cust_no": [p.cust_no for p in persons],
        "cust_name": [p.name for p in persons], "id_type": "01", "id_no": [p.id_no for p in persons],
        "gender": ["M" if int(p.id_no[16]) % 2 else "F" for p in persons],
        "birth_date": [f"{p.birth[:4]}-{p.birth[4:6]}-{p.birth[6:]}" for p in persons],
        "mobile": [p.mobile for p in persons], "email": [p.email for p in persons],
        "address": "上海浦东新区世纪大道100号", "branch_code": "310101", "rm_id": "RM00001",
        "open_date": "2015-03-01", "marketing_consent": "Y", "occupation": "2", "income_band": "C",
        "marital_status": "20", "dependants": "1", "updated_at": "2026-06-01 10:00:00"})


def _card_rows(persons: list[Person]) -> pd.DataFrame:
    holders = [p for p in persons if p.card_no]
    return pd.DataFrame({
        ROW_ID: range(1, len(holders) + 1), "CARD_CUST_ID": [f"C{p.cust_no[-9:]}" for p in holders],
        "CUST_NM": [p.name for p in holders], "CERT_NO": [p.id_no for p in holders],
        "MOBILE_NO": [f"+86 {p.mobile[:3]} {p.mobile[3:7]} {p.mobile[7:]}" for p in holders],
        "BIRTH_DT": [p.birth for p in holders], "EMAIL_ADDR": [p.email for p in holders],
        "CARD_NO": [p.card_no for p in holders], "CARD_PRODUCT": "GOLD", "CREDIT_LIMIT": "5000000",
        "CARD_OPEN_DT": "2016/05/01", "CARD_STATUS": "A", "UPD_TS": "20260601100000"}).astype(
        {ROW_ID: "int64"})


def load_people(stores: Stores, persons: list[Person], *, run_id: str | None = None) -> dict[str, str]:
    """Load ``persons`` from the core and card systems; returns cust_no -> customer_ref."""
    sources = load_sources()
    batches = [PartyBatch(sources["core_customers"], standardize(_core_rows(persons), sources["core_customers"],
                                                                 AS_OF), 1)]
    cards = _card_rows(persons)
    if len(cards):
        batches.append(PartyBatch(sources["card_customers"], standardize(cards, sources["card_customers"], AS_OF), 2))
    with stores.engine.begin() as conn:
        result = load_parties(conn, stores.keystore, stores.keyring, batches, run_id or str(uuid.uuid4()),
                              datetime(2026, 6, 30, 3, 0))
        links = result.links[result.links["source"] == "core_customers"]
        refs = dict(conn.execute(select(Customer.customer_id, Customer.customer_ref)).all())
    return {key: refs[int(cid)] for key, cid in zip(links["source_key"], links["customer_id"], strict=True)}


def customer(engine: Engine, customer_ref: str) -> dict[str, object]:
    """The customer's row as a dict."""
    with engine.connect() as conn:
        row = conn.execute(select(Customer.__table__).where(Customer.customer_ref == customer_ref)).one()
    return dict(row._mapping)


def decrypt_name(engine: Engine, keystore: KeyStore, keyring: Keyring, customer_ref: str) -> str | None:
    """The customer's name decrypted from ``engine`` with their key from ``keystore``."""
    row = customer(engine, customer_ref)
    customer_id = int(str(row["customer_id"]))
    wrapped = keystore.customer_keys([customer_id])
    if wrapped.empty:
        raise KeyringError(f"no data key for customer {customer_id}")
    dek = unwrap_data_key(keyring, wrapped["wrapped_key"].iloc[0], customer_id)
    name_enc = row["name_enc"]
    assert name_enc is None or isinstance(name_enc, bytes)
    return decrypt_field(dek, name_enc, table="customers", column="name", customer_id=customer_id)


def add_rows(engine: Engine, model: type, rows: list[dict[str, object]]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(model), rows)


def flow_run_logs(flow_run_id: object) -> list[str]:
    """Every log message of a flow run (its tasks' too), read back from the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # the API handler ships records in the background
    messages: list[str] = []
    with get_client(sync_client=True) as client:
        while True:
            batch = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])),
                                     limit=200, offset=len(messages))
            messages += [log.message for log in batch]
            if len(batch) < 200:
                return messages


def flow_run_artifacts(flow_run_id: object) -> list[str]:
    """Data and description of every artifact a flow run created, from the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return [f"{a.key}\n{a.description or ''}\n{a.data}" for a in artifacts]
