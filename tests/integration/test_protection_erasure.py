"""Erasure on SQLite and PostgreSQL: crypto-shredding reaches old copies, facts stay, idempotent."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from test_protection_support import Person, Stores, add_rows, customer, decrypt_name, load_people, make_stores, people

from lifecycle.errors import KeyringError
from lifecycle.privacy.blind_index import blind_index
from lifecycle.protection.customers import ProtectionError, UnknownCustomerError
from lifecycle.protection.erasure import CLEARED_COLUMNS, ErasureResult, erase_customer, replay_erasures
from lifecycle.store.db import make_engine
from lifecycle.store.models import (
    Account,
    Card,
    CardTransaction,
    Erasure,
    OutboxMessage,
    QuarantinedRow,
    RetentionTask,
    SourceLink,
    Transaction,
)
from lifecycle.store.parties import ERASED_MATCH_RULE, erased_customer_ids

NOW = datetime(2026, 7, 1, 9, 30)


@dataclass
class Bank:
    stores: Stores
    persons: list[Person]
    refs: list[str]  # customer_ref per person
    ids: list[int]


def _facts(stores: Stores, ids: list[int], persons: list[Person]) -> None:
    """Accounts, transactions, card spending, messages, tasks and quarantine for customers 0 and 1."""
    add_rows(stores.engine, Account, [{"account_no": f"A{i}", "customer_id": ids[i], "product_code": "DD-SAV",
                                       "open_date": date(2015, 3, 1)} for i in (0, 1)])
    add_rows(stores.engine, Transaction, [
        {"txn_id": f"T{i}-{k}", "account_no": f"A{i}", "customer_id": ids[i], "txn_time": datetime(2026, 6, k + 1),
         "amount": Decimal("100.00"), "direction": "CR"} for i in (0, 1) for k in range(3)])
    with stores.engine.connect() as conn:
        card_ref = conn.execute(select(Card.card_ref).where(Card.customer_id == ids[0])).scalar_one()
    add_rows(stores.engine, CardTransaction, [{"txn_id": "CT1", "card_ref": card_ref, "customer_id": ids[0],
                                               "txn_time": datetime(2026, 6, 2), "amount": Decimal("9.90")}])
    add_rows(stores.engine, OutboxMessage, [
        {"message_key": f"{kind}-{i}", "customer_id": ids[i], "kind": "care_message", "channel": "sms",
         "route": ["customer-gateway"], "template": "birthday", "locale": "zh_CN", "recipient": f"C{i}",
         "as_of": NOW.date(), "context_enc": b"\x01sealed", "not_before": NOW, "status": status, "attempts": 0,
         "created_at": NOW, "sent_at": NOW if status == "sent" else None}
        for i in (0, 1) for kind, status in (("p", "pending"), ("s", "sent"))])
    add_rows(stores.engine, RetentionTask, [
        {"task_key": f"aum-drop-{i}", "customer_id": ids[i], "as_of": NOW.date(), "trigger": "stage_entered",
         "reasons": '[{"rule": "aum_drop_90d"}]', "priority": "P2", "suggested_action": "call",
         "assignee": "rm-RM00001", "due_date": NOW.date(), "status": "open", "created_at": NOW, "updated_at": NOW,
         "rules_version": "test@0"} for i in (0, 1)])
    add_rows(stores.engine, QuarantinedRow, [
        {"run_id": "r1", "source": "core_customers", "file": "core_customers.csv", "row_number": i + 1,
         "source_key": persons[i].cust_no, "failures": [{"rule": "mobile_format"}], "raw_enc": b"\x01sealed",
         "created_at": NOW} for i in (0, 1)])


@pytest.fixture
def bank(database_url: str, tmp_path: Path) -> Bank:
    stores = make_stores(database_url, tmp_path)
    persons = people(4)
    by_cust_no = load_people(stores, persons)
    refs = [by_cust_no[p.cust_no] for p in persons]
    ids = [int(str(customer(stores.engine, r)["customer_id"])) for r in refs]
    _facts(stores, ids, persons)
    return Bank(stores, persons, refs, ids)


def _count(bank: Bank, model: type, **where: object) -> int:
    table = model.__table__  # type: ignore[attr-defined]
    clauses = [table.c[k] == v for k, v in where.items()]
    with bank.stores.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*clauses)).scalar_one())


def _erase(bank: Bank, index: int = 0) -> ErasureResult:
    return erase_customer(bank.stores.engine, bank.stores.keystore, bank.refs[index], "dpo.wang",
                          "PIPL deletion request #2026-0042", NOW)


def _sqlite_snapshot(bank: Bank, target: Path) -> Path:
    """Copy the main database file (and its WAL) the way a file-level backup would."""
    source = Path(str(bank.stores.engine.url.database))
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy2(f"{source}{suffix}", f"{target}{suffix}")
    return target


def test_a_copy_of_the_main_database_taken_before_erasure_no_longer_decrypts_that_customer(
        sqlite_url: str, tmp_path: Path) -> None:
    stores = make_stores(sqlite_url, tmp_path)
    persons = people(3)
    refs = load_people(stores, persons)
    bank = Bank(stores, persons, [refs[p.cust_no] for p in persons], [])
    backup = make_engine(f"sqlite:///{_sqlite_snapshot(bank, tmp_path / 'backup.db')}")
    assert "customer_keys" not in inspect(backup).get_table_names()  # keys are not in the backup
    assert decrypt_name(backup, stores.keystore, stores.keyring, bank.refs[0]) == persons[0].name

    _erase(bank)

    assert customer(backup, bank.refs[0])["name_enc"] is not None  # the old ciphertext is still there …
    with pytest.raises(KeyringError, match="no data key"):  # … but its key is gone
        decrypt_name(backup, stores.keystore, stores.keyring, bank.refs[0])
    with pytest.raises(KeyringError, match="no data key"):
        decrypt_name(stores.engine, stores.keystore, stores.keyring, bank.refs[0])
    assert decrypt_name(backup, stores.keystore, stores.keyring, bank.refs[1]) == persons[1].name
    assert decrypt_name(stores.engine, stores.keystore, stores.keyring, bank.refs[2]) == persons[2].name


def test_erasure_clears_the_customers_pii_and_keeps_the_facts(bank: Bank) -> None:
    old_card_ref = blind_index(bank.stores.keyring, "card_no", bank.persons[0].card_no)
    before = customer(bank.stores.engine, bank.refs[0])
    assert (before["occupation"], before["income_band"], before["marital_status"], before["dependants"]) == (
        "PROFESSIONAL", "10K_20K", "MARRIED", 1)  # demographics loaded, so clearing them below means something
    result = _erase(bank)

    row = customer(bank.stores.engine, bank.refs[0])
    assert {c: row[c] for c in CLEARED_COLUMNS} == dict.fromkeys(CLEARED_COLUMNS)
    assert row["erased_at"] == NOW and row["marketing_consent"] is False
    assert bank.stores.keystore.customer_keys([bank.ids[0]]).empty
    with bank.stores.engine.connect() as conn:
        card = conn.execute(select(Card.__table__).where(Card.customer_id == bank.ids[0])).one()
    assert (card.card_no_enc, card.card_no_masked) == (None, None) and card.card_ref != old_card_ref
    assert _count(bank, CardTransaction, card_ref=card.card_ref) == 1  # spending follows the new ref
    assert _count(bank, Account, customer_id=bank.ids[0]) == 1
    assert _count(bank, Transaction, customer_id=bank.ids[0]) == 3
    assert _count(bank, OutboxMessage, customer_id=bank.ids[0], status="cancelled") == 1
    assert _count(bank, OutboxMessage, customer_id=bank.ids[0], context_enc=None) == 2
    assert _count(bank, OutboxMessage, customer_id=bank.ids[1], status="pending") == 1
    assert _count(bank, RetentionTask, customer_id=bank.ids[0], status="cancelled") == 1
    assert _count(bank, QuarantinedRow, source_key=bank.persons[0].cust_no) == 0
    assert _count(bank, QuarantinedRow, source_key=bank.persons[1].cust_no) == 1
    assert (result.key_destroyed, result.cards_cleared, result.messages_cancelled, result.tasks_cancelled,
            result.quarantine_rows_deleted, result.already_erased) == (True, 1, 1, 1, 1, False)
    with bank.stores.engine.connect() as conn:
        erasures = conn.execute(select(Erasure.customer_id, Erasure.requested_by, Erasure.reason,
                                       Erasure.messages_cancelled)).all()
    assert erasures == [(bank.ids[0], "dpo.wang", "PIPL deletion request #2026-0042", 1)]
    assert decrypt_name(bank.stores.engine, bank.stores.keystore, bank.stores.keyring, bank.refs[1]) \
        == bank.persons[1].name


def test_erasing_twice_says_already_erased_and_records_once(bank: Bank) -> None:
    _erase(bank)
    again = _erase(bank)
    assert again.already_erased and not again.key_destroyed and again.erased_at == NOW
    assert _count(bank, Erasure) == 1
    with bank.stores.engine.connect() as conn:
        assert erased_customer_ids(conn) == {bank.ids[0]}
        assert erased_customer_ids(conn, among=bank.ids[1:]) == set()


def test_a_reference_that_is_not_one_is_refused_without_repeating_it(bank: Bank) -> None:
    with pytest.raises(ProtectionError) as refused:
        erase_customer(bank.stores.engine, bank.stores.keystore, bank.persons[0].name, "dpo", "request", NOW)
    assert bank.persons[0].name not in str(refused.value)
    with pytest.raises(UnknownCustomerError, match="CUS9999999999"):
        erase_customer(bank.stores.engine, bank.stores.keystore, "CUS9999999999", "dpo", "request", NOW)
    with pytest.raises(ProtectionError, match="reason is required"):
        erase_customer(bank.stores.engine, bank.stores.keystore, bank.refs[0], "dpo", "  ", NOW)
    assert _count(bank, Erasure) == 0


def test_replaying_erasures_after_a_key_store_restore_destroys_the_key_again(bank: Bank) -> None:
    backup = bank.stores.keystore.customer_keys([bank.ids[0]]).assign(master_version=1, created_at=NOW)
    _erase(bank)
    bank.stores.keystore.add_customer_keys(backup)  # the key store is restored from a backup
    assert decrypt_name(bank.stores.engine, bank.stores.keystore, bank.stores.keyring, bank.refs[1])

    assert replay_erasures(bank.stores.engine, bank.stores.keystore) == 1

    assert bank.stores.keystore.customer_keys([bank.ids[0]]).empty
    assert replay_erasures(bank.stores.engine, bank.stores.keystore) == 0


def test_keys_replay_erasures_on_the_command_line_destroys_a_restored_key(
        bank: Bank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from lifecycle.cli import main
    from lifecycle.privacy.keyring import write_keyring
    from lifecycle.settings import get_settings

    backup = bank.stores.keystore.customer_keys([bank.ids[0]]).assign(master_version=1, created_at=NOW)
    _erase(bank)
    bank.stores.keystore.add_customer_keys(backup)
    monkeypatch.setenv("LIFECYCLE_DATABASE_URL", bank.stores.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LIFECYCLE_KEYSTORE_URL", bank.stores.keystore_url)
    monkeypatch.setenv("LIFECYCLE_KEYRING_FILE", str(write_keyring(bank.stores.keyring, tmp_path / "keyring.json")))
    get_settings.cache_clear()
    try:
        out = io.StringIO()
        assert main(["keys", "replay-erasures"], out) == 0
    finally:
        get_settings.cache_clear()
    assert out.getvalue() == ("erasures replayed: 0 customer(s) erased again from the erasure log, "
                              "1 key(s) of erased customers destroyed\n")
    assert bank.stores.keystore.customer_keys([bank.ids[0]]).empty


def test_a_returning_record_of_an_erased_customer_becomes_a_new_customer(bank: Bank) -> None:
    _erase(bank)
    again = load_people(bank.stores, bank.persons[:1])[bank.persons[0].cust_no]

    assert again != bank.refs[0]
    assert decrypt_name(bank.stores.engine, bank.stores.keystore, bank.stores.keyring, again) == bank.persons[0].name

    with bank.stores.engine.connect() as conn:
        links = conn.execute(select(SourceLink.customer_id, SourceLink.match_rule)
                             .where(SourceLink.source_key == bank.persons[0].cust_no)).all()
    assert len(links) == 1 and links[0][0] != bank.ids[0] and links[0][1] == ERASED_MATCH_RULE
    assert customer(bank.stores.engine, bank.refs[0])["name_enc"] is None  # the erased record stays erased
    assert bank.stores.keystore.customer_keys([bank.ids[0]]).empty
