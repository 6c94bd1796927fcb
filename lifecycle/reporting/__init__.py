"""The management report: aggregated figures in, a self-contained HTML page and markdown tables out.

Public API::

    from lifecycle.reporting import ManagementReport, render_report, write_report, report_markdown, report_tables

    report = ManagementReport(title=..., as_of=..., previous_as_of=..., generated_at=...,
                              value_tiers=ValueTierDistribution(...), funnel=LifecycleFunnel(...),
                              transitions=StageTransitionMatrix(...), groups=CustomerGroups(...),
                              complaints=ComplaintBacklog(...))
    html = render_report(report)            # one HTML document, no external resource
    markdown = report_markdown(report)      # for a Prefect markdown artifact
    tables = report_tables(report)          # Table.records() for Prefect table artifacts

Pure: no database, clock or network; the caller computes the counts (see
:mod:`lifecycle.reporting.figures`; :mod:`lifecycle.reporting.from_store` counts
them in the store for a decided date). Counts only: the figures have no field for a
customer's name, ID number, mobile or reference.
"""

from lifecycle.reporting.figures import (
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
from lifecycle.reporting.html import CHART_IDS, render_report, write_report
from lifecycle.reporting.tables import Table, report_markdown, report_tables

__all__ = [
    "CHART_IDS",
    "ComplaintBacklog",
    "ComplaintStatusRow",
    "CustomerGroups",
    "FunnelStage",
    "GroupSize",
    "LifecycleFunnel",
    "ManagementReport",
    "StageTransitionMatrix",
    "Table",
    "TierCount",
    "ValueTierDistribution",
    "render_report",
    "report_markdown",
    "report_tables",
    "write_report",
]
