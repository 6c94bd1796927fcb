"""The run report for data stewards, derived from the store alone.

A report is built from what the run recorded — its row in ``ingestion_runs``,
its files and its quarantine — never from a process's memory, so it can be
written (again) by any later process: a run killed after its commit but before
its report gets it from the next run of the day (:func:`unreported_runs`).
Reports carry counts, rule codes and column names only — never values.

Each run has a report of its own, ``ingestion-<date>-<run>.md``, so that a
refused run's report survives the retry that loads the day;
``ingestion-<date>.md`` is a copy of the latest run's, listing the others. A
report gives the run's status (``refused`` when the quality gate refused it),
each source's quarantined rows with **every** rule they broke (``owner_known``
for rows whose owner was not loaded included) and its failing share against
its error budget — the same counts :func:`render_text` prints on a console
and the store holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from lifecycle.integration import bookkeeping
from lifecycle.integration.docs_verdict import annotate_validation_pages
from lifecycle.integration.planning import REFUSAL_PREFIX, validation_run_name
from lifecycle.integration.ports import IntegrationContext
from lifecycle.integration.quality.rules import derived_base_column
from lifecycle.integration.quarantine_page import write_rows_page
from lifecycle.integration.sources import SourcesConfig, SourceSpec
from lifecycle.integration.stage import budget_rate
from lifecycle.privacy.redaction import redact_text
from lifecycle.status import RunStatus
from lifecycle.store.models import IngestedFile, IngestionRun, QuarantinedRow

REFUSED = "refused"  # a failed run whose cause is the quality gate's verdict


@dataclass(frozen=True)
class RuleCount:
    rule: str
    rows: int  # rows that broke the rule (once per row, however many columns)
    columns: tuple[str, ...]


@dataclass(frozen=True)
class SourceReport:
    source: str
    file: str
    encoding: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    failures: list[RuleCount]  # every rule, most rows first
    rows_failed_checks: int = 0  # rows the quality gate rejected: what its error budget is measured on
    error_budget: float | None = None
    rows_released: int = 0  # of rows_read: rows a steward released, fed again
    rows_failed_again: int = 0  # of rows_failed_checks: released rows that failed again (not counted)
    rows_orphaned: int = 0  # the file's rows whose owner was not loaded: counted against the budget too
    rows_skipped: int = 0  # rows a filter left out or a later row of their key replaced: not in the budget's base

    @property
    def error_rate(self) -> float:
        return budget_rate(self.rows_read - self.rows_skipped, self.rows_failed_checks + self.rows_orphaned,
                           self.rows_released, self.rows_failed_again)

    @property
    def over_budget(self) -> bool:
        return self.error_budget is not None and self.error_rate > self.error_budget


@dataclass(frozen=True)
class RunReport:
    run_id: str
    as_of: date
    status: str  # a RunStatus, or "refused"
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


def _failures(conn: Connection, run_id: str) -> dict[str, list[RuleCount]]:
    rows: dict[str, Counter[str]] = {}
    columns: dict[tuple[str, str], set[str]] = {}
    for source, failures in conn.execute(select(QuarantinedRow.source, QuarantinedRow.failures)
                                         .where(QuarantinedRow.run_id == run_id)):
        rules = {str(f["rule"]) for f in failures or []}
        rows.setdefault(str(source), Counter()).update(rules)
        for f in failures or []:
            columns.setdefault((str(source), str(f["rule"])), set()).add(str(f["column"]))
    return {source: [RuleCount(rule, n, tuple(sorted(columns[(source, rule)]))) for rule, n in c.most_common()]
            for source, c in rows.items()}


def _shown_column(spec: SourceSpec | None, column: str) -> str:
    """A failure's column as stewards know it: the source's name beside the canonical one.

    Derived check flags (``chk_date_valid__birth_date``) are named by the column they check.
    """
    canonical = derived_base_column(column) or column
    source_names = [name for name, col in (spec.columns.items() if spec else ()) if col.to == canonical]
    return f"{source_names[0]} ({canonical})" if source_names and source_names[0] != canonical else canonical


def run_report(conn: Connection, run_id: str, config: SourcesConfig | None = None) -> RunReport:
    """The run's report from the store; with the sources ``config`` it adds each source's error
    budget and verdict, and names columns as the source does."""
    run = conn.execute(select(IngestionRun.run_id, IngestionRun.as_of, IngestionRun.status, IngestionRun.error,
                              IngestionRun.summary).where(IngestionRun.run_id == run_id)).one()
    summary = run.summary or {}
    specs = config.sources if config else {}
    budgets = {name: spec.error_budget for name, spec in specs.items()}
    top = {source: [RuleCount(c.rule, c.rows, tuple(dict.fromkeys(_shown_column(specs.get(source), col)
                                                                     for col in c.columns)))
                    for c in counts] for source, counts in _failures(conn, run_id).items()}
    files = {f.source: f for f in conn.execute(select(
        IngestedFile.source, IngestedFile.path, IngestedFile.encoding, IngestedFile.rows_read, IngestedFile.rows_loaded,
        IngestedFile.rows_quarantined).where(IngestedFile.run_id == run_id))}
    staged: dict[str, dict[str, Any]] = summary.get("sources", {})
    sources = []
    for name in dict.fromkeys([*staged, *files]):
        f = files.get(name)
        counted = staged.get(name, {})
        gate = (int(counted.get("rows_failed", 0)), budgets.get(name), int(counted.get("rows_released", 0)),
                int(counted.get("rows_failed_again", 0)), int(counted.get("rows_orphaned", 0)),
                int(counted.get("rows_filtered", 0)) + int(counted.get("rows_superseded", 0)))
        if f is not None:
            sources.append(SourceReport(name, Path(f.path).name, f.encoding or "", f.rows_read, f.rows_loaded,
                                        f.rows_quarantined, top.get(name, []), *gate))
        else:  # the run stopped before recording its files: what staging counted, nothing loaded
            sources.append(SourceReport(name, "", "", int(counted["rows_read"]), 0, 0, top.get(name, []), *gate))
    status = shown_status(run.status, run.error, any(s.over_budget for s in sources))
    absent = {name: list(counts["absent_columns"]) for name, counts in staged.items()
              if counts.get("absent_columns")}
    return RunReport(run.run_id, run.as_of, status, run.error, list(summary.get("unchanged_sources", [])),
                     sources, absent)


def shown_status(status: str, error: str | None, over_budget: bool = False) -> str:
    """The run's status for stewards: a run failed by the quality gate's verdict is ``refused``."""
    refused = over_budget or (error or "").startswith(REFUSAL_PREFIX)
    return REFUSED if status == RunStatus.FAILED and refused else str(status)


def _budget(r: SourceReport) -> str:
    if r.error_budget is None:
        return "—"
    verdict = "over budget" if r.over_budget else "within budget"
    shown = f"{r.error_rate:.2%} {'>' if r.over_budget else '≤'} {r.error_budget:.2%}: {verdict}"
    if r.rows_released:
        shown += (f"; released rows fed again {r.rows_released:,}, failed again {r.rows_failed_again:,} "
                  "(not counted: counted when first rejected)")
    return shown


def _rules(r: SourceReport) -> str:
    return "; ".join(f"{c.rule} {c.rows} ({', '.join(c.columns)})" for c in r.failures) or "—"


def _status_line(report: RunReport) -> str:
    line = f"Status: **{report.status}**"
    if report.error:  # deliberate errors name places, never values; redacted all the same
        line += f" — {redact_text(report.error.splitlines()[0])[:500]}"
    return line


def render_markdown(report: RunReport, docs_url: str | None, other_runs: Sequence[tuple[str, str, str]] = ()) -> str:
    """The report as markdown; ``other_runs`` lists (run id, status, report file) of the date's other runs."""
    lines = [f"# Ingestion {report.as_of} — run `{report.run_id[:8]}`", "", _status_line(report), ""]
    if report.unchanged:
        lines += [f"Unchanged (already loaded): {', '.join(report.unchanged)}", ""]
    lines += ["| source | file | encoding | read | loaded | quarantined | failed checks / budget | "
              "failing rules (rows, columns) |",
              "|---|---|---|---:|---:|---:|---|---|"]
    for r in report.sources:
        lines.append(f"| {r.source} | {r.file} | {r.encoding} | {r.rows_read:,} | {r.rows_loaded:,} | "
                     f"{r.rows_quarantined:,} | {_budget(r)} | {_rules(r)} |")
    lines += ["", "Quarantined rows include those whose owner was not loaded (`owner_known`) and complaint "
              "status rows whose move the complaint machine refused (`complaint_transition`); the error budget "
              "is measured on the rows the quality checks rejected and those whose owner was not loaded.", "",
              f"The rows themselves: {_finding(report)}"]
    if report.absent_columns:
        lines += ["", "Optional columns absent from their file (read as empty): " + "; ".join(
            f"{source}: {', '.join(columns)}" for source, columns in report.absent_columns.items())]
    if other_runs:
        lines += ["", f"Other runs of {report.as_of}:", ""]
        lines += [f"- run `{run_id[:8]}`: {status} — [{Path(path).name}]({Path(path).name})"
                  for run_id, status, path in other_runs]
    if docs_url:
        lines += ["", f"Validation details: [Great Expectations Data Docs]({docs_url})"]
    return "\n".join(lines) + "\n"


def _finding(report: RunReport) -> str:
    return (f"`bank-lifecycle quarantine list --run {report.run_id[:8]} --source SOURCE --rule RULE` "
            "(a refused run's rows are `--status superseded` once its day is loaded)")


def render_text(report: RunReport) -> str:
    """The report as an aligned table for a console."""
    lines = [f"run {report.run_id[:8]} of {report.as_of}: {report.status}",
             f"{'source':<22} {'read':>10} {'loaded':>10} {'quarantined':>12}  {'budget':<34} failing rules (rows)"]
    for r in report.sources:
        rules = "; ".join(f"{c.rule} {c.rows}" for c in r.failures) or "-"
        lines.append(f"{r.source:<22} {r.rows_read:>10,} {r.rows_loaded:>10,} {r.rows_quarantined:>12,}  "
                     f"{_budget(r).replace('—', '-'):<34} {rules}")
    if report.error:
        lines.append(_status_line(report).replace("**", "").removeprefix("Status: "))
    lines.append(f"quarantined rows: {_finding(report).replace('`', '')}")
    return "\n".join(lines) + "\n"


def write_report(ctx: IntegrationContext, run_id: str) -> WrittenReport:
    """Build the run's Data Docs and report, write the report file, record that it was written."""
    index = ctx.gate.build_data_docs()
    folder = ctx.settings.resolved_reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    with ctx.engine.connect() as conn:
        report = run_report(conn, run_id, ctx.sources)
        rows_page = write_rows_page(conn, run_id, report.as_of, ctx.sources, folder)
        others = [(r.run_id, shown_status(r.status, r.error), str(r.report_path)) for r in conn.execute(
            select(IngestionRun.run_id, IngestionRun.status, IngestionRun.error, IngestionRun.report_path).where(
                IngestionRun.as_of == report.as_of, IngestionRun.run_id != run_id,
                IngestionRun.report_path.is_not(None)).order_by(IngestionRun.started_at))]
    markdown = render_markdown(report, index.resolve().as_uri(), others)
    path = folder / f"ingestion-{report.as_of}-{run_id[:8]}.md"
    path.write_text(markdown, encoding="utf-8")
    annotate_validation_pages(index.parent, validation_run_name(report.as_of, run_id), report, path, rows_page,
                              ctx.sources.sources)
    (folder / f"ingestion-{report.as_of}.md").write_text(markdown, encoding="utf-8")  # the date's latest run
    with ctx.engine.begin() as conn:
        bookkeeping.mark_reported(conn, run_id, str(path), ctx.clock.now())
    return WrittenReport(run_id, path, markdown, index)


def unreported_runs(ctx: IntegrationContext) -> list[str]:
    with ctx.engine.connect() as conn:
        return bookkeeping.unreported_runs(conn)
