"""Individual customers: identities, the core record and the card record.

The same person appears in the core system (clean formats), possibly a
second time as a legacy core record, and in the card system (its own
formats: spaced names, lower-case ``x``, ``+86`` mobiles, ``YYYYMMDD``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.synth.demographics import demographics
from lifecycle.synth.formatting import ascii_to_arrow, digits_matrix, join_strings, prefixed_numbers
from lifecycle.synth.ids import (
    build_card_numbers,
    build_ric,
    draw_area_codes,
    unique_mobiles,
    unique_ric_keys,
)
from lifecycle.synth.pools import CITIES, EMAIL_DOMAINS, EMAIL_SHARES, HOME_PROVINCES, Pools
from lifecycle.synth.population import CHURNED, DORMANT, INDIVIDUAL, Population
from lifecycle.synth.rng import affine_permutation, between, stream
from lifecycle.synth.timeline import dates_before, daytime_seconds, times_on

IntArray = npt.NDArray[np.int64]
Frame = dict[str, "pa.Array | np.ndarray"]

CARD_PRODUCTS = np.array(["CLASSIC", "GOLD", "PLATINUM", "INFINITE"], dtype=object)
CARD_LIMIT_YUAN = ((5_000, 30_000), (30_000, 80_000), (80_000, 200_000), (200_000, 1_000_000))


@dataclass(frozen=True)
class Identity:
    """Personal data of every person (individual entries unused for corporates)."""

    surname: pa.Array
    given: pa.Array
    name: pa.Array
    male: npt.NDArray[np.bool_]
    birth: npt.NDArray[np.datetime64]
    id_no: pa.Array
    mobile: IntArray
    email: pa.Array
    address: pa.Array
    city: IntArray


def pick(pool: pa.Array, index: npt.ArrayLike) -> pa.Array:
    return pool.take(pa.array(np.asarray(index, dtype=np.int64)))


def choose(index: npt.ArrayLike, *options: pa.Array | str) -> pa.Array:
    """Row-wise choice between equally long arrays (or scalars)."""
    n = len(np.asarray(index))
    arrays = [pa.array([o] * n, pa.string()) if isinstance(o, str) else o for o in options]
    return pc.choose(pa.array(np.asarray(index, dtype=np.int8)), *arrays)


def build_addresses(rng: np.random.Generator, pools: Pools, city: IntArray) -> pa.Array:
    """``上海浦东新区张江路88号3栋1202室``-style addresses in the given cities."""
    n = len(city)
    city_names = pa.array([c.name for c in CITIES], pa.string())
    district = np.zeros(n, dtype=np.int64)
    labels: list[str] = []
    for ci, c in enumerate(CITIES):
        rows = city == ci
        district[rows] = len(labels) + rng.integers(0, len(c.districts), rows.sum())
        labels.extend(c.districts)
    numbers = pa.array(rng.integers(1, 999, n)).cast(pa.string())
    building = pa.array(rng.integers(1, 30, n)).cast(pa.string())
    room = pa.array(rng.integers(1, 33, n) * 100 + rng.integers(1, 6, n)).cast(pa.string())
    return join_strings(
        pick(city_names, city), pick(pa.array(labels, pa.string()), district),
        pick(pools.streets, rng.integers(0, len(pools.streets), n)),
        numbers, "号", building, "栋", room, "室",
    )


def build_emails(rng: np.random.Generator, pools: Pools, n: int, share: float) -> pa.Array:
    users = pick(pools.email_users, rng.integers(0, len(pools.email_users), n))
    suffix = pa.array(rng.integers(1, 9999, n)).cast(pa.string())
    domain = pick(pa.array(EMAIL_DOMAINS), rng.choice(len(EMAIL_DOMAINS), n, p=EMAIL_SHARES))
    email = join_strings(users, suffix, "@", domain)
    missing = pa.array(rng.random(n) >= share)
    return pc.if_else(missing, pa.scalar(None, pa.string()), email)


def build_names(
    rng: np.random.Generator, pools: Pools, male: npt.NDArray[np.bool_]
) -> tuple[pa.Array, pa.Array]:
    """Surnames and given names: 2-3 characters, compound surnames + 1 character."""
    n = len(male)
    sur = rng.choice(len(pools.surnames), n, p=pools.surname_weights)
    compound = pools.compound_surname[sur]
    given = np.empty(n, dtype=object)
    for is_male, pool, single in (
        (True, pools.given_male, pools.given_male_single),
        (False, pools.given_female, pools.given_female_single),
    ):
        rows = male == is_male
        idx = rng.integers(0, len(pool), n)
        singles = np.flatnonzero(single)
        idx = np.where(compound, singles[rng.integers(0, len(singles), n)], idx)
        given[rows] = np.asarray(pick(pool, idx[rows]).to_numpy(zero_copy_only=False))
    return pick(pools.surnames, sur), pa.array(given, pa.string())


def build_identities(seed: int, pop: Population, pools: Pools, rm_city: IntArray) -> Identity:
    """Names, ID numbers, mobiles, emails and addresses for everyone."""
    rng = stream(seed, "identity")
    n = pop.n
    male = rng.random(n) < 0.5
    age_days = np.clip(rng.normal(42, 12, n), 18 + pop.open_days / 365.25 + 0.5, 80) * 365.25
    birth = dates_before(pop.as_of, age_days.astype(np.int64))
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    ymd = (years * 10000 + (birth.astype("datetime64[M]").astype(np.int64) % 12 + 1) * 100
           + (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1)
    area = draw_area_codes(rng, years, HOME_PROVINCES)
    seq = unique_ric_keys(rng, area, ymd, male)
    surname, given = build_names(rng, pools, male)
    city = np.where(pop.has_core, rm_city[pop.rm], rng.integers(0, len(CITIES), n))
    return Identity(
        surname=surname, given=given, name=join_strings(surname, given), male=male,
        birth=birth, id_no=build_ric(area, ymd, seq),
        mobile=unique_mobiles(stream(seed, "mobile"), np.arange(n, dtype=np.int64)),
        email=build_emails(rng, pools, n, 0.6), address=build_addresses(rng, pools, city),
        city=city.astype(np.int64),
    )


def core_keys(seed: int, count: int) -> pa.Array:
    """Core customer numbers: 12 digits starting with 1, unique, unordered."""
    serial = affine_permutation(stream(seed, "cust_no"), np.arange(count), 10**11)
    return prefixed_numbers("1", serial, 11)


def scatter_keys(n: int, rows: IntArray, keys: pa.Array) -> pa.Array:
    """A length-``n`` string array holding ``keys`` at ``rows`` and nulls elsewhere."""
    out = np.full(n, None, dtype=object)
    out[rows] = np.asarray(keys.to_numpy(zero_copy_only=False))
    return pa.array(out, pa.string())


def mobile_variants(mobiles: IntArray, variant: npt.ArrayLike) -> pa.Array:
    """0 plain, 1 ``+86 138 1234 5678``, 2 ``138-1234-5678``, 3 ``8613812345678``."""
    d = digits_matrix(mobiles, 11)
    n = len(mobiles)
    spaced = np.empty((n, 17), dtype=np.uint8)
    spaced[:, :4] = np.frombuffer(b"+86 ", dtype=np.uint8)
    spaced[:, 4:7], spaced[:, 7], spaced[:, 8:12] = d[:, :3], ord(" "), d[:, 3:7]
    spaced[:, 12], spaced[:, 13:] = ord(" "), d[:, 7:]
    dashed = np.empty((n, 13), dtype=np.uint8)
    dashed[:, :3], dashed[:, 3], dashed[:, 4:8] = d[:, :3], ord("-"), d[:, 3:7]
    dashed[:, 8], dashed[:, 9:] = ord("-"), d[:, 7:]
    country = np.empty((n, 13), dtype=np.uint8)
    country[:, :2], country[:, 2:] = np.frombuffer(b"86", dtype=np.uint8), d
    return choose(
        variant, ascii_to_arrow(d), ascii_to_arrow(spaced), ascii_to_arrow(dashed),
        ascii_to_arrow(country),
    )


def name_variants(surname: pa.Array, given: pa.Array, variant: npt.ArrayLike) -> pa.Array:
    """0 as is, 1 inner space, 2 ideographic (full-width) space, 3 padded, 4 two spaces."""
    return choose(
        variant, join_strings(surname, given), join_strings(surname, " ", given),
        join_strings(surname, "\u3000", given), join_strings(" ", surname, given, " "),
        join_strings(surname, "  ", given),
    )


@dataclass(frozen=True)
class CoreRecords:
    frame: Frame
    primary_key: pa.Array  # per person, null without a core record
    legacy_key: pa.Array  # per person, null without a legacy record


def core_customer_records(
    seed: int, pop: Population, ident: Identity, pools: Pools, rm_branch: pa.Array,
    rm_ids: pa.Array,
) -> CoreRecords:
    """core_customers rows: one per core individual plus legacy duplicates."""
    rng = stream(seed, "core_customers")
    ind = pop.kind == INDIVIDUAL
    prim = np.flatnonzero(pop.has_core & ind)
    leg = np.flatnonzero(pop.legacy & ind)
    owners = np.concatenate([prim, leg])
    is_leg = np.arange(len(owners)) >= len(prim)
    keys = core_keys(seed, len(owners))
    nl = len(leg)
    upd_days = np.where(
        pop.persona[prim] == CHURNED, pop.close_days[prim],
        between(rng, 0, np.minimum(pop.open_days[prim], 400), len(prim)),
    )
    leg_open = pop.legacy_open_days[leg]
    leg_upd = between(rng, pop.open_days[leg] + 1, leg_open - 1, nl)
    open_days = np.concatenate([pop.open_days[prim], leg_open])
    days = np.concatenate([upd_days, leg_upd])
    rm = pop.rm[owners]
    addr_old = build_addresses(rng, pools, ident.city[leg])
    frame: Frame = {
        "cust_no": keys,
        "cust_name": name_variants(
            pick(ident.surname, owners), pick(ident.given, owners),
            np.where(is_leg & (rng.random(len(owners)) < 0.5), 1, 0),
        ),
        "id_type": pa.array(np.full(len(owners), "01", dtype=object), pa.string()),
        "id_no": pick(ident.id_no, owners),
        "gender": pa.array(np.where(ident.male[owners], "M", "F").astype(object), pa.string()),
        "birth_date": ident.birth[owners],
        "mobile": mobile_variants(
            ident.mobile[owners], np.where(is_leg, rng.choice([0, 2, 3], len(owners)), 0)
        ),
        "email": pc.if_else(pa.array(is_leg), pa.scalar(None, pa.string()),
                            pick(ident.email, owners)),
        "address": pa.concat_arrays([
            pick(ident.address, prim),
            pc.if_else(pa.array(rng.random(nl) < 0.5), addr_old, pick(ident.address, leg)),
        ]),
        "branch_code": pick(rm_branch, rm),
        "rm_id": pick(rm_ids, rm),
        "open_date": dates_before(pop.as_of, open_days),
        "marketing_consent": pa.array(
            np.where(rng.random(len(owners)) < np.where(is_leg, 0.2, 0.7), "Y", "N")
            .astype(object), pa.string(),
        ),
        **{k: _take(v, owners) for k, v in demographics(seed, pop, ident.birth).items()},
        "updated_at": times_on(dates_before(pop.as_of, days), daytime_seconds(rng, len(owners))),
    }
    order = np.argsort(np.asarray(keys.to_numpy(zero_copy_only=False)), kind="stable")
    frame = {k: _take(v, order) for k, v in frame.items()}
    return CoreRecords(
        frame=frame,
        primary_key=scatter_keys(pop.n, prim, keys.slice(0, len(prim))),
        legacy_key=scatter_keys(pop.n, leg, keys.slice(len(prim))),
    )


def _take(values: pa.Array | np.ndarray, order: IntArray) -> pa.Array | np.ndarray:
    if isinstance(values, np.ndarray):
        return values[order]
    return values.take(pa.array(order))


def card_customer_frame(
    seed: int, pop: Population, ident: Identity, card_no: pa.Array
) -> tuple[Frame, pa.Array]:
    """card_customers rows (one card per card customer) and CARD_CUST_ID per person."""
    rng = stream(seed, "card_customers")
    owners = np.flatnonzero(pop.has_card)
    n = len(owners)
    keys = prefixed_numbers(
        "C", affine_permutation(stream(seed, "card_cust_id"), np.arange(n), 10**9), 9
    )
    overlap = pop.has_core[owners]
    no_cert = np.zeros(n, dtype=bool)
    ov = np.flatnonzero(overlap)
    no_cert[rng.choice(ov, size=min(len(ov), max(1, round(0.05 * len(ov)))), replace=False)] = True
    cert = pc.utf8_lower(pick(ident.id_no, owners))
    tier = np.where(overlap, pop.tier[owners], rng.choice(2, n, p=[0.8, 0.2]))
    product = np.clip(tier + (rng.random(n) < 0.3), 0, 3)
    lo = np.array([b[0] for b in CARD_LIMIT_YUAN])[product]
    hi = np.array([b[1] for b in CARD_LIMIT_YUAN])[product]
    limit = np.round(rng.uniform(lo, hi) / 1000) * 1000 * 100
    persona = pop.persona[owners]
    status = np.where(persona == CHURNED, "C", np.where(
        (persona == DORMANT) & (rng.random(n) < 0.3), "F", np.where(rng.random(n) < 0.02, "F", "A")
    ))
    open_days = pop.card_open_days[owners]
    upd = np.where(persona == CHURNED, pop.close_days[owners],
                   between(rng, 0, np.minimum(open_days, 200), n))
    frame: Frame = {
        "CARD_CUST_ID": keys,
        "CUST_NM": name_variants(
            pick(ident.surname, owners), pick(ident.given, owners),
            rng.choice(5, n, p=[0.7, 0.1, 0.08, 0.07, 0.05]),
        ),
        "CERT_NO": pc.if_else(pa.array(no_cert), pa.scalar(None, pa.string()), cert),
        "MOBILE_NO": mobile_variants(ident.mobile[owners], rng.choice(4, n, p=[0.4, 0.2, 0.2, 0.2])),
        "BIRTH_DT": ident.birth[owners],
        "EMAIL_ADDR": pc.if_else(pa.array(rng.random(n) < 0.7), pick(ident.email, owners),
                                 pa.scalar(None, pa.string())),
        "CARD_NO": card_no,
        "CARD_PRODUCT": pa.array(CARD_PRODUCTS[product], pa.string()),
        "CREDIT_LIMIT": limit.astype(np.int64),
        "CARD_OPEN_DT": dates_before(pop.as_of, open_days),
        "CARD_STATUS": pa.array(status.astype(object), pa.string()),
        "UPD_TS": times_on(dates_before(pop.as_of, upd), daytime_seconds(rng, n)),
    }
    return frame, scatter_keys(pop.n, owners, keys)


def card_numbers(seed: int, pop: Population) -> pa.Array:
    """One card number per card customer, in person order."""
    count = int(pop.has_card.sum())
    return build_card_numbers(stream(seed, "card_no"), np.arange(count, dtype=np.int64))
