"""Rule codes of the quality gate, and the derived pass-flag columns behind some of them.

Every expectation in ``expectations/*.json`` carries ``meta.rule``: one of the codes
below. The code, not the GX expectation type, is what a quarantined row's reason,
a steward's report and the input contract speak of: it stays stable when the
expectation behind it changes (a regex today, a derived check tomorrow).

Some rules cannot be expressed by GX natively (check characters, a date that does
not exist, a date after the run's as-of date). The standardiser computes them as
``chk_*`` columns holding True / False / None (None = not applicable, e.g. an empty
value) and the suites expect those columns to be in ``[True]``.
"""

from __future__ import annotations

RULES: dict[str, str] = {
    "columns_present": "the standardised frame has every canonical and derived column the suite checks",
    "required": "a required or key column has a value",
    "source_key_unique": "the source key identifies one row in the extract",
    "code_in_set": "a code column holds one of the configured canonical codes",
    "mobile_format": "a mainland mobile number: 11 digits, 1 then 3-9",
    "email_format": "an e-mail address: one @ and a dotted domain",
    "id_no_format": "a resident ID number: 17 digits and a check character (0-9 or X)",
    "id_no_checksum": "the resident ID's check character is right (GB 11643, ISO 7064 MOD 11-2)",
    "id_no_birth_date": "the birth date inside the resident ID equals birth_date",
    "id_no_gender": "the resident ID's sequence parity (odd = male) agrees with gender",
    "uscc_format": "a unified social credit code: 18 characters of the GB 32100 alphabet",
    "uscc_checksum": "the unified social credit code's check character is right (GB 32100)",
    "card_no_luhn": "the card number's Luhn check digit is right",
    "date_valid": "a date or time value that was given is a real date in the configured format",
    "number_valid": "a number that was given parses as a number",
    "birth_date_not_future": "the birth date is not after the run's as-of date",
    "date_not_future": "the date is not after the run's as-of date",
    "amount_non_negative": "an amount, balance or limit is not negative",
    "age_range": "the birth date is not before 1900-01-01",
    "nps_range": "an NPS score is between 0 and 10",
    "overdue_days_range": "overdue days are not negative",
}

DERIVED_PREFIXES: dict[str, str] = {
    "chk_date_valid__": "False when the raw value was present but not a real date/time in the configured formats",
    "chk_number_valid__": "False when the raw value was present but not a number",
    "chk_not_future__": "False when the date lies after the run's as-of date",
}

DERIVED_COLUMNS: dict[str, tuple[str, str]] = {
    "chk_id_no_checksum": ("id_no", "GB 11643 check character of the resident ID"),
    "chk_id_no_birth_date": ("id_no", "birth date in the resident ID equals birth_date"),
    "chk_id_no_gender": ("id_no", "sequence parity of the resident ID agrees with gender"),
    "chk_uscc_checksum": ("uscc", "GB 32100 check character of the unified social credit code"),
    "chk_card_no_luhn": ("card_no", "Luhn check digit of the card number"),
}

ROW_ID = "row_id"


def is_derived(column: str) -> bool:
    """Whether a column is a derived pass flag computed by the standardiser."""
    return column in DERIVED_COLUMNS or any(column.startswith(p) for p in DERIVED_PREFIXES)


def derived_base_column(column: str) -> str | None:
    """The canonical column a derived pass flag speaks about, or None for other columns."""
    if column in DERIVED_COLUMNS:
        return DERIVED_COLUMNS[column][0]
    for prefix in DERIVED_PREFIXES:
        if column.startswith(prefix):
            return column.removeprefix(prefix)
    return None


def derived_meaning(column: str) -> str:
    """What a derived pass flag means, in words (for the input contract)."""
    if column in DERIVED_COLUMNS:
        return DERIVED_COLUMNS[column][1]
    for prefix, meaning in DERIVED_PREFIXES.items():
        if column.startswith(prefix):
            return meaning
    raise KeyError(column)
