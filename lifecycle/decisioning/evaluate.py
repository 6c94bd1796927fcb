"""Conditions over a features frame, and their reasons as JSON text — vectorised, no loop per customer.

A reason is ``{"rule": code, "value": the feature's value, "threshold": t}``;
a decision's reasons are a JSON list of them, built column-wise with string
operations so that a million customers cost a few vectorised passes.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from lifecycle.decisioning.rules import OPERATORS, Condition


def holds(cond: Condition, frame: pd.DataFrame) -> pd.Series:
    """Boolean Series: where ``cond`` holds (missing values per ``when_missing``)."""
    values = frame[cond.feature]
    missing = values.isna()
    if cond.op == "in":
        result = values.isin(list(cond.threshold))  # type: ignore[arg-type]
    else:
        compare = OPERATORS[cond.op]
        filled = values.where(~missing, 0 if isinstance(cond.threshold, (int, float)) else "")
        result = pd.Series(np.asarray(compare(filled, cond.threshold), dtype=bool), index=frame.index)
    return (result & ~missing) | (missing & cond.when_missing)


def value_text(values: pd.Series) -> pd.Series:
    """JSON literals of ``values``: numbers rounded to 4 places, text quoted, missing as null."""
    if pd.api.types.is_numeric_dtype(values):
        numbers = pd.to_numeric(values).astype("float64").round(4).to_numpy()
        text = pd.Series(numbers.astype(str), index=values.index, dtype=object).str.removesuffix(".0")
        return text.where(np.isfinite(numbers), "null")
    quoted = values.astype(object).map(lambda v: json.dumps(str(v), ensure_ascii=False), na_action="ignore")
    return quoted.where(quoted.notna(), "null").astype(object)


def reason_text(cond: Condition, frame: pd.DataFrame) -> pd.Series:
    """The reason object of ``cond`` for every row, as JSON text."""
    head = f'{{"rule": {json.dumps(cond.rule)}, "value": '
    tail = f', "threshold": {json.dumps(cond.threshold, ensure_ascii=False)}}}'
    return head + value_text(frame[cond.feature]) + tail


def join_reasons(parts: list[pd.Series], index: pd.Index) -> pd.Series:
    """JSON lists from per-rule reason texts (NaN where a rule does not apply)."""
    out = np.full(len(index), "", dtype=object)
    for part in parts:
        values = part.reindex(index).astype(object).to_numpy()
        present = pd.notna(values)
        sep = np.where(out != "", ", ", "")
        out = np.where(present, out + sep + np.where(present, values, ""), out)
    return pd.Series("[" + out + "]", index=index, dtype=object)
