"""Incremental day: only what changed on the as-of date for the same population.

The population is rebuilt exactly as a full extract for the day before would
build it (same seed, same customers), then a share of active customers is
*touched*: their master rows are re-sent with a new ``updated_at`` (and some
new addresses, emails, consents, limits), some open or close an account,
their accounts get an as-of balance, and the day's transactions, card
spending, digital events, feedback and loan movements are theirs.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.synth.activity import DIGITAL_CHANNELS, EVENT_TYPES
from lifecycle.synth.config import GenerationSummary, SourceSpec, SynthConfig
from lifecycle.synth.finance import CATEGORIES, FX_RATE, account_chunk
from lifecycle.synth.formatting import labels, prefixed_numbers, to_strings
from lifecycle.synth.generate import World, build_world, chunk_bounds, finish, write_truth
from lifecycle.synth.interactions import today_interactions
from lifecycle.synth.landing import Landing
from lifecycle.synth.loans import five_class, loan_frame
from lifecycle.synth.people import Frame, build_addresses, build_emails
from lifecycle.synth.pools import MCC_CODES, MERCHANT_CITIES
from lifecycle.synth.population import CORPORATE, DECLINING, GROWING, MATURE, NEW, Population
from lifecycle.synth.rng import stream
from lifecycle.synth.timeline import daytime_seconds, times_on
from lifecycle.synth.transactions import CORP_MIX, IND_MIX, SALARY, Rows, _lognormal_fen, render
from lifecycle.synth.truth import person_ids, population_stats, write_table

IntArray = npt.NDArray[np.int64]
DAY_FACTOR = {NEW: (1.0, 1.03), GROWING: (1.002, 1.01), MATURE: (0.998, 1.002),
              DECLINING: (0.97, 0.995)}


def touched_persons(seed: int, pop: Population, as_of: dt.date, share: float) -> IntArray:
    """About ``share`` of all customers, drawn among active ones (not dormant/churned)."""
    rng = stream(seed, "delta", as_of.toordinal())
    active = np.flatnonzero(pop.persona <= DECLINING)
    k = min(len(active), max(1, int(round(share * pop.n))))
    return np.sort(rng.choice(active, size=k, replace=False))


def _rows_for(frame: Frame, column: str, keys: pa.Array) -> tuple[Frame, IntArray]:
    """Rows whose ``column`` is among ``keys``, and each row's index into ``keys``."""
    where = pc.index_in(frame[column], value_set=keys)
    rows = np.flatnonzero(np.asarray(where.is_valid()))
    sub = {k: (v[rows] if isinstance(v, np.ndarray) else v.take(pa.array(rows)))
           for k, v in frame.items()}
    return sub, np.asarray(where.take(pa.array(rows))).astype(np.int64)


def _updated_now(rng: np.random.Generator, as_of: np.datetime64, n: int) -> np.ndarray:
    return times_on(np.full(n, as_of, dtype="datetime64[D]"), daytime_seconds(rng, n))


def master_updates(rng: np.random.Generator, world: World, touched: IntArray, landing: Landing) -> None:
    """Re-send touched customers' master rows with today's ``updated_at``."""
    as_of = landing.as_of
    core, who = _rows_for(world.core.frame, "cust_no", world.core.primary_key.take(pa.array(touched)))
    n = len(who)
    city = world.ident.city[touched[who]]
    core["updated_at"] = _updated_now(rng, as_of, n)
    core["address"] = pc.if_else(pa.array(rng.random(n) < 0.3),
                                 build_addresses(rng, world.pools, city), core["address"])
    core["email"] = pc.if_else(pa.array(rng.random(n) < 0.15),
                               build_emails(rng, world.pools, n, 1.0), core["email"])
    flip = pc.if_else(pc.equal(core["marketing_consent"], "Y"), "N", "Y")
    core["marketing_consent"] = pc.if_else(pa.array(rng.random(n) < 0.2), flip,
                                           core["marketing_consent"])
    landing.emit("core_customers", core)
    corp, who = _rows_for(world.corp.frame, "corp_no", world.corp.primary_key.take(pa.array(touched)))
    corp["updated_at"] = _updated_now(rng, as_of, len(who))
    landing.emit("core_corporates", corp)
    card, who = _rows_for(world.card_frame, "CARD_CUST_ID", world.card_key.take(pa.array(touched)))
    card["UPD_TS"] = _updated_now(rng, as_of, len(who))
    raise_limit = rng.random(len(who)) < 0.3
    limit = np.asarray(card["CREDIT_LIMIT"])
    card["CREDIT_LIMIT"] = np.where(raise_limit, np.round(limit * 1.2 / 100_000) * 100_000,
                                    limit).astype(np.int64)
    landing.emit("card_customers", card)


def account_changes(
    config: SynthConfig, world: World, touched: IntArray, landing: Landing
) -> tuple[IntArray, pa.Array, pa.Array, IntArray]:
    """Accounts opened/closed today and today's balances; returns AUM per person.

    Also returns each touched person's main and foreign-currency account (for
    today's transactions).
    """
    pop = world.pop
    rng = stream(config.seed, "delta:accounts", config.as_of.toordinal())
    aum = np.zeros(pop.n, dtype=np.int64)
    main = np.full(pop.n, None, dtype=object)
    fx = np.full(pop.n, None, dtype=object)
    fx_cur = np.zeros(pop.n, dtype=np.int64)
    is_touched = np.zeros(pop.n, dtype=bool)
    is_touched[touched] = True
    tag = config.as_of.strftime("%y%m%d")
    opened = 0
    for chunk, (start, stop) in enumerate(chunk_bounds(pop.n, config.chunk_size)):
        acc = account_chunk(config.seed, chunk, pop, world.primary, world.legacy, start, stop)
        aum[start:stop] = acc.aum_fen
        main[start:stop] = np.asarray(acc.main_account.to_numpy(zero_copy_only=False))
        fx[start:stop] = np.asarray(acc.fx_account.to_numpy(zero_copy_only=False))
        fx_cur[start:stop] = acc.fx_currency
        sel = np.flatnonzero(is_touched[acc.person] & np.asarray(
            pc.not_equal(acc.accounts["status"], "CLOSED")))
        if len(sel) == 0:
            continue
        person = acc.person[sel]
        persona = pop.persona[person]
        lo = np.array([DAY_FACTOR[p][0] for p in range(4)])[persona]
        hi = np.array([DAY_FACTOR[p][1] for p in range(4)])[persona]
        native = np.round(acc.balance_fen[sel] * rng.uniform(lo, hi)).astype(np.int64)
        category = np.asarray(acc.accounts["product_category"].take(pa.array(sel)).to_numpy(
            zero_copy_only=False))
        closing = (persona == DECLINING) & (category != "DEPOSIT") & (rng.random(len(sel)) < 0.3)
        native = np.where(closing, 0, native)
        rate = FX_RATE[acc.currency[sel]]
        cny = np.round(native * rate).astype(np.int64)
        old = np.round(acc.balance_fen[sel] * rate).astype(np.int64)
        np.add.at(aum, person, cny - old)
        closed = {k: (v[sel[closing]] if isinstance(v, np.ndarray) else v.take(pa.array(sel[closing])))
                  for k, v in acc.accounts.items()}
        closed["status"] = pa.array(["CLOSED"] * int(closing.sum()), pa.string())
        closed["close_date"] = np.full(int(closing.sum()), landing.as_of, dtype="datetime64[D]")
        new_owner = np.unique(person)
        new_owner = new_owner[rng.random(len(new_owner)) < 0.1]
        new_no = prefixed_numbers(f"62179{tag}", opened + np.arange(len(new_owner)), 5)
        opened += len(new_owner)
        new_cat = rng.choice([1, 2, 3], len(new_owner), p=[0.4, 0.35, 0.25])
        new_cny = np.round(rng.uniform(5_000, 200_000, len(new_owner)) * pop.wealth[new_owner]) * 100
        aum[new_owner] += new_cny.astype(np.int64)
        landing.emit("accounts", closed)
        landing.emit("accounts", {
            "account_no": new_no, "cust_no": world.primary.take(pa.array(new_owner)),
            "product_code": pa.array(np.array(["TD-1Y", "WM-R2", "FD-MMF"], dtype=object)[new_cat - 1],
                                     pa.string()),
            "product_category": pa.array(CATEGORIES[new_cat], pa.string()),
            "currency": pa.array(["CNY"] * len(new_owner), pa.string()),
            "open_date": np.full(len(new_owner), landing.as_of, dtype="datetime64[D]"),
            "close_date": np.full(len(new_owner), np.datetime64("NaT"), dtype="datetime64[D]"),
            "status": pa.array(["ACTIVE"] * len(new_owner), pa.string()),
        })
        landing.emit("balances", {
            "account_no": pa.concat_arrays([acc.account_no.take(pa.array(sel)), new_no]),
            "balance_date": np.full(len(sel) + len(new_owner), landing.as_of, dtype="datetime64[D]"),
            "balance": np.concatenate([native, new_cny]).astype(np.int64),
            "balance_cny": np.concatenate([cny, new_cny]).astype(np.int64),
        })
    return aum, pa.array(main, pa.string()), pa.array(fx, pa.string()), fx_cur


def daily_activity(
    config: SynthConfig, world: World, touched: IntArray, main: pa.Array, fx: pa.Array,
    fx_cur: IntArray, landing: Landing,
) -> None:
    """Today's transactions, card spending, digital events, feedback and interactions."""
    pop = world.pop
    rng = stream(config.seed, "delta:activity", config.as_of.toordinal())
    core = touched[np.asarray(main.take(pa.array(touched)).is_valid())]
    corp = pop.kind[core] == CORPORATE
    count = 1 + rng.poisson(np.where(corp, 4.5, 1.5))
    pos = np.repeat(np.arange(len(core)), count)
    kind = np.where(corp[pos], rng.choice(10, len(pos), p=CORP_MIX / CORP_MIX.sum()),
                    rng.choice(10, len(pos), p=IND_MIX / IND_MIX.sum()))
    paid = np.flatnonzero(pop.salaried[core] & (pop.salary_day[core] == config.as_of.day)
                          & (pop.persona[core] != DECLINING))
    rows = Rows.concat([
        Rows(pos, np.zeros(len(pos), np.int64), daytime_seconds(rng, len(pos)), kind,
             _lognormal_fen(rng, kind, pop.wealth[core][pos])),
        Rows(paid, np.zeros(len(paid), np.int64), rng.integers(8 * 3600, 11 * 3600, len(paid)),
             np.full(len(paid), SALARY), pop.salary_fen[core][paid]),
    ])
    landing.emit("transactions", render(rng, landing.as_of, rows, main.take(pa.array(core)),
                                        fx.take(pa.array(core)), fx_cur[core]))
    holders = touched[pop.has_card[touched]]
    cpos = np.repeat(np.arange(len(holders)), rng.poisson(1.0, len(holders)))
    cts = np.sort(_updated_now(rng, landing.as_of, len(cpos)))
    landing.emit("card_transactions", {
        "CARD_NO": world.card_no.take(pa.array(holders[cpos])), "TXN_TS": cts,
        "AMT_FEN": np.round(np.exp(rng.normal(np.log(180), 1.1, len(cpos))) * 100).astype(np.int64),
        "MCC": pa.array(np.array(MCC_CODES, dtype=object)[rng.integers(0, len(MCC_CODES), len(cpos))],
                        pa.string()),
        "MERCHANT_CITY": pa.array(np.array(MERCHANT_CITIES, dtype=object)[
            rng.integers(0, 10, len(cpos))], pa.string()),
    })
    users = touched[pop.digital[touched]]
    dpos = np.repeat(np.arange(len(users)), 1 + rng.poisson(1.5, len(users)))
    order = np.argsort(dts := _updated_now(rng, landing.as_of, len(dpos)), kind="stable")
    landing.emit("digital_activity", {
        "cust_no": world.primary.take(pa.array(users[dpos[order]])), "event_time": dts[order],
        "channel": pa.array(DIGITAL_CHANNELS[rng.integers(0, 3, len(dpos))], pa.string()),
        "event_type": pa.array(EVENT_TYPES[rng.choice(4, len(dpos), p=[0.6, 0.2, 0.15, 0.05])],
                               pa.string()),
    })
    complaint = rng.random(len(core)) < np.where(pop.persona[core] == DECLINING, 0.08, 0.02)
    survey = ~complaint & (rng.random(len(core)) < 0.04)
    fb = np.flatnonzero(complaint | survey)
    is_c = complaint[fb]
    feedback = landing.with_ids("feedback", {
        "cust_no": world.primary.take(pa.array(core[fb])),
        "feedback_date": np.full(len(fb), landing.as_of, dtype="datetime64[D]"),
        "kind": labels(["SURVEY", "COMPLAINT"], is_c),
        "nps_score": pa.array(rng.integers(0, 11, len(fb)), pa.int64(), mask=is_c),
        "category": labels(["服务态度"], np.zeros(len(fb)), ~is_c),
        "severity": labels(["MEDIUM"], np.zeros(len(fb)), ~is_c),
        "status": labels(["OPEN"], np.zeros(len(fb)), ~is_c),
    })
    landing.emit("feedback", feedback)
    landing.emit("interactions", today_interactions(config.seed, config.as_of.toordinal(), landing.as_of,
                                                    world.primary, core, feedback))


def loan_changes(config: SynthConfig, world: World, touched: IntArray, landing: Landing) -> None:
    """Repayments on touched borrowers' loans and one more day overdue on bad ones."""
    loans = loan_frame(config.seed, world.pop, world.primary)
    loans["loan_no"] = prefixed_numbers("LN", np.arange(1, len(loans["principal"]) + 1), 12)
    sub, _ = _rows_for(loans, "borrower_id", world.primary.take(pa.array(touched)))
    status = to_strings(sub["status"]).astype(str)
    live = status != "CLOSED"
    sub = {k: (v[live] if isinstance(v, np.ndarray) else v.filter(pa.array(live))) for k, v in sub.items()}
    status = status[live]
    bad = status != "NORMAL"
    overdue = np.where(bad, np.asarray(sub["overdue_days"]) + 1, 0)
    installment = np.asarray(sub["principal"]) // 240
    sub["outstanding"] = np.where(bad, sub["outstanding"], np.maximum(
        np.asarray(sub["outstanding"]) - installment, 0)).astype(np.int64)
    sub["overdue_days"] = overdue.astype(np.int64)
    sub["max_overdue_days_12m"] = np.maximum(np.asarray(sub["max_overdue_days_12m"]), overdue)
    sub["status"] = pa.array(np.where(overdue > 90, "NPL", status).astype(object), pa.string())
    sub["five_class"] = pa.array(five_class(overdue).astype(str).astype(object), pa.string())
    landing.emit("loans", sub)


def generate_delta(config: SynthConfig, sources: dict[str, SourceSpec]) -> GenerationSummary:
    started = time.perf_counter()
    base_day = config.as_of - dt.timedelta(days=1)
    world = build_world(config.seed, config.customers, base_day, config.txns_per_customer)
    share = float(config.delta_fraction or 0.0)
    touched = touched_persons(config.seed, world.pop, config.as_of, share)
    landing = Landing(config, sources, config.as_of, id_tag=f"D{config.as_of:%Y%m%d}")
    master_updates(stream(config.seed, "delta:master", config.as_of.toordinal()), world, touched, landing)
    aum, main, fx, fx_cur = account_changes(config, world, touched, landing)
    daily_activity(config, world, touched, main, fx, fx_cur, landing)
    loan_changes(config, world, touched, landing)
    files = landing.close()
    files += write_truth(config, world, aum, landing)
    files.append(write_table(config.out, "touched.csv", pa.table({"person_id": person_ids(world.pop.n)
                                                                   .take(pa.array(touched))})))
    extra = {"base_as_of": base_day.isoformat(), "touched": len(touched),
             **population_stats(world.pop, aum)}
    return finish(config, "delta", files, landing, started, extra)
