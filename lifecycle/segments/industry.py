"""GB/T 4754-2017 industry sections (门类) from an industry code: a section letter or a division number."""

from __future__ import annotations

import pandas as pd

# Divisions (大类, two digits) of each section, from the standard's table.
_SECTIONS: tuple[tuple[str, int, int], ...] = (
    ("A", 1, 5), ("B", 6, 12), ("C", 13, 43), ("D", 44, 46), ("E", 47, 50), ("F", 51, 52), ("G", 53, 60),
    ("H", 61, 62), ("I", 63, 65), ("J", 66, 69), ("K", 70, 70), ("L", 71, 72), ("M", 73, 75), ("N", 76, 79),
    ("O", 80, 82), ("P", 83, 83), ("Q", 84, 85), ("R", 86, 90), ("S", 91, 96), ("T", 97, 97),
)
SECTION_LETTERS = frozenset(s for s, _, _ in _SECTIONS)
_BY_DIVISION = {d: s for s, lo, hi in _SECTIONS for d in range(lo, hi + 1)}


def industry_sections(codes: pd.Series) -> pd.Series:
    """``C`` for ``C``, ``C39``, ``39`` or ``3911``; None for a code the standard does not have."""
    text = codes.astype("string").str.strip().str.upper()
    letter = text.str.slice(0, 1)
    digits = text.str.lstrip("ABCDEFGHIJKLMNOPQRST").str.slice(0, 2)
    division = pd.to_numeric(digits.where(digits.str.fullmatch(r"\d{2}").fillna(False)), errors="coerce")
    by_division = division.map(_BY_DIVISION)
    by_letter = letter.where(letter.isin(SECTION_LETTERS))
    # A letter with a division must agree with it; a bare letter or a bare division stands alone.
    both = by_letter.notna() & by_division.notna()
    out = by_letter.astype(object).where(by_letter.notna(), by_division)
    out = out.where(~both | (by_letter.astype(object) == by_division), None)
    return out.where(pd.notna(out), None).astype(object)
