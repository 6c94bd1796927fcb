"""Care campaigns for a date: who gets which greeting, computed for all customers at once.

    plan_campaigns(ctx, day):
      occasions (birthday, festival, anniversary, tier upgrade, monthly offer and points statement)
      → consent per channel (opted out / no consent: suppressed, recorded)
      → frequency cap per customer, by priority (suppressed, recorded)
      → the outbox: one message per customer, campaign and occasion, its context encrypted

*day* is the day the greetings are for (the bank's today when the flow runs at
08:30); tiers and tier upgrades come from the latest decided date on or before
it. Only individual, non-erased customers are greeted.

**Once.** A message's key is ``care:<campaign>:<customer ref>:<occasion>`` (the
occasion is the date, or the month for offers and statements; a tier upgrade's
is its decided date): running the plan again, or on the next day for the same
upgrade, queues nothing twice.

**Frequency cap.** At most ``frequency_cap_messages`` care messages per
customer in ``frequency_cap_days`` days: the messages already in the outbox in
that window (not cancelled) count first; of the day's occasions the lower
priority numbers are kept. Suppressions are stored (``campaign_suppressions``)
with the reason: ``no_consent``, ``opted_out``, ``frequency_cap``.

**Privacy.** Birth dates are decrypted in memory, only to know whose birthday it
is; the message context (occasion, tier, points — no name) is encrypted under
the customer's data key. The form of address is made from the name only in the
send step (``tasks/care.py``).

**Quiet hours.** Messages planned in quiet hours wait (``not_before``) for the end
of the window; the dispatcher never sends in quiet hours either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection, case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from lifecycle.care.config import Campaign
from lifecycle.care.consent import CARE_KIND_PREFIX, consent_frame, preferences_frame
from lifecycle.care.context import SealingCareContext
from lifecycle.care.loyalty import statements
from lifecycle.care.occasions import anniversaries, festival_on, lunar_birthdays, solar_birthdays
from lifecycle.care.outbox import OUTBOX_TABLE, NewMessage, enqueue
from lifecycle.care.quiet import next_allowed, to_machine_time
from lifecycle.care.responses import responses_for
from lifecycle.care.sending import CONTEXT_COLUMN, CONTEXT_TABLE
from lifecycle.privacy.fields import decrypt_column, encrypt_column
from lifecycle.privacy.keyring import Keyring
from lifecycle.status import OutboxStatus
from lifecycle.store.base import table_of
from lifecycle.store.frames import read_frame
from lifecycle.store.keystore import KeyStore
from lifecycle.store.models import CampaignSuppression, Customer, CustomerDecision, TierEvent

CAMPAIGNS = ("birthday", "tier_upgrade", "anniversary", "festival", "loyalty_offer", "points_statement")
SUPPRESSIONS = table_of(CampaignSuppression)
SUPPRESSION_REASONS = ("no_consent", "opted_out", "frequency_cap")



@dataclass
class CampaignResult:
    day: date
    decided_as_of: date | None
    festival: str | None
    planned: dict[str, int] = field(default_factory=dict)  # "campaign/channel" -> occasions found
    queued: dict[str, int] = field(default_factory=dict)  # newly written to the outbox
    already_queued: dict[str, int] = field(default_factory=dict)  # in the outbox from an earlier run
    suppressed: dict[str, dict[str, int]] = field(default_factory=dict)  # "campaign/channel" -> reason -> n
    deferred_quiet_hours: int = 0  # queued to wait for the end of quiet hours


def kind_of(campaign: str) -> str:
    return f"{CARE_KIND_PREFIX}{campaign}"


def _customers(conn: Connection) -> pd.DataFrame:
    c = Customer.__table__
    return read_frame(conn, select(c.c.customer_id, c.c.customer_ref, c.c.gender, c.c.open_date,
                                   c.c.birth_date_enc).where(c.c.customer_type == "individual",
                                                             c.c.erased_at.is_(None)))


def _decided_as_of(conn: Connection, day: date) -> date | None:
    d = table_of(CustomerDecision)
    value = conn.execute(select(func.max(d.c.as_of)).where(d.c.as_of <= day)).scalar()
    return value if value is None or isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _birth_dates(customers: pd.DataFrame, keystore: KeyStore, keyring: Keyring) -> pd.Series:
    """Birth dates, decrypted in memory (NaT where unknown or the key is gone)."""
    has = customers["birth_date_enc"].notna()
    ids = customers.loc[has, "customer_id"].astype("int64").tolist()
    keys = keystore.existing_data_keys(keyring, ids)
    usable = [i for i in ids if i in keys]
    values = customers.set_index("customer_id").loc[usable, "birth_date_enc"].tolist()
    plain = decrypt_column(values, [keys[i] for i in usable], usable, table="customers", column="birth_date")
    births = pd.Series(pd.NaT, index=customers["customer_id"].astype("int64"), dtype="datetime64[ns]")
    births.loc[usable] = pd.to_datetime(pd.Series(plain, index=usable), errors="coerce")
    return births.reset_index(drop=True)


def _occasions(conn: Connection, ctx: SealingCareContext, day: date, decided: date | None,
               result: CampaignResult) -> pd.DataFrame:
    """One row per (customer, campaign, occasion) with its context, before consent and cap."""
    rules = ctx.care_rules.rules
    camp = rules.campaigns
    customers = _customers(conn)
    prefs = preferences_frame(conn).set_index("customer_id")
    lunar = customers["customer_id"].map(prefs["lunar_birthday"]).fillna(False).astype(bool).to_numpy()
    parts: list[pd.DataFrame] = []

    def add(campaign: str, mask: np.ndarray, occasion: str, contexts: list[dict[str, object]] | None = None,
            frame: pd.DataFrame | None = None) -> None:
        source = customers if frame is None else frame
        chosen = source.loc[mask, ["customer_id"]].copy()
        chosen["campaign"], chosen["occasion"] = campaign, occasion
        chosen["context"] = contexts if contexts is not None else [{} for _ in range(len(chosen))]
        parts.append(chosen)

    if camp.birthday.enabled and len(customers):
        births = _birth_dates(customers, ctx.keystore, ctx.keyring)
        mask = np.where(lunar, lunar_birthdays(births, day), solar_birthdays(births, day))
        add("birthday", mask, day.isoformat(),
            [{"lunar": bool(x)} for x in lunar[mask]])
    festival = festival_on(day, list(camp.festivals)) if camp.festival.enabled else None
    if festival is not None:
        result.festival = festival.name
        add("festival", np.ones(len(customers), bool), day.isoformat(),
            [{"festival": festival.name} for _ in range(len(customers))])
    if camp.anniversary.enabled and len(customers):
        mask, years = anniversaries(customers["open_date"], day, camp.anniversary_min_years)
        add("anniversary", mask, day.isoformat(), [{"years": int(y)} for y in years[mask]])
    if camp.tier_upgrade.enabled:
        t = table_of(TierEvent)
        ups = read_frame(conn, select(t.c.customer_id, t.c.as_of, t.c.from_tier, t.c.to_tier).where(
            t.c.as_of > day - timedelta(days=camp.tier_upgrade_days), t.c.as_of <= day,
            t.c.dimension == "value_tier", t.c.direction == "upgrade"))
        ups["as_of"] = pd.to_datetime(ups["as_of"]).dt.date
        ups = ups[ups["customer_id"].isin(customers["customer_id"])].sort_values("as_of") \
            .drop_duplicates("customer_id", keep="last")  # the latest upgrade only
        chosen = ups[["customer_id"]].copy()
        chosen["campaign"], chosen["occasion"] = "tier_upgrade", [d.isoformat() for d in ups["as_of"]]
        chosen["context"] = [{"tier": r.to_tier, "from_tier": r.from_tier} for r in ups.itertuples()]
        parts.append(chosen)
    monthly = day.day == camp.monthly_day
    if monthly and decided is not None and camp.loyalty_offer.enabled:
        d = table_of(CustomerDecision)
        tiers = read_frame(conn, select(d.c.customer_id, d.c.value_tier).where(d.c.as_of == decided))
        tiers = tiers[tiers["customer_id"].isin(customers["customer_id"])]
        offers = rules.loyalty.offers
        mask = tiers["value_tier"].map(lambda t: bool(offers.get(t))).astype(bool).to_numpy()
        add("loyalty_offer", mask, day.strftime("%Y-%m"),
            [{"tier": t, "offers": list(offers[t])} for t in tiers.loc[mask, "value_tier"]], frame=tiers)
    if monthly and camp.points_statement.enabled:
        st = statements(conn, day, rules.loyalty)
        st = st[st["customer_id"].isin(customers["customer_id"])]
        add("points_statement", np.ones(len(st), bool), day.strftime("%Y-%m"),
            [{"balance": int(r.balance), "earned": int(r.earned), "spent": int(r.spent),
              "expiring": int(r.expiring), "month": (day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")}
             for r in st.itertuples()], frame=st)
    if not parts:
        return pd.DataFrame(columns=["customer_id", "campaign", "occasion", "context"])
    plan = pd.concat(parts, ignore_index=True)
    refs = customers.set_index("customer_id")["customer_ref"]
    plan["customer_ref"] = plan["customer_id"].map(refs)
    plan["language"] = plan["customer_id"].map(prefs["language"]).fillna(camp.default_language)
    settings: dict[str, Campaign] = {name: getattr(camp, name) for name in CAMPAIGNS}
    plan["channel"] = plan["campaign"].map(lambda c: settings[c].channel)
    plan["priority"] = plan["campaign"].map(lambda c: settings[c].priority).astype("int64")
    plan["template"] = plan["campaign"].map(lambda c: settings[c].template)
    plan["message_key"] = "care:" + plan["campaign"] + ":" + plan["customer_ref"] + ":" + plan["occasion"]
    return plan


def _recent_counts(conn: Connection, day: date, days: int) -> pd.Series:
    """Care messages per customer already in the outbox in the cap's window (not withdrawn)."""
    o = OUTBOX_TABLE
    rows = read_frame(conn, select(o.c.customer_id).where(
        o.c.kind.like(f"{CARE_KIND_PREFIX}%"), o.c.as_of > day - timedelta(days=days), o.c.as_of <= day,
        o.c.status != OutboxStatus.CANCELLED))
    return rows.groupby("customer_id").size() if not rows.empty else pd.Series(dtype="int64")


def _existing(conn: Connection, keys: list[str]) -> set[str]:
    o = OUTBOX_TABLE
    found: set[str] = set()
    for i in range(0, len(keys), 900):
        found.update(conn.execute(select(o.c.message_key).where(o.c.message_key.in_(keys[i:i + 900]))).scalars())
    return found


def _suppress(conn: Connection, frame: pd.DataFrame, day: date) -> None:
    if frame.empty:
        return
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[conn.dialect.name]
    stmt = dialect.insert(SUPPRESSIONS).on_conflict_do_nothing(index_elements=["customer_id", "as_of", "campaign"])
    conn.execute(stmt, [{"customer_id": int(r.customer_id), "as_of": day, "campaign": r.campaign,
                         "channel": r.channel, "reason": r.reason} for r in frame.itertuples()])


def _count(frame: pd.DataFrame) -> dict[str, int]:
    if frame.empty:
        return {}
    return {f"{c}/{ch}": int(n) for (c, ch), n in frame.groupby(["campaign", "channel"]).size().items()}


def plan_campaigns(ctx: SealingCareContext, day: date) -> CampaignResult:
    """Plan, filter and queue the day's care messages (one transaction; see the module doc)."""
    rules = ctx.care_rules.rules
    camp = rules.campaigns
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        decided = _decided_as_of(conn, day)
        result = CampaignResult(day, decided, None)
        plan = _occasions(conn, ctx, day, decided, result)
        result.planned = _count(plan)
        if plan.empty:
            return result
        consent = consent_frame(conn, sorted(plan["channel"].unique()))
        plan = plan.merge(consent, on=["customer_id", "channel"], how="left")
        plan["why_not"] = plan["why_not"].where(plan["consent"].fillna(False).astype(bool), plan["why_not"]
                                                .fillna("no_consent"))
        refused = plan[plan["why_not"].notna()].assign(reason=lambda f: f["why_not"])
        allowed = plan[plan["why_not"].isna()].copy()
        existing = _existing(conn, allowed["message_key"].tolist())
        result.already_queued = _count(allowed[allowed["message_key"].isin(existing)])
        allowed = allowed[~allowed["message_key"].isin(existing)]  # queued (or withdrawn) before: never again
        used = allowed["customer_id"].map(_recent_counts(conn, day, camp.frequency_cap_days)).fillna(0)
        allowed = allowed.assign(used=used.astype("int64")).sort_values(["customer_id", "priority", "campaign"])
        allowed["rank"] = allowed.groupby("customer_id").cumcount() + allowed["used"]
        over = allowed["rank"] >= camp.frequency_cap_messages
        capped = allowed[over].assign(reason="frequency_cap")
        fresh = allowed[~over]
        for frame in (refused, capped):
            for (c, ch, why), n in frame.groupby(["campaign", "channel", "reason"]).size().items():
                result.suppressed.setdefault(f"{c}/{ch}", {})[str(why)] = int(n)
        _suppress(conn, pd.concat([refused, capped])[["customer_id", "campaign", "channel", "reason"]], day)
        if fresh.empty:
            return result
        ids = fresh["customer_id"].astype("int64").tolist()
        keys_by_id = ctx.keystore.existing_data_keys(ctx.keyring, sorted(set(ids)))
        fresh = fresh[fresh["customer_id"].isin(list(keys_by_id))]
        ids = fresh["customer_id"].astype("int64").tolist()
        texts = [json.dumps(c, ensure_ascii=False, sort_keys=True) for c in fresh["context"]]
        sealed = encrypt_column(texts, [keys_by_id[i] for i in ids], ids, table=CONTEXT_TABLE,
                                column=CONTEXT_COLUMN)
        allowed_at = next_allowed(ctx.clock.bank_now(), rules.quiet_hours)
        not_before = to_machine_time(allowed_at)
        deferred = not_before > now
        route = tuple(camp.route)
        messages = [NewMessage(message_key=r.message_key, kind=kind_of(r.campaign), channel=r.channel, route=route,
                               template=r.template, locale=r.language, recipient=r.customer_ref, as_of=day,
                               not_before=not_before, context_enc=blob, customer_id=int(r.customer_id),
                               held_for_quiet_hours=deferred)
                    for r, blob in zip(fresh.itertuples(), sealed, strict=True)]
        enqueue(conn, messages, now)
        result.queued = _count(fresh)
        result.deferred_quiet_hours = len(messages) if deferred else 0
    return result


def campaign_report(conn: Connection, day: date, *, response_window_days: int) -> list[dict[str, object]]:
    """Per campaign and channel for ``day``: queued (of which held for quiet hours), sent, waiting, failed,
    cancelled, the suppressions by reason, and the sent messages customers responded to (positively):
    see :mod:`lifecycle.care.responses`."""
    o = OUTBOX_TABLE
    quiet = func.sum(case((o.c.held_for_quiet_hours, 1), else_=0))
    rows = conn.execute(select(o.c.kind, o.c.channel, o.c.status, func.count(), quiet).where(
        o.c.kind.like(f"{CARE_KIND_PREFIX}%"), o.c.as_of == day).group_by(o.c.kind, o.c.channel, o.c.status)).all()
    table: dict[tuple[str, str], dict[str, int]] = {}
    for kind, channel, status, n, waiting_quiet in rows:
        entry = table.setdefault((kind[len(CARE_KIND_PREFIX):], channel), {})
        entry[status] = int(n)
        entry["quiet"] = entry.get("quiet", 0) + int(waiting_quiet or 0)
    for campaign, channel, reason, n in conn.execute(select(
            SUPPRESSIONS.c.campaign, SUPPRESSIONS.c.channel, SUPPRESSIONS.c.reason, func.count()).where(
            SUPPRESSIONS.c.as_of == day).group_by(SUPPRESSIONS.c.campaign, SUPPRESSIONS.c.channel,
                                                  SUPPRESSIONS.c.reason)):
        table.setdefault((campaign, channel), {})[f"suppressed_{reason}"] = int(n)
    answered = responses_for(conn, day, response_window_days)
    out: list[dict[str, object]] = []
    for (campaign, channel), counts in sorted(table.items()):
        get = counts.get
        responses = answered.loc[(campaign, channel)] if (campaign, channel) in answered.index else None
        out.append({"campaign": campaign, "channel": channel,
                    "queued": sum(get(s, 0) for s in OutboxStatus),
                    "sent": get(OutboxStatus.SENT, 0),
                    "waiting": get(OutboxStatus.PENDING, 0) + get(OutboxStatus.SENDING, 0),
                    "held_for_quiet_hours": get("quiet", 0),
                    "failed": get(OutboxStatus.FAILED, 0), "cancelled": get(OutboxStatus.CANCELLED, 0),
                    **{f"suppressed_{r}": get(f"suppressed_{r}", 0) for r in SUPPRESSION_REASONS},
                    "responded": 0 if responses is None else int(responses["responded"]),
                    "responded_positive": 0 if responses is None else int(responses["positive"])})
    return out
