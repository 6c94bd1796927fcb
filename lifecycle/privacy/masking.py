"""Display masking for staff-facing output (RM digests, steward reports, UIs).

Masking is for showing *that* a value exists and which one it is to someone who already
knows the customer, never for protecting data at rest (that is encryption). The forms
follow common Chinese banking practice (JR/T 0171-2020 display rules):

=========  =========================================  ==========================
field      rule                                       example
=========  =========================================  ==========================
name       first character, ``*`` for each other one  欧阳娜娜 → 欧***, 张三 → 张*
mobile     first 3 and last 4                         13812345678 → 138****5678
ID number  first 1 and last 1                         1****************X
card       first 6 and last 4, ``*`` in between       622202*********0123
email      first character of local part + ``***``    z***@example.com
=========  =========================================  ==========================

Values too short to keep both ends without revealing everything are fully starred.
Inputs are expected to be normalised (see :mod:`lifecycle.privacy.blind_index`); spaces
and dashes inside card numbers are removed, surrounding whitespace is trimmed.
``None``, NA and empty strings give ``None``. The Series forms return object Series
with the same index and name, and agree with the scalar forms value for value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "mask_card",
    "mask_card_series",
    "mask_email",
    "mask_email_series",
    "mask_id_no",
    "mask_id_no_series",
    "mask_mobile",
    "mask_mobile_series",
    "mask_name",
    "mask_name_series",
]


def _text(value: object) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    text = str(value).strip()
    return text or None


def _keep_ends(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


def mask_name(value: str | None) -> str | None:
    """Surname only: the first character and one ``*`` for every other character."""
    text = _text(value)
    return None if text is None else text[0] + "*" * (len(text) - 1)


def mask_mobile(value: str | None) -> str | None:
    """First 3 and last 4 digits: ``138****5678``."""
    text = _text(value)
    return None if text is None else _keep_ends(text, 3, 4)


def mask_id_no(value: str | None) -> str | None:
    """First and last character of a resident ID number: ``1****************X``."""
    text = _text(value)
    return None if text is None else _keep_ends(text, 1, 1)


def mask_card(value: str | None) -> str | None:
    """First 6 (issuer) and last 4 digits of a card number, separators removed."""
    text = _text(value)
    digits = None if text is None else text.replace(" ", "").replace("-", "")
    return _keep_ends(digits, 6, 4) if digits else None


def mask_email(value: str | None) -> str | None:
    """First character of the local part, ``***``, then ``@domain``; no ``@`` → ``***``."""
    text = _text(value)
    if text is None:
        return None
    local, at, domain = text.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


# Vectorised forms: ``.str`` methods run in pandas' string engine (pyarrow); star runs of
# varying length come from a small table indexed by the run length.


def _clean(values: pd.Series) -> pd.Series:
    """Trimmed text as pandas string dtype; empty becomes NA."""
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def _finish(masked: pd.Series, like: pd.Series) -> pd.Series:
    out = masked.astype(object)
    out = out.where(masked.notna(), None)
    return pd.Series(out.to_numpy(dtype=object), index=like.index, name=like.name, dtype=object)


def _stars(counts: pd.Series) -> pd.Series:
    """A run of ``counts[i]`` stars per row, picked from a table of runs (one C ``take``)."""
    n = counts.fillna(0).clip(lower=0).astype("int64").to_numpy()
    runs = np.array(["*" * k for k in range(int(n.max(initial=0)) + 1)], dtype=object)
    return pd.Series(runs[n], index=counts.index, dtype="string")


def _keep_ends_series(text: pd.Series, head: int, tail: int) -> pd.Series:
    lengths = text.str.len()
    short = (lengths <= head + tail).fillna(False)
    kept = text.str.slice(0, head) + _stars(lengths - head - tail) + text.str.slice(-tail)
    return kept.where(~short, _stars(lengths))


def mask_name_series(values: pd.Series) -> pd.Series:
    """:func:`mask_name` over a Series."""
    text = _clean(values)
    return _finish(text.str.slice(0, 1) + _stars(text.str.len() - 1), values)


def mask_mobile_series(values: pd.Series) -> pd.Series:
    """:func:`mask_mobile` over a Series."""
    return _finish(_keep_ends_series(_clean(values), 3, 4), values)


def mask_id_no_series(values: pd.Series) -> pd.Series:
    """:func:`mask_id_no` over a Series."""
    return _finish(_keep_ends_series(_clean(values), 1, 1), values)


def mask_card_series(values: pd.Series) -> pd.Series:
    """:func:`mask_card` over a Series."""
    text = _clean(values).str.replace(r"[ \-]", "", regex=True)
    text = text.mask(text == "")
    return _finish(_keep_ends_series(text, 6, 4), values)


def mask_email_series(values: pd.Series) -> pd.Series:
    """:func:`mask_email` over a Series."""
    text = _clean(values)
    # Greedy local part: splits at the last "@", like str.rpartition in the scalar form.
    parts = text.str.extract(r"(?s)\A(?P<local>.*)@(?P<domain>[^@]*)\Z")
    masked = parts["local"].str.slice(0, 1) + "***@" + parts["domain"]
    masked = masked.where(parts["domain"].notna(), "***")
    return _finish(masked.where(text.notna()), values)
