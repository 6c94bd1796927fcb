"""Labels, groups, the management report and customer 360 on a generated bank, decided on two days."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from lifecycle.bootstrap import Context, build_context, upgrade_stores
from lifecycle.cli import main as cli
from lifecycle.decisioning.service import decide_day
from lifecycle.integration.service import run_day
from lifecycle.privacy.keyring import generate_keyring, write_keyring
from lifecycle.reporting import CHART_IDS
from lifecycle.reporting.from_store import write_management_report
from lifecycle.segments.groups import group_sizes
from lifecycle.segments.service import label_day
from lifecycle.settings import Settings
from lifecycle.store.models import Customer, CustomerDecision, CustomerLabel, GroupMembership, Interaction
from lifecycle.synth.reading import read_extract
from tests.support.browser import chromium

D = date(2026, 6, 30)
D1 = D + timedelta(days=1)
CUSTOMERS, SEED = 600, 31


@dataclass
class Bank:
    ctx: Context
    gen: Path
    keyring_file: Path
    secrets: set[str]


def _secrets(gen: Path) -> set[str]:
    core, cards = read_extract(gen, "core_customers"), read_extract(gen, "card_customers")
    values = [*core["cust_name"], *core["id_no"], *core["mobile"], *cards["CUST_NM"], *cards["CERT_NO"],
              *cards["MOBILE_NO"]]
    return {str(v) for v in values if isinstance(v, str) and len(v) >= 2}


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    from lifecycle.synth.cli import main as synth

    work = tmp_path_factory.mktemp("c360")
    gen, delta, landing = work / "gen", work / "delta", work / "landing"
    assert synth(["--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", D.isoformat(), "--out",
                  str(gen)]) in (0, None)
    assert synth(["--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", D1.isoformat(), "--out",
                  str(delta), "--delta-fraction", "0.4"]) in (0, None)
    shutil.copytree(gen / "landing" / str(D), landing / str(D))
    shutil.copytree(delta / "landing" / str(D1), landing / str(D1))
    settings = Settings(home=work / "home", landing_dir=landing)
    upgrade_stores(settings)
    keyring = generate_keyring(development_only=True)
    ctx = build_context(settings, keyring=keyring)
    for day in (D, D1):
        assert run_day(ctx, day).status == "succeeded"
        decide_day(ctx, day)
        label_day(ctx, day)
    yield Bank(ctx, gen, write_keyring(keyring, work / "keyring.json"), _secrets(gen))
    ctx.dispose()


def _frame(bank: Bank, stmt: object) -> pd.DataFrame:
    with bank.ctx.engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all())  # type: ignore[call-overload]


def test_every_decided_customer_is_labelled_with_reasons_and_version(bank: Bank) -> None:
    labels = _frame(bank, select(CustomerLabel).where(CustomerLabel.as_of == D1))
    decided = _frame(bank, select(CustomerDecision.customer_id, Customer.customer_type).join(
        Customer, Customer.customer_id == CustomerDecision.customer_id).where(CustomerDecision.as_of == D1))
    kinds = decided.set_index("customer_id")["customer_type"]
    per = labels.groupby("customer_id")["label"].apply(set)
    individuals, corporates = kinds[kinds == "individual"].index, kinds[kinds == "corporate"].index
    assert all({"aum_band", "debt", "digital_affinity", "card_spending"} <= per[c] for c in individuals)
    assert all({"company_size", "industry", "cooperation"} <= per[c] for c in corporates if c in per)
    assert sum("age_band" in per[c] for c in individuals) >= 0.95 * len(individuals)
    assert labels["version"].str.startswith("bank-labels@").all()
    assert all(json.loads(r) and "rule" in json.loads(r)[0] for r in labels["reasons"])
    assert set(labels["dimension"]) >= {"demographics", "financial", "consumption", "digital", "corporate_size",
                                        "industry", "regional", "life_stage", "cooperation"}


def test_labelling_a_day_again_gives_the_same_rows(bank: Bank) -> None:
    before = _frame(bank, select(CustomerLabel).where(CustomerLabel.as_of == D1)).sort_values(
        ["customer_id", "label"]).reset_index(drop=True)
    again = label_day(bank.ctx, D1)
    after = _frame(bank, select(CustomerLabel).where(CustomerLabel.as_of == D1)).sort_values(
        ["customer_id", "label"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)
    assert all(g.joined == 0 and g.left == 0 for g in again.groups)


def test_group_membership_follows_the_decisions_of_each_day(bank: Bank) -> None:
    tiers = _frame(bank, select(CustomerDecision.customer_id, CustomerDecision.as_of, CustomerDecision.value_tier,
                                CustomerDecision.lifecycle_stage))
    for day in (D, D1):
        mine = tiers[tiers["as_of"] == day]
        sizes = group_sizes(bank.ctx.engine.connect(), day)
        assert sizes.get("hnw_club", 0) == int(mine["value_tier"].isin(["high_value", "private_banking"]).sum())
        assert sizes.get("winback", 0) == int(mine["lifecycle_stage"].isin(["declining", "dormant"]).sum())
    history = _frame(bank, select(GroupMembership))
    assert (history["joined_on"] == D).any()
    left = history[history["left_on"].notna()]
    assert (left["left_on"] == D1).all() and left["leave_reason"].str.startswith("no longer meets").all()


@pytest.fixture(scope="module")
def report(bank: Bank) -> Path:
    return write_management_report(bank.ctx, D1).path


def test_the_management_report_renders_in_chromium_with_every_chart(bank: Bank, report: Path,
                                                                     tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    with chromium() as browser, browser.open(report, screenshot=shot) as page:
        assert page.problems() == []
        assert len(page.log.requests) == 1  # the page itself: nothing else is fetched
        for chart in CHART_IDS:
            assert page.is_visible(f"#{chart}")
        assert "示例银行高净值客户俱乐部" in page.text("body")
    assert shot.stat().st_size > 60_000


def test_the_report_holds_no_personal_data(bank: Bank, report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    refs = {str(r) for r in _frame(bank, select(Customer.customer_ref))["customer_ref"]}
    assert [s for s in bank.secrets if s in html] == [] and [r for r in refs if r in html] == []


def test_customer_show_prints_every_section_and_no_plaintext(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.context import reset

    member = _frame(bank, select(Customer.customer_ref).join(
        GroupMembership, GroupMembership.customer_id == Customer.customer_id).where(
        Customer.customer_type == "individual").limit(1))["customer_ref"].iloc[0]
    monkeypatch.setenv("LIFECYCLE_HOME", str(bank.ctx.settings.home))
    monkeypatch.setenv("LIFECYCLE_LANDING_DIR", str(bank.ctx.settings.landing_dir))
    monkeypatch.setenv("LIFECYCLE_KEYRING_FILE", str(bank.keyring_file))
    reset()
    out = io.StringIO()
    assert cli(["customer", "show", member], out=out) == 0
    text = out.getvalue()
    for section in ("decision", "stage history", "features", "labels", "groups", "timeline", "open complaints",
                    "retention tasks", "messages"):
        assert f"\n{section}\n" in text, section
    assert "示例银行" in text and "aum_band" in text
    assert [s for s in bank.secrets if len(s) >= 3 and s in text] == []


def test_customer_show_prints_the_interaction_timeline_and_the_unresolved_complaints(
        bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.context import reset

    rows = _frame(bank, select(Interaction.case_ref, Interaction.customer_id, Interaction.interaction_time,
                               Interaction.interaction_id, Interaction.complaint_status)
                  .where(Interaction.complaint_status.is_not(None)))
    last = rows.sort_values(["interaction_time", "interaction_id"]).groupby("case_ref").last()
    unresolved = last[last["complaint_status"] != "resolved"]
    contacts = _frame(bank, select(Interaction.customer_id))["customer_id"].value_counts()
    owner = int(contacts.reindex(unresolved["customer_id"].unique()).idxmin())  # all their contacts fit the page
    assert contacts[owner] <= 10
    mine = set(unresolved.index[unresolved["customer_id"] == owner])
    resolved = set(last.index[(last["complaint_status"] == "resolved") & (last["customer_id"] == owner)])
    ref = _frame(bank, select(Customer.customer_ref).where(Customer.customer_id == owner))["customer_ref"].iloc[0]
    monkeypatch.setenv("LIFECYCLE_HOME", str(bank.ctx.settings.home))
    monkeypatch.setenv("LIFECYCLE_LANDING_DIR", str(bank.ctx.settings.landing_dir))
    monkeypatch.setenv("LIFECYCLE_KEYRING_FILE", str(bank.keyring_file))
    reset()
    out = io.StringIO()
    assert cli(["customer", "show", ref], out=out) == 0
    text = out.getvalue()
    timeline = text[text.index("\ntimeline\n"):text.index("\nopen complaints\n")]
    complaints = text[text.index("\nopen complaints\n"):text.index("\nretention tasks\n")]
    assert "complaint" in timeline and any(f"{case} " in timeline for case in mine)
    listed = {line.split()[0] for line in complaints.strip().splitlines()[1:]}
    assert listed == mine and not listed & resolved
    assert "due 2026-" in complaints and "OVERDUE" in complaints  # the bank's today is long after the data
