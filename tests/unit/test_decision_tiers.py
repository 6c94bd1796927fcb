"""Value, risk and need tiers and the composite score, on hand-made features."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lifecycle.decisioning.rules import load_rules
from lifecycle.decisioning.tiers import composite_score, decide_need_tier, decide_risk, decide_value_tier
from tests.support.features import features

RULES = load_rules().rules


@pytest.mark.parametrize(("aum", "average", "tier"), [
    (49_999.99, 49_999.99, "mass"), (50_000, 50_000, "affluent"), (499_999, 600_000, "affluent"),
    (500_000, 500_000, "high_value"), (6_000_000, 6_000_000, "private_banking"),
    (7_000_000, 400_000, "affluent"),  # a one-day spike does not promote
    (30_000, 900_000, "mass"),  # a real fall demotes at once
])
def test_value_tier_uses_the_lower_of_todays_and_the_average_aum(aum: float, average: float, tier: str) -> None:
    decided = decide_value_tier(features({"aum": aum, "aum_avg_window": average}), RULES.value_tier)
    assert decided["value_tier"].iloc[0] == tier
    reason = json.loads(decided["value_reasons"].iloc[0])[0]
    assert reason["value"] == pytest.approx(min(aum, average))


def test_risk_names_the_strongest_signal_first_per_kind_and_overall() -> None:
    frame = features({"max_overdue_days": 45, "max_overdue_days_12m": 45},
                     {"large_cash_days_365d": 1},
                     {"worst_five_class": "DOUBTFUL", "max_overdue_days": 200, "cross_border_180d": 12},
                     {"serious_open_complaints": 1},
                     {})
    decided = decide_risk(frame, RULES.risk_signals)
    assert decided["risk_tier"].tolist() == ["high", "medium", "high", "medium", "low"]
    assert decided["credit_risk"].tolist() == ["high", "low", "high", "low", "low"]
    assert decided["aml_risk"].tolist() == ["low", "medium", "high", "low", "low"]
    assert decided["operational_risk"].tolist() == ["low", "low", "low", "medium", "low"]
    first = [json.loads(r)[0]["rule"] for r in decided["risk_reasons"]]
    assert first == ["overdue_over_30d", "one_large_cash_day", "overdue_over_30d", "serious_open_complaint",
                     "no_risk_signal"]
    overdue = json.loads(decided["risk_reasons"].iloc[0])
    assert {r["rule"] for r in overdue} == {"overdue_over_30d", "past_due", "late_in_12m"}


def test_a_missing_debt_ratio_is_no_signal() -> None:
    decided = decide_risk(features({"debt_ratio": np.nan}, {"debt_ratio": 9.0}), RULES.risk_signals)
    assert decided["credit_risk"].tolist() == ["low", "medium"]


def test_need_tiers_follow_the_customer_type() -> None:
    frame = features({"wealth_balance": 2_000_000}, {"wealth_balance": 10_000}, {},
                     {"customer_type": "corporate", "registered_capital": 80_000_000},
                     {"customer_type": "corporate", "registered_capital": 1_000_000, "loans_active": 1},
                     {"customer_type": "corporate", "registered_capital": 1_000_000, "wealth_balance": 5e6})
    assert decide_need_tier(frame, RULES.need_rules)["need_tier"].tolist() == [
        "professional", "advanced", "basic", "professional", "advanced", "basic"]


def test_the_score_is_bounded_weighted_and_penalised_for_risk() -> None:
    frame = features({"aum": 6_000_000, "profitability": 80_000, "txn_count_90d": 60, "tenure_days": 5000},
                     {"aum": 0, "profitability": 0, "txn_count_90d": 0, "tenure_days": 0},
                     {"aum": 6_000_000, "profitability": 80_000, "txn_count_90d": 60, "tenure_days": 5000})
    risk = pd.Series(["low", "low", "high"], index=frame.index)
    p_active = pd.Series([1.0, np.nan, 1.0], index=frame.index)
    scored = composite_score(frame, risk, p_active, RULES.score)
    assert scored["composite_score"].tolist() == [100.0, 0.0, 80.0]
    parts = json.loads(scored["score_reasons"].iloc[2])
    assert sum(p["points"] for p in parts) == pytest.approx(80.0)
    assert {p["rule"] for p in parts} >= {"score_value", "score_p_active", "risk_penalty"}
