"""Care campaigns and the loyalty ledger on a generated bank: the right customers, with consent, once.

Recipients are checked against what the generator planted (birth dates, opening
dates, genders and surnames in ``truth/customers.csv``), joined to the store's
customers through the generator's identities, never against the planner's own
output. Festival dates come from the Chinese calendar (lunardate), not from a list.
Messages are delivered to a local HTTP endpoint (apprise ``json://``), and counted there.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from lunardate import LunarDate
from sqlalchemy import delete, func, insert, select, update

from lifecycle.bootstrap import Context, build_context, upgrade_stores
from lifecycle.care.campaigns import campaign_report, plan_campaigns
from lifecycle.care.config import CareRuleSet
from lifecycle.care.consent import set_preferences, withheld
from lifecycle.care.loyalty import LoyaltyError, months_before, post_day, reconcile, redeem
from lifecycle.care.outbox import dispatch
from lifecycle.cli import main as cli
from lifecycle.decisioning.service import decide_day
from lifecycle.integration.service import run_day
from lifecycle.privacy.fields import decrypt_field
from lifecycle.privacy.keyring import Keyring, generate_keyring, write_keyring
from lifecycle.settings import Settings
from lifecycle.store.models import (
    CampaignSuppression,
    CardTransaction,
    Customer,
    CustomerDecision,
    Interaction,
    OutboxMessage,
    PointsBalance,
    PointsEntry,
    SourceLink,
    TierEvent,
    Transaction,
)
from lifecycle.synth.reading import read_truth
from notifications.apprise_notifier import AppriseNotifier
from tasks.care import renderer_of
from tests.support.clocks import MovableClock, bank_time

if TYPE_CHECKING:
    from tests.support.http_sink import HttpSink

pytest_plugins = ["tests.support.http_sink"]
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
CHILD = ROOT / "tests" / "support" / "dispatch_child.py"
D = date(2026, 6, 30)
D1 = D + timedelta(days=1)
CUSTOMERS, SEED = 1200, 23
CAP_DAYS = 7
PRIORITY = {"birthday": 1, "tier_upgrade": 2, "anniversary": 3, "festival": 4, "loyalty_offer": 6,
            "points_statement": 7}


@dataclass
class Bank:
    ctx: Context
    keyring: Keyring
    keyring_file: Path
    gen: Path
    truth: pd.DataFrame  # one row per individual the store knows: customer_id, customer_ref, consent, truth columns


def _truth(ctx: Context, gen: Path) -> pd.DataFrame:
    people = read_truth(gen, "customers")
    people = people[people["customer_type"] == "individual"]
    ids = read_truth(gen, "identities")
    ids = ids[ids["flawed"] == "N"]
    with ctx.engine.connect() as conn:
        links = pd.DataFrame(conn.execute(select(SourceLink.source, SourceLink.source_key,
                                                 SourceLink.customer_id)).all(),
                             columns=["source", "source_key", "customer_id"])
        customers = pd.DataFrame(conn.execute(select(
            Customer.customer_id, Customer.customer_ref, Customer.marketing_consent, Customer.customer_type,
            Customer.erased_at)).all(), columns=["customer_id", "customer_ref", "consent", "type", "erased_at"])
    person = ids.merge(links, on=["source", "source_key"])[["person_id", "customer_id"]].drop_duplicates()
    assert not person["person_id"].duplicated().any()  # each planted person is one customer
    out = people.merge(person, on="person_id").merge(customers, on="customer_id")
    assert (out["type"] == "individual").all()
    out["consent"] = out["consent"].fillna(False).astype(bool)
    return out


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    from lifecycle.synth.cli import main as synth

    work = tmp_path_factory.mktemp("campaigns")
    gen = work / "gen"
    assert synth(["--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", D.isoformat(), "--out", str(gen),
                  "--txns-per-customer", "12"]) in (0, None)
    landing = work / "landing"
    shutil.copytree(gen / "landing" / str(D), landing / str(D))
    delta = work / "delta"
    assert synth(["--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", D1.isoformat(), "--out",
                  str(delta), "--txns-per-customer", "12", "--delta-fraction", "0.4"]) in (0, None)
    shutil.copytree(delta / "landing" / str(D1), landing / str(D1))
    settings = Settings(home=work / "home", landing_dir=landing)
    upgrade_stores(settings)
    keyring = generate_keyring(development_only=True)
    keyring_file = write_keyring(keyring, work / "keyring.json")
    ctx = build_context(settings, keyring=keyring)
    for day in (D, D1):
        assert run_day(ctx, day).status == "succeeded"
        decide_day(ctx, day)
        post_day(ctx, day)
    yield Bank(ctx, keyring, keyring_file, gen, _truth(ctx, gen))
    ctx.dispose()


def at(bank: Bank, moment: datetime, care_rules: CareRuleSet | None = None) -> Context:
    """The bank's context with the clock at ``moment`` (naive machine time)."""
    c = bank.ctx
    return Context(c.settings, c.engine, c.keystore, c.sources, MovableClock(moment), bank.keyring,
                   rules=c.rules, care_rules=care_rules or c.care_rules)


def morning(day: date, hour: int = 8, minute: int = 30) -> datetime:
    return bank_time(hour, minute, day=datetime.combine(day, datetime.min.time()).replace(hour=12))


def _frame(bank: Bank, stmt: object) -> pd.DataFrame:
    with bank.ctx.engine.connect() as conn:
        result = conn.execute(stmt)  # type: ignore[call-overload]
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _queued(bank: Bank, campaign: str, day: date) -> set[str]:
    rows = _frame(bank, select(OutboxMessage.recipient).where(OutboxMessage.kind == f"care_{campaign}",
                                                               OutboxMessage.as_of == day,
                                                               OutboxMessage.status != "cancelled"))
    return set(rows["recipient"])


def _month_day(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce").dt.strftime("%m-%d")


def _window_counts(bank: Bank, day: date) -> Counter[str]:
    rows = _frame(bank, select(OutboxMessage.recipient).where(
        OutboxMessage.kind.like("care_%"), OutboxMessage.status != "cancelled",
        OutboxMessage.as_of > day - timedelta(days=CAP_DAYS), OutboxMessage.as_of < day))
    return Counter(rows["recipient"])


def _expected(bank: Bank, day: date, occasions: dict[str, set[str]]) -> dict[str, set[str]]:
    """Who gets what on ``day``: consenting customers, by priority within the cap (independently of the planner)."""
    cap = bank.ctx.care_rules.rules.campaigns.frequency_cap_messages
    consenting = set(bank.truth.loc[bank.truth["consent"] & bank.truth["erased_at"].isna(), "customer_ref"])
    before = _window_counts(bank, day)
    wanted: dict[str, list[str]] = {}
    for campaign, refs in occasions.items():
        for ref in refs & consenting:
            wanted.setdefault(ref, []).append(campaign)
    out: dict[str, set[str]] = {c: set() for c in occasions}
    for ref, campaigns in wanted.items():
        for campaign in sorted(campaigns, key=PRIORITY.__getitem__)[:max(cap - before[ref], 0)]:
            out[campaign].add(ref)
    return out


def _birthdays(bank: Bank, day: date) -> set[str]:
    t = bank.truth
    return set(t.loc[_month_day(t["birth_date"]) == day.strftime("%m-%d"), "customer_ref"])


def _anniversaries(bank: Bank, day: date) -> set[str]:
    t = bank.truth
    opened = pd.to_datetime(t["open_date"])
    return set(t.loc[(_month_day(t["open_date"]) == day.strftime("%m-%d")) & (opened.dt.year < day.year),
                     "customer_ref"])


def _busiest_birthday(bank: Bank, start: date, days: int) -> date:
    candidates = [start + timedelta(days=i) for i in range(days)]
    return max(candidates, key=lambda d: (len(_birthdays(bank, d) & set(bank.truth.loc[bank.truth["consent"],
                                                                                         "customer_ref"])), d))


def test_tier_upgrades_are_congratulated_once_to_consenting_customers(bank: Bank) -> None:
    day = D1 + timedelta(days=1)
    ups = _frame(bank, select(TierEvent.customer_id).where(TierEvent.as_of == D1, TierEvent.dimension == "value_tier",
                                                            TierEvent.direction == "upgrade"))
    upgraded = set(bank.truth.loc[bank.truth["customer_id"].isin(ups["customer_id"]), "customer_ref"])
    assert upgraded, "the delta day should upgrade someone"
    result = plan_campaigns(at(bank, morning(day)), day)
    assert result.decided_as_of == D1
    expected = _expected(bank, day, {"tier_upgrade": upgraded, "birthday": _birthdays(bank, day),
                                     "anniversary": _anniversaries(bank, day)})
    assert _queued(bank, "tier_upgrade", day) == expected["tier_upgrade"]
    assert _queued(bank, "birthday", day) == expected["birthday"]
    assert _queued(bank, "anniversary", day) == expected["anniversary"]
    again = plan_campaigns(at(bank, morning(day + timedelta(days=1))), day + timedelta(days=1))
    assert "tier_upgrade/sms" not in again.queued  # the same upgrade is not congratulated twice


def test_birthdays_and_anniversaries_reach_exactly_the_planted_customers(bank: Bank) -> None:
    day = _busiest_birthday(bank, date(2026, 7, 12), 40)
    result = plan_campaigns(at(bank, morning(day)), day)
    births, anniversaries = _birthdays(bank, day), _anniversaries(bank, day)
    expected = _expected(bank, day, {"birthday": births, "anniversary": anniversaries})
    assert len(expected["birthday"]) >= 2
    assert _queued(bank, "birthday", day) == expected["birthday"]
    assert _queued(bank, "anniversary", day) == expected["anniversary"]
    unconsented = births - set(bank.truth.loc[bank.truth["consent"], "customer_ref"])
    refused = _frame(bank, select(Customer.customer_ref).join(
        CampaignSuppression, CampaignSuppression.customer_id == Customer.customer_id).where(
        CampaignSuppression.as_of == day, CampaignSuppression.campaign == "birthday",
        CampaignSuppression.reason == "no_consent"))
    assert set(refused["customer_ref"]) == unconsented
    assert result.suppressed.get("birthday/sms", {}).get("no_consent", 0) == len(unconsented)


@pytest.mark.parametrize(("festival", "lunar"), [("中秋节", LunarDate(2026, 8, 15)), ("春节", LunarDate(2027, 1, 1))])
def test_festival_greetings_go_to_every_consenting_customer_on_the_calendar_day(
        bank: Bank, festival: str, lunar: LunarDate) -> None:
    day = lunar.to_solar_date()
    result = plan_campaigns(at(bank, morning(day)), day)
    assert result.festival == festival
    everyone = set(bank.truth["customer_ref"])
    expected = _expected(bank, day, {"festival": everyone, "birthday": _birthdays(bank, day),
                                     "anniversary": _anniversaries(bank, day)})
    assert _queued(bank, "festival", day) == expected["festival"]
    assert _queued(bank, "birthday", day) == expected["birthday"]
    nothing = plan_campaigns(at(bank, morning(day - timedelta(days=1))), day - timedelta(days=1))
    assert nothing.festival is None and "festival/sms" not in nothing.planned


def test_a_lunar_birthday_is_greeted_on_its_lunar_date_only(bank: Bank) -> None:
    t = bank.truth[bank.truth["consent"]]
    row = t.iloc[len(t) // 2]
    born = pd.Timestamp(row["birth_date"]).date()
    lunar_born = LunarDate.from_solar_date(born.year, born.month, born.day)
    solar_day = date(2028, born.month, born.day if (born.month, born.day) != (2, 29) else 28)
    lunar_day = LunarDate(2028, lunar_born.month, min(lunar_born.day, 29)).to_solar_date()
    assert solar_day != lunar_day
    with bank.ctx.engine.begin() as conn:
        set_preferences(conn, row["customer_ref"], language="en", lunar_birthday=True, now=datetime.now())
    plan_campaigns(at(bank, morning(solar_day)), solar_day)
    assert row["customer_ref"] not in _queued(bank, "birthday", solar_day)
    plan_campaigns(at(bank, morning(lunar_day)), lunar_day)
    assert row["customer_ref"] in _queued(bank, "birthday", lunar_day)
    locale = _frame(bank, select(OutboxMessage.locale).where(OutboxMessage.recipient == row["customer_ref"],
                                                              OutboxMessage.as_of == lunar_day))
    assert set(locale["locale"]) == {"en"}


def test_the_frequency_cap_keeps_the_higher_priorities_and_records_the_rest(bank: Bank) -> None:
    day = date(2026, 10, 1)  # 国庆节 and the monthly day: festival, offers and statements at once
    result = plan_campaigns(at(bank, morning(day)), day)
    assert result.festival == "国庆节"
    assert sum(v.get("frequency_cap", 0) for v in result.suppressed.values()) > 0
    sent = _frame(bank, select(OutboxMessage.recipient, OutboxMessage.kind).where(
        OutboxMessage.as_of == day, OutboxMessage.kind.like("care_%")))
    capped = _frame(bank, select(Customer.customer_ref, CampaignSuppression.campaign).join(
        Customer, Customer.customer_id == CampaignSuppression.customer_id).where(
        CampaignSuppression.as_of == day, CampaignSuppression.reason == "frequency_cap"))
    kept = sent.groupby("recipient")["kind"].apply(lambda k: max(PRIORITY[x[5:]] for x in k))
    for r in capped.itertuples():  # whatever was capped ranks below everything kept for that customer
        assert PRIORITY[r.campaign] >= kept.get(r.customer_ref, 0)
    all_care = _frame(bank, select(OutboxMessage.recipient, OutboxMessage.as_of).where(
        OutboxMessage.kind.like("care_%"), OutboxMessage.status != "cancelled"))
    all_care["as_of"] = pd.to_datetime(all_care["as_of"])
    cap = bank.ctx.care_rules.rules.campaigns.frequency_cap_messages
    for _, mine in all_care.groupby("recipient"):  # no customer, in any 7-day window, beyond the cap
        days = mine["as_of"].sort_values()
        for start in days:
            assert ((days >= start) & (days < start + pd.Timedelta(days=CAP_DAYS))).sum() <= cap


def test_an_opt_out_before_the_plan_suppresses_and_after_queueing_withdraws(
        bank: Bank, tmp_path: Path, http_sink: HttpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    day = LunarDate(2027, 5, 5).to_solar_date()  # 端午节
    consenting = list(bank.truth.loc[bank.truth["consent"], "customer_ref"])
    early, late = consenting[:3], consenting[3:6]
    optouts = tmp_path / "optouts.csv"
    optouts.write_text("customer_ref,channel,opted_out_at,reference\n" + "".join(
        f"{ref},sms,2027-05-01 10:00:00,REQ{i}\n" for i, ref in enumerate(early)), encoding="utf-8")
    _use_cli(bank, monkeypatch)
    assert cli(["consent", "import", str(optouts)], out=io.StringIO()) == 0
    plan_campaigns(at(bank, morning(day)), day)
    queued = _queued(bank, "festival", day)
    assert not set(early) & queued and set(late) <= queued
    refused = _frame(bank, select(Customer.customer_ref).join(
        CampaignSuppression, CampaignSuppression.customer_id == Customer.customer_id).where(
        CampaignSuppression.as_of == day, CampaignSuppression.reason == "opted_out"))
    assert set(early) <= set(refused["customer_ref"])
    for ref in late:  # queued already; the opt-out arrives before the dispatcher runs
        waiting = len(_frame(bank, select(OutboxMessage.id).where(
            OutboxMessage.recipient == ref, OutboxMessage.channel == "sms", OutboxMessage.status == "pending",
            OutboxMessage.kind.like("care_%"))))
        out = io.StringIO()
        assert cli(["consent", "opt-out", ref, "--channel", "sms"], out=out) == 0
        assert f"{waiting} waiting message(s) withdrawn" in out.getvalue() and waiting >= 1
    notifier = AppriseNotifier(_gateway(tmp_path, http_sink), timeout=5)
    ctx = at(bank, morning(day, 9))
    rules = ctx.care_rules.rules
    dispatch(ctx.engine, ctx.clock, notifier, renderer_of(ctx), rules.dispatcher, rules.quiet_hours,
             kinds=["care_festival"], withhold=withheld)
    keys = {r.header("Idempotency-Key") or "" for r in http_sink.requests}
    assert not {k.split(":")[2] for k in keys} & set(early + late)
    assert {k.split(":")[2] for k in keys if k.endswith(day.isoformat())} == queued - set(late)


def test_a_message_claimed_before_an_opt_out_is_withdrawn_not_sent(
        bank: Bank, tmp_path: Path, http_sink: HttpSink) -> None:
    from lifecycle.care.consent import set_consent
    from lifecycle.care.outbox import claim

    day = date(2027, 5, 20)
    ref = next(iter(_birthdays(bank, day) & set(bank.truth.loc[bank.truth["consent"], "customer_ref"])), None)
    if ref is None:
        day = _busiest_birthday(bank, date(2027, 5, 12), 20)
        ref = sorted(_birthdays(bank, day) & set(bank.truth.loc[bank.truth["consent"], "customer_ref"]))[0]
    ctx = at(bank, morning(day))
    plan_campaigns(ctx, day)
    rules = ctx.care_rules.rules
    claimed = claim(ctx.engine, "crashed-worker", morning(day, 9), rules.dispatcher, kinds=["care_birthday"])
    assert any(m.recipient == ref for m in claimed)
    with ctx.engine.begin() as conn:  # the claiming dispatcher dies; the customer opts out meanwhile
        set_consent(conn, ref, ["sms"], False, source="cli", reference="test", now=datetime.now())
    later = at(bank, morning(day, 9) + timedelta(seconds=rules.dispatcher.lease_seconds + 5))
    summary = dispatch(later.engine, later.clock, AppriseNotifier(_gateway(tmp_path, http_sink), timeout=5),
                       renderer_of(later), rules.dispatcher, rules.quiet_hours, kinds=["care_birthday"],
                       withhold=withheld)
    assert summary.withheld >= 1
    assert not any(ref in (r.header("Idempotency-Key") or "") for r in http_sink.requests)
    status = _frame(bank, select(OutboxMessage.status, OutboxMessage.last_error).where(
        OutboxMessage.recipient == ref, OutboxMessage.as_of == day, OutboxMessage.kind == "care_birthday"))
    assert status.to_dict("records") == [{"status": "cancelled", "last_error": "opted out"}]


def test_nothing_is_sent_in_quiet_hours_and_it_waits_for_the_morning(
        bank: Bank, tmp_path: Path, http_sink: HttpSink) -> None:
    day = date(2027, 3, 15)
    night = at(bank, morning(day, 22, 30))
    result = plan_campaigns(night, day)
    queued = sum(result.queued.values())
    assert queued > 0 and result.deferred_quiet_hours == queued
    rules = night.care_rules.rules
    notifier = AppriseNotifier(_gateway(tmp_path, http_sink), timeout=5)
    kinds = [f"care_{c}" for c in PRIORITY]
    late = dispatch(night.engine, MovableClock(morning(day, 23, 30)), notifier, renderer_of(night),
                    rules.dispatcher, rules.quiet_hours, kinds=kinds)
    assert late.quiet and late.sent == 0 and http_sink.requests == []
    dawn = dispatch(night.engine, MovableClock(morning(day + timedelta(days=1), 7, 59)), notifier,
                    renderer_of(night), rules.dispatcher, rules.quiet_hours, kinds=kinds)
    assert dawn.quiet and http_sink.requests == []
    report = {r["campaign"]: r for r in _report(bank, day)}
    assert sum(int(r["held_for_quiet_hours"]) for r in report.values()) == queued  # type: ignore[call-overload]
    sent = dispatch(night.engine, MovableClock(morning(day + timedelta(days=1), 8, 1)), notifier,
                    renderer_of(night), rules.dispatcher, rules.quiet_hours, kinds=kinds)
    assert sent.sent >= queued
    _a_response_is_counted_once_for_the_message_it_answers(bank, day)


def _a_response_is_counted_once_for_the_message_it_answers(bank: Bank, day: date) -> None:
    """Two contacts naming a sent greeting's campaign after it (one a purchase) and one before
    it: the report counts one response, positive; the contacts are removed again."""
    messages = _frame(bank, select(OutboxMessage.customer_id, OutboxMessage.kind, OutboxMessage.channel,
                                   OutboxMessage.sent_at).where(OutboxMessage.as_of == day,
                                                                OutboxMessage.status == "sent",
                                                                OutboxMessage.kind.like("care_%")))
    first = messages.iloc[0]
    campaign, sent_at = str(first["kind"]).removeprefix("care_"), pd.Timestamp(first["sent_at"]).to_pydatetime()
    contact = {"customer_id": int(first["customer_id"]), "kind": "CALL", "channel": "PHONE",
               "campaign_code": campaign}
    rows = [{**contact, "interaction_id": "IXR1", "interaction_time": sent_at + timedelta(hours=2),
             "outcome": "DECLINED"},
            {**contact, "interaction_id": "IXR2", "interaction_time": sent_at + timedelta(days=3),
             "outcome": "PURCHASED"},
            {**contact, "interaction_id": "IXR3", "interaction_time": sent_at - timedelta(days=1),
             "outcome": "PURCHASED"}]
    before = {(r["campaign"], r["channel"]): r for r in _report(bank, day)}
    with bank.ctx.engine.begin() as conn:
        conn.execute(insert(Interaction), rows)
    try:
        after = {(r["campaign"], r["channel"]): r for r in _report(bank, day)}
    finally:
        with bank.ctx.engine.begin() as conn:
            conn.execute(delete(Interaction).where(Interaction.interaction_id.in_(["IXR1", "IXR2", "IXR3"])))
    key = (campaign, str(first["channel"]))
    assert all(r["responded"] == 0 for r in before.values())
    assert (after[key]["responded"], after[key]["responded_positive"]) == (1, 1)
    assert sum(int(r["responded"]) for r in after.values()) == 1  # type: ignore[call-overload]


def test_a_rerun_day_and_a_killed_dispatcher_deliver_each_greeting_once(
        bank: Bank, tmp_path: Path, http_sink: HttpSink) -> None:
    day = LunarDate(2027, 1, 15).to_solar_date()  # 元宵节, from the lunar date in the campaign calendar
    first = plan_campaigns(at(bank, morning(day)), day)
    again = plan_campaigns(at(bank, morning(day, 10)), day)
    assert first.festival == "元宵节" and again.queued == {} and again.already_queued == first.queued
    keys = set(_frame(bank, select(OutboxMessage.message_key).where(OutboxMessage.as_of == day,
                                                                    OutboxMessage.kind.like("care_%")))["message_key"])
    config = _gateway(tmp_path, http_sink)
    url = bank.ctx.settings.resolved_database_url
    offset = (morning(day, 9) - datetime.now()).total_seconds()
    base = [sys.executable, str(CHILD), "--db", url, "--notify", str(config), "--batch", "20",
            "--keystore", bank.ctx.settings.resolved_keystore_url, "--keyring-file", str(bank.keyring_file)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run([*base, "--kill-at", "dispatch-after-send", "--offset", str(offset)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    restarted = subprocess.run([*base, "--offset", str(offset + 120)], env=env, capture_output=True, text=True,
                               timeout=600)
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    plan_campaigns(at(bank, morning(day, 11)), day)  # and the day run once more after sending
    delivered = Counter(r.header("Idempotency-Key") for r in http_sink.requests if r.status == 200)
    ours = {k: n for k, n in delivered.items() if k in keys}
    assert set(ours) == keys  # every greeting of the day arrived ...
    assert sum(1 for n in ours.values() if n > 1) <= 1  # ... once, but the one in flight when killed, same key
    bodies = [r for r in http_sink.requests if r.header("Idempotency-Key") in keys]
    _check_forms_of_address(bank, bodies)


def _check_forms_of_address(bank: Bank, requests: list[object]) -> None:
    """Each greeting addresses the customer by the planted surname and gender, and carries no full name."""
    from lifecycle.synth.reading import read_extract

    t = bank.truth.set_index("customer_ref")
    names = set(read_extract(bank.gen, "core_customers")["cust_name"])
    checked = 0
    for r in requests:
        key = r.header("Idempotency-Key")  # type: ignore[attr-defined]
        ref = key.split(":")[2]
        body = json.dumps(r.json, ensure_ascii=False)  # type: ignore[attr-defined]
        person = t.loc[ref]
        expected = person["surname"] + ("先生" if person["gender"] == "M" else "女士")
        locale = "en" if "Dear" in body else "zh_CN"
        if locale == "zh_CN":
            assert expected in body, (ref, body)
            checked += 1
        assert not [n for n in names if len(n) >= 3 and n in body]
    assert checked > 0


def _gateway(tmp_path: Path, sink: HttpSink) -> Path:
    config = tmp_path / "apprise.yml"
    url = sink.url("/gateway").replace("http://", "json://")
    config.write_text(f'version: 1\nurls:\n  - "{url}":\n      tag: customer-gateway\n', encoding="utf-8")
    return config


def _use_cli(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.context import reset

    settings = bank.ctx.settings
    monkeypatch.setenv("LIFECYCLE_HOME", str(settings.home))
    monkeypatch.setenv("LIFECYCLE_LANDING_DIR", str(settings.landing_dir))
    monkeypatch.setenv("LIFECYCLE_KEYRING_FILE", str(bank.keyring_file))
    reset()


def _report(bank: Bank, day: date) -> list[dict[str, object]]:
    with bank.ctx.engine.connect() as conn:
        return campaign_report(conn, day,
                               response_window_days=bank.ctx.care_rules.rules.campaigns.response_window_days)


# --- the loyalty ledger ---------------------------------------------------------------------------------------


def _points(bank: Bank) -> pd.DataFrame:
    return _frame(bank, select(PointsEntry.entry_key, PointsEntry.customer_id, PointsEntry.kind, PointsEntry.points,
                               PointsEntry.as_of))


def test_points_are_earned_once_per_transaction_as_the_rules_say(bank: Bank) -> None:
    loyalty = bank.ctx.care_rules.rules.loyalty
    entries = _points(bank)
    earned = entries[entries["kind"] == "earn"].set_index("entry_key")["points"]
    assert len(earned) > 100
    again = [post_day(bank.ctx, day) for day in (D, D1)]
    assert all(r.earned_entries == 0 for r in again)
    # independently: every eligible transaction of either day, Decimal arithmetic, the tier of its day
    tiers = _frame(bank, select(CustomerDecision.customer_id, CustomerDecision.as_of, CustomerDecision.value_tier))
    tiers["as_of"] = pd.to_datetime(tiers["as_of"]).dt.date
    core = _frame(bank, select(Transaction.txn_id, Transaction.customer_id, Transaction.txn_time, Transaction.amount,
                               Transaction.txn_type, Transaction.direction, Transaction.currency))
    cards = _frame(bank, select(CardTransaction.txn_id, CardTransaction.customer_id, CardTransaction.txn_time,
                                CardTransaction.amount))
    expected: dict[str, int] = {}
    start = D - timedelta(days=loyalty.late_days)
    for kind, frame in (("txn", core), ("card", cards)):
        for r in frame.itertuples():
            day = pd.Timestamp(r.txn_time).date()
            if not start <= day <= D1:
                continue
            if kind == "txn" and (r.direction != "DEBIT" or r.txn_type not in loyalty.earning.per_cny
                                  or (r.currency or "CNY") != "CNY"):
                continue
            rate = loyalty.earning.per_cny["card" if kind == "card" else r.txn_type]
            decided_on = D if day <= D else D1
            tier = tiers[(tiers["customer_id"] == r.customer_id) & (tiers["as_of"] == decided_on)]["value_tier"]
            mult = loyalty.earning.tier_multiplier[tier.iloc[0] if len(tier) else "mass"]  # type: ignore[index]
            pts = int((Decimal(str(r.amount)) * Decimal(str(rate)) * Decimal(str(mult))).to_integral_value(ROUND_FLOOR))
            if pts > 0:
                expected[f"earn:{kind}:{r.txn_id}"] = pts
    assert earned.to_dict() == expected


def test_redemption_never_overdraws_and_a_repeated_request_redeems_once(bank: Bank) -> None:
    rules = bank.ctx.care_rules.rules.loyalty.model_copy(update={"rewards": {"coffee": 10, "flight": 10**9}})
    rich = _frame(bank, select(PointsBalance.customer_id, PointsBalance.balance).where(PointsBalance.balance >= 30)
                  .order_by(PointsBalance.customer_id))
    customer = int(rich["customer_id"].iloc[0])
    before = int(rich["balance"].iloc[0])
    with bank.ctx.engine.begin() as conn:
        first = redeem(conn, customer, "coffee", "REQ-1", rules, day=D1, now=datetime.now())
    with bank.ctx.engine.begin() as conn:
        repeat = redeem(conn, customer, "coffee", "REQ-1", rules, day=D1, now=datetime.now())
    assert (first.balance, repeat.repeated, repeat.balance) == (before - 10, True, before - 10)
    with pytest.raises(LoyaltyError, match="balance"), bank.ctx.engine.begin() as conn:
        redeem(conn, customer, "flight", "REQ-2", rules, day=D1, now=datetime.now())
    with pytest.raises(LoyaltyError, match="another redemption"), bank.ctx.engine.begin() as conn:
        redeem(conn, customer + 1, "coffee", "REQ-1", rules, day=D1, now=datetime.now())
    balance = _frame(bank, select(PointsBalance.balance).where(PointsBalance.customer_id == customer))
    assert int(balance["balance"].iloc[0]) == before - 10


def test_points_expire_first_in_first_out_and_the_ledger_reconciles(bank: Bank) -> None:
    entries = _points(bank)
    entries["as_of"] = pd.to_datetime(entries["as_of"]).dt.date
    cutoff = D - timedelta(days=10)  # between the earnings: some points are older, some newer
    expiry_day = next(cutoff + timedelta(days=n) for n in range(800)
                      if months_before(cutoff + timedelta(days=n), 24) == cutoff)
    result = post_day(at(bank, morning(expiry_day)), expiry_day)
    assert result.earned_entries == 0 and result.expired_entries > 0
    after = _points(bank)
    expired = after[after["kind"] == "expire"].groupby("customer_id")["points"].sum()
    old = entries[(entries["points"] > 0) & (entries["as_of"] <= cutoff)].groupby("customer_id")["points"].sum()
    spent = -entries[entries["points"] < 0].groupby("customer_id")["points"].sum()
    due = (old - spent.reindex(old.index).fillna(0)).clip(lower=0)
    assert (-expired).astype(int).to_dict() == due[due > 0].astype(int).to_dict()
    assert post_day(at(bank, morning(expiry_day)), expiry_day).expired_entries == 0  # once
    with bank.ctx.engine.connect() as conn:
        assert reconcile(conn) == []
        balances = pd.DataFrame(conn.execute(select(PointsBalance.customer_id, PointsBalance.balance)).all())
        sums = conn.execute(select(PointsEntry.customer_id, func.sum(PointsEntry.points))
                            .group_by(PointsEntry.customer_id)).all()
    assert (balances["balance"] >= 0).all()
    assert dict(sums) == dict(zip(balances["customer_id"], balances["balance"], strict=True))
    with bank.ctx.engine.begin() as conn:  # a balance changed behind the ledger's back is found
        conn.execute(update(PointsBalance).where(PointsBalance.customer_id == int(balances["customer_id"].iloc[0]))
                     .values(balance=PointsBalance.balance + 1))
    with bank.ctx.engine.connect() as conn:
        assert len(reconcile(conn)) == 1
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        _use_cli(bank, mp)
        assert cli(["loyalty", "reconcile"], out=out) == 1
    assert "1 balance(s) differ" in out.getvalue()
    with bank.ctx.engine.begin() as conn:
        conn.execute(update(PointsBalance).where(PointsBalance.customer_id == int(balances["customer_id"].iloc[0]))
                     .values(balance=PointsBalance.balance - 1))


def test_the_outbox_holds_no_name_and_greetings_are_encrypted(bank: Bank) -> None:
    rows = _frame(bank, select(OutboxMessage.customer_id, OutboxMessage.context, OutboxMessage.context_enc).where(
        OutboxMessage.kind.like("care_%")).limit(200))
    assert len(rows) and rows["context"].isna().all() and rows["context_enc"].notna().all()
    keys = bank.ctx.keystore.existing_data_keys(bank.keyring, rows["customer_id"].astype(int).tolist())
    for r in rows.itertuples():
        text = decrypt_field(keys[int(r.customer_id)], r.context_enc, table="outbox", column="context_enc",
                             customer_id=int(r.customer_id))
        assert text is not None and "address" not in json.loads(text) and "name" not in json.loads(text)
