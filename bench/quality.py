"""What the full run got right: identity resolution and the quarantine, against the truth.

* Identity: pairwise precision and recall (:mod:`lifecycle.integration.evaluation`) of the
  store's source links against ``truth/identities.csv``, leaving out records whose
  key carries a planted flaw (as the truth's documentation asks).
* Quarantine reconciliation per source: rows read = loaded + quarantined (from
  ``ingested_files``), the quarantine table holds as many rows, and every planted
  flaw of ``truth/flaws.csv`` is in the quarantine under the rule it breaks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select

from lifecycle.integration.evaluation import pairwise_scores
from lifecycle.store.models import IngestedFile, QuarantinedRow, SourceLink


def identity_quality(engine: Engine, truth_dir: Path) -> dict[str, object]:
    with engine.connect() as conn:
        links = pd.DataFrame(conn.execute(select(SourceLink.source, SourceLink.source_key,
                                                 SourceLink.customer_id)).all(),
                             columns=["source", "source_key", "customer_id"])
    truth = pd.read_csv(truth_dir / "identities.csv", dtype=str, keep_default_na=False)
    clean = truth[truth["flawed"] != "Y"] if "flawed" in truth else truth
    scores = pairwise_scores(links, clean)
    return {"records": scores.records, "true_pairs": scores.true_pairs, "predicted_pairs": scores.predicted_pairs,
            "correct_pairs": scores.correct_pairs, "precision": scores.precision, "recall": scores.recall,
            "truth_records": len(truth), "truth_records_flawed": len(truth) - len(clean), "links": len(links)}


def _file_counts(engine: Engine, run_id: str) -> pd.DataFrame:
    with engine.connect() as conn:
        files = pd.DataFrame(conn.execute(
            select(IngestedFile.source, IngestedFile.rows_read, IngestedFile.rows_loaded,
                   IngestedFile.rows_quarantined).where(IngestedFile.run_id == run_id)).all(),
            columns=["source", "rows_read", "rows_loaded", "rows_quarantined"])
        counts = conn.execute(select(QuarantinedRow.source, func.count()).where(QuarantinedRow.run_id == run_id)
                              .group_by(QuarantinedRow.source)).tuples().all()
        stored: dict[str, int] = dict(counts)
    files["quarantine_rows"] = files["source"].map(lambda s: int(stored.get(s, 0)))
    return files


def _quarantined_rules(engine: Engine, run_id: str) -> dict[tuple[str, int], set[str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(QuarantinedRow.source, QuarantinedRow.row_number, QuarantinedRow.failures)
                            .where(QuarantinedRow.run_id == run_id)).all()
    return {(str(source), int(row)): {str(f.get("rule")) for f in failures or []} for source, row, failures in rows}


def flaw_findings(flaws: pd.DataFrame, quarantined: dict[tuple[str, int], set[str]]) -> pd.DataFrame:
    """Per source: planted flawed rows, found under their rule, found under another rule, missed,
    and quarantined rows with no planted flaw (``unplanted``)."""
    planted: dict[tuple[str, int], set[str]] = {}
    for source, row, rule in flaws[["source", "row", "rule"]].itertuples(index=False):
        planted.setdefault((str(source), int(row)), set()).add(str(rule))
    counts: dict[str, dict[str, int]] = {}

    def bump(source: str, key: str) -> None:
        counts.setdefault(source, dict.fromkeys(("planted", "found", "other_rule", "missed", "unplanted"), 0))
        counts[source][key] += 1

    for (source, row), rules in planted.items():
        bump(source, "planted")
        got = quarantined.get((source, row))
        bump(source, "missed" if got is None else "found" if rules & got else "other_rule")
    for source, row in quarantined:
        if (source, row) not in planted:
            bump(source, "unplanted")
    frame = pd.DataFrame.from_dict(counts, orient="index")
    return frame.rename_axis("source").reset_index() if len(frame) else pd.DataFrame(
        columns=["source", "planted", "found", "other_rule", "missed", "unplanted"])


def quarantine_reconciliation(engine: Engine, run_id: str, truth_dir: Path) -> dict[str, Any]:
    files = _file_counts(engine, run_id)
    flaws_path = truth_dir / "flaws.csv"
    flaws = pd.read_csv(flaws_path, dtype={"row": int}) if flaws_path.exists() else pd.DataFrame(
        columns=["source", "row", "rule"])
    found = flaw_findings(flaws, _quarantined_rules(engine, run_id))
    table = files.merge(found, on="source", how="left").fillna(0)
    for column in ("planted", "found", "other_rule", "missed", "unplanted"):
        table[column] = table[column].astype(int)
    table["balanced"] = (table["rows_read"] == table["rows_loaded"] + table["rows_quarantined"]) & (
        table["rows_quarantined"] == table["quarantine_rows"])
    rows = table.sort_values("source").to_dict("records")
    return {"sources": rows, "all_balanced": bool(table["balanced"].all()),
            "planted": int(table["planted"].sum()), "found": int(table["found"].sum()),
            "missed": int(table["missed"].sum()), "other_rule": int(table["other_rule"].sum()),
            "unplanted": int(table["unplanted"].sum())}
