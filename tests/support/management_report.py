"""Hand-made management-report figures shared by the unit and browser tests.

The numbers are chosen so that each one is distinct on the page (a test that
finds "12,480" found the mass tier, not some other count).
"""

from __future__ import annotations

from datetime import date, datetime

from lifecycle.reporting import (
    ComplaintBacklog,
    ComplaintStatusRow,
    CustomerGroups,
    FunnelStage,
    GroupSize,
    LifecycleFunnel,
    ManagementReport,
    StageTransitionMatrix,
    TierCount,
    ValueTierDistribution,
)

STAGES = ("new", "growing", "mature", "declining", "dormant")
HOSTILE_GROUP = '<script>alert("x")</script> | 高潜 & **粗体**'


def sample_report(*, extra_group: str | None = None) -> ManagementReport:
    """A complete report; ``extra_group`` adds a group with that (free-text) name."""
    groups = [
        GroupSize("代发工资客户", 3_210, 3_050),
        GroupSize("高净值理财意向", 1_185, 1_240),
        GroupSize("睡眠唤醒名单", 642, None),
        GroupSize("跨境汇款活跃", 377, 377),
    ]
    if extra_group is not None:
        groups.append(GroupSize(extra_group, 58, 41))
    return ManagementReport(
        title="客户生命周期管理报告",
        as_of=date(2026, 6, 30),
        previous_as_of=date(2026, 6, 29),
        generated_at=datetime(2026, 7, 1, 6, 15),
        value_tiers=ValueTierDistribution(
            (
                TierCount("mass", 12_480),
                TierCount("affluent", 4_312),
                TierCount("high_value", 905),
                TierCount("private_banking", 37),
            )
        ),
        funnel=LifecycleFunnel(
            (
                FunnelStage("prospect", 2_200),
                FunnelStage("new", 1_650),
                FunnelStage("growing", 5_120),
                FunnelStage("mature", 7_340),
                FunnelStage("declining", 1_024),
                FunnelStage("dormant", 400),
            )
        ),
        transitions=StageTransitionMatrix.from_pairs(
            STAGES,
            {
                ("new", "new"): 1_203,
                ("new", "growing"): 447,
                ("growing", "growing"): 4_511,
                ("growing", "mature"): 609,
                ("mature", "mature"): 6_731,
                ("mature", "declining"): 88,
                ("declining", "declining"): 936,
                ("declining", "dormant"): 76,
                ("dormant", "dormant"): 324,
                ("dormant", "growing"): 12,
            },
        ),
        groups=CustomerGroups(tuple(groups)),
        complaints=ComplaintBacklog(
            ("0–7 天", "8–30 天", ">30 天"),
            (
                ComplaintStatusRow("open", (14, 6, 2), overdue=3),
                ComplaintStatusRow("in_progress", (9, 11, 4), overdue=7),
                ComplaintStatusRow("escalated", (1, 2, 5), overdue=5),
            ),
        ),
    )
