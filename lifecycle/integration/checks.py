"""Vectorised check-character rules GX cannot express natively.

Each function takes a Series of standardised strings and returns a pass-flag
Series of objects: True (passes), False (fails), None (not applicable: the
value is missing or not of the rule's shape — the shape is its own rule).
``python-stdnum`` is the oracle for these in the property tests; per-value
calls to it are too slow for tens of millions of rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
RIC_SHAPE = r"\d{17}[\dX]"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
USCC_SHAPE = r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}"

_USCC_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(USCC_ALPHABET):
    _USCC_VALUE[ord(_c)] = _i


def flags(index: pd.Index, applicable: np.ndarray, passed: np.ndarray) -> pd.Series:
    """A pass-flag Series: True/False where applicable, None elsewhere."""
    out = np.full(len(index), None, dtype=object)
    out[applicable] = passed[applicable].astype(bool)
    return pd.Series(out, index=index, dtype=object)


def _ascii_matrix(values: pd.Series, width: int) -> np.ndarray:
    """Fixed-width ASCII strings as an (n, width) uint8 matrix."""
    if values.empty:
        return np.zeros((0, width), dtype=np.uint8)
    return np.frombuffer("".join(values.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, width)


def _shaped(values: pd.Series, shape: str) -> np.ndarray:
    return values.fillna("").astype(str).str.fullmatch(shape).to_numpy(dtype=bool)


def ric_checksum(ids: pd.Series) -> pd.Series:
    """GB 11643-1999 check character (ISO 7064 MOD 11-2) of 18-character resident IDs."""
    shaped = _shaped(ids, RIC_SHAPE)
    passed = np.zeros(len(ids), dtype=bool)
    m = _ascii_matrix(ids[shaped], 18)
    if len(m):
        total = (m[:, :17].astype(np.int64) - 48) @ RIC_WEIGHTS
        check = (12 - total % 11) % 11
        expected = np.where(check == 10, ord("X"), check + 48)
        passed[shaped] = m[:, 17] == expected
    return flags(ids.index, shaped, passed)


def ric_birth_date(ids: pd.Series, birth_dates: pd.Series) -> pd.Series:
    """The ID's YYYYMMDD equals the stated birth date."""
    parsed = pd.to_datetime(birth_dates, errors="coerce")
    applicable = _shaped(ids, RIC_SHAPE) & parsed.notna().to_numpy()
    stated = parsed.dt.strftime("%Y%m%d").fillna("")
    in_id = ids.fillna("").astype(str).str.slice(6, 14)
    return flags(ids.index, applicable, (stated == in_id).to_numpy(dtype=bool))


def ric_gender(ids: pd.Series, genders: pd.Series) -> pd.Series:
    """The ID's sequence parity matches the stated gender (odd = male)."""
    g = genders.fillna("").astype(str)
    applicable = _shaped(ids, RIC_SHAPE) & g.isin(["M", "F"]).to_numpy()
    digit = pd.to_numeric(ids.fillna("").astype(str).str.slice(16, 17), errors="coerce").fillna(0).astype(int)
    male = (digit % 2 == 1).to_numpy()
    return flags(ids.index, applicable, male == (g == "M").to_numpy())


def uscc_checksum(codes: pd.Series) -> pd.Series:
    """GB 32100-2015 check character of unified social credit codes."""
    shaped = _shaped(codes, USCC_SHAPE)
    passed = np.zeros(len(codes), dtype=bool)
    m = _ascii_matrix(codes[shaped], 18)
    if len(m):
        values = _USCC_VALUE[m]
        check = (31 - (values[:, :17] @ USCC_WEIGHTS) % 31) % 31
        passed[shaped] = values[:, 17] == check
    return flags(codes.index, shaped, passed)


def luhn(numbers: pd.Series) -> pd.Series:
    """Luhn check of 13–19 digit card numbers."""
    text = numbers.fillna("").astype(str)
    shaped = text.str.fullmatch(r"\d{13,19}").to_numpy(dtype=bool)
    passed = np.zeros(len(text), dtype=bool)
    lengths = text.str.len().to_numpy()
    for width in np.unique(lengths[shaped]):
        rows = shaped & (lengths == width)
        digits = _ascii_matrix(text[rows], int(width)).astype(np.int64)[:, ::-1] - 48
        doubled = digits[:, 1::2] * 2
        total = digits[:, ::2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
        passed[rows] = total % 10 == 0
    return flags(numbers.index, shaped, passed)
