"""Run bookkeeping and reports for data stewards (Prefect artifacts).

Artifacts carry counts, rule codes and column names only — never values.
"""

from __future__ import annotations

from prefect.artifacts import create_link_artifact, create_markdown_artifact

from lifecycle import pipeline, runs
from lifecycle.ingest.stage import StagedSource
from tasks.ingest import pii_safe_task
from tasks.wiring import bootstrap


@pii_safe_task("finish-run")
def finish_run(plan: pipeline.RunPlan, staged: list[StagedSource], counts: dict[str, object], *,
               status: str, error: str | None = None) -> dict[str, object]:
    w = bootstrap()
    summary: dict[str, object] = {
        "run_id": plan.run_id, "as_of": plan.as_of.isoformat(), "status": status,
        "unchanged_sources": plan.unchanged,
        "sources": {s.spec.name: {"rows_read": s.rows_read, "rows_failed": s.rows_failed} for s in staged},
        "loaded": counts,
    }
    with w.engine.begin() as conn:
        runs.finish_run(conn, plan.run_id, status, summary, pipeline.now(), error)
    return summary


def render_report(plan: pipeline.RunPlan, reports: list[pipeline.SourceReport], docs_url: str | None) -> str:
    lines = [f"# Ingestion {plan.as_of} — run `{plan.run_id[:8]}`", ""]
    if plan.unchanged:
        lines += [f"Unchanged (already loaded): {', '.join(plan.unchanged)}", ""]
    lines += ["| source | file | encoding | read | loaded | quarantined | top failing rules |",
              "|---|---|---|---:|---:|---:|---|"]
    for r in reports:
        top = "; ".join(f"{rule} on {col}: {n}" for rule, col, n in r.top_failures) or "—"
        lines.append(f"| {r.source} | {r.file} | {r.encoding} | {r.rows_read:,} | {r.rows_loaded:,} | "
                     f"{r.rows_quarantined:,} | {top} |")
    if docs_url:
        lines += ["", f"Validation details: [Great Expectations Data Docs]({docs_url})"]
    return "\n".join(lines) + "\n"


@pii_safe_task("publish-run-report")
def publish_run_report(plan: pipeline.RunPlan, staged: list[StagedSource]) -> str:
    w = bootstrap()
    index = w.quality_gate.build_data_docs()
    docs_url = index.resolve().as_uri()
    markdown = render_report(plan, pipeline.report(w.engine, plan, staged), docs_url)
    create_markdown_artifact(markdown=markdown, key="ingestion-summary",
                             description=f"Sources of {plan.as_of}: rows read, loaded, quarantined")
    create_link_artifact(link=docs_url, link_text="Data Docs", key="data-docs",
                         description="Great Expectations validation results of this run")
    report_dir = w.settings.resolved_reports_dir
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / f"ingestion-{plan.as_of}.md").write_text(markdown, encoding="utf-8")
    return str(index)
