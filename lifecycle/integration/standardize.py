"""Standardise a raw extract into canonical columns, types and pass flags.

Input: strings as read (source column names, ``row_id``). Output: canonical
names; text trimmed and NFKC-folded (full-width → half-width); mobiles without
+86, spaces or dashes; ID numbers and USCC upper-case; codes mapped to canonical
enumerations (an unknown code is kept so the value-set rule catches it); dates
parsed in the configured formats; amounts numeric in yuan. Every value that
cannot be read gets a ``chk_*`` pass flag instead of an exception, so the
quality gate can quarantine the row with its rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.integration import checks
from lifecycle.integration.read import ROW_ID
from lifecycle.integration.sources import ColumnSpec, ColumnType, SourceSpec

TEXT = "string[pyarrow]"  # Arrow strings: regex and case functions run vectorised in Arrow (RE2)
NOT_FUTURE = ("birth_date", "open_date", "txn_time", "event_time", "feedback_date", "balance_date", "start_date",
              "interaction_time")
DISTINCT_SHARE = 0.2  # clean per distinct value when there are at most this share of them
_CJK = r"[\u3400-\u9fff\uf900-\ufaff·]"


def re_sub(values: pd.Series, pattern: str, replacement: str) -> pd.Series:
    """Regex replace in Arrow (RE2, vectorised): pandas falls back to Python's
    ``re`` per value here. RE2 has no look-around; use groups instead."""
    array = pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.string())
    replaced = pc.replace_substring_regex(array, pattern=pattern, replacement=replacement)
    return pd.Series(pd.arrays.ArrowStringArray(replaced), index=values.index)


def _blank_to_none(values: pd.Series) -> pd.Series:
    text = values.astype(TEXT)
    keep = (text.str.len() > 0).fillna(False).astype(bool).to_numpy()
    out = text.astype(object).to_numpy(copy=True)
    out[~keep] = None
    return pd.Series(out, index=values.index, dtype=object)


def nfkc(values: pd.Series) -> pd.Series:
    """NFKC-fold (full-width → half-width) only the values that are not ASCII:
    ASCII text is already folded, and most extract columns are ASCII."""
    text = values.astype(TEXT)
    other = ~text.str.isascii().fillna(True).astype(bool)
    if other.any():
        text = text.copy()
        text[other] = text[other].str.normalize("NFKC")
    return text


def clean_text(values: pd.Series) -> pd.Series:
    """Trim, fold full-width to half-width (NFKC), collapse inner white space."""
    return _blank_to_none(re_sub(nfkc(values), r"\s+", " ").str.strip())


def clean_name(values: pd.Series) -> pd.Series:
    """A person's name: clean text, and no spaces between Chinese characters."""
    text = clean_text(values).astype(TEXT)
    text = text.str.replace(rf"(?<={_CJK}) (?={_CJK})", "", regex=True)
    return _blank_to_none(text)


def clean_mobile(values: pd.Series) -> pd.Series:
    """Mainland mobile: drop spaces, dashes, dots, brackets and a +86/0086/86 prefix.

    Letters and other characters are kept, so a malformed number stays malformed.
    """
    text = re_sub(nfkc(values), r"[\s\-.()]", "")
    text = re_sub(text, r"^(?:\+86|0086|86)(1\d{10})$", "\\1")
    return _blank_to_none(text)


def clean_upper(values: pd.Series) -> pd.Series:
    text = re_sub(nfkc(values), r"\s+", "").str.upper()
    return _blank_to_none(text)


def clean_email(values: pd.Series) -> pd.Series:
    return _blank_to_none(nfkc(values).str.strip().str.lower())


def clean_digits_only(values: pd.Series) -> pd.Series:
    """Card numbers: drop spaces and dashes (other characters kept for the rule)."""
    text = re_sub(nfkc(values), r"[\s\-]", "")
    return _blank_to_none(text)


TEXT_RULES: dict[str, Callable[[pd.Series], pd.Series]] = {
    "name": clean_name,
    "legal_rep_name": clean_name,
    "rm_name": clean_name,
    "mobile": clean_mobile,
    "id_no": clean_upper,
    "passport_no": clean_upper,
    "uscc": clean_upper,
    "email": clean_email,
    "card_no": clean_digits_only,
}


def parse_dates(values: pd.Series, formats: list[str], century_pivot: int | None = None,
                ) -> tuple[pd.Series, pd.Series]:
    """Parsed datetimes (NaT when empty or unreadable) and the date_valid pass flag.

    A format with a two-digit year (``%y``) puts it in the century ``century_pivot``
    says: below the pivot 20yy, else 19yy (not Python's fixed pivot of 69)."""
    text = values.astype(TEXT).str.strip()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in formats:
        todo = parsed.isna() & text.notna()
        if not todo.any():
            break
        read = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        if "%y" in fmt and century_pivot is not None:
            read = _pivot_century(read, century_pivot)
        parsed[todo] = read
    present = text.notna().to_numpy() & (text.fillna("") != "").to_numpy()
    return parsed, checks.flags(values.index, present, parsed.notna().to_numpy())


def _pivot_century(parsed: pd.Series, pivot: int) -> pd.Series:
    """Dates read with ``%y`` moved to the pivot's century, rebuilt from their parts so
    that a day that does not exist there (29 February 1900) becomes NaT, not a shift."""
    stamps = parsed.to_numpy(dtype="datetime64[ns]")
    present = ~np.isnat(stamps)
    years = stamps.astype("datetime64[Y]").astype(np.int64) + 1970
    two_digit = years % 100
    target = np.where(two_digit < pivot, 2000 + two_digit, 1900 + two_digit)
    month_start = stamps.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12
    day = (stamps.astype("datetime64[D]") - month_start.astype("datetime64[D]")).astype(np.int64)
    time_of_day = stamps - stamps.astype("datetime64[D]").astype("datetime64[ns]")
    new_month = ((target - 1970) * 12 + month).astype("datetime64[M]")
    days_in_month = ((new_month + 1).astype("datetime64[D]") - new_month.astype("datetime64[D]")).astype(np.int64)
    rebuilt = new_month.astype("datetime64[D]") + day + time_of_day
    valid = present & (day < days_in_month)
    return pd.Series(np.where(valid, rebuilt.astype("datetime64[ns]"), np.datetime64("NaT")), index=parsed.index,
                     dtype="datetime64[ns]")


def _flags(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow result as a numpy array, null as False."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _literal(char: str) -> str:
    return "\\" + char if char == "." else char


def number_patterns(decimal: str, thousands: str) -> tuple[str, str]:
    """RE2 patterns of a plain decimal number under ``decimal`` and ``thousands`` separators,
    and of one under the swapped convention (a value that matches only the second is
    ambiguous: ``12,50`` where ``.`` is the decimal separator — 12.50 or 1250?).

    Only plain notation is a number: no exponent (``1e309``), no ``inf`` or ``NaN``, no
    currency sign. Grouping is by threes, and the integer part is required."""
    def pattern(dec: str, sep: str) -> str:
        grouped = rf"|\d{{1,3}}(?:{_literal(sep)}\d{{3}})+" if sep else ""
        return rf"^[+-]?(?:\d+{grouped})(?:{_literal(dec)}\d+)?$"

    other_decimal = "," if decimal == "." else "."
    other_thousands = decimal if thousands in ("", other_decimal) else thousands
    return pattern(decimal, thousands), pattern(other_decimal, other_thousands)


def parse_number(values: pd.Series, spec: ColumnSpec, decimal: str = ".", thousands: str = ",",
                 ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers in yuan (NA when empty, unreadable or ambiguous), the number_valid pass
    flag, and the number_unambiguous pass flag.

    A value is read under the source's separators only, never guessed: one that fits
    the other convention and not the source's is ambiguous (flagged, NA, not read);
    one that fits neither, or is not finite, is not valid.
    """
    array = pa.array(nfkc(values).str.strip().array)
    present = _flags(pc.greater(pc.utf8_length(array), 0))
    strict, swapped = number_patterns(decimal, thousands)
    fits = _flags(pc.match_substring_regex(array, strict))
    ambiguous = np.zeros(len(array), dtype=bool)
    others = present & ~fits  # rare: only these can be ambiguous
    if others.any():
        ambiguous[others] = _flags(pc.match_substring_regex(array.filter(pa.array(others)), swapped))
    plain = pc.if_else(pa.array(fits), array, pa.scalar(None, array.type))
    if thousands:
        plain = pc.replace_substring(plain, thousands, "")
    if decimal != ".":
        plain = pc.replace_substring(plain, decimal, ".")
    try:
        parsed = pc.cast(plain, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:  # a digit string too long for Arrow's parser: read it as Python does
        parsed = pd.to_numeric(pd.Series(plain.to_pylist()), errors="coerce").to_numpy(dtype=float)
    number = pd.Series(parsed, index=values.index, dtype="float64")
    valid = fits & np.isfinite(number.fillna(0).to_numpy(dtype=float)) & number.notna().to_numpy()
    number = number.where(valid)
    valid_flag = checks.flags(values.index, present & ~ambiguous, valid)
    unambiguous = checks.flags(values.index, present, ~ambiguous)
    if spec.type is ColumnType.INTEGER:
        whole = valid & (np.mod(number.fillna(0).to_numpy(dtype=float), 1) == 0)
        return (number.where(whole).astype("Int64"), checks.flags(values.index, present & ~ambiguous, whole),
                unambiguous)
    if spec.unit == "fen":
        number = (number / 100).round(2)
    return number, valid_flag, unambiguous


def map_codes(values: pd.Series, codes: dict[str, str]) -> pd.Series:
    """Source codes to canonical ones; an unknown code is kept for the value-set rule."""
    text = clean_text(values)
    mapped = text.map(codes)
    return mapped.where(mapped.notna(), text).astype(object).where(text.notna(), None)


def per_distinct(values: pd.Series, clean: Callable[[pd.Series], pd.Series],
                 share: float = DISTINCT_SHARE) -> pd.Series:
    """``clean(values)`` as object values (None for missing), computed once per distinct
    value when there are few (codes, currencies, countries, branch names) and spread back.

    ``clean`` must treat each value on its own and turn a missing one into None.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) > share * len(values):
        return clean(values)
    cleaned = clean(pd.Series(np.asarray(uniques, dtype=object), dtype=values.dtype)).to_numpy(dtype=object)
    out = np.full(len(values), None, dtype=object)
    present = codes >= 0
    out[present] = cleaned[codes[present]]
    return pd.Series(out, index=values.index, dtype=object)


def standardize(raw: pd.DataFrame, spec: SourceSpec, as_of: date) -> pd.DataFrame:
    """Canonical frame of one raw chunk: typed columns plus ``chk_*`` pass flags."""
    out: dict[str, pd.Series] = {ROW_ID: raw[ROW_ID].astype("int64")}
    for source_column, column in spec.mapped_columns.items():
        values, name = raw[source_column], column.to
        if column.type in (ColumnType.DATE, ColumnType.DATETIME):
            out[name], out[f"chk_date_valid__{name}"] = parse_dates(values, column.format, column.century_pivot)
        elif column.type in (ColumnType.DECIMAL, ColumnType.INTEGER):
            out[name], out[f"chk_number_valid__{name}"], out[f"chk_number_unambiguous__{name}"] = parse_number(
                values, column, spec.decimal_separator, spec.thousands_separator)
        elif column.type is ColumnType.CODE:
            out[name] = per_distinct(values, partial(map_codes, codes=column.codes))
        else:
            out[name] = per_distinct(values, TEXT_RULES.get(name, clean_text))
    for name, value in spec.defaults.items():  # columns the extract does not have (checked at config load)
        constant = pd.Timestamp(value) if isinstance(value, date) else value
        out.setdefault(name, pd.Series([constant] * len(raw), index=raw.index))
    frame = pd.DataFrame(out, index=raw.index)
    _add_derived_checks(frame, as_of)
    return frame


def _add_derived_checks(frame: pd.DataFrame, as_of: date) -> None:
    if "id_no" in frame:
        ids = frame["id_no"]
        if "id_type" in frame:  # only resident IDs carry the GB 11643 structure
            ids = ids.where(frame["id_type"].isin(["RIC"]) | frame["id_type"].isna(), None)
        frame["chk_id_no_checksum"] = checks.ric_checksum(ids)
        if "birth_date" in frame:
            frame["chk_id_no_birth_date"] = checks.ric_birth_date(ids, frame["birth_date"])
        if "gender" in frame:
            frame["chk_id_no_gender"] = checks.ric_gender(ids, frame["gender"])
    if "uscc" in frame:
        frame["chk_uscc_checksum"] = checks.uscc_checksum(frame["uscc"])
    if "card_no" in frame:
        frame["chk_card_no_luhn"] = checks.luhn(frame["card_no"])
    limit = pd.Timestamp(as_of + timedelta(days=1))
    for name in NOT_FUTURE:
        if name in frame:
            values = frame[name]
            frame[f"chk_not_future__{name}"] = checks.flags(
                frame.index, values.notna().to_numpy(), (values < limit).to_numpy(dtype=bool)
            )
