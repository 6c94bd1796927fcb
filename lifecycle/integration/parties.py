"""Load customer sources: resolve identity, build golden records, encrypt, upsert.

Input frames are validated, standardised source records (plaintext, in memory
only). Output in the store: golden ``customers`` rows holding ciphertexts,
masks and blind indexes; wrapped data keys in the key store; ``source_links``;
``identity_conflicts``; and ``cards`` for card-system records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, insert, select

from lifecycle.integration import survivorship
from lifecycle.integration.extras import store_extra_attributes
from lifecycle.integration.identity import ExistingIdentities, Resolution, resolve
from lifecycle.integration.identity_keys import add_record_keys, golden_keys
from lifecycle.integration.sources import ColumnSpec, IdentityRules, SourceSpec
from lifecycle.privacy import masking
from lifecycle.privacy.blind_index import blind_index_series
from lifecycle.privacy.fields import encrypt_column
from lifecycle.privacy.keyring import Keyring
from lifecycle.store.base import Base, table_of
from lifecycle.store.bulk import deferred_indexes
from lifecycle.store.keystore import KeyStore
from lifecycle.store.models import Card, Customer, IdentityConflict, SourceLink
from lifecycle.store.parties import ERASED_MATCH_RULE, erased_customer_ids
from lifecycle.store.upsert import upsert_frame
from lifecycle.timing import Stopwatch

PII_ATTRIBUTES = ("name", "id_no", "mobile", "email", "address", "birth_date", "legal_rep_name")
CLEAR_ATTRIBUTES = ("uscc", "gender", "industry_code", "registered_capital", "branch_code", "rm_id",
                    "open_date", "marketing_consent", "occupation", "income_band", "marital_status", "dependants")
ID_CHUNK = 20_000
IN_CHUNK = 5_000  # values per IN list when looking up a batch's identities
TARGETED_RECORDS = 20_000  # up to this many records, fetch only the identities they can reach
PARTY_CHUNK = 100_000  # customers survived, protected and stored at a time (bounds memory)


@dataclass(frozen=True)
class PartyBatch:
    spec: SourceSpec
    frame: pd.DataFrame  # standardised, validated rows
    file_id: int


@dataclass(frozen=True)
class PartyLoadResult:
    records: int
    new_customers: int
    customers_updated: int
    links: pd.DataFrame  # source, source_key, customer_id (for fact loading)
    conflicts: int
    timings: dict[str, float]  # seconds per step: resolve, survive, protect, load


def _records(batches: list[PartyBatch], keyring: Keyring, identity: IdentityRules) -> pd.DataFrame:
    frames = []
    for b in batches:
        f = b.frame.drop(columns=[c for c in b.frame.columns if c.startswith("chk_")]).copy()
        f["source"], f["system"], f["trust"], f["file_id"] = b.spec.name, b.spec.system, b.spec.trust, b.file_id
        f["entity"] = b.spec.entity
        add_record_keys(f, b.frame, identity, keyring)
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    if "updated_at" not in out:
        out["updated_at"] = pd.NaT
    return out


def _existing(conn: Connection, group: pd.DataFrame, rules: tuple[str, ...]
              ) -> tuple[ExistingIdentities, pd.DataFrame]:
    """What the store knows that ``group``'s records can reach, and the links that point
    to erased customers (source, source_key): those are left out, so their records
    resolve as new customers.

    A small batch (a daily delta) fetches only the links of its own records and the
    customers reachable from them through shared keys; a large one reads them all.
    Either way resolution sees the same connected components.
    """
    cols = [Customer.customer_id, *[getattr(Customer, r) for r in rules]]
    if len(group) <= TARGETED_RECORDS:
        links = _links_of(conn, group)
        keys = _reachable_customers(conn, group, rules, set(links["customer_id"].astype(int)))
    else:
        links = pd.DataFrame(conn.execute(
            select(SourceLink.source, SourceLink.source_key, SourceLink.customer_id)
            .where(SourceLink.source.in_(sorted(group["source"].unique())))).all(),
            columns=["source", "source_key", "customer_id"])
        keys = pd.DataFrame(conn.execute(select(*cols).where(Customer.erased_at.is_(None))).all(),
                            columns=["customer_id", *rules])
    to_erased = links["customer_id"].isin(erased_customer_ids(conn))
    stale, links = links.loc[to_erased, ["source", "source_key"]], links.loc[~to_erased]
    keys = keys.dropna(subset=list(rules), how="all")
    empty = ExistingIdentities.empty(rules)
    return ExistingIdentities(links if len(links) else empty.links, keys if len(keys) else empty.keys), stale


def _chunks(values: Sequence[object], size: int = IN_CHUNK) -> list[list[object]]:

    return [list(values[start : start + size]) for start in range(0, len(values), size)]


def _links_of(conn: Connection, group: pd.DataFrame) -> pd.DataFrame:
    """The stored links of ``group``'s (source, source_key) pairs."""
    found: list[Any] = []
    for source, keys in group.groupby("source")["source_key"]:
        for chunk in _chunks(sorted(set(keys.dropna().astype(str)))):
            found.extend(conn.execute(
                select(SourceLink.source, SourceLink.source_key, SourceLink.customer_id)
                .where(SourceLink.source == source, SourceLink.source_key.in_(chunk))).all())
    return pd.DataFrame(found, columns=["source", "source_key", "customer_id"])


def _reachable_customers(conn: Connection, group: pd.DataFrame, rules: tuple[str, ...],
                         linked: set[int]) -> pd.DataFrame:
    """Customers (not erased) sharing a match key with ``group`` or linked to it, and,
    transitively, those sharing a key with them: the store's side of every component."""
    cols = [Customer.customer_id, *[getattr(Customer, r) for r in rules]]
    live = Customer.erased_at.is_(None)
    asked: dict[str, set[object]] = {r: set() for r in rules}
    wanted: dict[str, set[object]] = {r: set(group[r].dropna()) if r in group else set() for r in rules}
    seen: set[int] = set()
    frames = []
    ids = set(linked)
    while ids or any(wanted.values()):
        rows: list[Any] = []
        for chunk in _chunks(sorted(ids)):
            rows.extend(conn.execute(select(*cols).where(live, Customer.customer_id.in_(chunk))).all())
        for rule, values in wanted.items():
            for chunk in _chunks(sorted(values, key=str)):
                rows.extend(conn.execute(select(*cols).where(live, getattr(Customer, rule).in_(chunk))).all())
            asked[rule] |= values
        found = pd.DataFrame(rows, columns=["customer_id", *rules]).drop_duplicates("customer_id")
        found = found[~found["customer_id"].isin(seen)]
        if found.empty:
            break
        frames.append(found)
        seen |= set(found["customer_id"].astype(int))
        wanted = {r: set(found[r].dropna()) - asked[r] for r in rules}
        ids = set()
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["customer_id", *rules])


def _fetch(conn: Connection, model: type[Base], ids: np.ndarray, columns: list[str]) -> pd.DataFrame:
    table = table_of(model)
    parts = []
    for start in range(0, len(ids), ID_CHUNK):
        chunk = [int(i) for i in ids[start : start + ID_CHUNK]]
        stmt = select(*[table.c[c] for c in columns]).where(table.c.customer_id.in_(chunk))
        parts.append(pd.DataFrame(conn.execute(stmt).all(), columns=columns))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def _golden_rows(winners: pd.DataFrame, current: pd.DataFrame, deks: dict[int, bytes],
                 keyring: Keyring, identity: IdentityRules) -> pd.DataFrame:
    """Current golden rows with the winning attributes applied (encrypted, masked, indexed)."""
    rows = current.set_index("customer_id")
    if winners.empty:  # nothing in this batch beats what the store holds
        return rows.reset_index()
    wide = winners.pivot(index="customer_id", columns="attribute", values="value")
    for attr in wide.columns:
        values = wide[attr].dropna()
        ids = values.index.to_numpy(dtype=np.int64)
        if attr in PII_ATTRIBUTES:
            enc = encrypt_column(values.tolist(), [deks[int(i)] for i in ids], ids.tolist(),
                                 table="customers", column=attr)
            rows.loc[ids, f"{attr}_enc"] = pd.Series(enc, index=ids, dtype=object)
        elif attr in CLEAR_ATTRIBUTES:
            rows.loc[ids, attr] = values
    _derived(rows, wide, keyring, identity)
    prov = survivorship.provenance_by_customer(winners)
    stored = rows.loc[prov.index, "provenance"]
    rows.loc[prov.index, "provenance"] = [
        {**(old if isinstance(old, dict) else {}), **new} for old, new in zip(stored, prov, strict=True)]
    return rows.reset_index()


def _derived(rows: pd.DataFrame, wide: pd.DataFrame, keyring: Keyring, identity: IdentityRules) -> None:
    """Masks, blind indexes (those of the configured identity rules too) and birth year from
    the plaintext winners of this batch."""
    def col(name: str) -> pd.Series:
        return wide[name] if name in wide else pd.Series(None, index=wide.index, dtype=object)

    name, mobile, id_no = col("name"), col("mobile"), col("id_no")
    individual = rows.loc[wide.index, "customer_type"] == "individual"
    updates = {
        "name_masked": masking.mask_name_series(name).where(individual, name),
        "mobile_masked": masking.mask_mobile_series(mobile),
        "id_no_masked": masking.mask_id_no_series(id_no),
        "id_no_bidx": blind_index_series(keyring, "id_no", id_no),
        "mobile_bidx": blind_index_series(keyring, "mobile", mobile),
        "name_bidx": blind_index_series(keyring, "name", name),
        "name_mobile_bidx": blind_index_series(
            keyring, "name_mobile", (name.astype(object) + "|" + mobile.astype(object)).where(
                name.notna() & mobile.notna(), None)),
        "birth_year": pd.to_numeric(col("birth_date").astype("string").str.slice(0, 4), errors="coerce"),
        **golden_keys(wide, identity, keyring),
    }
    for column, values in updates.items():
        present = values.dropna()
        if len(present):
            rows.loc[present.index, column] = present


def load_parties(conn: Connection, keystore: KeyStore, keyring: Keyring, batches: list[PartyBatch], run_id: str,
                 now: datetime, identity: IdentityRules | None = None) -> PartyLoadResult:
    """Resolve, survive, protect and upsert the customer sources of one run."""
    identity = identity or IdentityRules()
    nothing = PartyLoadResult(0, 0, 0, pd.DataFrame(columns=["source", "source_key", "customer_id"]), 0, {})
    if not batches:
        return nothing
    clock = Stopwatch()
    with clock("resolve"):
        records = _records(batches, keyring, identity)
    next_id = int(conn.execute(select(func.coalesce(func.max(Customer.customer_id), 0))).scalar_one()) + 1
    assigned: list[tuple[pd.DataFrame, tuple[str, ...], Resolution]] = []
    plans: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
        ("individual", identity.keys("individual"), survivorship.INDIVIDUAL_ATTRIBUTES),
        ("corporate", identity.keys("corporate"), survivorship.CORPORATE_ATTRIBUTES))
    for entity, rules, attrs in plans:
        group = records[records["entity"] == entity].reset_index(drop=True)
        if group.empty:
            continue
        with clock("resolve"):
            existing, stale = _existing(conn, group, rules)
            res = resolve(group, existing, rules, next_id)
        next_id = res.next_customer_id
        group = pd.concat([group, res.assignments], axis=1)
        returning = group[["source", "source_key"]].merge(stale.assign(erased=True), how="left",
                                                          on=["source", "source_key"])["erased"].eq(True).to_numpy()
        group.loc[returning & group["is_new_customer"].to_numpy(), "match_rule"] = ERASED_MATCH_RULE
        group["customer_type"] = entity
        assigned.append((group, attrs, res))
    if not assigned:  # every row of the customer sources was quarantined
        return nothing
    extras = {b.spec.name: b.spec.extra_columns for b in batches}
    return _apply(conn, keystore, keyring, assigned, run_id, now, clock, extras, identity)


def _apply(conn: Connection, keystore: KeyStore, keyring: Keyring,
           assigned: list[tuple[pd.DataFrame, tuple[str, ...], Resolution]], run_id: str,
           now: datetime, clock: Stopwatch, extras: dict[str, dict[str, ColumnSpec]],
           identity: IdentityRules) -> PartyLoadResult:
    """Survive, protect and store the resolved records, :data:`PARTY_CHUNK` customers at a time.

    Identity needs every record at once; everything after it is per customer, so it
    runs in slices of customers: memory is bounded by a slice (the long survivorship
    frame, golden rows, ciphertexts), not by the day's population. Secondary indexes
    are deferred across the slices when the load is large.
    """
    all_records = pd.concat([g for g, _, _ in assigned], ignore_index=True)
    ids = np.unique(all_records["customer_id"].to_numpy(dtype=np.int64))
    new_ids = set(all_records.loc[all_records["is_new_customer"], "customer_id"].astype(int))
    # ids is sorted: a record's slice is its customer's position in it, PARTY_CHUNK to a slice
    groups = [(g, attrs, np.searchsorted(ids, g["customer_id"].to_numpy(dtype=np.int64)) // PARTY_CHUNK)
              for g, attrs, _ in assigned]
    changed = conflicts = 0
    with deferred_indexes(conn, table_of(Customer), len(ids)), \
            deferred_indexes(conn, table_of(SourceLink), len(all_records)):
        for number in range(-(-len(ids) // PARTY_CHUNK)):
            part = [(g[chunk == number], attrs) for g, attrs, chunk in groups]
            part_ids = ids[number * PARTY_CHUNK:(number + 1) * PARTY_CHUNK]
            n_changed, n_conflicts = _apply_slice(conn, keystore, keyring, part, part_ids,
                                                  new_ids.intersection(part_ids.tolist()), run_id, now, clock,
                                                  extras, identity)
            changed += n_changed
            conflicts += n_conflicts
    return PartyLoadResult(len(all_records), len(new_ids), changed - len(new_ids),
                           all_records[["source", "source_key", "customer_id"]], conflicts, clock.totals)


def _apply_slice(conn: Connection, keystore: KeyStore, keyring: Keyring,
                 part: list[tuple[pd.DataFrame, tuple[str, ...]]], ids: np.ndarray, new_ids: set[int],
                 run_id: str, now: datetime, clock: Stopwatch,
                 extras: dict[str, dict[str, ColumnSpec]], identity: IdentityRules) -> tuple[int, int]:
    """One slice of customers (``ids``, with their records in ``part``); returns
    (golden rows written, identity conflicts)."""
    records = pd.concat([g for g, _ in part], ignore_index=True)
    columns = [c.name for c in table_of(Customer).columns]
    with clock("load"):
        current = _fetch(conn, Customer, ids, columns)
    fresh = pd.DataFrame({"customer_id": sorted(new_ids)})
    first = records.drop_duplicates("customer_id").set_index("customer_id")
    fresh["customer_ref"] = [f"CUS{i:010d}" for i in fresh["customer_id"]]
    fresh["customer_type"] = first.loc[fresh["customer_id"], "customer_type"].to_numpy()
    fresh["created_run_id"] = run_id
    current = pd.concat([current, fresh], ignore_index=True) if len(current) else fresh.reindex(columns=columns)
    current = current.reindex(columns=columns).astype(object)
    current["customer_id"] = current["customer_id"].astype(np.int64)
    provenance = {int(c): p for c, p in zip(current["customer_id"], current["provenance"], strict=True)
                  if isinstance(p, dict)}
    winners, conflicts = [], []
    with clock("survive"):
        for group, attrs in part:
            if group.empty:
                continue
            surv = survivorship.survive(group, attrs, provenance)
            winners.append(surv.values)
            conflicts.append(surv.conflicts)
        won = pd.concat(winners, ignore_index=True)
    with clock("protect"):  # keys first, committed in the key store: see lifecycle.store.keystore
        deks = keystore.customer_data_keys(keyring, np.unique(won["customer_id"].to_numpy(dtype=np.int64)).tolist(),
                                           now)
        rows = _golden_rows(won, current, deks, keyring, identity)
    rows["updated_run_id"] = run_id
    latest = records.groupby("customer_id")["updated_at"].max()
    rows["source_updated_at"] = rows["customer_id"].map(latest)
    rows["marketing_consent"] = rows["marketing_consent"].map(
        lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
        else str(v).lower() in ("true", "1"))
    rows["dependants"] = pd.to_numeric(rows["dependants"], errors="coerce").astype("Int64")  # survived as text
    changed = rows[rows["customer_id"].isin(won["customer_id"]) | rows["customer_id"].isin(list(new_ids))]
    with clock("load"):
        upsert_frame(conn, table_of(Customer), changed)
        _upsert_links(conn, records, run_id)
    with clock("protect"):
        _load_cards(conn, keystore, keyring, records, deks, now)
        store_extra_attributes(conn, keystore, keyring, records, extras, deks, run_id, now)
    conflict_rows = pd.concat(conflicts, ignore_index=True)
    if len(conflict_rows):
        conflict_rows["run_id"] = run_id
        conn.execute(insert(IdentityConflict), conflict_rows.to_dict("records"))
    return len(changed), len(conflict_rows)


def _upsert_links(conn: Connection, records: pd.DataFrame, run_id: str) -> None:
    links = records[["source", "source_key", "customer_id", "system", "match_rule", "file_id"]].copy()
    links["first_run_id"] = run_id
    links["last_run_id"] = run_id
    upsert_frame(conn, table_of(SourceLink), links,
                 update_columns=["customer_id", "last_run_id", "file_id"])
    relinked = links[links["match_rule"] == ERASED_MATCH_RULE]
    if len(relinked):  # a link re-pointed from an erased customer says why
        upsert_frame(conn, table_of(SourceLink), relinked, update_columns=["match_rule", "first_run_id"])


def _load_cards(conn: Connection, keystore: KeyStore, keyring: Keyring, records: pd.DataFrame,
                deks: dict[int, bytes], now: datetime) -> None:
    if "card_no" not in records:
        return
    cards = records[records["card_no"].notna()].drop_duplicates("card_no", keep="last")
    if cards.empty:
        return
    ids = cards["customer_id"].astype(int).tolist()
    missing = [i for i in ids if i not in deks]
    if missing:
        deks.update(keystore.customer_data_keys(keyring, missing, now))
    out = pd.DataFrame({
        "card_ref": blind_index_series(keyring, "card_no", cards["card_no"]).to_numpy(),
        "customer_id": ids,
        "card_no_enc": encrypt_column(cards["card_no"].tolist(), [deks[i] for i in ids], ids,
                                      table="cards", column="card_no"),
        "card_no_masked": masking.mask_card_series(cards["card_no"]).to_numpy(),
        **{c: cards[c].to_numpy() for c in ("card_product", "credit_limit", "open_date", "card_status")
           if c in cards},
        "file_id": cards["file_id"].to_numpy(),
    })
    upsert_frame(conn, table_of(Card), out)
