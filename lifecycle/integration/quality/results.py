"""What a validation found, as typed records a quarantine and a report can use.

GX answers per expectation; the pipeline needs per row. With the gate's safe
result format GX returns, for each row-level expectation,
``result["unexpected_index_list"] == [{"row_id": [ids...]}]``: row ids only, never
values. :func:`read_validation_result` turns that into one
:class:`ExpectationResult` per expectation; :func:`merge_chunks` adds up the
results of a frame validated in chunks; :func:`recheck_key_uniqueness` replaces
the per-chunk key uniqueness by one computed over the whole frame (a duplicate
split across two chunks is invisible to each); :func:`build_outcome` makes the
:class:`ValidationOutcome` the caller sees.

An expectation that fails without row ids (a missing column, a structural
check, an expectation GX could not evaluate) is a *table-level* failure: no row
is to blame, the extract as a whole is unusable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.integration.quality.rules import ROW_ID
from lifecycle.integration.quality.suites import expectation_columns

FAILURE_COLUMNS = [ROW_ID, "rule", "expectation", "column"]


@dataclass(frozen=True)
class ExpectationSummary:
    """One expectation's verdict; unexpected_count is None for table-level expectations."""

    rule: str
    expectation: str
    column: str
    success: bool
    unexpected_count: int | None


@dataclass(frozen=True)
class TableFailure:
    """A failure no row is to blame for; the reason names columns, never values."""

    rule: str
    expectation: str
    column: str
    reason: str


@dataclass(frozen=True, eq=False)
class ValidationOutcome:
    """The gate's answer for one frame.

    ``failures`` has one row per (row, failing expectation) with columns
    row_id (int64), rule, expectation (GX type) and column (canonical column,
    comma-joined for several). ``success`` is False when any expectation failed,
    row-level or table-level; whether the source is within its error budget is
    the caller's decision (see :attr:`failed_share`).
    """

    suite: str
    source: str
    rows: int
    success: bool
    failures: pd.DataFrame
    summary: list[ExpectationSummary]
    table_failures: list[TableFailure]
    data_docs_page: Path | None
    run_name: str = ""

    @property
    def failed_row_ids(self) -> list[int]:
        """Each failing row id once, ascending."""
        return [int(i) for i in np.unique(self.failures[ROW_ID].to_numpy(dtype="int64"))]

    @property
    def failed_share(self) -> float:
        """Share of rows with at least one row-level failure (0.0 for an empty frame)."""
        return len(self.failed_row_ids) / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's result, keyed by the expectation's id in the stored suite."""

    key: str
    rule: str
    expectation: str
    columns: tuple[str, ...]
    success: bool
    unexpected_count: int | None
    row_ids: np.ndarray | None = field(default=None, repr=False)  # None: table-level
    reason: str | None = None

    @property
    def column(self) -> str:
        return ",".join(self.columns)


def read_validation_result(validation_result: Any, frame_columns: Iterable[str]) -> list[ExpectationResult]:
    """One ExpectationResult per expectation of a GX ExpectationSuiteValidationResult."""
    present = set(frame_columns)
    return [_read_one(evr, present) for evr in validation_result.results]


def _read_one(evr: Any, present: set[str]) -> ExpectationResult:
    config = evr.expectation_config
    columns = expectation_columns(config.kwargs)
    result: Mapping[str, Any] = evr.result or {}
    row_ids = _row_ids(result.get("unexpected_index_list"))
    base = ExpectationResult(
        key=str(config.id),
        rule=str((config.meta or {}).get("rule", "")),
        expectation=str(config.type),
        columns=columns,
        success=bool(evr.success),
        unexpected_count=None,
    )
    if row_ids is not None and not _raised(evr):
        return replace(base, unexpected_count=int(result.get("unexpected_count") or 0), row_ids=row_ids)
    if base.success:
        return base
    return replace(base, reason=_table_reason(columns, result, present, _raised(evr)))


def _row_ids(index_list: Any) -> np.ndarray | None:
    """Row ids from the only shape the safe result format yields: [{"row_id": [ids]}]."""
    if index_list is None:
        return None
    if index_list == []:
        return np.empty(0, dtype="int64")
    if (
        isinstance(index_list, list)
        and len(index_list) == 1
        and isinstance(index_list[0], dict)
        and set(index_list[0]) == {ROW_ID}
    ):
        return np.asarray([int(i) for i in index_list[0][ROW_ID]], dtype="int64")
    # Any other shape carries values next to the ids: the safe result format was not applied.
    raise RuntimeError("GX returned unexpected rows in a shape that may hold values; refusing to read them")


def _raised(evr: Any) -> bool:
    info = evr.exception_info or {}
    if "raised_exception" in info:
        return bool(info["raised_exception"])
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())


def _table_reason(columns: Sequence[str], result: Mapping[str, Any], present: set[str], raised: bool) -> str:
    missing = [c for c in columns if c not in present]
    mismatched = (result.get("details") or {}).get("mismatched") or {}
    if missing:
        return f"missing column(s): {', '.join(missing)}"
    if mismatched.get("missing"):
        return f"missing column(s): {', '.join(map(str, mismatched['missing']))}"
    if raised:
        return "GX could not evaluate the expectation (see the validation result)"
    return "failed for the extract as a whole"


def merge_chunks(chunks: Sequence[Sequence[ExpectationResult]]) -> list[ExpectationResult]:
    """Add up the per-chunk results of each expectation (same suite, same keys)."""
    merged: dict[str, ExpectationResult] = {}
    for chunk in chunks:
        for res in chunk:
            seen = merged.get(res.key)
            merged[res.key] = res if seen is None else _merge_pair(seen, res)
    return list(merged.values())


def _merge_pair(a: ExpectationResult, b: ExpectationResult) -> ExpectationResult:
    merged = replace(a, success=a.success and b.success, reason=a.reason or b.reason)
    if a.row_ids is None or b.row_ids is None:  # table-level in some chunk: table-level overall
        return replace(merged, unexpected_count=None, row_ids=None)
    return replace(
        merged,
        unexpected_count=(a.unexpected_count or 0) + (b.unexpected_count or 0),
        row_ids=np.concatenate([a.row_ids, b.row_ids]),
    )


def recheck_key_uniqueness(results: Sequence[ExpectationResult], frame: pd.DataFrame) -> list[ExpectationResult]:
    """Replace the source_key_unique results by a check over the whole frame.

    Same semantics as GX's uniqueness expectations: rows with a missing key part
    are left to the ``required`` rule, and every row of a duplicated key fails.
    """
    out = []
    for res in results:
        if res.rule == "source_key_unique" and res.row_ids is not None:
            keys = frame[list(res.columns)]
            complete = keys.notna().all(axis=1).to_numpy()
            duplicated = keys[complete].duplicated(keep=False).to_numpy()
            ids = frame[ROW_ID].to_numpy(dtype="int64")[complete][duplicated]
            res = replace(res, success=len(ids) == 0, unexpected_count=len(ids), row_ids=ids)
        out.append(res)
    return out


def build_outcome(
    results: Sequence[ExpectationResult],
    *,
    suite: str,
    source: str,
    rows: int,
    data_docs_page: Path | None,
    run_name: str,
) -> ValidationOutcome:
    """Assemble the outcome: failures frame, summary in suite order, table failures."""
    row_level = [(r, r.row_ids) for r in results if r.row_ids is not None and len(r.row_ids)]
    lengths = [len(ids) for _, ids in row_level]
    failures = pd.DataFrame(
        {
            ROW_ID: np.concatenate([ids for _, ids in row_level]) if row_level else np.empty(0, "int64"),
            "rule": np.repeat([r.rule for r, _ in row_level], lengths).astype(object),
            "expectation": np.repeat([r.expectation for r, _ in row_level], lengths).astype(object),
            "column": np.repeat([r.column for r, _ in row_level], lengths).astype(object),
        },
        columns=FAILURE_COLUMNS,
    ).astype({ROW_ID: "int64"})
    summary = [ExpectationSummary(r.rule, r.expectation, r.column, r.success, r.unexpected_count) for r in results]
    table_failures = [
        TableFailure(r.rule, r.expectation, r.column, r.reason or "failed")
        for r in results
        if not r.success and r.row_ids is None
    ]
    return ValidationOutcome(
        suite=suite,
        source=source,
        rows=rows,
        success=all(r.success for r in results),
        failures=failures.sort_values([ROW_ID, "rule"], kind="stable").reset_index(drop=True),
        summary=summary,
        table_failures=table_failures,
        data_docs_page=data_docs_page,
        run_name=run_name,
    )
