"""``bank-lifecycle customer show|find`` on SQLite and PostgreSQL: masked by default, reveal audited."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from test_protection_support import Person, Stores, load_people, make_stores, people

from lifecycle.cli import main
from lifecycle.protection import reveal as reveal_module
from lifecycle.protection.customers import ProtectionError
from lifecycle.protection.erasure import erase_customer
from lifecycle.settings import get_settings
from lifecycle.store.models import Customer, LookupAudit, RevealAudit


@pytest.fixture
def bank(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
         ) -> Iterator[tuple[Stores, list[Person], list[str]]]:
    """Three customers; the command line's settings point at their stores."""
    stores = make_stores(database_url, tmp_path)
    persons = people(3)
    refs = load_people(stores, persons)
    monkeypatch.setenv("LIFECYCLE_DATABASE_URL", stores.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LIFECYCLE_KEYSTORE_URL", stores.keystore_url)
    monkeypatch.setenv("LIFECYCLE_KEYRING", stores.keyring.to_json())
    monkeypatch.setenv("USER", "rm.li")
    get_settings.cache_clear()
    yield stores, persons, [refs[p.cust_no] for p in persons]
    get_settings.cache_clear()


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out), out.getvalue()


def _audits(stores: Stores) -> list[tuple[str, list[str], str]]:
    with stores.engine.connect() as conn:
        rows = conn.execute(select(RevealAudit.actor, RevealAudit.fields, RevealAudit.reason)
                            .order_by(RevealAudit.id)).all()
    return [(actor, fields, reason) for actor, fields, reason in rows]


def _plaintexts(person: Person) -> list[str]:
    return [v for v in (person.name, person.mobile, person.id_no, person.email, person.card_no) if v]


def test_show_prints_the_masked_view_only(bank: tuple[Stores, list[Person], list[str]]) -> None:
    stores, persons, refs = bank
    code, text = _run("customer", "show", refs[0])
    assert code == 0
    assert f"{persons[0].name[0]}**" in text and "139****0000" in text and "cards      1" in text
    assert "consent    yes" in text and "erased     no" in text
    assert not [v for v in _plaintexts(persons[0]) if v in text]
    assert _audits(stores) == []


def test_a_reveal_without_a_reason_is_refused_and_decrypts_nothing(
        bank: tuple[Stores, list[Person], list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    stores, persons, refs = bank
    code, text = _run("customer", "show", refs[0], "--reveal")
    assert code == 2 and "--reason" in capsys.readouterr().err  # a usage error
    assert text == "" and _audits(stores) == []
    with pytest.raises(ProtectionError, match="reason"):
        reveal_module.reveal(stores.engine, stores.keystore, stores.keyring, refs[0], ["name"], actor="a",
                             reason="   ", now=datetime(2026, 7, 1))


def test_a_reveal_decrypts_the_chosen_fields_and_is_audited(bank: tuple[Stores, list[Person], list[str]]) -> None:
    stores, persons, refs = bank
    code, text = _run("customer", "show", refs[0], "--reveal", "--reason", "complaint ticket 42",
                      "--fields", "name,mobile,card_no")
    assert code == 0
    assert persons[0].name in text and persons[0].mobile in text and str(persons[0].card_no) in text
    assert persons[0].id_no not in text  # not asked for
    assert _audits(stores) == [("rm.li", ["name", "mobile", "card_no"], "complaint ticket 42")]


def test_the_audit_row_is_written_before_anything_is_decrypted(
        bank: tuple[Stores, list[Person], list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    stores, _, refs = bank

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("crashed while decrypting")

    monkeypatch.setattr(reveal_module, "decrypt_field", crash)
    code, _ = _run("customer", "show", refs[1], "--reveal", "--reason", "KYC refresh", "--actor", "steward.zhao")
    assert code == 70  # the crash is reported as an internal error
    assert _audits(stores) == [("steward.zhao", ["name", "mobile", "id_no"], "KYC refresh")]


def test_revealing_an_erased_customer_fails_and_is_still_recorded(
        bank: tuple[Stores, list[Person], list[str]]) -> None:
    stores, persons, refs = bank
    erase_customer(stores.engine, stores.keystore, refs[2], "dpo", "request 7", datetime(2026, 7, 1))
    code, text = _run("customer", "show", refs[2], "--reveal", "--reason", "audit sample")
    assert code == 1  # refused
    assert "erased     2026-07-01 00:00:00" in text and persons[2].name not in text
    assert _audits(stores) == [("rm.li", ["name", "mobile", "id_no"], "audit sample")]


def test_find_reads_the_id_number_from_stdin_and_prints_masked_results(
        bank: tuple[Stores, list[Person], list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    _, persons, refs = bank
    monkeypatch.setattr("sys.stdin", io.StringIO(persons[1].id_no.lower() + "\n"))
    code, text = _run("customer", "find", "--id-no", "--reason", "caller verification", "--actor", "rm.wang")
    assert code == 0 and refs[1] in text and refs[0] not in text
    assert not [v for v in _plaintexts(persons[1]) if v in text]
    stores = bank[0]
    with stores.engine.connect() as conn:  # the search is recorded: who, why, by what, which customer; no value
        audit = conn.execute(select(LookupAudit.actor, LookupAudit.purpose, LookupAudit.matches,
                                    LookupAudit.reason, LookupAudit.customer_ids)).all()[-1]
        wanted = conn.execute(select(Customer.customer_id).where(Customer.customer_ref == refs[1])).scalar_one()
    assert tuple(audit) == ("rm.wang", "id_no", 1, "caller verification", [wanted])


def test_find_without_a_reason_is_a_usage_error(bank: tuple[Stores, list[Person], list[str]]) -> None:
    with pytest.raises(SystemExit) as done:
        _run("customer", "find", "--mobile", "13700000000")
    assert done.value.code == 2


def test_find_by_mobile_accepts_the_formatted_forms(bank: tuple[Stores, list[Person], list[str]],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _, persons, refs = bank
    mobile = persons[2].mobile
    monkeypatch.setattr("sys.stdin", io.StringIO(f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}\n"))
    code, text = _run("customer", "find", "--mobile", "--reason", "caller verification")
    assert code == 0 and refs[2] in text


def test_find_says_when_nobody_matches(bank: tuple[Stores, list[Person], list[str]]) -> None:
    assert _run("customer", "find", "--mobile", "13700000000", "--reason", "x") == (1, "no customer found\n")
