"""Corporate customers and the relationship-manager roster."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.synth.formatting import join_strings, prefixed_numbers
from lifecycle.synth.ids import area_table, build_uscc, mobile_strings, unique_mobiles
from lifecycle.synth.people import CoreRecords, Frame, Identity, build_names, pick, scatter_keys
from lifecycle.synth.pools import CITIES, INDUSTRY_CODES, INDUSTRY_SHARES, INDUSTRY_WORDS, Pools, branches
from lifecycle.synth.population import CHURNED, CORPORATE, Population
from lifecycle.synth.rng import affine_permutation, between, log_uniform, stream
from lifecycle.synth.timeline import dates_before, daytime_seconds, times_on

IntArray = npt.NDArray[np.int64]
BRAND_CHARS = "华鑫泰恒瑞丰达盛源宏嘉信诚安兴隆通捷联海天金科创远博越凯德康美裕昌荣锦"
SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司")
SUFFIX_SHARES = (0.7, 0.2, 0.1)


@dataclass(frozen=True)
class Roster:
    """Relationship managers: the extract frame plus per-RM lookups."""

    frame: Frame
    rm_id: pa.Array
    branch_code: pa.Array
    city: IntArray


def rm_roster(seed: int, n_rms: int, pools: Pools) -> Roster:
    """RMs spread round-robin over the twenty branches."""
    rng = stream(seed, "relationship_managers")
    bank = branches()
    b = np.arange(n_rms) % len(bank)
    rm_id = prefixed_numbers("RM", np.arange(1, n_rms + 1), 5)
    surname, given = build_names(rng, pools, rng.random(n_rms) < 0.5)
    codes = pa.array([x.code for x in bank], pa.string())
    frame: Frame = {
        "rm_id": rm_id,
        "rm_name": join_strings(surname, given),
        "branch_code": pick(codes, b),
        "branch_name": pick(pa.array([x.name for x in bank], pa.string()), b),
        "city": pick(pa.array([c.name for c in CITIES], pa.string()),
                     np.array([x.city_index for x in bank])[b]),
        "notify_tag": join_strings("rm-", rm_id),
    }
    city = np.array([x.city_index for x in bank], dtype=np.int64)[b]
    return Roster(frame=frame, rm_id=rm_id, branch_code=pick(codes, b), city=city)


def _company_parts(rng: np.random.Generator, pools: Pools, n: int) -> tuple[IntArray, ...]:
    """Distinct (brand, industry word, suffix) triples, industries weighted."""
    brands = len(pools.company_words) + len(BRAND_CHARS) * (len(BRAND_CHARS) - 1)
    words = [(code, w) for code in INDUSTRY_CODES for w in INDUSTRY_WORDS[code]]
    share = dict(zip(INDUSTRY_CODES, INDUSTRY_SHARES, strict=True))
    word_p = np.array([share[c] / len(INDUSTRY_WORDS[c]) for c, _ in words])
    p = (np.full(brands, 1 / brands)[:, None, None] * word_p[None, :, None]
         * np.array(SUFFIX_SHARES)[None, None, :]).ravel()
    picked = rng.choice(len(p), size=n, replace=False, p=p / p.sum())
    brand, rest = np.divmod(picked, len(words) * len(SUFFIXES))
    word, suffix = np.divmod(rest, len(SUFFIXES))
    return brand, word, suffix


def _brand_names(pools: Pools) -> pa.Array:
    pairs = [a + b for a in BRAND_CHARS for b in BRAND_CHARS if a != b]
    return pa.concat_arrays([pools.company_words, pa.array(pairs, pa.string())])


def corporate_records(
    seed: int, pop: Population, ident: Identity, pools: Pools, roster: Roster
) -> tuple[CoreRecords, pa.Array]:
    """core_corporates rows (plus legacy duplicates) and the USCC per person."""
    rng = stream(seed, "core_corporates")
    prim = np.flatnonzero(pop.kind == CORPORATE)
    leg = np.flatnonzero(pop.legacy & (pop.kind == CORPORATE))
    n, nl = len(prim), len(leg)
    brand, word, suffix = _company_parts(rng, pools, n)
    words = [(c, w) for c in INDUSTRY_CODES for w in INDUSTRY_WORDS[c]]
    city_names = pa.array([c.name for c in CITIES], pa.string())
    city = pick(city_names, ident.city[prim])
    brand_s = pick(_brand_names(pools), brand)
    word_s = pick(pa.array([w for _, w in words], pa.string()), word)
    suffix_s = pick(pa.array(SUFFIXES, pa.string()), suffix)
    name = join_strings(city, brand_s, word_s, suffix_s)
    pos = np.searchsorted(prim, leg)
    legacy_name = pick(join_strings(brand_s, word_s, "（", city, "）", suffix_s), pos)
    table = area_table()
    current = np.unique(table.codes[table.last_year == 9999])
    prefix = np.array([c.area_prefix for c in CITIES])[ident.city[prim]]
    region = np.zeros(n, dtype=np.int64)
    for p in np.unique(prefix):
        options = current[current // 100 == p]
        region[prefix == p] = rng.choice(options, size=int((prefix == p).sum()))
    uscc = build_uscc(rng, region)
    rep_s, rep_g = build_names(rng, pools, rng.random(n + nl) < 0.7)
    mobiles = np.concatenate([
        ident.mobile[prim],
        unique_mobiles(stream(seed, "mobile"), pop.n + np.arange(nl, dtype=np.int64)),
    ])
    owners = np.concatenate([prim, leg])
    keys = prefixed_numbers(
        "8", affine_permutation(stream(seed, "corp_no"), np.arange(n + nl), 10**9), 9
    )
    upd = np.where(pop.persona[prim] == CHURNED, pop.close_days[prim],
                   between(rng, 0, np.minimum(pop.open_days[prim], 400), n))
    leg_open = pop.legacy_open_days[leg]
    capital = np.round(log_uniform(rng, 1e6, 5e8, n) / 1e4) * 1e4 * 100
    frame: Frame = {
        "corp_no": keys,
        "corp_name": pa.concat_arrays([name, legacy_name]),
        "uscc": pick(uscc, np.concatenate([np.arange(n), pos])),
        "industry_code": pick(pa.array([c for c, _ in words], pa.string()),
                              np.concatenate([word, word[pos]])),
        "legal_rep_name": join_strings(rep_s, rep_g),
        "contact_mobile": mobile_strings(mobiles),
        "reg_capital": np.concatenate([capital, capital[pos]]).astype(np.int64),
        "address": pick(ident.address, owners),
        "branch_code": pick(roster.branch_code, pop.rm[owners]),
        "rm_id": pick(roster.rm_id, pop.rm[owners]),
        "open_date": dates_before(pop.as_of, np.concatenate([pop.open_days[prim], leg_open])),
        "updated_at": times_on(
            dates_before(pop.as_of, np.concatenate(
                [upd, between(rng, pop.open_days[leg] + 1, leg_open - 1, nl)])),
            daytime_seconds(rng, n + nl),
        ),
    }
    order = np.argsort(np.asarray(keys.to_numpy(zero_copy_only=False)), kind="stable")
    frame = {k: (v[order] if isinstance(v, np.ndarray) else v.take(pa.array(order)))
             for k, v in frame.items()}
    records = CoreRecords(
        frame=frame,
        primary_key=scatter_keys(pop.n, prim, keys.slice(0, n)),
        legacy_key=scatter_keys(pop.n, leg, keys.slice(n)),
    )
    return records, scatter_keys(pop.n, prim, uscc)


def owner_keys(individual: CoreRecords, corporate: CoreRecords) -> tuple[pa.Array, pa.Array]:
    """Primary and legacy core key per person, whichever system holds them."""
    primary = pc.coalesce(individual.primary_key, corporate.primary_key)
    legacy = pc.coalesce(individual.legacy_key, corporate.legacy_key)
    return primary, legacy
