"""Lifecycle stages from hand-made features: each stage, the order of the rules, the reasons."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lifecycle.decisioning.rules import load_rules
from lifecycle.decisioning.stages import decide_stages
from tests.support.features import features

RULES = load_rules().rules


@pytest.mark.parametrize(("customer", "stage", "rule"), [
    ({"relationships": 0, "active_accounts": 0, "products_held": 0}, "prospect", "no_relationship"),
    ({"active_accounts": 0, "closed_accounts": 2, "relationships": 2}, "churned", "no_open_account"),
    ({"last_activity_days": 200, "txn_recency_days": 200}, "dormant", "inactive_180d"),
    ({"last_activity_days": np.nan, "txn_recency_days": np.nan}, "dormant", "inactive_180d"),
    ({"tenure_days": 30}, "new", "tenure_under_90d"),
    ({"aum_change_90d": -0.45}, "declining", "aum_drop_90d"),
    ({"aum_change_30d": -0.6, "aum_change_90d": -0.2}, "declining", "aum_drop_30d"),
    ({"aum_change_180d": 0.8}, "growing", "aum_growth_180d"),
    ({}, "mature", "default"),
])
def test_each_stage_follows_its_rule(customer: dict[str, object], stage: str, rule: str) -> None:
    decided = decide_stages(features(customer), RULES.lifecycle_stages)
    assert decided["lifecycle_stage"].iloc[0] == stage
    reasons = json.loads(decided["stage_reasons"].iloc[0])
    assert rule in [r["rule"] for r in reasons]


def test_the_first_matching_stage_wins_and_reasons_carry_value_and_threshold() -> None:
    # churned beats dormant; a customer of 60 days with no activity is new, not dormant
    frame = features({"active_accounts": 0, "relationships": 1, "last_activity_days": 400},
                     {"tenure_days": 60, "last_activity_days": np.nan},
                     {"aum_change_90d": -0.5, "aum_change_180d": 0.9})
    decided = decide_stages(frame, RULES.lifecycle_stages)
    assert decided["lifecycle_stage"].tolist() == ["churned", "new", "declining"]
    drop = json.loads(decided["stage_reasons"].iloc[2])
    assert drop == [{"rule": "aum_drop_90d", "value": -0.5, "threshold": -0.3}]


def test_a_customer_with_a_card_still_open_is_not_churned() -> None:
    decided = decide_stages(features({"active_accounts": 0, "active_cards": 1, "relationships": 2}),
                            RULES.lifecycle_stages)
    assert decided["lifecycle_stage"].iloc[0] == "mature"
