"""Prepare a raw chunk before standardisation: joins, derived columns, the row filter.

All of it is configuration (see :mod:`lifecycle.integration.sources`):

* **joins** take columns from a reference extract (branches, districts, FX rates)
  by its key, as text, as if the source's file held them;
* **derived columns** are computed by expressions
  (:mod:`lifecycle.integration.expressions`) over read, joined and earlier derived
  columns, and written as text the standardiser reads like any column;
* the **filter** keeps only the rows where its expression is true; the others are
  counted (``rows_filtered``), never loaded and never quarantined.

A value that cannot be derived fails ``derived_valid``; a join key the reference
lacks fails ``reference_known`` where the join is ``required``: those rows are
quarantined like any failing row, naming the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from lifecycle.errors import SourceError
from lifecycle.integration.expressions import as_source_text, compile_expression, evaluate
from lifecycle.integration.read import ROW_ID, inspect_file, locate, read_chunks
from lifecycle.integration.row_rules import written_values
from lifecycle.integration.sources import SourcesConfig, SourceSpec
from lifecycle.integration.standardize import clean_text

FAILURE_COLUMNS = [ROW_ID, "rule", "expectation", "column"]
REFERENCE_CHUNK = 200_000


@dataclass(frozen=True)
class Reference:
    """A reference extract's rows by key (cleaned text), every read column as text."""

    source: str
    rows: pd.DataFrame


def read_reference(spec: SourceSpec, landing_dir: Path, as_of: date) -> Reference:
    """The reference extract of ``as_of``; a repeated key refuses it (which row would a
    join take?). An optional reference without a file is empty."""
    try:
        path = locate(spec, landing_dir, as_of)
    except SourceError as exc:
        if spec.optional and exc.rule == "file_present":
            return Reference(spec.name, pd.DataFrame(columns=list(spec.read_columns)))
        raise
    landing = inspect_file(spec, path, landing_dir, as_of)
    frames = list(read_chunks(spec, landing, REFERENCE_CHUNK))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[ROW_ID, *spec.read_columns])
    (key,) = spec.key
    keys = clean_text(rows[key])
    repeated = keys.notna() & keys.duplicated(keep=False)
    if repeated.any():
        row = int(rows.loc[repeated.to_numpy(), ROW_ID].iloc[0])
        raise SourceError(str(path), row, key, "reference_key_unique",
                          f"reference {spec.name!r}: the key appears more than once; a join could not tell "
                          "which row to take")
    unsafe = written_values(rows, spec)  # a reference's values land in other sources' rows: none may be unsafe
    if unsafe:
        first = unsafe[0]
        raise SourceError(str(path), int(first[ROW_ID].iloc[0]), str(first["column"].iloc[0]),
                          str(first["rule"].iloc[0]), f"reference {spec.name!r}: a value would be joined into "
                          "other sources' rows; fix the reference extract")
    rows = rows[keys.notna().to_numpy()].assign(**{key: keys[keys.notna()]}).set_index(key)
    return Reference(spec.name, rows.drop(columns=[ROW_ID]))


def references_of(spec: SourceSpec, sources: SourcesConfig, landing_dir: Path, as_of: date) -> dict[str, Reference]:
    """The reference extracts ``spec`` joins, read once for the stage."""
    return {j.reference: read_reference(sources[j.reference], landing_dir, as_of) for j in spec.joins}


def _failures(row_ids: pd.Series, rule: str, column: str) -> pd.DataFrame:
    return pd.DataFrame({ROW_ID: row_ids.to_numpy(), "rule": rule, "expectation": f"stager:{rule}",
                         "column": column})


def expand(raw: pd.DataFrame, spec: SourceSpec, references: dict[str, Reference]) -> tuple[pd.DataFrame,
                                                                                            pd.DataFrame]:
    """``raw`` with its joined and derived columns, and the failures found doing so."""
    if not spec.joins and not any(c.derived for c in spec.columns.values()):
        return raw, pd.DataFrame(columns=FAILURE_COLUMNS)
    out = raw.copy()
    found = []
    for join in spec.joins:
        table = references[join.reference].rows
        keys = clean_text(out[join.by])
        matched = keys.isin(table.index).to_numpy()
        for taken, alias in join.take.items():
            values = keys.map(table[taken]) if len(table) else pd.Series(None, index=out.index, dtype=object)
            out[alias] = values.astype(object).where(pd.Series(matched, index=out.index), None)
        missing = keys.notna().to_numpy() & ~matched
        if join.required and missing.any():
            found.append(_failures(out.loc[missing, ROW_ID], "reference_known", join.by))
    for name, column in spec.columns.items():
        if column.expr is None:
            continue
        values, invalid = evaluate(column.expression, out, decimal=spec.decimal_separator,
                                   thousands=spec.thousands_separator)
        out[name] = as_source_text(values, spec.decimal_separator).to_numpy()
        if invalid.any():
            found.append(_failures(out.loc[invalid, ROW_ID], "derived_valid", name))
    failures = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=FAILURE_COLUMNS)
    return out, failures


def kept_by_filter(expanded: pd.DataFrame, spec: SourceSpec) -> tuple[np.ndarray, np.ndarray]:
    """(rows the source's filter keeps, rows where it cannot be evaluated). A row is kept
    where the filter is true; one where a value it reads is unreadable is kept too (and
    fails ``derived_valid``): a broken value must not make a row vanish unseen."""
    if spec.filter is None:
        return np.ones(len(expanded), dtype=bool), np.zeros(len(expanded), dtype=bool)
    values, invalid = evaluate(compile_expression(spec.filter), expanded, decimal=spec.decimal_separator,
                               thousands=spec.thousands_separator)
    if not isinstance(values.dtype, pd.BooleanDtype):
        values = pd.Series(values.astype(object).isin([True, "true", 1.0]).to_numpy(), index=values.index)
    return values.fillna(False).to_numpy(dtype=bool) | invalid, invalid


def filter_failures(raw: pd.DataFrame, invalid: np.ndarray) -> pd.DataFrame:
    """The rows whose filter could not be evaluated, under ``derived_valid``."""
    return _failures(raw.loc[invalid, ROW_ID], "derived_valid", "filter")
