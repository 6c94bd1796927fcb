"""The run report for data stewards, derived from the store alone.

A report is built from what the run recorded — its row in ``ingestion_runs``,
its files and its quarantine — never from a process's memory, so it can be
written (again) by any later process: a run killed after its commit but before
its report gets it from the next run of the day (:func:`unreported_runs`).
Reports carry counts, rule codes and column names only — never values.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from lifecycle.integration import bookkeeping
from lifecycle.integration.ports import IntegrationContext
from lifecycle.store.models import IngestedFile, IngestionRun, QuarantinedRow

TOP_RULES = 5


@dataclass(frozen=True)
class SourceReport:
    source: str
    file: str
    encoding: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    top_failures: list[tuple[str, str, int]]  # (rule, column, rows)


@dataclass(frozen=True)
class RunReport:
    run_id: str
    as_of: date
    status: str
    error: str | None
    unchanged: list[str]
    sources: list[SourceReport]
    absent_columns: dict[str, list[str]] = field(default_factory=dict)  # optional columns a file lacked


@dataclass(frozen=True)
class WrittenReport:
    run_id: str
    path: Path
    markdown: str
    data_docs: Path


def _top_failures(conn: Connection, run_id: str) -> dict[str, list[tuple[str, str, int]]]:
    counts: dict[str, Counter[tuple[str, str]]] = {}
    for source, failures in conn.execute(select(QuarantinedRow.source, QuarantinedRow.failures)
                                         .where(QuarantinedRow.run_id == run_id)):
        counter = counts.setdefault(str(source), Counter())
        counter.update({(str(f["rule"]), str(f["column"])) for f in failures or []})
    return {source: [(rule, column, n) for (rule, column), n in c.most_common(TOP_RULES)]
            for source, c in counts.items()}


def run_report(conn: Connection, run_id: str) -> RunReport:
    run = conn.execute(select(IngestionRun.run_id, IngestionRun.as_of, IngestionRun.status, IngestionRun.error,
                              IngestionRun.summary).where(IngestionRun.run_id == run_id)).one()
    summary = run.summary or {}
    top = _top_failures(conn, run_id)
    files = {f.source: f for f in conn.execute(select(
        IngestedFile.source, IngestedFile.path, IngestedFile.encoding, IngestedFile.rows_read, IngestedFile.rows_loaded,
        IngestedFile.rows_quarantined).where(IngestedFile.run_id == run_id))}
    staged: dict[str, dict[str, Any]] = summary.get("sources", {})
    sources = []
    for name in dict.fromkeys([*staged, *files]):
        f = files.get(name)
        if f is not None:
            sources.append(SourceReport(name, Path(f.path).name, f.encoding or "", f.rows_read, f.rows_loaded,
                                        f.rows_quarantined, top.get(name, [])))
        else:  # the run stopped before recording its files: what staging counted, nothing loaded
            counts = staged[name]
            sources.append(SourceReport(name, "", "", int(counts["rows_read"]), 0, 0, top.get(name, [])))
    absent = {name: list(counts["absent_columns"]) for name, counts in staged.items()
              if counts.get("absent_columns")}
    return RunReport(run.run_id, run.as_of, run.status, run.error, list(summary.get("unchanged_sources", [])),
                     sources, absent)


def render_markdown(report: RunReport, docs_url: str | None) -> str:
    lines = [f"# Ingestion {report.as_of} — run `{report.run_id[:8]}`", ""]
    if report.unchanged:
        lines += [f"Unchanged (already loaded): {', '.join(report.unchanged)}", ""]
    lines += ["| source | file | encoding | read | loaded | quarantined | top failing rules |",
              "|---|---|---|---:|---:|---:|---|"]
    for r in report.sources:
        top = "; ".join(f"{rule} on {col}: {n}" for rule, col, n in r.top_failures) or "—"
        lines.append(f"| {r.source} | {r.file} | {r.encoding} | {r.rows_read:,} | {r.rows_loaded:,} | "
                     f"{r.rows_quarantined:,} | {top} |")
    if report.absent_columns:
        lines += ["", "Optional columns absent from their file (read as empty): " + "; ".join(
            f"{source}: {', '.join(columns)}" for source, columns in report.absent_columns.items())]
    if docs_url:
        lines += ["", f"Validation details: [Great Expectations Data Docs]({docs_url})"]
    return "\n".join(lines) + "\n"


def write_report(ctx: IntegrationContext, run_id: str) -> WrittenReport:
    """Build the run's Data Docs and report, write the report file, record that it was written."""
    index = ctx.gate.build_data_docs()
    with ctx.engine.connect() as conn:
        report = run_report(conn, run_id)
    markdown = render_markdown(report, index.resolve().as_uri())
    folder = ctx.settings.resolved_reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ingestion-{report.as_of}.md"
    path.write_text(markdown, encoding="utf-8")
    with ctx.engine.begin() as conn:
        bookkeeping.mark_reported(conn, run_id, str(path), ctx.clock.now())
    return WrittenReport(run_id, path, markdown, index)


def unreported_runs(ctx: IntegrationContext) -> list[str]:
    with ctx.engine.connect() as conn:
        return bookkeeping.unreported_runs(conn)
