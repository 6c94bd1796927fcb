"""The care rules: retention triggers, priorities, actions, entitlements, digests and the dispatcher.

One versioned YAML file (default: the packaged ``lifecycle/config/care.yaml``)
validated by pydantic; its version (name + content hash) is stored with every
retention task. A bad file is refused at load naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lifecycle.yamlconfig import load_versioned

DEFAULT_CARE_FILE = Path(__file__).resolve().parents[1] / "config" / "care.yaml"
VALUE_TIERS = ("mass", "affluent", "high_value", "private_banking")
PRIORITIES = ("P1", "P2", "P3")
TRIGGERS = ("complaint", "stage_entered", "value_downgrade", "low_p_active", "rm_assignment")
ACTIONS = ("call", "rate_offer", "fee_waiver", "advisor_meeting", "complaint_follow_up", "assign_rm")

Tier = Literal["mass", "affluent", "high_value", "private_banking"]
Priority = Literal["P1", "P2", "P3"]
Trigger = Literal["complaint", "stage_entered", "value_downgrade", "low_p_active", "rm_assignment"]
Action = Literal["call", "rate_offer", "fee_waiver", "advisor_meeting", "complaint_follow_up", "assign_rm"]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Triggers(Frozen):
    stages_entered: tuple[Literal["declining", "dormant", "churned"], ...] = ("declining", "dormant")
    low_p_active_below: float = Field(default=0.3, gt=0, lt=1)
    low_p_active_tiers: tuple[Tier, ...] = ("high_value", "private_banking")
    value_downgrade: bool = True
    serious_complaint: bool = True
    complaint_overdue_days: int = Field(default=15, ge=1, description="an open complaint older than this is "
                                        "overdue (the service level for a reply)")
    rm_assignment_tiers: tuple[Tier, ...] = ("high_value", "private_banking")


class ChurnRisk(Frozen):
    """Churn risk for the priority matrix: from the stage and P(active)."""

    high_stages: tuple[str, ...] = ("declining", "dormant")
    high_below_p_active: float = Field(default=0.3, gt=0, lt=1)
    medium_below_p_active: float = Field(default=0.6, gt=0, lt=1)


class ActionRule(Frozen):
    """The first rule that matches a task gives its suggested action (unset fields match all)."""

    action: Action
    triggers: tuple[Trigger, ...] = ()
    value_tiers: tuple[Tier, ...] = ()
    stages: tuple[str, ...] = ()


class RetentionRules(Frozen):
    triggers: Triggers = Field(default_factory=Triggers)
    trigger_rank: tuple[Trigger, ...] = Field(
        default=("complaint", "stage_entered", "value_downgrade", "low_p_active", "rm_assignment"),
        description="when several triggers fire for a customer, the first of these names the task")
    churn_risk: ChurnRisk = Field(default_factory=ChurnRisk)
    priority: dict[Tier, dict[Literal["high", "medium", "low"], Priority]]
    due_days: dict[Priority, int]
    grace_days: int = Field(default=7, ge=0, description="days past due before an open task expires")
    due_soon_days: int = Field(default=2, ge=0)
    actions: list[ActionRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> RetentionRules:
        missing = [t for t in VALUE_TIERS if t not in self.priority]
        if missing:
            raise ValueError(f"priority needs a row for every value tier; missing: {', '.join(missing)}")
        for tier, row in self.priority.items():
            if set(row) != {"high", "medium", "low"}:
                raise ValueError(f"priority.{tier} needs high, medium and low")
        if set(self.due_days) != set(PRIORITIES):
            raise ValueError("due_days needs P1, P2 and P3")
        last = self.actions[-1]
        if last.triggers or last.value_tiers or last.stages:
            raise ValueError("the last action rule must match every task (no triggers, tiers or stages)")
        return self


class QuietHours(Frozen):
    """No message leaves in this window of the bank's local time (it waits, it is not dropped)."""

    start: str = Field(default="21:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = "Asia/Shanghai"


class DigestRules(Frozen):
    locale: Literal["zh_CN", "en"] = "zh_CN"
    channel: str = Field(default="staff", max_length=16)
    branch_queue_team: str | None = Field(default=None, description="also route branch-queue digests to this team")


class DispatcherRules(Frozen):
    batch: int = Field(default=50, ge=1, le=10_000)
    lease_seconds: int = Field(default=300, ge=10, description="longer than a send can take (notifier timeout)")
    max_attempts: int = Field(default=6, ge=1, le=50)
    backoff_seconds: float = Field(default=60.0, gt=0, description="first retry delay; doubles per attempt")
    jitter: float = Field(default=0.3, ge=0, le=1)


class Festival(Frozen):
    """A festival greeting: a day of the ``holidays`` package's China calendar (by its zh_CN name,
    the first day of the holiday) or a lunar date (``month-day``)."""

    name: str
    holiday: str | None = None
    lunar: str | None = Field(default=None, pattern=r"^\d{1,2}-\d{1,2}$")

    @model_validator(mode="after")
    def _one_source(self) -> Festival:
        if (self.holiday is None) == (self.lunar is None):
            raise ValueError(f"festival {self.name}: give exactly one of holiday or lunar")
        return self


class Campaign(Frozen):
    enabled: bool = True
    channel: str = Field(default="sms", max_length=16)
    priority: int = Field(default=5, ge=1, le=9, description="1 first: when the frequency cap bites, the "
                          "lower numbers are kept")
    template: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")


class Campaigns(Frozen):
    birthday: Campaign
    festival: Campaign
    festivals: list[Festival] = Field(min_length=1)
    anniversary: Campaign
    anniversary_min_years: int = Field(default=1, ge=1)
    tier_upgrade_days: int = Field(default=7, ge=1, le=31, description="upgrades decided this many days back "
                                   "are still congratulated (the latest one per customer)")
    tier_upgrade: Campaign
    loyalty_offer: Campaign
    points_statement: Campaign
    monthly_day: int = Field(default=1, ge=1, le=28, description="day of the month of offers and statements")
    frequency_cap_messages: int = Field(default=2, ge=1)
    frequency_cap_days: int = Field(default=7, ge=1)
    response_window_days: int = Field(default=30, ge=1, le=365, description="a contact naming a campaign "
                                      "answers its latest message sent this many days before it at most")
    route: tuple[str, ...] = ("customer-gateway",)
    default_language: Literal["zh_CN", "en"] = "zh_CN"
    signature: dict[str, str] = Field(default_factory=lambda: {"zh_CN": "本行", "en": "Your bank"},
                                      description="the bank's name as greetings sign it, per language")


class Earning(Frozen):
    """Points per CNY spent, by kind of spending, times the tier's multiplier (rounded down)."""

    per_cny: dict[str, float]
    tier_multiplier: dict[Tier, float]


class Loyalty(Frozen):
    starts_on: str = Field(default="2026-01-01", pattern=r"^\d{4}-\d{2}-\d{2}$")
    earning: Earning
    late_days: int = Field(default=35, ge=0, le=400, description="transactions delivered up to this many days "
                           "late still earn")
    expiry_months: int = Field(default=24, ge=1, le=120)
    offers: dict[Tier, tuple[str, ...]]
    rewards: dict[str, int] = Field(description="reward code -> its cost in points")
    statement_entries: int = Field(default=10, ge=1, le=100)

    @model_validator(mode="after")
    def _positive(self) -> Loyalty:
        bad = [k for k, v in self.rewards.items() if v <= 0]
        if bad:
            raise ValueError(f"rewards cost a positive number of points: {', '.join(bad)}")
        if any(v < 0 for v in self.earning.per_cny.values()):
            raise ValueError("earning rates are not negative")
        return self


class CareRules(Frozen):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,30}$")
    retention: RetentionRules
    entitlements: dict[Tier, tuple[str, ...]]
    digests: DigestRules = Field(default_factory=DigestRules)
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    dispatcher: DispatcherRules = Field(default_factory=DispatcherRules)
    campaigns: Campaigns
    loyalty: Loyalty


class CareRuleSet:
    def __init__(self, rules: CareRules, version: str) -> None:
        self.rules, self.version = rules, version

    def __repr__(self) -> str:
        return f"CareRuleSet({self.version})"


def load_care_rules(path: Path | str | None = None) -> CareRuleSet:
    file = Path(path) if path else DEFAULT_CARE_FILE
    rules, version = load_versioned(file, CareRules, "care rules file")
    return CareRuleSet(rules, version)
