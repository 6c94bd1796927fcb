"""What the flows add around labels, groups and the management report: artifacts (counts only)."""

from __future__ import annotations

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from lifecycle.reporting import report_markdown, report_tables
from lifecycle.reporting.from_store import ReportResult
from lifecycle.segments.service import LabelResult

TABLE_KEYS = ("report-value-tiers", "report-lifecycle-funnel", "report-stage-transitions", "report-customer-groups",
              "report-complaint-backlog")


def publish_labels(result: LabelResult) -> None:
    lines = [f"# Labels and customer groups {result.as_of}", "", f"Labels `{result.version}`: "
             f"{result.labels:,} labels for {result.customers:,} customers.", "",
             "| label | value | customers |", "|---|---|---:|"]
    lines += [f"| {label} | {value} | {n:,} |" for label, values in sorted(result.by_label.items())
              for value, n in sorted(values.items())]
    if result.groups:
        lines += ["", "| group | name | members | joined | left |", "|---|---|---:|---:|---:|"]
        lines += [f"| {g.code} | {g.name_zh} | {g.members:,} | {g.joined:,} | {g.left:,} |" for g in result.groups]
    else:
        lines += ["", "Groups not refreshed: a later date was refreshed already."]
    create_markdown_artifact(markdown="\n".join(lines) + "\n", key="labels-and-groups",
                             description=f"Labels and group membership, {result.as_of}")


def publish_management_report(result: ReportResult) -> None:
    """The report's figures as a markdown artifact and one table artifact per figure."""
    create_markdown_artifact(markdown=report_markdown(result.report) + f"\nHTML report: `{result.path}`\n",
                             key="management-report", description=f"Management report, {result.report.as_of}")
    for key, table in zip(TABLE_KEYS, report_tables(result.report), strict=True):
        create_table_artifact(key=key, table=table.records(), description=table.title)
