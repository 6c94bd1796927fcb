"""Which customers get a retention task today, and what it says. Pure: a frame in, a frame out.

Input: one row per decided customer (index ``customer_id``) with their
decision (``lifecycle_stage``, ``value_tier``, ``p_active``), their RM and
branch, and today's signals: ``entered_stage`` (a stage transition into one of
the configured stages), ``downgraded`` (a value-tier downgrade),
``serious_complaints`` and ``overdue_complaints`` (open complaints of high
severity / past the service level), ``rm_known`` (the RM exists).

Output: one candidate task per customer that has a trigger — named by the
highest-ranked trigger, with every trigger that fired among its reasons — its
priority (value tier × churn risk), suggested action, assignee (the RM, else
the branch queue) and due date. Customers who already have an open task are
left out by the service, not here.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd

from lifecycle.care.config import RetentionRules


def _reason(rule: str, value: pd.Series, threshold: object) -> pd.Series:
    shown = value.map(lambda v: json.dumps(None if pd.isna(v) else (round(float(v), 4) if isinstance(
        v, (int, float, np.floating)) else str(v))))
    return '{"rule": "' + rule + '", "value": ' + shown + ', "threshold": ' + json.dumps(threshold) + "}"


def trigger_flags(frame: pd.DataFrame, rules: RetentionRules) -> dict[str, tuple[pd.Series, pd.Series]]:
    """Per trigger: (where it fired, its reason text)."""
    t = rules.triggers
    valuable_low = frame["value_tier"].isin(t.low_p_active_tiers) & (frame["p_active"] < t.low_p_active_below)
    complaint = ((frame["serious_complaints"] > 0) & t.serious_complaint) | (frame["overdue_complaints"] > 0)
    no_rm = frame["value_tier"].isin(t.rm_assignment_tiers) & ~frame["rm_known"]
    stage_reason = ('{"rule": "stage_entered", "value": ' + frame["lifecycle_stage"].map(json.dumps)
                    + ', "threshold": null, "because": ' + frame["stage_reasons"].fillna("[]") + "}")
    complaint_reason = ('{"rule": "complaint", "value": {"serious_open": '
                        + frame["serious_complaints"].astype(int).astype(str) + ', "overdue": '
                        + frame["overdue_complaints"].astype(int).astype(str) + '}, "threshold": '
                        + json.dumps({"overdue_after_days": t.complaint_overdue_days}) + "}")
    return {
        "complaint": (complaint, complaint_reason),
        "stage_entered": (frame["entered_stage"], stage_reason),
        "value_downgrade": (frame["downgraded"] & t.value_downgrade,
                            _reason("value_downgrade", frame["value_tier"], None)),
        "low_p_active": (valuable_low, _reason("low_p_active", frame["p_active"], t.low_p_active_below)),
        "rm_assignment": (no_rm, _reason("no_relationship_manager", frame["value_tier"], None)),
    }


def churn_risk(frame: pd.DataFrame, rules: RetentionRules) -> pd.Series:
    c = rules.churn_risk
    p = frame["p_active"]
    high = frame["lifecycle_stage"].isin(c.high_stages) | (p < c.high_below_p_active)
    medium = p < c.medium_below_p_active
    return pd.Series(np.select([high, medium], ["high", "medium"], "low"), index=frame.index)


def _actions(tasks: pd.DataFrame, rules: RetentionRules) -> pd.Series:
    action = pd.Series(None, index=tasks.index, dtype=object)
    for rule in rules.actions:
        match = action.isna()
        if rule.triggers:
            match &= tasks["trigger"].isin(rule.triggers)
        if rule.value_tiers:
            match &= tasks["value_tier"].isin(rule.value_tiers)
        if rule.stages:
            match &= tasks["lifecycle_stage"].isin(rule.stages)
        action[match] = rule.action
    return action


def candidate_tasks(frame: pd.DataFrame, rules: RetentionRules, as_of: date) -> pd.DataFrame:
    """One candidate task per customer with a trigger (see the module's docstring)."""
    empty = pd.DataFrame(columns=["trigger", "reasons", "priority", "suggested_action", "assignee", "rm_id",
                                  "branch_code", "due_date", "value_tier", "lifecycle_stage"])
    if frame.empty:
        return empty
    flags = trigger_flags(frame, rules)
    fired = pd.DataFrame({name: hit.fillna(False).astype(bool) for name, (hit, _) in flags.items()})
    anyone = fired.any(axis=1)
    if not anyone.any():
        return empty
    chosen = frame[anyone]
    fired = fired[anyone]
    trigger = pd.Series(None, index=chosen.index, dtype=object)
    for name in rules.trigger_rank:
        trigger = trigger.where(trigger.notna() | ~fired[name], name)
    reasons = pd.Series("", index=chosen.index, dtype=object)
    for name in rules.trigger_rank:
        text = flags[name][1][anyone]
        sep = np.where(reasons != "", ", ", "")
        reasons = reasons.where(~fired[name], reasons + sep + text)
    risk = churn_risk(chosen, rules)
    tier = chosen["value_tier"].fillna("mass")
    matrix = {f"{t}|{r}": p for t, row in rules.priority.items() for r, p in row.items()}
    priority = (tier.astype(str) + "|" + risk).map(matrix)
    due = priority.map(lambda p: as_of + timedelta(days=rules.due_days[p]))
    rm = chosen["rm_id"].where(chosen["rm_known"])
    assignee = ("rm-" + rm.astype(object)).where(rm.notna(), "branch-" + chosen["branch_code"].fillna("none"))
    tasks = pd.DataFrame({"trigger": trigger, "reasons": "[" + reasons + "]", "priority": priority,
                          "assignee": assignee, "rm_id": rm, "branch_code": chosen["branch_code"], "due_date": due,
                          "value_tier": chosen["value_tier"], "lifecycle_stage": chosen["lifecycle_stage"]})
    tasks["suggested_action"] = _actions(tasks, rules)
    return tasks
