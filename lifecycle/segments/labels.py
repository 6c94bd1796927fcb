"""Every label of every customer for one date, from one inputs frame — vectorised, no loop per customer.

The inputs frame has one row per customer (``customer_id``, ``customer_type``)
and one column per feature, decision and attribute a rule may read (see
:func:`lifecycle.segments.service.label_inputs`). The result is long: one row per
customer and label, with the label's dimension, value and reasons — a JSON list
``[{"rule", "input", "value", "threshold"}]`` naming what decided it.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from lifecycle.decisioning.evaluate import value_text
from lifecycle.segments.config import LabelRule, LabelRules, Test

COLUMNS = ["customer_id", "label", "dimension", "value", "reasons"]
_COMPARE = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def holds(test: Test, frame: pd.DataFrame) -> pd.Series:
    """Where ``test`` holds; a missing value (or a column the frame lacks) never does."""
    if test.column not in frame:
        return pd.Series(False, index=frame.index)
    values = frame[test.column]
    present = values.notna()
    if test.op == "in":
        result = values.astype(object).isin(list(test.value))  # type: ignore[arg-type]
    elif test.op in _COMPARE:
        numbers = pd.to_numeric(values, errors="coerce")
        present &= numbers.notna()
        bound = float(test.value)  # type: ignore[arg-type]  # numbers only (checked at load)
        result = pd.Series(_COMPARE[test.op](numbers.fillna(0).to_numpy(), bound),
                           index=frame.index)
    else:
        same = values.astype(object) == test.value
        if isinstance(test.value, (int, float)):
            same = pd.to_numeric(values, errors="coerce") == float(test.value)
        result = same if test.op == "==" else ~same
    return result.fillna(False).astype(bool) & present


def matches(tests: list[Test], match: str, frame: pd.DataFrame) -> pd.Series:
    masks = [holds(t, frame) for t in tests]
    combined = np.logical_and.reduce(masks) if match == "all" else np.logical_or.reduce(masks)
    return pd.Series(combined, index=frame.index)


def _reason(rule: str, column: str, values: pd.Series, threshold: pd.Series | object) -> pd.Series:
    """``threshold``: one value for every row, or a Series of JSON texts (one per row)."""
    head = f'{{"rule": {json.dumps(rule)}, "input": {json.dumps(column)}, "value": '
    if isinstance(threshold, pd.Series):
        tail = ', "threshold": ' + threshold + "}"
    else:
        tail = pd.Series(f', "threshold": {json.dumps(threshold, ensure_ascii=False)}}}', index=values.index)
    return head + value_text(values) + tail


def _banded(rule: LabelRule, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    assert rule.bands is not None and rule.input is not None
    numbers = pd.to_numeric(frame[rule.input], errors="coerce")
    numbers = numbers[numbers.notna() & np.isfinite(numbers)]
    bounds = np.array([b.below for b in rule.bands[:-1]], dtype="float64")
    position = np.searchsorted(bounds, numbers.to_numpy(), side="right")  # x < below[i] -> band i
    names = np.array([b.value for b in rule.bands], dtype=object)
    limits = np.array([json.dumps(b.below) for b in rule.bands], dtype=object)  # once per band, not per row
    value = pd.Series(names[position], index=numbers.index)
    reasons = "[" + _reason(rule.label, rule.input, numbers, pd.Series(limits[position], index=numbers.index)) + "]"
    return value, reasons


def _mapped(rule: LabelRule, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    assert rule.values is not None and rule.input is not None
    codes = frame[rule.input].dropna().astype(str)
    value = codes.map(rule.values)
    value = value[value.notna()]
    reasons = "[" + _reason(rule.label, rule.input, codes[value.index], "values") + "]"
    return value, reasons


def _cased(rule: LabelRule, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    assert rule.cases is not None
    value = pd.Series(None, index=frame.index, dtype=object)
    reasons = pd.Series(None, index=frame.index, dtype=object)
    for case in rule.cases:
        hit = matches(case.when, case.match, frame) & value.isna()
        if not hit.any():
            continue
        rows = frame[hit]
        parts = [_reason(rule.label, t.column, rows[t.column], t.value) for t in case.when
                 if t.column in rows and holds(t, rows).any()]
        text = parts[0]
        for p in parts[1:]:
            text = text + ", " + p
        value[hit] = case.value
        reasons[hit] = "[" + text + "]"
    keep = value.notna()
    return value[keep], reasons[keep]


def label_frame(inputs: pd.DataFrame, rules: LabelRules) -> pd.DataFrame:
    """One row per customer and label (customers a label does not apply to, or without its input, get none)."""
    parts = []
    for rule in rules.labels:
        frame = inputs if rule.applies_to == "all" else inputs[inputs["customer_type"] == rule.applies_to]
        if frame.empty or (rule.input is not None and rule.input not in frame):
            continue
        form = _banded if rule.bands is not None else _mapped if rule.values is not None else _cased
        value, reasons = form(rule, frame)
        if value.empty:
            continue
        parts.append(pd.DataFrame({"customer_id": frame.loc[value.index, "customer_id"].to_numpy(),
                                   "label": rule.label, "dimension": rule.dimension,
                                   "value": value.astype(str).to_numpy(), "reasons": reasons.to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(parts, ignore_index=True)[COLUMNS]


def wide(labels: pd.DataFrame) -> pd.DataFrame:
    """Labels as ``label.<name>`` columns per customer id (for group rules)."""
    if labels.empty:
        return pd.DataFrame(index=pd.Index([], name="customer_id"))
    out = labels.pivot(index="customer_id", columns="label", values="value")
    out.columns = [f"label.{c}" for c in out.columns]
    return out
