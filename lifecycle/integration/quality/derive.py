"""A source's GX suite derived from its configuration, so that no steward hand-writes JSON.

Everything a suite checks follows from the source's entry in the sources
configuration: its key (``required``, ``source_key_unique``), its required columns,
its column types (``date_valid``, ``number_valid``), its code tables
(``code_in_set``), its amounts (``amount_non_negative``: a decimal with a unit) and
the canonical names the standardiser gives a meaning to — a ``mobile``, an
``email``, a resident ``id_no`` (with ``birth_date`` and ``gender`` beside it), a
``uscc``, a ``card_no``, the dates that cannot lie in the future
(:data:`~lifecycle.integration.standardize.NOT_FUTURE`), a ``birth_date``'s range,
an ``nps_score``, overdue days.

:func:`derive_suite` returns the suite document in the format of
``expectations/*.json`` (the packaged suites are exactly what it derives from the
packaged configuration: a unit test proves it); ``bank-lifecycle sources suite
SOURCE`` writes it. A steward who needs a rule beyond these edits the written file:
the agreement check (:mod:`lifecycle.integration.quality.agreement`) still holds it
to its source's configuration.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from lifecycle.integration.quality.rules import ROW_ID, is_derived
from lifecycle.integration.sources import ColumnSpec, ColumnType, SourceSpec
from lifecycle.integration.standardize import NOT_FUTURE

MOBILE_REGEX = r"^1[3-9]\d{9}$"
EMAIL_REGEX = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
RIC_REGEX = r"^\d{17}[\dX]$"
USCC_REGEX = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"
EARLIEST_BIRTH = "1900-01-01T00:00:00"
NOT_FUTURE_NOTE = "not after the run's as-of date"
OVERDUE_DAYS = ("overdue_days", "max_overdue_days_12m")

Expectation = dict[str, Any]


def _expect(kind: str, rule: str, kwargs: dict[str, Any], notes: str | None = None) -> Expectation:
    expectation: Expectation = {"type": f"expect_{kind}", "kwargs": kwargs, "meta": {"rule": rule}}
    if notes:
        expectation["notes"] = notes
    return expectation


def _flag(column: str, rule: str, notes: str | None = None) -> Expectation:
    """A derived pass flag the standardiser computes must be true."""
    return _expect("column_values_to_be_in_set", rule, {"column": column, "value_set": [True]}, notes)


def _by_type(spec: SourceSpec, *types: ColumnType) -> list[ColumnSpec]:
    return [c for c in spec.mapped_columns.values() if c.type in types]


def _required(spec: SourceSpec) -> Iterator[Expectation]:
    key = set(spec.key)
    for source_column, column in spec.mapped_columns.items():
        if column.required or source_column in key:
            yield _expect("column_values_to_not_be_null", "required", {"column": column.to})


def _unique_key(spec: SourceSpec) -> Expectation:
    key = spec.canonical_key
    if len(key) == 1:
        return _expect("column_values_to_be_unique", "source_key_unique", {"column": key[0]})
    return _expect("compound_columns_to_be_unique", "source_key_unique",
                   {"column_list": key, "ignore_row_if": "any_value_is_missing"})


def _codes(spec: SourceSpec) -> Iterator[Expectation]:
    for column in _by_type(spec, ColumnType.CODE):
        yield _expect("column_values_to_be_in_set", "code_in_set",
                      {"column": column.to, "value_set": list(dict.fromkeys(column.codes.values()))})


def _identifiers(names: set[str]) -> Iterator[Expectation]:
    """The rules of the canonical identifiers the standardiser knows."""
    regex = "column_values_to_match_regex"
    if "mobile" in names:
        yield _expect(regex, "mobile_format", {"column": "mobile", "regex": MOBILE_REGEX})
    if "email" in names:
        yield _expect(regex, "email_format", {"column": "email", "regex": EMAIL_REGEX})
    if "id_no" in names:
        kwargs: dict[str, Any] = {"column": "id_no", "regex": RIC_REGEX}
        notes = "GB 11643 shape"
        if "id_type" in names:  # only resident IDs carry the GB 11643 structure
            kwargs["row_condition"] = {"type": "or", "conditions": [
                {"type": "comparison", "column": {"name": "id_type"}, "operator": "==", "parameter": "RIC"},
                {"type": "nullity", "column": {"name": "id_type"}, "is_null": True}]}
            notes += "; only resident IDs (id_type RIC or empty)"
        yield _expect(regex, "id_no_format", kwargs, notes)
        yield _flag("chk_id_no_checksum", "id_no_checksum", "ISO 7064 MOD 11-2 check character")
        if "birth_date" in names:
            yield _flag("chk_id_no_birth_date", "id_no_birth_date", "birth date in the ID equals birth_date")
        if "gender" in names:
            yield _flag("chk_id_no_gender", "id_no_gender", "sequence digit parity (odd = male) equals gender")
    if "uscc" in names:
        yield _expect(regex, "uscc_format", {"column": "uscc", "regex": USCC_REGEX},
                      "unified social credit code (GB 32100)")
        yield _flag("chk_uscc_checksum", "uscc_checksum", "GB 32100 check character")
    if "card_no" in names:
        yield _flag("chk_card_no_luhn", "card_no_luhn", "Luhn check digit")


def _validity(spec: SourceSpec) -> Iterator[Expectation]:
    for column in _by_type(spec, ColumnType.DATE, ColumnType.DATETIME):
        yield _flag(f"chk_date_valid__{column.to}", "date_valid")
    for column in _by_type(spec, ColumnType.DECIMAL, ColumnType.INTEGER):
        yield _flag(f"chk_number_valid__{column.to}", "number_valid")
    for column in _by_type(spec, ColumnType.DATE, ColumnType.DATETIME):
        if column.to in NOT_FUTURE:
            rule = "birth_date_not_future" if column.to == "birth_date" else "date_not_future"
            yield _flag(f"chk_not_future__{column.to}", rule, NOT_FUTURE_NOTE)


def _ranges(spec: SourceSpec, names: set[str]) -> Iterator[Expectation]:
    between = "column_values_to_be_between"
    for column in _by_type(spec, ColumnType.DECIMAL):
        if column.unit is not None:
            yield _expect(between, "amount_non_negative", {"column": column.to, "min_value": 0})
    if "birth_date" in names:
        yield _expect(between, "age_range", {"column": "birth_date", "min_value": EARLIEST_BIRTH},
                      "born on or after 1900-01-01")
    if "nps_score" in names:
        yield _expect(between, "nps_range", {"column": "nps_score", "min_value": 0, "max_value": 10})
    if "dependants" in names:
        yield _expect(between, "dependants_range", {"column": "dependants", "min_value": 0, "max_value": 20})
    for name in OVERDUE_DAYS:
        if name in names:
            yield _expect(between, "overdue_days_range", {"column": name, "min_value": 0})


def derive_expectations(spec: SourceSpec) -> list[Expectation]:
    """Every expectation the configuration of ``spec`` implies, ``columns_present`` first."""
    names = {c.to for c in spec.mapped_columns.values()}
    checks = [*_required(spec), _unique_key(spec), *_codes(spec), *_identifiers(names), *_validity(spec),
              *_ranges(spec, names)]
    derived = dict.fromkeys(c for e in checks if is_derived(c := str(e["kwargs"].get("column", ""))))
    column_set = [ROW_ID, *(c.to for c in spec.mapped_columns.values()), *derived]
    present = _expect("table_columns_to_match_set", "columns_present",
                      {"column_set": column_set, "exact_match": False},
                      "the standardised frame has every canonical and derived column")
    return [present, *checks]


def derive_suite(spec: SourceSpec) -> dict[str, Any]:
    """The suite document of ``spec`` (``expectations/<suite>.json`` format)."""
    return {"name": spec.suite, "meta": {"source": spec.name},
            "notes": f"Quality gate for the {spec.system} {spec.entity} extract ({spec.name}).",
            "expectations": derive_expectations(spec)}


def suite_json(document: dict[str, Any]) -> str:
    """A suite document as the reviewed files are written (2-space indent, UTF-8 kept)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
