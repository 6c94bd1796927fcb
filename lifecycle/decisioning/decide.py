"""All of one partition's decisions from its features, the rules and the fitted models. Pure.

``decide(features, ruleset, models)`` returns one row per customer with the
stage, the tiers, the score, P(active), expected transactions and CLV, and
``reasons``: one JSON object holding each decision's reason list. Changes
against the previous decisions become stage transitions and tier events
(:func:`changes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lifecycle.decisioning.clv import BgNbdModel, GammaGammaModel, score_customers
from lifecycle.decisioning.rules import NEED_TIERS, RISK_LEVELS, VALUE_TIERS, RuleSet
from lifecycle.decisioning.stages import decide_stages
from lifecycle.decisioning.tiers import composite_score, decide_need_tier, decide_risk, decide_value_tier

DECISION_COLUMNS = ("lifecycle_stage", "value_tier", "risk_tier", "credit_risk", "aml_risk", "operational_risk",
                    "need_tier", "composite_score", "p_active", "expected_txns", "clv", "reasons")
REASON_COLUMNS = ("lifecycle_stage_reasons", "value_tier_reasons", "risk_tier_reasons", "need_tier_reasons")
TIER_ORDER = {"value_tier": VALUE_TIERS, "need_tier": NEED_TIERS, "risk_tier": RISK_LEVELS}
UP_DOWN = {"value_tier": ("upgrade", "downgrade"), "need_tier": ("upgrade", "downgrade"),
           "risk_tier": ("raised", "lowered")}


@dataclass(frozen=True)
class Models:
    fit_id: int | None
    activity: BgNbdModel | None
    spend: GammaGammaModel | None
    why_missing: str | None = None  # when the models could not be fitted


def activity_scores(features: pd.DataFrame, models: Models, ruleset: RuleSet) -> pd.DataFrame:
    """P(active), expected transactions and CLV for customers with activity in the calibration window."""
    out = pd.DataFrame({"p_active": np.nan, "expected_txns": np.nan, "clv": np.nan}, index=features.index)
    if models.activity is None:
        return out
    seen = features[features["rfm_age"] > 0]
    if seen.empty:
        return out
    rfm = pd.DataFrame({"frequency": seen["rfm_x"].astype(int), "recency": seen["rfm_t_x"].astype(float),
                        "T": seen["rfm_age"].astype(float), "monetary_value": seen["rfm_monetary"].astype(float)},
                       index=seen.index)
    rfm.loc[rfm["frequency"] == 0, "monetary_value"] = 0.0
    m = ruleset.rules.models
    horizon = m.expected_txns_days / ruleset.rules.features.rfm_period_days
    expected = models.activity.expected_purchases(horizon, rfm["frequency"], rfm["recency"], rfm["T"])
    out.loc[seen.index, "p_active"] = models.activity.probability_alive(rfm["frequency"], rfm["recency"], rfm["T"])
    out.loc[seen.index, "expected_txns"] = np.asarray(expected, dtype=float)
    if models.spend is not None:
        scores = score_customers(rfm, models.activity, models.spend, horizon_months=m.horizon_months,
                                 monthly_discount_rate=m.monthly_discount_rate)
        out.loc[seen.index, "clv"] = scores["clv"].to_numpy()
    return out


def _model_reasons(scored: pd.DataFrame, models: Models) -> pd.Series:
    if models.activity is None:
        text = '[{"rule": "models_unavailable", "value": null, "threshold": null}]'
        return pd.Series(text, index=scored.index)
    fit = "null" if models.fit_id is None else str(models.fit_id)
    p = scored["p_active"].round(4).astype(str).where(scored["p_active"].notna(), "null")
    text = '[{"rule": "bgnbd", "value": ' + p + ', "threshold": null, "fit": ' + fit + "}"
    if models.spend is None:
        text = text + ', {"rule": "spend_model_unavailable", "value": null, "threshold": null}'
    return text + "]"


def decide(features: pd.DataFrame, ruleset: RuleSet, models: Models) -> pd.DataFrame:
    rules = ruleset.rules
    scored = activity_scores(features, models, ruleset)
    frame = features.join(scored)
    stages = decide_stages(frame, rules.lifecycle_stages)
    value = decide_value_tier(frame, rules.value_tier)
    risk = decide_risk(frame, rules.risk_signals)
    need = decide_need_tier(frame, rules.need_rules)
    score = composite_score(frame, risk["risk_tier"], scored["p_active"], rules.score)
    reasons = ('{"lifecycle_stage": ' + stages["stage_reasons"] + ', "value_tier": ' + value["value_reasons"]
               + ', "risk_tier": ' + risk["risk_reasons"] + ', "need_tier": ' + need["need_reasons"]
               + ', "composite_score": ' + score["score_reasons"] + ', "p_active": '
               + _model_reasons(scored, models) + "}")
    out = pd.concat([stages["lifecycle_stage"], value["value_tier"], risk.drop(columns=["risk_reasons"]),
                     need["need_tier"], score["composite_score"], scored], axis=1)
    out["reasons"] = reasons
    out["lifecycle_stage_reasons"] = stages["stage_reasons"]
    out["value_tier_reasons"] = value["value_reasons"]
    out["risk_tier_reasons"] = risk["risk_reasons"]
    out["need_tier_reasons"] = need["need_reasons"]
    return out[[*DECISION_COLUMNS, *REASON_COLUMNS]]


def changes(current: pd.DataFrame, previous: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(stage transitions, tier events) of ``current`` decisions against ``previous`` ones.

    Both frames are indexed by customer_id; ``previous`` may lack customers (new
    ones: their stage enters from nothing). Reasons of a change are the current
    decision's reasons for that dimension.
    """
    joined = current.join(previous[["lifecycle_stage", *TIER_ORDER]], rsuffix="_before", how="left")
    moved = joined["lifecycle_stage"] != joined["lifecycle_stage_before"]
    before = joined.loc[moved, "lifecycle_stage_before"].astype(object)
    transitions = pd.DataFrame({"from_stage": before.where(before.notna(), None),
                                "to_stage": joined.loc[moved, "lifecycle_stage"],
                                "reasons": joined.loc[moved, "lifecycle_stage_reasons"]})
    events = []
    for dimension, order in TIER_ORDER.items():
        rank = {t: i for i, t in enumerate(order)}
        before, after = joined[f"{dimension}_before"], joined[dimension]
        changed = before.notna() & (before != after)
        if not changed.any():
            continue
        up, down = UP_DOWN[dimension]
        direction = np.where(after[changed].map(rank) > before[changed].map(rank), up, down)
        events.append(pd.DataFrame({"dimension": dimension, "from_tier": before[changed],
                                    "to_tier": after[changed], "direction": direction,
                                    "reasons": joined.loc[changed, f"{dimension}_reasons"]}))
    tier_events = pd.concat(events) if events else pd.DataFrame(
        columns=["dimension", "from_tier", "to_tier", "direction", "reasons"])
    return transitions, tier_events
