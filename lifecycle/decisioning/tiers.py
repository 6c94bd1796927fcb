"""Value, risk and need tiers and the composite score, with their reasons. Pure: frames in, frames out.

* **Value tier** by AUM in CNY — by default the lower of today's AUM and the
  window's average (see ``rules.yaml``).
* **Risk tier** — the highest level of any configured signal, per kind (credit,
  AML, operational) and overall; the reasons list the signals that fired,
  strongest first, so the first one names what drove the tier.
* **Need tier** — professional / advanced by the rules for the customer's type,
  else basic.
* **Composite score** 0-100 — weighted components in [0, 1] minus a penalty for
  the risk tier; the reasons give each component's contribution.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from lifecycle.decisioning.evaluate import holds, join_reasons, reason_text
from lifecycle.decisioning.rules import RISK_LEVELS, VALUE_TIERS, NeedRule, RiskSignal, ScoreRules, ValueTierRules

LEVEL_RANK = {"low": 0, "medium": 1, "high": 2}


def value_basis(features: pd.DataFrame, rules: ValueTierRules) -> pd.Series:
    current, average = features["aum"].astype(float), features["aum_avg_window"].astype(float)
    if rules.basis == "current":
        return current
    if rules.basis == "average":
        return average
    return np.minimum(current, average.fillna(current))


def decide_value_tier(features: pd.DataFrame, rules: ValueTierRules) -> pd.DataFrame:
    basis = value_basis(features, rules)
    bounds = np.array([rules.affluent, rules.high_value, rules.private_banking])
    index = np.searchsorted(bounds, basis.to_numpy(), side="right")
    tier = pd.Series(np.array(VALUE_TIERS, dtype=object)[index], index=features.index)
    lower = np.concatenate([[0.0], bounds])[index]
    value = basis.round(2).astype(str)
    reasons = ('[{"rule": "value_tier_' + rules.basis + '", "value": ' + value + ', "threshold": '
               + pd.Series(lower, index=features.index).astype(str) + '}]')
    return pd.DataFrame({"value_tier": tier, "value_basis": basis, "value_reasons": reasons})


def decide_risk(features: pd.DataFrame, signals: list[RiskSignal]) -> pd.DataFrame:
    index = features.index
    out = pd.DataFrame(index=index)
    overall = np.zeros(len(index), dtype=int)
    parts: list[tuple[int, pd.Series]] = []
    for kind in ("credit", "aml", "operational"):
        rank = np.zeros(len(index), dtype=int)
        for signal in (s for s in signals if s.kind == kind):
            hit = holds(signal, features)
            level = LEVEL_RANK[signal.level]
            rank = np.where(hit, np.maximum(rank, level), rank)
            parts.append((level, reason_text(signal, features).where(hit)))
        out[f"{kind}_risk"] = np.array(RISK_LEVELS, dtype=object)[rank]
        overall = np.maximum(overall, rank)
    out["risk_tier"] = np.array(RISK_LEVELS, dtype=object)[overall]
    ordered = [p for _, p in sorted(parts, key=lambda lp: -lp[0])]  # high signals first
    reasons = join_reasons(ordered, index)
    out["risk_reasons"] = reasons.where(reasons != "[]", '[{"rule": "no_risk_signal", "value": null, '
                                                         '"threshold": null}]')
    return out


def decide_need_tier(features: pd.DataFrame, rules: list[NeedRule]) -> pd.DataFrame:
    index = features.index
    tier = pd.Series("basic", index=index, dtype=object)
    reasons = pd.Series('[{"rule": "basic_needs", "value": null, "threshold": null}]', index=index, dtype=object)
    decided = pd.Series(False, index=index)
    for rank in ("professional", "advanced"):
        for rule in (r for r in rules if r.tier == rank):
            eligible = ~decided & (features["customer_type"] == rule.customer_type)
            checks = [(c, holds(c, features)) for c in rule.conditions]
            matched = np.logical_and.reduce([h for _, h in checks]) if rule.match == "all" else \
                np.logical_or.reduce([h for _, h in checks])
            chosen = eligible & pd.Series(matched, index=index)
            if chosen.any():
                rows = features[chosen]
                tier[chosen] = rule.tier
                reasons[chosen] = join_reasons([reason_text(c, rows).where(h[chosen]) for c, h in checks], rows.index)
                decided |= chosen
    return pd.DataFrame({"need_tier": tier, "need_reasons": reasons})


def composite_score(features: pd.DataFrame, risk_tier: pd.Series, p_active: pd.Series,
                    rules: ScoreRules) -> pd.DataFrame:
    """Score and its components; components with a missing input score 0 (no credit without evidence)."""
    aum = features["aum"].astype(float).clip(lower=0)
    components = {
        "value": np.log10(1 + aum) / np.log10(1 + rules.value_cap_aum),
        "profitability": features["profitability"].astype(float).clip(lower=0) / rules.profitability_cap,
        "activity": features["txn_count_90d"].astype(float) / rules.activity_cap_txns_90d,
        "p_active": p_active.astype(float).fillna(0.0),
        "tenure": features["tenure_days"].astype(float).fillna(0.0).clip(lower=0) / rules.tenure_cap_days,
    }
    index = features.index
    total = pd.Series(0.0, index=index)
    parts = []
    for name, weight in rules.weights.items():
        value = pd.Series(np.clip(np.asarray(components[name], dtype=float), 0, 1), index=index)
        points = 100 * weight * value
        total += points
        parts.append(f'{{"rule": "score_{name}", "value": ' + value.round(4).astype(str) + ', "weight": '
                     + json.dumps(weight) + ', "points": ' + points.round(2).astype(str) + "}")
    penalty = risk_tier.map(lambda t: rules.penalty.get(t, 0.0)).astype(float)
    score = (total - penalty).clip(0, 100).round(2)
    parts.append('{"rule": "risk_penalty", "value": ' + risk_tier.map(json.dumps) + ', '
                 '"points": ' + (0 - penalty).astype(str) + "}")
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + ", " + part
    reasons = "[" + joined + "]"
    return pd.DataFrame({"composite_score": score, "score_reasons": reasons})
