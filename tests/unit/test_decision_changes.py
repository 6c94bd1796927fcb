"""Stage transitions and tier events against the previous decisions; decisions without fitted models."""

from __future__ import annotations

import json

import pandas as pd

from lifecycle.decisioning.decide import Models, changes, decide
from lifecycle.decisioning.rules import load_rules
from tests.support.features import features


def _decided(rows: list[dict[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, index=pd.Index(range(1, len(rows) + 1), name="customer_id"))
    for c in ("lifecycle_stage", "value_tier", "risk_tier", "need_tier"):
        frame[f"{c}_reasons"] = f'[{{"rule": "r_{c}", "value": null, "threshold": null}}]'
    return frame


def test_changes_record_new_stages_and_tier_moves_with_direction() -> None:
    base = {"lifecycle_stage": "mature", "value_tier": "affluent", "risk_tier": "low", "need_tier": "basic"}
    current = _decided([{**base, "lifecycle_stage": "declining", "value_tier": "mass"},
                        {**base, "value_tier": "high_value", "risk_tier": "high"},
                        base, base])
    previous = pd.DataFrame([base, base, base], index=pd.Index([1, 2, 3], name="customer_id"))
    transitions, events = changes(current, previous)
    assert transitions.to_dict("index") == {
        1: {"from_stage": "mature", "to_stage": "declining",
            "reasons": '[{"rule": "r_lifecycle_stage", "value": null, "threshold": null}]'},
        4: {"from_stage": None, "to_stage": "mature",
            "reasons": '[{"rule": "r_lifecycle_stage", "value": null, "threshold": null}]'}}
    moves = {(i, r.dimension): r.direction for i, r in events.iterrows()}
    assert moves == {(1, "value_tier"): "downgrade", (2, "value_tier"): "upgrade", (2, "risk_tier"): "raised"}


def test_without_fitted_models_decisions_are_made_and_say_why_p_active_is_missing() -> None:
    rules = load_rules()
    decided = decide(features({}, {"tenure_days": 10}), rules, Models(None, None, None, "no repeat buyers"))
    assert decided["lifecycle_stage"].tolist() == ["mature", "new"]
    assert decided["p_active"].isna().all() and decided["composite_score"].between(0, 100).all()
    reasons = json.loads(decided["reasons"].iloc[0])
    assert reasons["p_active"] == [{"rule": "models_unavailable", "value": None, "threshold": None}]
    assert set(reasons) == {"lifecycle_stage", "value_tier", "risk_tier", "need_tier", "composite_score", "p_active"}
