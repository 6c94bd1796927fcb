"""Hand-made feature frames for decision tests: a plain, active, mid-value individual unless told otherwise."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

BASE: dict[str, Any] = {
    "customer_type": "individual", "branch_code": "310101", "rm_id": "RM00001", "tenure_days": 2000,
    "aum": 100_000.0, "aum_avg_window": 100_000.0, "aum_change_30d": 0.0, "aum_change_90d": 0.0,
    "aum_change_180d": 0.0, "deposit_balance": 100_000.0, "wealth_balance": 0.0, "loan_outstanding": 0.0,
    "products_held": 1, "relationships": 1, "active_accounts": 1, "closed_accounts": 0, "active_cards": 0,
    "closed_cards": 0, "txn_recency_days": 3, "txn_count_90d": 12, "txn_amount_90d": 9000.0, "txn_count_365d": 48,
    "activity_trend": 0.0, "last_activity_days": 3, "salary_365d": 0.0, "income_365d": 120_000.0, "rfm_x": 40,
    "rfm_t_x": 50.0, "rfm_age": 51.0, "rfm_monetary": 200.0, "card_spend_365d": 0.0, "card_txn_90d": 0,
    "digital_logins_30d": 4, "digital_logins_90d": 12, "loans_active": 0, "worst_loan_status": None,
    "max_overdue_days": 0, "max_overdue_days_12m": 0, "worst_five_class": None, "debt_ratio": 0.0,
    "large_cash_days_365d": 0, "cross_border_180d": 0, "rapid_flow_days_90d": 0, "complaints_90d": 0,
    "open_complaints": 0, "serious_open_complaints": 0, "nps_latest": np.nan, "nps_avg_365d": np.nan,
    "profitability": 1500.0, "registered_capital": np.nan,
}


def features(*customers: dict[str, Any]) -> pd.DataFrame:
    """One row per dict (its keys override BASE), indexed by customer_id 1, 2, …"""
    rows = [{**BASE, **c} for c in customers]
    return pd.DataFrame(rows, index=pd.Index(range(1, len(rows) + 1), name="customer_id"))
