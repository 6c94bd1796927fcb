"""Identity resolution: which source records are the same customer.

Rules, strongest first (configurable): the blind-indexed resident ID number;
then name + mobile; corporates on their USCC. Records sharing a key form one
component (connected components by label propagation, vectorised); a
component that reaches an existing customer joins it, else it becomes a new
customer. A source record already linked keeps its customer.

Works on blind indexes and source keys only: plaintext never needs to leave
the batch it came in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_RULES: tuple[str, ...] = ("id_no_bidx", "name_mobile_bidx")
CORPORATE_RULES: tuple[str, ...] = ("uscc",)


@dataclass(frozen=True)
class ExistingIdentities:
    """What the store already knows: source links and customers' match keys."""

    links: pd.DataFrame  # source, source_key, customer_id
    keys: pd.DataFrame  # customer_id + one column per rule key

    @classmethod
    def empty(cls, rules: Sequence[str]) -> ExistingIdentities:
        return cls(
            pd.DataFrame({"source": pd.Series(dtype=object), "source_key": pd.Series(dtype=object),
                          "customer_id": pd.Series(dtype="int64")}),
            pd.DataFrame({"customer_id": pd.Series(dtype="int64"), **{r: pd.Series(dtype=object) for r in rules}}),
        )


@dataclass(frozen=True)
class Resolution:
    """One row per input record: its customer_id, the rule that matched, and whether new."""

    assignments: pd.DataFrame  # record index -> customer_id, match_rule, is_new_customer
    conflicts: pd.DataFrame  # customer_id, other_customer_id: components reaching several customers
    next_customer_id: int


def _components(n: int, edges: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Connected-component label (smallest member) of each of ``n`` nodes."""
    label = np.arange(n, dtype=np.int64)
    if not edges:
        return label
    a = np.concatenate([e[0] for e in edges])
    b = np.concatenate([e[1] for e in edges])
    while True:
        m = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, m)
        np.minimum.at(new, b, m)
        new = new[new]  # pointer jumping
        if np.array_equal(new, label):
            return label
        label = new


def _key_edges(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Edges joining every node holding a key to the first node holding it."""
    present = values.dropna()
    if present.empty:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    codes, _ = pd.factorize(present, sort=False)
    nodes = present.index.to_numpy(dtype=np.int64)
    anchor = np.full(codes.max() + 1, -1, dtype=np.int64)
    order = np.arange(len(codes))[::-1]
    anchor[codes[order]] = nodes[order]
    return nodes, anchor[codes]


def resolve(records: pd.DataFrame, existing: ExistingIdentities, rules: Sequence[str],
            next_customer_id: int) -> Resolution:
    """Assign a customer to every record.

    ``records`` has columns source, source_key and one column per rule (None
    when the record lacks that key); its index must be 0..n-1.
    """
    n = len(records)
    known = records[["source", "source_key"]].merge(existing.links, how="left", on=["source", "source_key"])
    known_id = known["customer_id"].to_numpy(dtype="float64")

    # Nodes: records 0..n-1, then existing customers n..n+m-1.
    cust = existing.keys.reset_index(drop=True)
    nodes = pd.concat([records[list(rules)], cust[list(rules)]], ignore_index=True)
    edges = [_key_edges(nodes[rule]) for rule in rules]
    # A known record joins its customer's node.
    cust_pos = pd.Series(np.arange(len(cust)) + n, index=cust["customer_id"].to_numpy())
    linked = ~np.isnan(known_id)
    missing_nodes = [c for c in np.unique(known_id[linked].astype(np.int64)) if c not in cust_pos.index]
    if missing_nodes:  # linked customers without match keys still need a node
        extra = pd.Series(np.arange(len(missing_nodes)) + n + len(cust), index=missing_nodes)
        cust_pos = pd.concat([cust_pos, extra])
    total = n + len(cust_pos)
    if linked.any():
        edges.append((np.flatnonzero(linked), cust_pos.loc[known_id[linked].astype(np.int64)].to_numpy()))
    label = _components(total, edges)

    owner = np.full(total, -1, dtype=np.int64)
    owner[cust_pos.to_numpy()] = cust_pos.index.to_numpy(dtype=np.int64)
    comp_owner = pd.DataFrame({"label": label, "owner": owner})
    owned = comp_owner[comp_owner["owner"] >= 0]
    per_comp = owned.groupby("label")["owner"].agg(["min", "nunique"])
    conflicts = owned.merge(per_comp[per_comp["nunique"] > 1], left_on="label", right_index=True)
    conflicts = conflicts[conflicts["owner"] != conflicts["min"]].rename(
        columns={"min": "customer_id", "owner": "other_customer_id"})[["customer_id", "other_customer_id"]]

    rec_label = label[:n]
    comp_customer = per_comp["min"].reindex(np.unique(rec_label))
    new_labels = comp_customer.index[comp_customer.isna()]
    fresh = pd.Series(np.arange(len(new_labels), dtype=np.int64) + next_customer_id, index=new_labels)
    comp_customer = comp_customer.fillna(fresh).astype(np.int64)
    customer_id = comp_customer.loc[rec_label].to_numpy()

    rule = np.full(n, "new", dtype=object)
    is_new = np.isin(rec_label, new_labels)
    # The first record of a new component founds it; the others matched a key of it.
    founder = ~pd.Series(rec_label).duplicated().to_numpy()
    for r in reversed(list(rules)):
        has = records[r].notna().to_numpy()
        shared = nodes[r].iloc[:n].duplicated(keep=False).to_numpy() | nodes[r].iloc[:n].isin(
            cust[r].dropna()).to_numpy()
        rule = np.where(has & shared & ~(is_new & founder), r.removesuffix("_bidx"), rule)
    rule = np.where(linked, "known", rule)
    assignments = pd.DataFrame(
        {"customer_id": customer_id, "match_rule": rule, "is_new_customer": is_new}, index=records.index)
    return Resolution(assignments, conflicts.reset_index(drop=True),
                      next_customer_id + len(new_labels))
