"""What the flows add around the decision service: artifacts of the day's decisions (counts only)."""

from __future__ import annotations

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from lifecycle.decisioning.rules import STAGES, VALUE_TIERS
from lifecycle.decisioning.service import DecisionResult


def _counts(summary: dict[str, object], key: str) -> dict[str, int]:
    value = summary.get(key, {})
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, dict) else {}


def render_decision_summary(result: DecisionResult) -> str:
    s = result.summary
    stages, tiers = _counts(s, "lifecycle_stage"), _counts(s, "value_tier")
    total = max(sum(stages.values()), 1)
    lines = [f"# Decisions {result.as_of}", "", f"Rules `{result.rules_version}`; model fit "
             f"{result.model_fit_id if result.model_fit_id is not None else '— (not fitted)'}.", "",
             "| lifecycle stage | customers | share |", "|---|---:|---:|"]
    lines += [f"| {stage} | {stages.get(stage, 0):,} | {stages.get(stage, 0) / total:.1%} |" for stage in STAGES]
    lines += ["", "| value tier | customers |", "|---|---:|"]
    lines += [f"| {tier} | {tiers.get(tier, 0):,} |" for tier in VALUE_TIERS]
    events = _counts(s, "tier_events")
    if events:
        lines += ["", "| tier change since the previous decision | customers |", "|---|---:|"]
        lines += [f"| {name} | {n:,} |" for name, n in sorted(events.items())]
    return "\n".join(lines) + "\n"


def publish_decision_summary(result: DecisionResult) -> None:
    """The lifecycle funnel and tier distribution as artifacts (a markdown summary and a table)."""
    create_markdown_artifact(markdown=render_decision_summary(result), key="decision-summary",
                             description=f"Lifecycle funnel and tiers as of {result.as_of}")
    stages = _counts(result.summary, "lifecycle_stage")
    create_table_artifact(key="lifecycle-funnel", description=f"Customers per lifecycle stage, {result.as_of}",
                          table=[{"stage": stage, "customers": stages.get(stage, 0)} for stage in STAGES])
