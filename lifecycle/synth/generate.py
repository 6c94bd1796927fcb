"""Full extract: every landing file for one as-of date, plus the ground truth."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from lifecycle.synth.activity import card_transaction_chunk, digital_chunk, feedback_chunk
from lifecycle.synth.config import FileSummary, GenerationSummary, SourceSpec, SynthConfig, load_sources
from lifecycle.synth.corporates import Roster, corporate_records, owner_keys, rm_roster
from lifecycle.synth.finance import account_chunk
from lifecycle.synth.interactions import interaction_chunk
from lifecycle.synth.landing import Landing
from lifecycle.synth.loans import loan_frame
from lifecycle.synth.people import (
    CoreRecords,
    Frame,
    Identity,
    build_identities,
    card_customer_frame,
    card_numbers,
    core_customer_records,
    scatter_keys,
)
from lifecycle.synth.pools import Pools, build_pools
from lifecycle.synth.population import Population, plan_population, rm_count
from lifecycle.synth.transactions import transaction_chunk
from lifecycle.synth.truth import customers_table, identities_table, population_stats, write_manifest, write_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class World:
    """The population and everything keyed per person, before any extract."""

    pop: Population
    pools: Pools
    roster: Roster
    ident: Identity
    core: CoreRecords
    corp: CoreRecords
    primary: pa.Array  # core key per person (cust_no or corp_no)
    legacy: pa.Array
    card_frame: Frame
    card_key: pa.Array  # CARD_CUST_ID per person
    card_no: pa.Array  # card number per person


def build_world(seed: int, customers: int, as_of: dt.date, txns_per_customer: float) -> World:
    """Deterministic from the arguments: a delta run rebuilds the same world."""
    n_rms = rm_count(customers)
    pop = plan_population(seed, customers, np.datetime64(as_of.isoformat(), "D"),
                          txns_per_customer, n_rms)
    pools = build_pools(seed)
    roster = rm_roster(seed, n_rms, pools)
    ident = build_identities(seed, pop, pools, roster.city)
    core = core_customer_records(seed, pop, ident, pools, roster.branch_code, roster.rm_id)
    corp, _ = corporate_records(seed, pop, ident, pools, roster)
    primary, legacy = owner_keys(core, corp)
    cards = card_numbers(seed, pop)
    card_frame, card_key = card_customer_frame(seed, pop, ident, cards)
    card_no = scatter_keys(pop.n, np.flatnonzero(pop.has_card), cards)
    return World(pop, pools, roster, ident, core, corp, primary, legacy, card_frame, card_key,
                 card_no)


def chunk_bounds(n: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def identity_keys(world: World) -> dict[str, list[pa.Array]]:
    return {
        "core_customers": [world.core.primary_key, world.core.legacy_key],
        "card_customers": [world.card_key],
        "core_corporates": [world.corp.primary_key, world.corp.legacy_key],
    }


def generate(config: SynthConfig) -> GenerationSummary:
    """Write the landing files and truth for ``config`` (full or delta)."""
    sources = load_sources()
    config.validate(sources)
    if config.delta_fraction is not None:
        from lifecycle.synth.delta import generate_delta

        return generate_delta(config, sources)
    return generate_full(config, sources)


def generate_full(config: SynthConfig, sources: dict[str, SourceSpec]) -> GenerationSummary:
    started = time.perf_counter()
    world = build_world(config.seed, config.customers, config.as_of, config.txns_per_customer)
    pop = world.pop
    landing = Landing(config, sources, config.as_of)
    landing.emit("relationship_managers", world.roster.frame)
    landing.emit("core_customers", world.core.frame)
    landing.emit("core_corporates", world.corp.frame)
    landing.emit("card_customers", world.card_frame)
    landing.emit("loans", loan_frame(config.seed, pop, world.primary))
    aum = np.zeros(pop.n, dtype=np.int64)
    for chunk, (start, stop) in enumerate(chunk_bounds(pop.n, config.chunk_size)):
        accounts = account_chunk(config.seed, chunk, pop, world.primary, world.legacy, start, stop)
        aum[start:stop] = accounts.aum_fen
        landing.emit("accounts", accounts.accounts)
        landing.emit("balances", accounts.balances)
        landing.emit("transactions", transaction_chunk(config.seed, chunk, pop, accounts, start, stop))
        landing.emit("card_transactions", card_transaction_chunk(
            config.seed, chunk, pop, world.card_no, world.ident.city, start, stop))
        landing.emit("digital_activity", digital_chunk(config.seed, chunk, pop, world.primary, start, stop))
        feedback = landing.with_ids("feedback", feedback_chunk(config.seed, chunk, pop, world.primary, start, stop))
        landing.emit("feedback", feedback)
        landing.emit("interactions", interaction_chunk(config.seed, chunk, pop, world.primary, start, stop, feedback))
        log.info("chunk %d: persons %d-%d written", chunk, start, stop)
    files = landing.close()
    files += write_truth(config, world, aum, landing)
    return finish(config, "full", files, landing, started, population_stats(pop, aum))


def write_truth(config: SynthConfig, world: World, aum: npt.NDArray[np.int64], landing: Landing) -> list[FileSummary]:
    return [
        write_table(config.out, "customers.csv", customers_table(world.pop, aum, world.ident)),
        write_table(config.out, "identities.csv", identities_table(identity_keys(world), landing.flaws)),
        write_table(config.out, "flaws.csv", pa.table(landing.flaws.frame())),
    ]


def finish(
    config: SynthConfig, mode: str, files: list[FileSummary], landing: Landing, started: float,
    extra: dict[str, object],
) -> GenerationSummary:
    write_manifest(config.out, config, mode, files, landing.flaws, {"as_of": config.as_of.isoformat(), **extra})
    return GenerationSummary(
        out=config.out, landing_dir=config.out / "landing" / config.as_of.isoformat(),
        truth_dir=config.out / "truth", mode=mode, files=tuple(files),
        seconds=time.perf_counter() - started,
    )
