"""Features from one partition's inputs: pure pandas, one row per customer, no loop per customer.

Definitions (every amount in CNY, every window ending on the as-of date D):

* ``aum`` — the customer's AUM on their latest balance snapshot on or before D;
  ``aum_avg_window`` the mean of their snapshots within the last
  ``aum_average_days``; ``aum_change_Nd`` = AUM(D) / AUM(latest snapshot on or
  before D − N) − 1 (null when that earlier AUM is 0 or unknown).
* ``deposit_balance`` / ``wealth_balance`` — AUM split by product category;
  ``loan_outstanding`` — outstanding principal of loans not closed.
* ``products_held`` — distinct product categories of open accounts, plus one for
  an active card and one for a loan; ``relationships`` — accounts and cards ever held.
* Activity counts only **customer-initiated** transactions (configured types):
  ``txn_recency_days``, ``txn_count_90d`` / ``txn_amount_90d``, ``txn_count_365d``;
  ``activity_trend`` — OLS slope of monthly counts over the last months divided
  by their mean (−0.2 = a fifth fewer per month); ``last_activity_days`` — days
  since the last customer-initiated transaction, card purchase or digital event.
* RFM for the BG/NBD / Gamma-Gamma models: repeat purchase days ``rfm_x``,
  ``rfm_t_x`` and ``rfm_age`` in weeks, mean repeat-day spend ``rfm_monetary``.
* Credit: worst loan status, max current and 12-month overdue days, worst
  five-class grade, ``debt_ratio`` = loans outstanding / income over 12 months
  (salary, else all credits).
* AML: days whose cash total reaches the large-value line, cross-border
  transfers in 180 days, days where a large credit left again (same or next day).
* Service: complaints opened in 90 days, unresolved (open or in progress) and
  serious unresolved complaints as of D (the complaint machine's status), the
  latest and average NPS over the history window.
* ``profitability`` — see :class:`lifecycle.features.config.Profitability`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from lifecycle.decisioning.clv_rfm import rfm_summary
from lifecycle.features.config import FEATURE_SET, FeatureConfig
from lifecycle.features.reader import Inputs

RESOLVED = ("resolved", "closed")  # any other complaint status (open, in_progress) is unresolved

LOAN_STATUS_ORDER = {"CLOSED": 0, "NORMAL": 1, "OVERDUE": 2, "NPL": 3}
FIVE_CLASS_ORDER = {"NORMAL": 1, "SPECIAL_MENTION": 2, "SUBSTANDARD": 3, "DOUBTFUL": 4, "LOSS": 5}


def _days_before(day: date, values: pd.Series) -> pd.Series:
    """Whole days from each date in ``values`` to ``day``."""
    return (pd.Timestamp(day) - pd.to_datetime(values)).dt.days


def _per_customer(index: pd.Index, series: pd.Series, fill: float | None = 0) -> pd.Series:
    out = series.reindex(index)
    return out.fillna(fill) if fill is not None else out


def _balances(inputs: Inputs, day: date, cfg: FeatureConfig, index: pd.Index) -> pd.DataFrame:
    b = inputs.balances.copy()
    out = pd.DataFrame(index=index)
    if b.empty:
        for c in ("aum", "aum_avg_window", "deposit_balance", "wealth_balance"):
            out[c] = 0.0
        for n in (30, 90, 180):
            out[f"aum_change_{n}d"] = np.nan
        return out
    b["age"] = _days_before(day, b["balance_date"])
    for c in ("aum", "deposit", "wealth"):
        b[c] = b[c].astype("float64")
    b = b.sort_values(["customer_id", "age"])
    latest = b.drop_duplicates("customer_id", keep="first").set_index("customer_id")
    out["aum"] = _per_customer(index, latest["aum"])
    out["deposit_balance"] = _per_customer(index, latest["deposit"])
    out["wealth_balance"] = _per_customer(index, latest["wealth"])
    window = b[b["age"] < cfg.aum_average_days]
    out["aum_avg_window"] = _per_customer(index, window.groupby("customer_id")["aum"].mean())
    for n in (30, 90, 180):
        earlier = b[b["age"] >= n].drop_duplicates("customer_id", keep="first").set_index("customer_id")["aum"]
        base = _per_customer(index, earlier, None)
        out[f"aum_change_{n}d"] = (out["aum"] / base.where(base > 0)) - 1
    return out


def _holdings(inputs: Inputs, index: pd.Index) -> pd.DataFrame:
    a, c, loans = inputs.accounts, inputs.cards, inputs.loans
    out = pd.DataFrame(index=index)
    open_acc = a[a["status"] != "CLOSED"] if len(a) else a
    out["active_accounts"] = _per_customer(index, open_acc.groupby("customer_id").size()).astype(int)
    out["closed_accounts"] = _per_customer(index, a[a["status"] == "CLOSED"].groupby("customer_id").size()
                                           if len(a) else pd.Series(dtype=float)).astype(int)
    active_cards = c[c["card_status"].isin(["ACTIVE", "FROZEN"])] if len(c) else c
    out["active_cards"] = _per_customer(index, active_cards.groupby("customer_id").size()).astype(int)
    out["closed_cards"] = _per_customer(index, (c[c["card_status"] == "CLOSED"] if len(c) else c)
                                        .groupby("customer_id").size()).astype(int)
    live_loans = loans[loans["status"] != "CLOSED"] if len(loans) else loans
    out["loans_active"] = _per_customer(index, live_loans.groupby("customer_id").size()).astype(int)
    categories = _per_customer(index, open_acc.groupby("customer_id")["product_category"].nunique()).astype(int)
    out["products_held"] = categories + (out["active_cards"] > 0) + (out["loans_active"] > 0)
    out["relationships"] = (_per_customer(index, a.groupby("customer_id").size()).astype(int)
                            + _per_customer(index, c.groupby("customer_id").size()).astype(int))
    out["loan_outstanding"] = _per_customer(index, live_loans.groupby("customer_id")["outstanding"].sum()
                                            .astype("float64"))
    if len(loans):
        l2 = loans.assign(status_rank=loans["status"].map(LOAN_STATUS_ORDER).fillna(0),
                          class_rank=loans["five_class"].map(FIVE_CLASS_ORDER).fillna(0),
                          overdue=pd.to_numeric(loans["overdue_days"]).fillna(0),
                          overdue12=pd.to_numeric(loans["max_overdue_days_12m"]).fillna(0))
        g = l2.groupby("customer_id")
        status_names = {v: k for k, v in LOAN_STATUS_ORDER.items()}
        class_names = {v: k for k, v in FIVE_CLASS_ORDER.items()}
        out["worst_loan_status"] = _per_customer(index, g["status_rank"].max().map(status_names), None)
        out["worst_five_class"] = _per_customer(index, g["class_rank"].max().map(class_names), None)
        out["max_overdue_days"] = _per_customer(index, g["overdue"].max()).astype(int)
        out["max_overdue_days_12m"] = _per_customer(index, g[["overdue", "overdue12"]].max().max(axis=1)).astype(int)
    else:
        out["worst_loan_status"] = None
        out["worst_five_class"] = None
        out["max_overdue_days"] = 0
        out["max_overdue_days_12m"] = 0
    return out


def _monthly_trend(days: pd.DataFrame, months: int, index: pd.Index) -> pd.Series:
    """Slope of monthly counts (30-day buckets, oldest first) over their mean, per customer."""
    recent = days[days["age"] < 30 * months]
    if recent.empty:
        return pd.Series(np.nan, index=index)
    bucket = (months - 1 - recent["age"] // 30).astype(int)
    counts = recent.assign(bucket=bucket).pivot_table(index="customer_id", columns="bucket", values="n_initiated",
                                                      aggfunc="sum", fill_value=0)
    counts = counts.reindex(columns=range(months), fill_value=0).reindex(index, fill_value=0).to_numpy(float)
    x = np.arange(months, dtype=float) - (months - 1) / 2
    slope = counts @ x / float(x @ x)
    mean = counts.mean(axis=1)
    return pd.Series(np.where(mean > 0, slope / np.where(mean > 0, mean, 1), np.nan), index=index)


def _activity(inputs: Inputs, day: date, cfg: FeatureConfig, index: pd.Index) -> pd.DataFrame:
    t = inputs.transactions.copy()
    out = pd.DataFrame(index=index)
    numeric = ["n_initiated", "initiated", "cash", "n_cross_border", "credit", "debit", "salary", "fees"]
    for c in numeric:
        t[c] = pd.to_numeric(t[c]).astype("float64") if len(t) else t.get(c)
    t["age"] = _days_before(day, t["day"]) if len(t) else pd.Series(dtype=int)
    acted = t[t["n_initiated"] > 0]
    g90, g365 = acted[acted["age"] < 90].groupby("customer_id"), acted[acted["age"] < 365].groupby("customer_id")
    out["txn_recency_days"] = _per_customer(index, acted.groupby("customer_id")["age"].min(), None)
    out["txn_count_90d"] = _per_customer(index, g90["n_initiated"].sum()).astype(int)
    out["txn_amount_90d"] = _per_customer(index, g90["initiated"].sum())
    out["txn_count_365d"] = _per_customer(index, g365["n_initiated"].sum()).astype(int)
    out["activity_trend"] = _monthly_trend(acted, cfg.trend_months, index)
    year = t[t["age"] < 365]
    yg = year.groupby("customer_id")
    out["salary_365d"] = _per_customer(index, yg["salary"].sum())
    out["income_365d"] = out["salary_365d"].where(out["salary_365d"] > 0, _per_customer(index, yg["credit"].sum()))
    out["fees_365d"] = _per_customer(index, yg["fees"].sum())
    out["large_cash_days_365d"] = _per_customer(
        index, year[year["cash"] >= cfg.large_cash_cny].groupby("customer_id").size()).astype(int)
    out["cross_border_180d"] = _per_customer(index, t[t["age"] < 180].groupby("customer_id")["n_cross_border"]
                                             .sum()).astype(int)
    out["rapid_flow_days_90d"] = _rapid_flows(t[t["age"] < 91], cfg, index)
    card, digital = inputs.card_days, inputs.digital_days
    card_age = _days_before(day, card["day"]) if len(card) else pd.Series(dtype=int)
    digital_age = _days_before(day, digital["day"]) if len(digital) else pd.Series(dtype=int)
    last_card = card.assign(age=card_age).groupby("customer_id")["age"].min() if len(card) else pd.Series(dtype=int)
    last_digital = (digital.assign(age=digital_age).groupby("customer_id")["age"].min()
                    if len(digital) else pd.Series(dtype=int))
    out["last_activity_days"] = pd.concat([out["txn_recency_days"], _per_customer(index, last_card, None),
                                           _per_customer(index, last_digital, None)], axis=1).min(axis=1)
    year_card = card[card_age < 365] if len(card) else card
    out["card_spend_365d"] = _per_customer(index, year_card.groupby("customer_id")["amount"].sum()
                                           .astype("float64") if len(card) else pd.Series(dtype=float))
    out["card_txn_90d"] = _per_customer(index, card[card_age < 90].groupby("customer_id")["n"].sum()
                                        if len(card) else pd.Series(dtype=float)).astype(int)
    for n in (30, 90):
        logins = digital[digital_age < n].groupby("customer_id")["logins"].sum() if len(digital) else pd.Series(
            dtype=float)
        out[f"digital_logins_{n}d"] = _per_customer(index, logins).astype(int)
    rfm = _rfm(acted, day, cfg)
    out["rfm_x"] = _per_customer(index, rfm["frequency"]).astype(int)
    out["rfm_t_x"] = _per_customer(index, rfm["recency"])
    out["rfm_age"] = _per_customer(index, rfm["T"])
    out["rfm_monetary"] = _per_customer(index, rfm["monetary_value"])
    return out


def _rapid_flows(days: pd.DataFrame, cfg: FeatureConfig, index: pd.Index) -> pd.Series:
    """Days where a large credit arrived and most of it left the same or the next day."""
    if days.empty:
        return pd.Series(0, index=index, dtype=int)
    big = days[days["credit"] >= cfg.rapid_flow_cny][["customer_id", "age", "credit", "debit"]]
    nxt = days[["customer_id", "age", "debit"]].assign(age=days["age"] + 1).rename(columns={"debit": "next_debit"})
    joined = big.merge(nxt, on=["customer_id", "age"], how="left").fillna({"next_debit": 0.0})
    out_share = np.maximum(joined["debit"], joined["next_debit"]) / joined["credit"]
    hits = joined[out_share >= cfg.rapid_flow_out_share].groupby("customer_id").size()
    return _per_customer(index, hits).astype(int)


def _rfm(acted: pd.DataFrame, day: date, cfg: FeatureConfig) -> pd.DataFrame:
    window = acted[acted["age"] < cfg.rfm_calibration_days]
    if window.empty:
        return pd.DataFrame(columns=["frequency", "recency", "T", "monetary_value"], dtype=float)
    return rfm_summary(window, customer_col="customer_id", time_col="day", amount_col="initiated",
                       observation_end=day, period_days=cfg.rfm_period_days)


def _service(inputs: Inputs, day: date, index: pd.Index) -> pd.DataFrame:
    f = inputs.feedback
    out = pd.DataFrame(index=index)
    if f.empty:
        for c in ("complaints_90d", "open_complaints", "serious_open_complaints"):
            out[c] = 0
        out["nps_latest"], out["nps_avg_365d"] = np.nan, np.nan
        return out
    f = f.assign(age=_days_before(day, f["feedback_date"]))
    complaints = f[f["kind"] == "COMPLAINT"]
    out["complaints_90d"] = _per_customer(index, complaints[complaints["age"] < 90].groupby("customer_id")
                                          .size()).astype(int)
    open_ = complaints[~complaints["status"].fillna("open").astype(str).str.lower().isin(RESOLVED)]
    out["open_complaints"] = _per_customer(index, open_.groupby("customer_id").size()).astype(int)
    out["serious_open_complaints"] = _per_customer(index, open_[open_["severity"] == "HIGH"].groupby("customer_id")
                                                   .size()).astype(int)
    surveys = f[f["nps_score"].notna()].sort_values(["customer_id", "age"])
    out["nps_latest"] = _per_customer(index, surveys.drop_duplicates("customer_id").set_index("customer_id")
                                      ["nps_score"].astype(float), None)
    out["nps_avg_365d"] = _per_customer(index, surveys[surveys["age"] < 365].groupby("customer_id")["nps_score"]
                                        .mean(), None)
    return out


def compute_features(inputs: Inputs, day: date, cfg: FeatureConfig) -> pd.DataFrame:
    """One row per live customer of the partition, indexed by ``customer_id``."""
    people = inputs.customers.drop_duplicates("customer_id").set_index("customer_id").sort_index()
    index = people.index
    out = pd.DataFrame(index=index)
    out["customer_type"] = people["customer_type"]
    out["branch_code"] = people["branch_code"]
    out["rm_id"] = people["rm_id"]
    opened = pd.to_datetime(people["open_date"])
    if len(inputs.accounts):
        first_account = pd.to_datetime(inputs.accounts.groupby("customer_id")["open_date"].min())
        opened = opened.fillna(first_account.reindex(index))
    out["tenure_days"] = (pd.Timestamp(day) - opened).dt.days
    out["registered_capital"] = pd.to_numeric(people["registered_capital"]).astype("float64")
    out = out.join(_balances(inputs, day, cfg, index)).join(_holdings(inputs, index))
    out = out.join(_activity(inputs, day, cfg, index)).join(_service(inputs, day, index))
    income = out["income_365d"]
    out["debt_ratio"] = np.where(out["loan_outstanding"] <= 0, 0.0,
                                 np.where(income > 0, out["loan_outstanding"] / income.where(income > 0), np.nan))
    p = cfg.profitability
    out["profitability"] = (out["deposit_balance"] * p.deposit_spread + out["wealth_balance"] * p.wealth_fee_rate
                            + out["loan_outstanding"] * p.loan_margin + out["card_spend_365d"] * p.card_interchange
                            + (out["fees_365d"] if p.include_fees else 0.0))
    return out.drop(columns=["fees_365d"]).assign(feature_set=FEATURE_SET)
