"""The feature set's parameters (a section of the decision rules file), validated by pydantic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

FEATURE_SET = "fs1"  # bump when a feature's definition changes (stored with every row)


class Profitability(BaseModel):
    """Annual profit estimate per customer, in CNY: simple and stated, to rank customers, not to book.

    deposit balances × the deposit spread (funds-transfer price minus the rate paid),
    investment balances × the bank's fee share, loans × the lending margin, card
    spending × the interchange the issuer keeps, plus fees charged.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    deposit_spread: float = Field(default=0.015, ge=0, le=0.2)
    wealth_fee_rate: float = Field(default=0.006, ge=0, le=0.2)
    loan_margin: float = Field(default=0.02, ge=0, le=0.3)
    card_interchange: float = Field(default=0.0045, ge=0, le=0.05)
    include_fees: bool = True


class FeatureConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_initiated_types: tuple[str, ...] = Field(
        default=("CASH_DEPOSIT", "CASH_WITHDRAWAL", "TRANSFER_OUT", "PAYMENT", "CROSS_BORDER_OUT"),
        min_length=1, description="transaction types the customer performs (not credits others make, "
                                  "interest or fees): they measure activity and feed the RFM models")
    deposit_categories: tuple[str, ...] = ("DEPOSIT", "TIME_DEPOSIT")
    wealth_categories: tuple[str, ...] = ("WEALTH", "FUND", "INSURANCE")
    aum_average_days: int = Field(default=90, ge=1, le=365, description="window of the average AUM the value tier uses")
    history_days: int = Field(default=395, ge=90, le=1100, description="how far back events are read")
    rfm_calibration_days: int = Field(default=365, ge=90, le=1100)
    rfm_period_days: int = Field(default=7, ge=1, le=31)
    large_cash_cny: float = Field(default=50_000, gt=0, description="PBoC large-value cash report line, per day")
    rapid_flow_cny: float = Field(default=50_000, gt=0)
    rapid_flow_out_share: float = Field(default=0.9, gt=0, le=1)
    foreign_country_not: str = Field(default="CN", description="other counterparty countries are cross-border")
    trend_months: int = Field(default=6, ge=3, le=24)
    profitability: Profitability = Field(default_factory=Profitability)
