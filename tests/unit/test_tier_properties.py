"""Properties of the tier and label rules that hold for any customer (hypothesis)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.decisioning.rules import VALUE_TIERS, load_rules
from lifecycle.decisioning.tiers import decide_risk, decide_value_tier
from lifecycle.segments.config import load_label_rules
from lifecycle.segments.labels import label_frame

RULES = load_rules().rules
LABELS = load_label_rules().rules
money = st.floats(min_value=0, max_value=1e10, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(money, money), min_size=1, max_size=40), money)
def test_more_assets_never_lower_the_value_tier(rows: list[tuple[float, float]], extra: float) -> None:
    base = pd.DataFrame(rows, columns=["aum", "aum_avg_window"])
    richer = base + extra
    rank = {t: i for i, t in enumerate(VALUE_TIERS)}
    before = decide_value_tier(base, RULES.value_tier)["value_tier"].map(rank)
    after = decide_value_tier(richer, RULES.value_tier)["value_tier"].map(rank)
    assert (after >= before).all()
    reasons = decide_value_tier(base, RULES.value_tier)["value_reasons"]
    assert all(json.loads(r)[0]["threshold"] <= min(a, b) + 1e-6 for r, (a, b) in zip(reasons, rows, strict=True))


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=400))
def test_more_overdue_days_never_lower_the_credit_risk(days: int, more: int) -> None:
    base = pd.DataFrame({"max_overdue_days": [days], "max_overdue_days_12m": [days]})
    worse = base + more
    frame = {c: [0] for c in ("large_cash_days_365d", "cross_border_180d", "rapid_flow_days_90d", "complaints_90d",
                              "open_complaints", "serious_open_complaints", "debt_ratio")}
    levels = {"low": 0, "medium": 1, "high": 2}
    signals = [s for s in RULES.risk_signals if s.kind == "credit" and s.feature in base.columns]
    assert signals, "the rules have credit signals on overdue days"
    a = decide_risk(base.assign(**frame), signals)["credit_risk"].map(levels).iloc[0]
    b = decide_risk(worse.assign(**frame), signals)["credit_risk"].map(levels).iloc[0]
    assert b >= a


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), money, st.just(float("nan")), st.just(float("inf"))), min_size=1,
                max_size=30))
def test_every_band_label_is_one_of_its_bands_and_follows_the_order(values: list[float | None]) -> None:
    frame = pd.DataFrame({"customer_id": range(1, len(values) + 1), "customer_type": "individual", "aum": values})
    out = label_frame(frame, LABELS)
    aum = out[out["label"] == "aum_band"].set_index("customer_id")["value"]
    rule = next(r for r in LABELS.labels if r.label == "aum_band")
    assert rule.bands is not None
    names = [b.value for b in rule.bands]
    finite = {i + 1 for i, v in enumerate(values) if v is not None and np.isfinite(v)}
    assert set(aum.index) == finite  # missing and infinite values get no band
    order = {n: i for i, n in enumerate(names)}
    ranked = sorted((values[i - 1], order[aum[i]]) for i in aum.index)
    assert [r for _, r in ranked] == sorted(r for _, r in ranked)
