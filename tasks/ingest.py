"""What the daily flow adds around :func:`lifecycle.integration.service.run_day`: artifacts.

Artifacts carry counts, rule codes and column names only — never values.
"""

from __future__ import annotations

from prefect.artifacts import create_link_artifact, create_markdown_artifact

from lifecycle.integration.report import WrittenReport


def publish_run_report(report: WrittenReport) -> None:
    """The steward's report as a markdown artifact, and a link to the Data Docs."""
    docs_url = report.data_docs.resolve().as_uri()
    create_markdown_artifact(markdown=report.markdown, key="ingestion-summary",
                             description=f"Run {report.run_id[:8]}: rows read, loaded, quarantined per source")
    create_link_artifact(link=docs_url, link_text="Data Docs", key="data-docs",
                         description="Great Expectations validation results of this run")
