"""The quality gate's verdict at the top of each Data Docs validation page of a run.

GX marks a validation page "Failed" as soon as one expectation has a failing
row, and counts expectations, not rows: a source that passed within its error
budget reads "Status: Failed, 65 %". Its pages also give no way to the rows
that failed. :func:`annotate_validation_pages` puts a box at the top of every
page of a run: the gate's verdict on the source (the file's failing share
against its budget), the rows quarantined with every rule and the columns as
the source names them, each linked to its rows on the run's quarantine page
(:mod:`lifecycle.integration.quarantine_page`), and the command that lists
those rows from the quarantine, which is their source of truth. Counts and rule names only, never
a value; no script and nothing fetched, so the page stays offline. Idempotent:
the box is replaced when the page is annotated again.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from lifecycle.integration.quarantine_page import anchor

if TYPE_CHECKING:  # the report module calls this one
    from lifecycle.integration.report import RuleCount, RunReport, SourceReport
    from lifecycle.integration.sources import SourceSpec

BEGIN, END = "<!-- lifecycle-verdict:begin -->", "<!-- lifecycle-verdict:end -->"
PAGE_PREFIX = "lifecycle_frames-"  # GX names a page by data source and asset: the asset is the source
STYLE = ("margin:1rem;padding:0.75rem 1rem;border:2px solid {colour};border-radius:4px;background:#fff;"
         "font-family:sans-serif;font-size:0.95rem;line-height:1.4")


def _source_of(page: Path, suite_folder: str) -> str:
    name = page.stem
    return name.removeprefix(PAGE_PREFIX) if name.startswith(PAGE_PREFIX) else suite_folder


def names_note(spec: SourceSpec | None) -> str:
    """GX's page speaks in canonical names and codes: the source's own beside them."""
    if spec is None:
        return ""
    e = html.escape
    columns = spec.mapped_columns.items()
    renamed = [f"<code>{e(name)}</code> → <code>{e(c.to)}</code>" for name, c in columns if name != c.to]
    codes = [f"<code>{e(name)}</code>: " + ", ".join(f"{e(k)} → {e(v)}" for k, v in c.codes.items())
             for name, c in columns if any(k != v for k, v in c.codes.items())]
    parts = []
    if renamed:
        parts.append(f"columns (source → canonical, as this page names them): {'; '.join(renamed)}")
    if codes:
        parts.append(f"codes (source → canonical): {'; '.join(codes)}")
    return "".join(f"<br>{p}." for p in parts)


def _box(report: RunReport, source: SourceReport, report_file: Path, page: Path, rows_page: Path | None,
         spec: SourceSpec | None = None) -> str:
    over = source.over_budget
    verdict = "over its error budget: the run was refused" if over else "passed within its error budget"
    if source.error_budget is None:
        verdict, budget = "judged without a configured budget", ""
    else:
        budget = (f" — {source.rows_failed_checks - source.rows_failed_again:,} of "
                  f"{source.rows_read - source.rows_released:,} file rows failed the checks "
                  f"({source.error_rate:.2%} {'>' if over else '≤'} budget {source.error_budget:.2%})")
    command = f"bank-lifecycle quarantine list --run {report.run_id[:8]} --source {source.source}"
    rows_link = os.path.relpath(rows_page, page.parent) if rows_page is not None else None

    def rows(c: RuleCount) -> str:
        count = f"{c.rows:,} row(s)"
        if rows_link is None:
            return count
        return f'<a class="lifecycle-rows" href="{html.escape(rows_link)}#{anchor(source.source, c.rule)}">{count}</a>'

    rules = "".join(
        f"<li><code>{html.escape(c.rule)}</code>: {rows(c)} ({html.escape(', '.join(c.columns))}) — "
        f"<code>{html.escape(command)} --rule {html.escape(c.rule)}</code></li>" for c in source.failures)
    link = os.path.relpath(report_file, page.parent)
    return (f'{BEGIN}<div id="lifecycle-verdict" style="{STYLE.format(colour="#b00020" if over else "#1b7f3b")}">'
            f"<strong>Quality gate, run {html.escape(report.run_id[:8])} of {report.as_of}, source "
            f"{html.escape(source.source)}: {verdict}</strong>{html.escape(budget)}.<br>"
            "GX's status below counts expectations with any failing row; the gate judges the share of rows. "
            f"{source.rows_quarantined:,} row(s) of this run are in the quarantine"
            f"{':' if source.failures else '.'}"
            f"{f'<ul>{rules}</ul>' if rules else ' '}"
            f'All of them: <code>{html.escape(command)}</code> · the run report: '
            f'<a class="lifecycle-report" href="{html.escape(link)}">{html.escape(report_file.name)}</a>'
            f"{names_note(spec)}</div>{END}")


def annotate_validation_pages(site: Path, run_name: str, report: RunReport, report_file: Path,
                              rows_page: Path | None = None, specs: Mapping[str, SourceSpec] | None = None) -> int:
    """Put the gate's verdict at the top of each validation page of ``run_name``, each rule linked to its
    rows on ``rows_page`` (the run's quarantine page); returns the pages annotated."""
    sources = {s.source: s for s in report.sources}
    annotated = 0
    for page in sorted((site / "validations").glob("*/*/*/*.html")):
        suite_folder, run_folder = page.parts[-4], page.parts[-3]
        if not (run_folder == run_name or run_folder.startswith(f"{run_name}-part-")):
            continue
        source = sources.get(_source_of(page, suite_folder))
        if source is None:
            continue
        text = page.read_text(encoding="utf-8")
        if BEGIN in text and END in text:
            text = text[: text.index(BEGIN)] + text[text.index(END) + len(END):]
        body = text.find("<body")
        opened = text.find(">", body) + 1 if body >= 0 else 0
        box = _box(report, source, report_file, page, rows_page, (specs or {}).get(source.source))
        page.write_text(text[:opened] + box + text[opened:], encoding="utf-8")
        annotated += 1
    return annotated
