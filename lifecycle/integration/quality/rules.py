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
    "number_valid": "a number that was given is a finite number in plain notation (no exponent, inf or NaN)",
    "birth_date_not_future": "the birth date is not after the run's as-of date",
    "date_not_future": "the date is not after the run's as-of date",
    "amount_non_negative": "an amount, balance or limit is not negative",
    "age_range": "the birth date is not before 1900-01-01",
    "nps_range": "an NPS score is between 0 and 10",
    "overdue_days_range": "overdue days are not negative",
    "dependants_range": "the number of dependants is between 0 and 20",
}

# Row rules the stager applies itself (lifecycle.integration.row_rules and stage): a failing
# row is quarantined like one failing a suite's expectation.
STAGER_RULES: dict[str, str] = {
    "number_ambiguous": "a number's separators fit the source's decimal and thousands separators, not the "
                        "other convention (12,50 where '.' is the decimal separator is quarantined, never guessed)",
    "control_characters": "a value holds no NUL byte or other control character (tab and line breaks excepted)",
    "formula_injection": "a text value does not start like a spreadsheet formula (=, @, or + or - before a "
                         "non-digit)",
    "owner_known": "a fact's owner key, account or card refers to exactly one loaded customer",
    "complaint_transition": "a complaint's status row is a move its state machine allows (open -> in_progress "
                            "-> resolved) from the complaint's state, and only a complaint contact, naming its "
                            "case, carries a status",
}

# Rules that refuse a whole file (and so the run): nothing of the day is loaded.
FILE_RULES: dict[str, str] = {
    "file_present": "the source's file for the day is in the landing zone (names are case-sensitive)",
    "single_file": "exactly one file matches the source's path",
    "regular_file": "the match is a readable file, not a directory or a broken link",
    "empty_file": "the file is not empty (0 bytes)",
    "file_stable": "the file was not modified within the source's stable_seconds (it may still be written)",
    "file_changed": "the file did not change while the run read it",
    "encoding": "the text is in the declared encoding: no UTF-16, no UTF-8 in a GBK file, no GBK in a UTF-8 one, "
                "no character cut short",
    "parquet_format": "a Parquet extract has its magic bytes and a readable footer and data",
    "header_missing": "the first line is a header naming configured columns",
    "delimiter": "the header splits on the source's delimiter",
    "header_duplicate": "no configured column appears twice in the header",
    "header_case": "configured column names appear exactly, not in another case",
    "required_column": "every required and key column is in the header (optional ones may be absent)",
    "csv_structure": "every row has the header's field count, quotes are closed, values span no lines "
                     "(unless quoted_newlines)",
    "field_size": "no value is longer than the source's max_field_chars",
    "control_missing": "the trailer or control file the source is configured with is there and well formed",
    "control_format": "the control file holds <rows>[,<checksum>]",
    "control_checksum": "the extract's checksum equals its control totals'",
    "control_row_count": "the extract holds the number of rows its control totals announce",
    "min_rows": "the extract holds at least the source's min_rows data rows (default 1)",
    "volume": "the row count is within the source's volume_tolerance of the previous load's",
}

DERIVED_PREFIXES: dict[str, str] = {
    "chk_date_valid__": "False when the raw value was present but not a real date/time in the configured formats",
    "chk_number_valid__": "False when the raw value was present but not a number",
    "chk_number_unambiguous__": "False when the raw value's separators fit the other convention, not the source's",
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
