"""A foreign customer base in two systems — no Chinese ID numbers, Spanish mobiles — links across
the systems by configuration alone (tests/data/onboarding/configs/foreign_two_systems.yaml): national
ID through a python-stdnum validator, passport, e-mail, a group-wide customer key, name + date of
birth, name + mobile through phonenumbers; every key blind-indexed, no value in the store in clear."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lifecycle.bootstrap import Context, build_context
from lifecycle.integration.service import run_day
from lifecycle.store.models import Account, Customer, SourceLink, Transaction
from tests.support.validators import NoFailuresGate

ONBOARDING = Path(__file__).resolve().parents[1] / "data" / "onboarding"
AS_OF = date(2026, 6, 30)
# web record -> (the CRM record it is the same person as, or None for a new customer; the rule that links it)
EXPECTED = {
    "W10": ("C001", "id_no"),  # DNI written in lower case
    "W11": ("C002", "email"),  # e-mail in another case, nothing else shared
    "W12": ("C003", "passport"),  # a passport given as an ID number of kind PASSPORT
    "W13": ("C004", "name_birth_date"),  # the name in capitals, the same birth date
    "W14": ("C005", "name_mobile"),  # 0034 655443322 is +34 655 44 33 22
    "W15": ("C006", "customer_key"),  # the group's customer number, nothing else
    "W16": (None, "new"),  # a valid DNI nobody else holds
    "W17": (None, "new"),  # C006's name, another birth date: not the same person
}


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> Iterator[Context]:
    from tasks.context import reset

    use_home(monkeypatch, tmp_path / "home", ONBOARDING / "landing")
    monkeypatch.setenv("LIFECYCLE_SOURCES_FILE", str(ONBOARDING / "configs" / "foreign_two_systems.yaml"))
    monkeypatch.setenv("LIFECYCLE_SUITES_DIR", str(ONBOARDING / "configs" / "foreign_two_systems_suites"))
    reset()
    context = build_context(gate=NoFailuresGate(docs_dir=tmp_path / "docs"))  # the rules under test: identity
    yield context
    context.dispose()
    reset()


def test_a_foreign_two_system_base_links_by_configured_identity_rules(ctx: Context, tmp_path: Path) -> None:
    result = run_day(ctx, AS_OF)
    assert result.status == "succeeded"
    with ctx.engine.connect() as conn:
        links = {(s, k): (c, r) for s, k, c, r in conn.execute(
            select(SourceLink.source, SourceLink.source_key, SourceLink.customer_id, SourceLink.match_rule))}
        assert conn.execute(select(func.count()).select_from(Customer)).scalar_one() == 8
        assert conn.execute(select(func.count()).select_from(Account)).scalar_one() == 3
        assert conn.execute(select(func.count()).select_from(Transaction)).scalar_one() == 3
        keyed = conn.execute(select(func.count()).select_from(Customer).where(
            Customer.email_bidx.is_not(None), Customer.name_birth_date_bidx.is_not(None))).scalar_one()
    assert keyed == 8
    crm = {k: c for (s, k), (c, _) in links.items() if s == "crm_clients"}
    assert len(set(crm.values())) == 6  # the CRM's six clients are six people
    for web, (same_as, rule) in EXPECTED.items():
        customer, match_rule = links[("web_customers", web)]
        assert match_rule == rule, web
        if same_as is None:
            assert customer not in crm.values(), web
        else:
            assert customer == crm[same_as], web
    ctx.engine.dispose()
    stored = (tmp_path / "home" / "lifecycle.db").read_bytes()
    for plaintext in ("12345678Z", "PAA123456", "maria.garcia@example.es", "G-0006", "+34655443322", "García"):
        assert plaintext.encode() not in stored, plaintext


def test_the_second_day_of_a_foreign_base_finds_its_customers_by_their_stored_keys(ctx: Context) -> None:
    """The golden records' keys are of the records' form: a new record of the next day that
    shares only an e-mail or only a passport with a stored customer joins that customer."""
    run_day(ctx, AS_OF, only=["crm_clients"])
    run_day(ctx, AS_OF, only=["web_customers"])
    with ctx.engine.connect() as conn:
        links = {k: (c, r) for k, c, r in conn.execute(
            select(SourceLink.source_key, SourceLink.customer_id, SourceLink.match_rule))}
        assert conn.execute(select(func.count()).select_from(Customer)).scalar_one() == 8
    for web, (same_as, rule) in EXPECTED.items():
        assert links[web][1] == rule, web
        if same_as is not None:
            assert links[web][0] == links[same_as][0], web


def test_a_customer_source_without_the_column_of_a_rule_loads_matching_by_the_others(
        ctx: Context, tmp_path: Path) -> None:
    """Corporates matched on USCC, from an extract with no USCC column: each is its own customer
    (this crashed with KeyError 'uscc' half-way through the load)."""
    import yaml

    from lifecycle.integration.sources import load_sources

    raw = yaml.safe_load((ONBOARDING / "configs" / "foreign_two_systems.yaml").read_text(encoding="utf-8"))
    raw["sources"]["web_customers"]["entity"] = "corporate"
    config = tmp_path / "corporates.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    corporate = build_context(gate=NoFailuresGate(docs_dir=tmp_path / "docs"), sources=load_sources(config))
    try:
        assert run_day(corporate, AS_OF, only=["web_customers"]).status == "succeeded"
        with corporate.engine.connect() as conn:
            types = conn.execute(select(Customer.customer_type, func.count()).group_by(Customer.customer_type)).all()
        assert types == [("corporate", len(EXPECTED))]
    finally:
        corporate.dispose()
