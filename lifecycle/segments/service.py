"""The labels step: after a date is decided, label every customer and refresh the groups.

    label_day(ctx, day):
      inputs   features + decision of ``day`` + attributes (age, gender, occupation, income band,
               marital status, dependants, tenure, industry section, region)
      labels   every rule of the labels file, stored per (customer, day) with reasons and version
      groups   names checked for personal data (when new or redefined), then joins and leaves for ``day``

One transaction: a date's labels and memberships are replaced whole or not at
all; running a date again gives the same rows. Membership history only moves
forward: labelling a date earlier than the last refresh relabels it but leaves
the groups as they are. Only non-erased customers with
a decision on ``day`` are labelled; labels come only from stored features and
decisions, so any past decided date can be labelled again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, select

from lifecycle.clock import Clock
from lifecycle.errors import LifecycleError
from lifecycle.privacy.keyring import Keyring
from lifecycle.segments.config import LabelRules, LabelRuleSet, Region
from lifecycle.segments.groups import GroupChange, latest_refresh, name_groups, refresh_groups
from lifecycle.segments.industry import industry_sections
from lifecycle.segments.labels import label_frame, wide
from lifecycle.store.attributes import read_extra_attributes
from lifecycle.store.base import table_of
from lifecycle.store.frames import read_frame
from lifecycle.store.models import Customer, CustomerDecision, CustomerFeatures, CustomerLabel

LABELS = table_of(CustomerLabel)
DECISION_COLUMNS = ("lifecycle_stage", "value_tier", "risk_tier", "need_tier", "composite_score", "p_active", "clv")
DEMOGRAPHICS = ("occupation", "income_band", "marital_status", "dependants")  # the customer extract's, as codes


class NotDecidedError(LifecycleError):
    """Labels need the date's decisions."""


class LabelContext(Protocol):
    @property
    def engine(self) -> Engine: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def keyring(self) -> Keyring: ...

    @property
    def label_rules(self) -> LabelRuleSet: ...


@dataclass
class LabelResult:
    as_of: date
    version: str
    customers: int
    labels: int
    by_label: dict[str, dict[str, int]] = field(default_factory=dict)
    groups: list[GroupChange] = field(default_factory=list)  # empty: a later date was refreshed already


def _regions(branches: pd.Series, regions: dict[str, Region]) -> pd.DataFrame:
    columns = ["region_city", "region_city_tier", "region_economic_level"]
    out = pd.DataFrame({c: pd.Series([None] * len(branches), index=branches.index, dtype=object) for c in columns})
    codes = branches.astype("string")
    found = pd.Series(False, index=branches.index)
    for prefix in sorted(regions, key=len, reverse=True):  # the longest prefix wins
        hit = codes.str.startswith(prefix).fillna(False).astype(bool) & ~found
        region = regions[prefix]
        out.loc[hit, columns] = [
            region.city, region.city_tier, region.economic_level]
        found |= hit
    return out


def label_inputs(conn: Connection, day: date, rules: LabelRules) -> pd.DataFrame:
    """One row per decided, non-erased customer: features, decision and attributes of ``day``."""
    d = CustomerDecision.__table__
    decisions = read_frame(conn, select(d.c.customer_id, d.c.feature_set, *[d.c[c] for c in DECISION_COLUMNS])
                           .where(d.c.as_of == day))
    if decisions.empty:
        return pd.DataFrame()
    f = CustomerFeatures.__table__
    feature_set = str(decisions["feature_set"].iloc[0])
    features = read_frame(conn, select(f).where(f.c.as_of == day, f.c.feature_set == feature_set)).drop(
        columns=["as_of", "feature_set", "run_id"])
    c = Customer.__table__
    people = read_frame(conn, select(c.c.customer_id, c.c.gender, c.c.birth_year, c.c.industry_code,
                                     *[c.c[a] for a in DEMOGRAPHICS]).where(c.c.erased_at.is_(None)))
    frame = decisions.drop(columns=["feature_set"]).merge(features, on="customer_id").merge(people, on="customer_id")
    birth_year = pd.to_numeric(frame["birth_year"], errors="coerce")
    frame["age"] = (day.year - birth_year).where(birth_year.notna())
    frame["tenure_years"] = pd.to_numeric(frame["tenure_days"], errors="coerce") / 365.25
    frame["industry_section"] = industry_sections(frame["industry_code"])
    frame = frame.join(_regions(frame["branch_code"], rules.regions))
    return _with_extra_attributes(conn, frame, rules)


def _with_extra_attributes(conn: Connection, frame: pd.DataFrame, rules: LabelRules) -> pd.DataFrame:
    """The customers' extra attributes (columns a source keeps with ``extra: true``) that
    the rules read: a new column, or filling a derived one where it is missing (the age
    a churn extract states for a customer without a birth date)."""
    read = {r.input for r in rules.labels if r.input} | {
        t.column for r in rules.labels for case in (r.cases or ()) for t in case.when}
    extras = read_extra_attributes(conn, sorted(read))
    extras = extras.dropna(axis=1, how="all")
    if extras.empty:
        return frame
    values = frame[["customer_id"]].join(extras, on="customer_id").drop(columns=["customer_id"])
    for name in values.columns:
        frame[name] = frame[name].where(frame[name].notna(), values[name]) if name in frame else values[name]
    return frame


def label_day(ctx: LabelContext, day: date) -> LabelResult:
    """Label every customer decided on ``day`` and refresh the groups (see the module's docstring)."""
    ruleset = ctx.label_rules
    rules = ruleset.rules
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        inputs = label_inputs(conn, day, rules)
        if inputs.empty:
            raise NotDecidedError(f"{day} has no decisions: decide it first (bank-lifecycle run decide {day})")
        labels = label_frame(inputs, rules)
        conn.execute(delete(LABELS).where(LABELS.c.as_of == day))
        records = labels.assign(as_of=day, version=ruleset.version).to_dict("records")
        for start in range(0, len(records), 20_000):
            conn.execute(LABELS.insert(), records[start:start + 20_000])
        name_groups(conn, ctx.keyring, rules, now)
        latest = latest_refresh(conn)
        changes: list[GroupChange] = []
        if latest is None or day >= latest:  # membership history only moves forward
            changes = refresh_groups(conn, inputs.join(wide(labels), on="customer_id"), rules, day, now)
    by_label: dict[str, dict[str, int]] = {}
    for (label, value), n in labels.groupby(["label", "value"]).size().items():
        by_label.setdefault(str(label), {})[str(value)] = int(n)
    return LabelResult(day, ruleset.version, len(inputs), len(labels), by_label, changes)


def labels_of(conn: Connection, customer_id: int) -> list[dict[str, object]]:
    """The customer's labels on their latest labelled date."""
    latest = conn.execute(select(func.max(LABELS.c.as_of)).where(LABELS.c.customer_id == customer_id)).scalar()
    if latest is None:
        return []
    rows = conn.execute(select(LABELS.c.as_of, LABELS.c.dimension, LABELS.c.label, LABELS.c.value, LABELS.c.reasons)
                        .where(LABELS.c.customer_id == customer_id, LABELS.c.as_of == latest)
                        .order_by(LABELS.c.dimension, LABELS.c.label)).all()
    return [dict(r._mapping) for r in rows]
