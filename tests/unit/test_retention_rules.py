"""Which customers get a retention task, and what it says: hand-made decisions, the packaged care rules."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.care.config import load_care_rules
from lifecycle.care.retention import candidate_tasks

D = date(2026, 6, 30)
RULES = load_care_rules().rules.retention
BASE: dict[str, Any] = {"lifecycle_stage": "mature", "value_tier": "affluent", "p_active": 0.9, "rm_id": "RM1",
                        "branch_code": "310101", "entered_stage": False, "stage_reasons": None, "downgraded": False,
                        "serious_complaints": 0, "overdue_complaints": 0, "rm_known": True}


def _frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame([{**BASE, **r} for r in rows], index=pd.Index(range(1, len(rows) + 1), name="customer_id"))


def test_a_quiet_customer_gets_no_task() -> None:
    assert candidate_tasks(_frame({}, {"value_tier": "mass"}), RULES, D).empty


@pytest.mark.parametrize(("row", "trigger", "action", "priority"), [
    ({"lifecycle_stage": "declining", "entered_stage": True, "stage_reasons": "[]"}, "stage_entered", "rate_offer",
     "P2"),
    ({"lifecycle_stage": "dormant", "entered_stage": True, "stage_reasons": "[]", "value_tier": "mass"},
     "stage_entered", "call", "P3"),
    ({"downgraded": True, "value_tier": "affluent"}, "value_downgrade", "fee_waiver", "P3"),
    ({"value_tier": "private_banking", "p_active": 0.1}, "low_p_active", "advisor_meeting", "P1"),
    ({"serious_complaints": 1}, "complaint", "complaint_follow_up", "P3"),
    ({"overdue_complaints": 2, "value_tier": "high_value"}, "complaint", "complaint_follow_up", "P2"),
    ({"value_tier": "high_value", "rm_known": False, "rm_id": None}, "rm_assignment", "assign_rm", "P2"),
])
def test_each_trigger_names_its_task_with_action_and_priority(row: dict[str, Any], trigger: str, action: str,
                                                              priority: str) -> None:
    tasks = candidate_tasks(_frame(row), RULES, D)
    task = tasks.iloc[0]
    assert (task["trigger"], task["suggested_action"], task["priority"]) == (trigger, action, priority)
    assert json.loads(task["reasons"])[0]["rule"] in (trigger, "no_relationship_manager")
    assert task["due_date"] == D + pd.Timedelta(days=RULES.due_days[priority])


def test_several_triggers_make_one_task_named_by_the_highest_rank_with_every_reason() -> None:
    row = {"lifecycle_stage": "declining", "entered_stage": True, "stage_reasons": '[{"rule": "aum_drop_90d"}]',
           "downgraded": True, "serious_complaints": 1, "value_tier": "high_value", "p_active": 0.2}
    tasks = candidate_tasks(_frame(row), RULES, D)
    assert len(tasks) == 1
    reasons = json.loads(tasks.iloc[0]["reasons"])
    assert tasks.iloc[0]["trigger"] == "complaint" and tasks.iloc[0]["priority"] == "P1"
    assert [r["rule"] for r in reasons] == ["complaint", "stage_entered", "value_downgrade", "low_p_active"]
    assert reasons[1]["because"] == [{"rule": "aum_drop_90d"}]


def test_a_task_goes_to_the_customers_rm_else_to_the_branch_queue() -> None:
    tasks = candidate_tasks(_frame({"downgraded": True}, {"downgraded": True, "rm_known": False, "rm_id": "RM9"},
                                   {"downgraded": True, "rm_known": False, "rm_id": None, "branch_code": None}),
                            RULES, D)
    assert tasks["assignee"].tolist() == ["rm-RM1", "branch-310101", "branch-none"]
    assert tasks["rm_id"].isna().tolist() == [False, True, True]


def test_churn_risk_raises_priority_for_valuable_customers_with_a_low_p_active() -> None:
    tasks = candidate_tasks(_frame({"downgraded": True, "value_tier": "high_value", "p_active": 0.9},
                                   {"downgraded": True, "value_tier": "high_value", "p_active": 0.5},
                                   {"downgraded": True, "value_tier": "high_value", "p_active": np.nan}),
                            RULES, D)
    assert tasks["priority"].tolist() == ["P2", "P2", "P2"]
    assert candidate_tasks(_frame({"downgraded": True, "value_tier": "private_banking", "p_active": 0.5}),
                           RULES, D)["priority"].tolist() == ["P1"]
