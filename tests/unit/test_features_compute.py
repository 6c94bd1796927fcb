"""Features from hand-made inputs: AUM windows, activity, RFM, credit, AML and service signals."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from lifecycle.features.compute import compute_features
from lifecycle.features.config import FeatureConfig
from lifecycle.features.reader import Inputs

D = date(2026, 6, 30)
CFG = FeatureConfig()


def _days(rows: list[tuple[int, str, dict[str, float]]]) -> pd.DataFrame:
    columns = ["n_initiated", "initiated", "cash", "n_cross_border", "credit", "debit", "salary", "fees"]
    return pd.DataFrame([{"customer_id": c, "day": d, **{k: v.get(k, 0.0) for k in columns}} for c, d, v in rows])


def _inputs(**frames: pd.DataFrame) -> Inputs:
    empty = {
        "customers": pd.DataFrame({"customer_id": [1, 2], "customer_type": ["individual", "corporate"],
                                   "branch_code": ["310101", "310102"], "rm_id": ["RM1", None],
                                   "open_date": ["2020-01-01", "2026-06-01"], "registered_capital": [None, 5e6]}),
        "accounts": pd.DataFrame(columns=["customer_id", "product_category", "status", "open_date", "close_date"]),
        "balances": pd.DataFrame(columns=["customer_id", "balance_date", "aum", "deposit", "wealth"]),
        "transactions": _days([]).reindex(columns=["customer_id", "day", "n_initiated", "initiated", "cash",
                                                   "n_cross_border", "credit", "debit", "salary", "fees"]),
        "cards": pd.DataFrame(columns=["customer_id", "card_status"]),
        "card_days": pd.DataFrame(columns=["customer_id", "day", "n", "amount"]),
        "digital_days": pd.DataFrame(columns=["customer_id", "day", "events", "logins"]),
        "loans": pd.DataFrame(columns=["customer_id", "outstanding", "status", "overdue_days",
                                       "max_overdue_days_12m", "five_class"]),
        "feedback": pd.DataFrame(columns=["customer_id", "feedback_date", "kind", "nps_score", "severity",
                                          "status"]),
    }
    return Inputs(**{**empty, **frames})


def test_aum_windows_changes_and_the_quarter_average() -> None:
    balances = pd.DataFrame({"customer_id": 1, "balance_date": ["2025-12-31", "2026-03-31", "2026-04-30",
                                                                "2026-05-31", "2026-06-30"],
                             "aum": [200_000, 500_000, 400_000, 310_000, 300_000],
                             "deposit": [200_000, 400_000, 300_000, 210_000, 200_000],
                             "wealth": [0, 100_000, 100_000, 100_000, 100_000]})
    f = compute_features(_inputs(balances=balances), D, CFG)
    one = f.loc[1]
    assert (one["aum"], one["deposit_balance"], one["wealth_balance"]) == (300_000, 200_000, 100_000)
    assert one["aum_avg_window"] == pytest.approx((400_000 + 310_000 + 300_000) / 3)
    assert one["aum_change_30d"] == pytest.approx(300 / 310 - 1)
    assert one["aum_change_90d"] == pytest.approx(300 / 500 - 1)
    assert one["aum_change_180d"] == pytest.approx(300 / 200 - 1)
    assert f.loc[2, "aum"] == 0 and pd.isna(f.loc[2, "aum_change_90d"])  # no balances: no change
    assert f.loc[2, "tenure_days"] == 29 and f.loc[1, "customer_type"] == "individual"


def test_activity_counts_only_customer_initiated_days_and_feeds_the_rfm_summary() -> None:
    rows = [(1, "2026-06-28", {"n_initiated": 2, "initiated": 300}), (1, "2026-06-01", {"n_initiated": 1,
                                                                                        "initiated": 100}),
            (1, "2025-12-01", {"n_initiated": 1, "initiated": 50}), (1, "2026-06-29", {"salary": 9000,
                                                                                       "credit": 9000})]
    f = compute_features(_inputs(transactions=_days(rows)), D, CFG)
    one = f.loc[1]
    assert one["txn_recency_days"] == 2 and one["txn_count_90d"] == 3 and one["txn_amount_90d"] == 400
    assert one["txn_count_365d"] == 4 and one["salary_365d"] == 9000 and one["income_365d"] == 9000
    assert one["rfm_x"] == 2  # three purchase days: the first is not a repeat
    assert one["rfm_age"] == pytest.approx((D - date(2025, 12, 1)).days / 7)
    assert one["rfm_monetary"] == pytest.approx((100 + 300) / 2)
    assert one["last_activity_days"] == 2 and pd.isna(f.loc[2, "txn_recency_days"])


def test_aml_signals_large_cash_days_cross_border_and_pass_through_flows() -> None:
    rows = [(1, "2026-06-01", {"cash": 60_000}), (1, "2026-05-01", {"cash": 49_999}),
            (1, "2026-04-01", {"cash": 50_000, "n_cross_border": 4}), (1, "2025-01-01", {"cash": 90_000}),
            (2, "2026-06-10", {"credit": 100_000, "debit": 95_000}),
            (2, "2026-06-20", {"credit": 80_000}), (2, "2026-06-21", {"debit": 79_000}),
            (2, "2026-06-25", {"credit": 80_000, "debit": 10_000})]
    f = compute_features(_inputs(transactions=_days(rows)), D, CFG)
    assert f.loc[1, "large_cash_days_365d"] == 2 and f.loc[1, "cross_border_180d"] == 4
    assert f.loc[2, "rapid_flow_days_90d"] == 2 and f.loc[2, "large_cash_days_365d"] == 0


def test_credit_service_holdings_and_profitability() -> None:
    loans = pd.DataFrame({"customer_id": [1, 1, 2], "outstanding": [200_000, 0, 50_000],
                          "status": ["OVERDUE", "CLOSED", "NORMAL"], "overdue_days": [45, 0, 0],
                          "max_overdue_days_12m": [45, 10, 0], "five_class": ["SPECIAL_MENTION", "NORMAL", "NORMAL"]})
    accounts = pd.DataFrame({"customer_id": [1, 1, 1], "product_category": ["DEPOSIT", "FUND", "DEPOSIT"],
                             "status": ["ACTIVE", "ACTIVE", "CLOSED"], "open_date": "2020-01-01",
                             "close_date": [None, None, "2024-01-01"]})
    cards = pd.DataFrame({"customer_id": [1, 1], "card_status": ["ACTIVE", "CLOSED"]})
    feedback = pd.DataFrame({"customer_id": [1, 1, 1], "feedback_date": ["2026-06-20", "2026-01-01", "2026-06-01"],
                             "kind": ["COMPLAINT", "COMPLAINT", "SURVEY"], "nps_score": [None, None, 3],
                             "severity": ["HIGH", "LOW", None], "status": ["OPEN", "RESOLVED", None]})
    txns = _days([(1, "2026-06-01", {"credit": 100_000, "fees": 25})])
    f = compute_features(_inputs(loans=loans, accounts=accounts, cards=cards, feedback=feedback,
                                 transactions=txns), D, CFG)
    one = f.loc[1]
    assert (one["active_accounts"], one["closed_accounts"], one["active_cards"], one["closed_cards"]) == (2, 1, 1, 1)
    assert one["products_held"] == 4 and one["relationships"] == 5  # deposit, fund, card, loan; 3 accounts + 2 cards
    assert one["loan_outstanding"] == 200_000 and one["loans_active"] == 1
    assert (one["worst_loan_status"], one["max_overdue_days"], one["worst_five_class"]) == ("OVERDUE", 45,
                                                                                          "SPECIAL_MENTION")
    assert one["debt_ratio"] == pytest.approx(2.0)
    assert (one["complaints_90d"], one["open_complaints"], one["serious_open_complaints"]) == (1, 1, 1)
    assert one["nps_latest"] == 3
    assert one["profitability"] == pytest.approx(200_000 * 0.02 + 25)  # no balances: loan margin and fees
    assert f.loc[2, "debt_ratio"] != f.loc[2, "debt_ratio"]  # a loan and no known income: unknown (NaN)


def test_a_complaint_in_progress_is_still_unresolved_and_a_resolved_one_is_not() -> None:
    feedback = pd.DataFrame({"customer_id": [1, 1, 2], "feedback_date": ["2026-06-20", "2026-06-10", "2026-06-01"],
                             "kind": "COMPLAINT", "nps_score": None, "severity": ["HIGH", "LOW", "HIGH"],
                             "status": ["in_progress", "open", "resolved"]})
    f = compute_features(_inputs(feedback=feedback), D, CFG)
    assert (f.loc[1, "open_complaints"], f.loc[1, "serious_open_complaints"]) == (2, 1)
    assert (f.loc[2, "complaints_90d"], f.loc[2, "open_complaints"], f.loc[2, "serious_open_complaints"]) == (1, 0, 0)
