"""The rows a run quarantined, as a static page the Data Docs link each failed rule to.

GX's validation pages say which expectation failed but not where the failing
rows went. Each run gets ``quarantine-<date>-<run>.html`` beside its report:
one section per source and rule (anchor ``<source>--<rule>``), listing every
row the run quarantined for it — quarantine id, file, row number, the columns
as the source names them, the row's status now — and the command that shows
or reveals it. Ids, positions and names only, never a value (a steward sees a
failing value with ``quarantine reveal ID --reason``). No script, no style
sheet or font fetched: it opens offline. A rule with more rows than
``MAX_ROWS_PER_RULE`` lists the first ones and says how many it left out.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from lifecycle.integration.quality.rules import derived_base_column
from lifecycle.integration.sources import SourcesConfig
from lifecycle.store.models import QuarantinedRow

MAX_ROWS_PER_RULE = 2_000
STYLE = ("body{font-family:sans-serif;margin:1.5rem;font-size:0.95rem}table{border-collapse:collapse;margin:0.5rem 0 "
         "1.5rem}td,th{border:1px solid #ccc;padding:0.2rem 0.6rem;text-align:left}th{background:#f3f3f3}"
         "section:target h3{background:#fff3c4}code{background:#f6f6f6;padding:0 0.2rem}")


def anchor(source: str, rule: str) -> str:
    """The id of a source's rule section (letters, digits, ``_``, ``-`` only)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{source}--{rule}")


def page_name(as_of: object, run_id: str) -> str:
    return f"quarantine-{as_of}-{run_id[:8]}.html"


@dataclass(frozen=True)
class _Row:
    id: int
    file: str
    row_number: int
    status: str
    columns: tuple[str, ...]


def _source_column(spec_columns: dict[str, Any], column: str) -> str:
    canonical = derived_base_column(column) or column
    if column in spec_columns:
        return column
    return next((name for name, c in spec_columns.items() if c.to == canonical), canonical)


def rows_by_rule(conn: Connection, run_id: str, sources: SourcesConfig) -> dict[str, dict[str, list[_Row]]]:
    """source -> rule -> the run's quarantined rows that broke it (in id order)."""
    out: dict[str, dict[str, list[_Row]]] = defaultdict(lambda: defaultdict(list))
    stmt = (select(QuarantinedRow.id, QuarantinedRow.source, QuarantinedRow.file, QuarantinedRow.row_number,
                   QuarantinedRow.status, QuarantinedRow.failures)
            .where(QuarantinedRow.run_id == run_id).order_by(QuarantinedRow.id))
    for r in conn.execute(stmt):
        spec_columns = dict(sources[r.source].mapped_columns) if r.source in sources.sources else {}
        by_rule: dict[str, list[str]] = defaultdict(list)
        for f in r.failures or []:
            name = _source_column(spec_columns, str(f.get("column") or ""))
            if name and name not in by_rule[f["rule"]]:
                by_rule[f["rule"]].append(name)
        for rule, columns in by_rule.items():
            out[r.source][rule].append(_Row(int(r.id), Path(str(r.file)).name, int(r.row_number), str(r.status),
                                            tuple(columns)))
    return out


def render_page(run_id: str, as_of: object, grouped: dict[str, dict[str, list[_Row]]],
                max_rows: int = MAX_ROWS_PER_RULE) -> str:
    """The page's HTML (see the module doc)."""
    e = html.escape
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
             f"<title>Quarantined rows, run {e(run_id[:8])} of {e(str(as_of))}</title><style>{STYLE}</style></head>"
             f"<body><h1>Quarantined rows of run {e(run_id[:8])} ({e(str(as_of))})</h1>"
             "<p>The quarantine is the rows' source of truth; this page lists them by source and rule. Values are "
             "never shown here: <code>bank-lifecycle quarantine reveal ID --reason \"…\"</code> shows one row's "
             "failing values (audited).</p>"]
    if not grouped:
        parts.append("<p>This run quarantined no row.</p>")
    for source in sorted(grouped):
        parts.append(f"<h2>{e(source)}</h2>")
        for rule, rows in sorted(grouped[source].items(), key=lambda kv: (-len(kv[1]), kv[0])):
            command = f"bank-lifecycle quarantine list --run {run_id[:8]} --source {source} --rule {rule}"
            shown = rows[:max_rows]
            more = (f" — showing the first {len(shown):,}; all of them: <code>{e(command)} --all</code>"
                    if len(rows) > len(shown) else f" — <code>{e(command)}</code>")
            body = "".join(f"<tr><td>#{r.id}</td><td>{e(r.file)}</td><td>{r.row_number:,}</td>"
                           f"<td>{e(', '.join(r.columns))}</td><td>{e(r.status)}</td></tr>" for r in shown)
            parts.append(f"<section id='{anchor(source, rule)}'><h3><code>{e(rule)}</code>: {len(rows):,} row(s)"
                         f"</h3><p>{more}</p><table><thead><tr><th>quarantine id</th><th>file</th><th>row</th>"
                         f"<th>columns</th><th>status</th></tr></thead><tbody>{body}</tbody></table></section>")
    parts.append("</body></html>")
    return "".join(parts)


def write_rows_page(conn: Connection, run_id: str, as_of: object, sources: SourcesConfig, folder: Path) -> Path:
    """Write the run's page into ``folder``; returns its path."""
    path = folder / page_name(as_of, run_id)
    path.write_text(render_page(run_id, as_of, rows_by_rule(conn, run_id, sources)), encoding="utf-8")
    return path
