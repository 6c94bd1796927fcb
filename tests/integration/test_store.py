"""The canonical schema migrates and upserts idempotently on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, inspect, select

from lifecycle.store.base import table_of
from lifecycle.store.db import make_engine, upgrade
from lifecycle.store.models import Account, Base, Customer
from lifecycle.store.upsert import upsert_frame


def test_migrations_create_every_model_table_and_are_repeatable(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_loading_the_same_batch_twice_leaves_the_same_rows(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    customers = pd.DataFrame({"customer_id": [1, 2], "customer_ref": ["CUS1", "CUS2"],
                              "customer_type": ["individual", "corporate"], "name_enc": [b"\x01x", None]})
    accounts = pd.DataFrame({"account_no": ["A1", "A2"], "customer_id": [1, 2], "product_code": ["CA", "TD"],
                             "open_date": pd.to_datetime(["2020-01-01", "2021-05-06"]), "close_date": [None, None]})
    for _ in range(2):
        with engine.begin() as conn:
            upsert_frame(conn, table_of(Customer), customers)
            upsert_frame(conn, table_of(Account), accounts)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Account)).scalar_one() == 2
        rows = conn.execute(select(Account.account_no, Account.open_date).order_by(Account.account_no)).all()
    assert rows == [("A1", date(2020, 1, 1)), ("A2", date(2021, 5, 6))]


def test_upsert_updates_changed_rows(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    base = pd.DataFrame({"customer_id": [1], "customer_ref": ["CUS1"], "customer_type": ["individual"],
                         "rm_id": ["R1"]})
    with engine.begin() as conn:
        upsert_frame(conn, table_of(Customer), base)
        upsert_frame(conn, table_of(Customer), base.assign(rm_id="R2"))
    with engine.connect() as conn:
        assert conn.execute(select(Customer.rm_id)).scalar_one() == "R2"
