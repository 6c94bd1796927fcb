"""Row rules the stager applies itself, beside the GX suites.

They speak about how a value was written rather than what it means, so they hold
for every source alike and need no expectation per column:

* ``number_ambiguous`` — an amount whose separators fit the other convention, not
  the source's (``12,50`` where ``.`` is the decimal separator): quarantined, never
  reinterpreted (the standardiser's ``chk_number_unambiguous__*`` flags).
* ``control_characters`` — a value holding a NUL byte or another C0 control
  character (tab, line feed and carriage return excepted): no text field of a bank
  extract holds one, and databases refuse or silently cut them.
* ``formula_injection`` — a text value a spreadsheet would run as a formula
  (``=``, ``@``, or ``+``/``-`` not followed by a digit) when a steward opens an
  export of the quarantine or a report in Excel.

Each function returns failure rows (``row_id``, ``rule``, ``expectation``,
``column``) naming the canonical column, never the value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.integration.read import ROW_ID
from lifecycle.integration.sources import ColumnType, SourceSpec

AMBIGUOUS_PREFIX = "chk_number_unambiguous__"
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
FORMULA_START = r"^\s*(?:[=@]|[+\-][^0-9.\s])"
FAILURE_COLUMNS = [ROW_ID, "rule", "expectation", "column"]


def _failures(row_ids: pd.Series, rule: str, column: str) -> pd.DataFrame:
    return pd.DataFrame({ROW_ID: row_ids.to_numpy(), "rule": rule, "expectation": f"stager:{rule}",
                         "column": column})


def _matches(values: pd.Series, pattern: str) -> np.ndarray:
    array = pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.string())
    return np.asarray(pc.fill_null(pc.match_substring_regex(array, pattern), False), dtype=bool)


def ambiguous_numbers(std: pd.DataFrame) -> list[pd.DataFrame]:
    out = []
    for flag in [c for c in std.columns if c.startswith(AMBIGUOUS_PREFIX)]:
        bad = (std[flag] == False).to_numpy(dtype=bool)  # noqa: E712  (None: not applicable)
        if bad.any():
            out.append(_failures(std.loc[bad, ROW_ID], "number_ambiguous", flag.removeprefix(AMBIGUOUS_PREFIX)))
    return out


def written_values(raw: pd.DataFrame, spec: SourceSpec,
                   suspects: frozenset[str] = frozenset({"control", "formula"})) -> list[pd.DataFrame]:
    """Control characters in any column, formula starts in text columns of ``raw``;
    only the checks in ``suspects`` (what the file's byte scan could not rule out)."""
    out = []
    for source_column, column in spec.read_columns.items():
        if not suspects or source_column not in raw or not raw[source_column].notna().any():
            continue
        values = raw[source_column]
        control = _matches(values, CONTROL_CHARACTERS) if "control" in suspects else np.zeros(len(raw), bool)
        if control.any():
            out.append(_failures(raw.loc[control, ROW_ID], "control_characters", column.to or source_column))
        if column.type is ColumnType.STRING and "formula" in suspects:
            formula = _matches(values, FORMULA_START) & ~control
            if formula.any():
                out.append(_failures(raw.loc[formula, ROW_ID], "formula_injection", column.to or source_column))
    return out


def row_rule_failures(raw: pd.DataFrame, std: pd.DataFrame, spec: SourceSpec,
                      suspects: frozenset[str] = frozenset({"control", "formula"})) -> pd.DataFrame:
    """Every failure of the stager's own row rules in one chunk (``suspects``: see
    :func:`written_values`)."""
    found = ambiguous_numbers(std) + written_values(raw, spec, suspects)
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=FAILURE_COLUMNS)
