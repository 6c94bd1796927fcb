"""The decision rules: one versioned YAML file, validated by pydantic before anything is decided.

The file (default: the packaged ``lifecycle/config/rules.yaml``) holds the
feature parameters, the ordered lifecycle-stage rules, the value-tier
thresholds, the risk signals, the need-tier rules, the composite score's
weights and the CLV model settings. Every rule names the feature it reads and
its threshold; a rule that names a feature the feature set does not have, or
thresholds out of order, is refused at load with the file and the key.

The rules' **version** — ``<name>@<first 12 hex of the file's SHA-256>`` — is
stored with every decision: change a threshold and the version changes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lifecycle.features.config import FeatureConfig
from lifecycle.yamlconfig import load_versioned

DEFAULT_RULES_FILE = Path(__file__).resolve().parents[1] / "config" / "rules.yaml"

STAGES = ("prospect", "new", "growing", "mature", "declining", "dormant", "churned")
VALUE_TIERS = ("mass", "affluent", "high_value", "private_banking")
RISK_LEVELS = ("low", "medium", "high")
NEED_TIERS = ("basic", "advanced", "professional")
NUMERIC_FEATURES = frozenset({
    "tenure_days", "aum", "aum_avg_window", "aum_change_30d", "aum_change_90d", "aum_change_180d",
    "deposit_balance", "wealth_balance", "loan_outstanding", "products_held", "relationships", "active_accounts",
    "closed_accounts", "active_cards", "closed_cards", "txn_recency_days", "txn_count_90d", "txn_amount_90d",
    "txn_count_365d", "activity_trend", "last_activity_days", "salary_365d", "income_365d", "rfm_x", "rfm_t_x",
    "rfm_age", "rfm_monetary", "card_spend_365d", "card_txn_90d", "digital_logins_30d", "digital_logins_90d",
    "loans_active", "max_overdue_days", "max_overdue_days_12m", "debt_ratio", "large_cash_days_365d",
    "cross_border_180d", "rapid_flow_days_90d", "complaints_90d", "open_complaints", "serious_open_complaints",
    "nps_latest", "nps_avg_365d", "profitability", "registered_capital", "p_active",
})
TEXT_FEATURES = frozenset({"customer_type", "worst_loan_status", "worst_five_class"})
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}


class Condition(BaseModel):
    """``feature op threshold``; ``threshold`` may be a list with op ``in``. A missing feature
    value satisfies the condition only when ``when_missing`` is true."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")
    feature: str
    op: Literal["<", "<=", ">", ">=", "==", "!=", "in"]
    threshold: float | str | list[str]
    when_missing: bool = False
    rationale: str = Field(min_length=10)

    @model_validator(mode="after")
    def _known_feature(self) -> Condition:
        if self.feature not in NUMERIC_FEATURES | TEXT_FEATURES:
            raise ValueError(f"rule {self.rule}: unknown feature {self.feature!r}")
        if (self.op == "in") != isinstance(self.threshold, list):
            raise ValueError(f"rule {self.rule}: op 'in' takes a list, the others a single threshold")
        if self.feature in NUMERIC_FEATURES and not isinstance(self.threshold, (int, float)):
            raise ValueError(f"rule {self.rule}: feature {self.feature} is numeric, threshold must be a number")
        return self


class StageRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: Literal["prospect", "new", "growing", "mature", "declining", "dormant", "churned"]
    match: Literal["all", "any"] = "all"
    conditions: list[Condition] = Field(default_factory=list)
    rationale: str = Field(min_length=10)


class ValueTierRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    basis: Literal["lower_of_current_and_average", "average", "current"] = "lower_of_current_and_average"
    affluent: float = Field(gt=0)
    high_value: float = Field(gt=0)
    private_banking: float = Field(gt=0)

    @model_validator(mode="after")
    def _ascending(self) -> ValueTierRules:
        if not self.affluent < self.high_value < self.private_banking:
            raise ValueError("value_tier thresholds must rise: affluent < high_value < private_banking")
        return self


class RiskSignal(Condition):
    kind: Literal["credit", "aml", "operational"]
    level: Literal["medium", "high"]


class NeedRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tier: Literal["advanced", "professional"]
    customer_type: Literal["individual", "corporate"]
    match: Literal["all", "any"] = "any"
    conditions: list[Condition] = Field(min_length=1)


class ScoreRules(BaseModel):
    """Composite score 0-100: weighted components in [0, 1], minus a penalty per risk level."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: dict[Literal["value", "profitability", "activity", "p_active", "tenure"], float]
    value_cap_aum: float = Field(default=6_000_000, gt=0)
    profitability_cap: float = Field(default=50_000, gt=0)
    activity_cap_txns_90d: float = Field(default=30, gt=0)
    tenure_cap_days: float = Field(default=3650, gt=0)
    penalty: dict[Literal["medium", "high"], float] = Field(default_factory=lambda: {"medium": 5.0, "high": 20.0})  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> ScoreRules:
        if abs(sum(self.weights.values()) - 1.0) > 1e-6 or any(w < 0 for w in self.weights.values()):
            raise ValueError(f"score weights must be non-negative and sum to 1 (they sum to "
                             f"{sum(self.weights.values()):.4f})")
        return self


class ModelRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    refit_after_days: int = Field(default=35, ge=1, description="a fit older than this is refitted before deciding")
    fit_sample: int = Field(default=200_000, ge=1000)
    spend_cap_quantile: float = Field(default=0.99, gt=0.5, le=1.0, description="repeat-day spend is capped at "
                                      "this quantile before the spend model is fitted")
    seed: int = 7
    horizon_months: int = Field(default=12, ge=1, le=120)
    monthly_discount_rate: float = Field(default=0.01, ge=0, le=0.2)
    expected_txns_days: int = Field(default=90, ge=7, le=365)


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,30}$")
    features: FeatureConfig = Field(default_factory=FeatureConfig)
    lifecycle_stages: list[StageRule] = Field(min_length=1)
    value_tier: ValueTierRules
    risk_signals: list[RiskSignal] = Field(min_length=1)
    need_rules: list[NeedRule] = Field(default_factory=list)
    score: ScoreRules
    models: ModelRules = Field(default_factory=ModelRules)

    @model_validator(mode="after")
    def _stages_end_with_a_default(self) -> Rules:
        last = self.lifecycle_stages[-1]
        if last.conditions:
            raise ValueError("lifecycle_stages must end with a rule without conditions (the default stage)")
        if any(not r.conditions for r in self.lifecycle_stages[:-1]):
            raise ValueError("only the last lifecycle stage rule may have no conditions")
        codes = [c.rule for r in self.lifecycle_stages for c in r.conditions] + [s.rule for s in self.risk_signals]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(f"rule codes must be unique: {', '.join(repeated)}")
        return self


class RuleSet:
    """Validated rules with their version."""

    def __init__(self, rules: Rules, version: str, file: Path) -> None:
        self.rules, self.version, self.file = rules, version, file

    def __repr__(self) -> str:
        return f"RuleSet({self.version})"


def load_rules(path: Path | str | None = None) -> RuleSet:
    file = Path(path) if path else DEFAULT_RULES_FILE
    rules, version = load_versioned(file, Rules, "rules file")
    return RuleSet(rules, version, file)
