"""Values altered in the store fail closed, with an error or finding naming table, row and column.

One integrated day for the module; each test copies its home (both SQLite
databases and the keyring file), alters one thing with plain SQL or by editing
the keyring file — as someone with write access to the files would — and reads
through the platform: the audited reveal, the quarantine listing and the
store's verification (lifecycle/protection/integrity.py). Nothing tampered
ever decrypts into a wrong value, and no message quotes a value.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from lifecycle.bootstrap import Context, build_context
from lifecycle.errors import DecryptionError, KeyringError
from lifecycle.integration.quarantine import list_rows
from lifecycle.privacy.keyring import Keyring
from lifecycle.protection.integrity import Finding, verify_store
from lifecycle.protection.reveal import reveal
from lifecycle.settings import Settings
from lifecycle.store.keystore import CustomerKey
from lifecycle.store.models import Card, Customer, QuarantinedRow

AS_OF = date(2026, 6, 30)
NOW = datetime(2026, 7, 1, 10)
pytestmark = [pytest.mark.slow, pytest.mark.reliability]


@dataclass(frozen=True)
class Store:
    ctx: Context
    keyring_file: Path
    a: int  # two individual customers with every PII field
    b: int
    plain: list[str]  # their name, mobile and ID number, read before any tampering

    def ref(self, customer_id: int) -> str:
        with self.ctx.engine.connect() as conn:
            return str(conn.execute(select(Customer.customer_ref).where(Customer.customer_id == customer_id))
                       .scalar_one())

    def sql(self, statement: str, **params: object) -> None:
        with self.ctx.engine.begin() as conn:
            conn.execute(text(statement), params)

    def reveal(self, customer_id: int, *fields: str) -> list[tuple[str, str | None]]:
        return reveal(self.ctx.engine, self.ctx.keystore, self.ctx.keyring, self.ref(customer_id),
                      list(fields or ("name", "mobile", "id_no")), actor="steward", reason="tamper check", now=NOW)


@pytest.fixture(scope="module")
def integrated(tmp_path_factory: pytest.TempPathFactory, generated_bank: Path,
               use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> Iterator[Path]:
    from lifecycle.integration.service import run_day
    from tasks.context import flow_context, reset

    home = tmp_path_factory.mktemp("tamper") / "home"
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home, generated_bank / "landing")
        assert str(run_day(flow_context(), AS_OF).status) == "succeeded"
        flow_context().dispose()
        reset()
    yield home


@pytest.fixture
def store(integrated: Path, tmp_path: Path) -> Iterator[Store]:
    home = tmp_path / "home"
    shutil.copytree(integrated, home)
    keyring_file = home / "keyring.json"
    ctx = build_context(Settings(home=home, landing_dir=tmp_path), keyring=lambda: Keyring.from_file(keyring_file))
    with ctx.engine.connect() as conn:
        ids = conn.execute(select(Customer.customer_id).where(
            Customer.customer_type == "individual", Customer.name_enc.is_not(None), Customer.mobile_enc.is_not(None),
            Customer.id_no_enc.is_not(None)).order_by(Customer.customer_id).limit(2)).scalars().all()
    store = Store(ctx, keyring_file, int(ids[0]), int(ids[1]), [])
    store.plain.extend(str(v) for i in ids for _, v in store.reveal(int(i)) if v)
    assert len(store.plain) == 6
    yield store
    ctx.dispose()


def _blob(store: Store, column: str, customer_id: int) -> bytes:
    with store.ctx.engine.connect() as conn:
        return bytes(conn.execute(select(getattr(Customer, column)).where(Customer.customer_id == customer_id))
                     .scalar_one())


def _set(store: Store, column: str, customer_id: int, value: object) -> None:
    with store.ctx.engine.begin() as conn:
        conn.execute(update(Customer).where(Customer.customer_id == customer_id).values({column: value}))


def _refused(store: Store, customer_id: int, column: str, *fields: str) -> DecryptionError:
    with pytest.raises(DecryptionError) as err:
        store.reveal(customer_id, *fields)
    message = str(err.value)
    assert f"table=customers, column={column}, customer_id={customer_id}" in message
    assert not any(v in message for v in store.plain)
    return err.value


def test_the_untouched_store_verifies_clean(store: Store) -> None:
    report = verify_store(store.ctx.engine, store.ctx.keystore, store.ctx.keyring, batch_size=97)
    assert report.customers > 300 and report.values > 2000 and report.findings == []


def test_a_bit_flipped_ciphertext_is_refused_naming_table_column_and_customer(store: Store) -> None:
    blob = _blob(store, "name_enc", store.a)
    _set(store, "name_enc", store.a, blob[:-1] + bytes([blob[-1] ^ 0x01]))
    _refused(store, store.a, "name", "name")
    report = verify_store(store.ctx.engine, store.ctx.keystore, store.ctx.keyring)
    assert report.findings == [Finding("customers", str(store.a), "name_enc", "ciphertext_invalid")]


def test_a_truncated_ciphertext_is_refused(store: Store) -> None:
    _set(store, "mobile_enc", store.a, _blob(store, "mobile_enc", store.a)[:20])
    _refused(store, store.a, "mobile", "mobile")


def test_two_customers_ciphertexts_swapped_are_refused_for_both(store: Store) -> None:
    a, b = _blob(store, "id_no_enc", store.a), _blob(store, "id_no_enc", store.b)
    _set(store, "id_no_enc", store.a, b)
    _set(store, "id_no_enc", store.b, a)
    _refused(store, store.a, "id_no", "id_no")
    _refused(store, store.b, "id_no", "id_no")
    found = verify_store(store.ctx.engine, store.ctx.keystore, store.ctx.keyring).findings
    assert {(f.row, f.column, f.rule) for f in found} >= {(str(store.a), "id_no_enc", "ciphertext_invalid"),
                                                          (str(store.b), "id_no_enc", "ciphertext_invalid")}


def test_a_ciphertext_moved_to_another_column_of_the_same_customer_is_refused(store: Store) -> None:
    _set(store, "mobile_enc", store.a, _blob(store, "name_enc", store.a))
    _refused(store, store.a, "mobile", "mobile")


def test_a_blind_index_copied_from_another_customer_is_found_by_verification(store: Store) -> None:
    with store.ctx.engine.connect() as conn:
        b_index = conn.execute(select(Customer.id_no_bidx).where(Customer.customer_id == store.b)).scalar_one()
    _set(store, "id_no_bidx", store.a, b_index)  # a search for B's ID number would now also find A
    found = verify_store(store.ctx.engine, store.ctx.keystore, store.ctx.keyring).findings
    assert found == [Finding("customers", str(store.a), "id_no_bidx", "blind_index_mismatch")]
    assert "row" in str(found[0]) and "id_no_bidx" in str(found[0])


def test_a_card_number_moved_to_another_card_is_found_by_verification(store: Store) -> None:
    with store.ctx.engine.connect() as conn:
        cards = conn.execute(select(Card.card_ref, Card.customer_id, Card.card_no_enc)
                             .where(Card.card_no_enc.is_not(None)).order_by(Card.card_ref).limit(1)).all()
    (ref, owner, _), = cards
    other = _blob(store, "name_enc", int(owner))  # a valid ciphertext of the same customer, not a card number
    with store.ctx.engine.begin() as conn:
        conn.execute(update(Card).where(Card.card_ref == ref).values(card_no_enc=other))
    found = verify_store(store.ctx.engine, store.ctx.keystore, store.ctx.keyring).findings
    assert found == [Finding("cards", str(ref), "card_no_enc", "ciphertext_invalid")]


def test_an_altered_wrapped_key_is_refused_naming_the_customer(store: Store) -> None:
    with store.ctx.keystore.engine.begin() as conn:
        wrapped = bytes(conn.execute(select(CustomerKey.wrapped_key).where(CustomerKey.customer_id == store.a))
                        .scalar_one())
        conn.execute(update(CustomerKey).where(CustomerKey.customer_id == store.a)
                     .values(wrapped_key=wrapped[:20] + bytes([wrapped[20] ^ 0x80]) + wrapped[21:]))
    with pytest.raises(DecryptionError) as err:
        store.reveal(store.a)
    assert f"customer_id={store.a}" in str(err.value) and "unwrap" in str(err.value)
    found = verify_store(store.ctx.engine, store.ctx.keystore, store.ctx.keyring).findings
    assert found == [Finding("customer_keys", str(store.a), "wrapped_key", "data_key_invalid")]


def test_a_wrapped_key_copied_from_another_customer_is_refused(store: Store) -> None:
    with store.ctx.keystore.engine.begin() as conn:
        b_key = conn.execute(select(CustomerKey.wrapped_key).where(CustomerKey.customer_id == store.b)).scalar_one()
        conn.execute(update(CustomerKey).where(CustomerKey.customer_id == store.a).values(wrapped_key=b_key))
    with pytest.raises(DecryptionError, match=f"customer_id={store.a}"):
        store.reveal(store.a)


def test_a_deleted_key_store_row_is_refused_and_found(store: Store) -> None:
    with store.ctx.keystore.engine.begin() as conn:
        conn.execute(CustomerKey.__table__.delete().where(CustomerKey.customer_id == store.a))
    with pytest.raises(KeyringError, match="no data key for customer"):
        store.reveal(store.a)
    found = verify_store(store.ctx.engine, store.ctx.keystore, store.ctx.keyring).findings
    assert found == [Finding("customer_keys", str(store.a), "wrapped_key", "data_key_missing")]


def _edit_keyring(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(json.dumps(raw), encoding="utf-8")


def test_a_keyring_file_with_an_altered_master_key_decrypts_nothing(store: Store) -> None:
    def alter(raw: dict[str, Any]) -> None:
        version = str(raw["active"])
        key = bytearray(base64.b64decode(raw["master_keys"][version]))
        key[0] ^= 0x01  # one bit of the master key
        raw["master_keys"][version] = base64.b64encode(bytes(key)).decode()

    _edit_keyring(store.keyring_file, alter)
    keyring = Keyring.from_file(store.keyring_file)  # well-formed: only the keys' use can tell
    with pytest.raises(DecryptionError, match=f"customer_id={store.a}"):
        reveal(store.ctx.engine, store.ctx.keystore, keyring, store.ref(store.a), ["name"], actor="steward",
               reason="tamper check", now=NOW)
    report = verify_store(store.ctx.engine, store.ctx.keystore, keyring)
    assert report.customers > 300 and len(report.findings) == report.customers  # every data key fails
    assert {f.rule for f in report.findings} == {"data_key_invalid"}


def test_a_corrupted_keyring_file_is_refused_naming_the_file(store: Store) -> None:
    store.keyring_file.write_text(store.keyring_file.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    with pytest.raises(KeyringError) as err:
        Keyring.from_file(store.keyring_file)
    assert str(store.keyring_file) in str(err.value) or store.keyring_file.name in str(err.value)


def test_a_keyring_without_the_keys_version_is_refused_naming_the_version(store: Store) -> None:
    keyring = Keyring.from_file(store.keyring_file)
    newer = keyring.with_new_version()
    retired = newer.without_version(keyring.active_version)  # retired before rotating
    with pytest.raises(KeyringError, match=f"version {keyring.active_version}"):
        reveal(store.ctx.engine, store.ctx.keystore, retired, store.ref(store.a), ["name"], actor="steward",
               reason="tamper check", now=NOW)
    with pytest.raises(KeyringError, match=f"version {keyring.active_version}"):
        verify_store(store.ctx.engine, store.ctx.keystore, retired)


def test_two_quarantined_rows_swapped_are_refused_naming_the_quarantine(store: Store) -> None:
    with store.ctx.engine.connect() as conn:
        rows = conn.execute(select(QuarantinedRow.id, QuarantinedRow.raw_enc).where(
            QuarantinedRow.source == "core_customers").order_by(QuarantinedRow.id).limit(2)).all()
    (first, first_raw), (second, second_raw) = rows
    with store.ctx.engine.begin() as conn:
        conn.execute(update(QuarantinedRow).where(QuarantinedRow.id == first).values(raw_enc=second_raw))
        conn.execute(update(QuarantinedRow).where(QuarantinedRow.id == second).values(raw_enc=first_raw))
    with store.ctx.engine.connect() as conn, pytest.raises(DecryptionError) as err:
        list_rows(conn, store.ctx.keystore, store.ctx.keyring, store.ctx.sources, source="core_customers")
    message = str(err.value)
    assert "quarantined row" in message and "core_customers" in message and "row_number" not in message


def test_keys_verify_names_the_tampered_row_and_exits_1(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle.cli import main

    monkeypatch.setenv("LIFECYCLE_HOME", str(store.ctx.settings.home))
    monkeypatch.setenv("LIFECYCLE_KEYRING_FILE", str(store.keyring_file))
    for name in ("LIFECYCLE_DATABASE_URL", "LIFECYCLE_KEYSTORE_URL", "LIFECYCLE_KEYRING"):
        monkeypatch.delenv(name, raising=False)
    out = io.StringIO()
    assert main(["keys", "verify"], out) == 0 and "0 finding(s)" in out.getvalue()
    with store.ctx.engine.connect() as conn:
        b_index = conn.execute(select(Customer.mobile_bidx).where(Customer.customer_id == store.b)).scalar_one()
    _set(store, "mobile_bidx", store.a, b_index)
    out = io.StringIO()
    assert main(["keys", "verify"], out) == 1
    assert f"table customers, row {store.a}, column mobile_bidx: blind_index_mismatch" in out.getvalue()
    assert not any(v in out.getvalue() for v in store.plain)
