"""Expectation suites as reviewed JSON files: reading, checking, and turning into GX objects.

``expectations/<suite>.json`` holds one GX 1.x ExpectationSuite (``name``,
``expectations`` of ``{type, kwargs, meta: {rule}, notes}``, suite ``meta`` and
``notes``), without ids: GX assigns those when the suite is stored in a context.

Reading needs no GX import (GX takes seconds to import), so the input-contract
renderer and the config checks stay fast; only :func:`to_gx_suite` imports GX.
The files are code: :func:`check_suite_against_source` says where a suite and
the sources configuration disagree, and a unit test runs it on every suite.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.errors import ConfigError
from lifecycle.integration.quality.rules import ROW_ID, RULES, derived_base_column, is_derived
from lifecycle.integration.sources import ColumnType, SourceSpec

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite


@dataclass(frozen=True)
class SuiteExpectation:
    """One expectation of a suite file: its GX type, rule code, kwargs and note."""

    type: str
    rule: str
    kwargs: Mapping[str, Any]
    notes: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns it checks row by row; empty for table-level expectations."""
        return expectation_columns(self.kwargs)


@dataclass(frozen=True)
class SuiteFile:
    """A suite as read from its JSON file (the reviewed source of truth)."""

    name: str
    path: Path
    expectations: tuple[SuiteExpectation, ...]
    document: Mapping[str, Any] = field(repr=False)

    @property
    def columns(self) -> list[str]:
        """Every column its row-level expectations check, in order of first use."""
        return list(dict.fromkeys(c for e in self.expectations for c in e.columns))


def expectation_columns(kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """The columns named by an expectation's kwargs (column, column_list or a column pair)."""
    if "column" in kwargs:
        return (str(kwargs["column"]),)
    if "column_list" in kwargs:
        return tuple(str(c) for c in kwargs["column_list"])
    if "column_A" in kwargs:
        return (str(kwargs["column_A"]), str(kwargs["column_B"]))
    return ()


def read_suite(path: Path) -> SuiteFile:
    """Read and check one suite file; a ConfigError names the file and expectation."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read suite: {exc}") from None
    if not isinstance(document, dict) or not document.get("name"):
        raise ConfigError(f"{path}: a suite needs a name")
    if document["name"] != path.stem:
        raise ConfigError(f"{path}: suite name {document['name']!r} differs from the file name")
    expectations = []
    for index, raw in enumerate(document.get("expectations") or []):
        rule = (raw.get("meta") or {}).get("rule")
        if rule not in RULES:
            raise ConfigError(f"{path}: expectation #{index} ({raw.get('type')}) has unknown rule {rule!r}")
        expectations.append(SuiteExpectation(raw["type"], rule, raw.get("kwargs") or {}, raw.get("notes")))
    return SuiteFile(document["name"], path, tuple(expectations), document)


def read_suites(suites_dir: Path) -> dict[str, SuiteFile]:
    """Every ``*.json`` suite in a folder, by suite name."""
    files = sorted(Path(suites_dir).glob("*.json"))
    if not files:
        raise ConfigError(f"no expectation suites (*.json) in {suites_dir}")
    return {suite.name: suite for suite in map(read_suite, files)}


def to_gx_suite(suite: SuiteFile) -> ExpectationSuite:
    """Build the GX suite; fail loudly where GX would silently drop an invalid expectation."""
    import great_expectations as gx

    document = {k: v for k, v in suite.document.items() if k in ("name", "expectations", "meta", "notes")}
    try:
        gx_suite = gx.ExpectationSuite(**document)
    except Exception as exc:  # GX raises pydantic, marshmallow and its own errors alike
        raise ConfigError(f"{suite.path}: GX refused the suite: {exc}") from None
    if len(gx_suite.expectations) != len(suite.expectations):
        raise ConfigError(
            f"{suite.path}: GX accepted {len(gx_suite.expectations)} of {len(suite.expectations)} "
            "expectations; see the log for the invalid one"
        )
    return gx_suite


_VALIDITY_FLAG = {
    ColumnType.DATE: "chk_date_valid__",
    ColumnType.DATETIME: "chk_date_valid__",
    ColumnType.DECIMAL: "chk_number_valid__",
    ColumnType.INTEGER: "chk_number_valid__",
}


def check_suite_against_source(suite: SuiteFile, spec: SourceSpec) -> list[str]:
    """Where a suite and its source's configuration disagree (empty when consistent).

    Checked: every column exists (canonical, ``row_id`` or a derived flag of an
    existing column); required and key columns have ``required``; the key has
    ``source_key_unique``; code value sets equal the configured canonical codes;
    every date and number column has its ``date_valid`` / ``number_valid`` flag;
    ``columns_present`` lists every column the suite checks.
    """
    canonical = {c.to: c for c in spec.mapped_columns.values()}
    problems = [
        f"{suite.name}: column {col!r} is not a canonical column of source {spec.name!r}"
        for col in suite.columns
        if col != ROW_ID and col not in canonical and derived_base_column(col) not in canonical
    ]
    by_rule: dict[str, list[SuiteExpectation]] = {}
    for expectation in suite.expectations:
        by_rule.setdefault(expectation.rule, []).append(expectation)

    def checked(rule: str) -> set[str]:
        return {c for e in by_rule.get(rule, []) for c in e.columns}

    required = {c.to for c in spec.mapped_columns.values() if c.required} | set(spec.canonical_key)
    unchecked = sorted(required - checked("required"))
    problems += [f"{suite.name}: required column {c!r} has no 'required' rule" for c in unchecked]
    keys = [set(e.columns) for e in by_rule.get("source_key_unique", [])]
    if keys != [set(spec.canonical_key)]:
        problems.append(f"{suite.name}: 'source_key_unique' must cover exactly the key {spec.canonical_key}")
    for expectation in by_rule.get("code_in_set", []):
        (col,) = expectation.columns
        expected = set(canonical[col].codes.values()) if col in canonical else set()
        if set(expectation.kwargs.get("value_set", [])) != expected:
            problems.append(f"{suite.name}: value set of {col!r} differs from the configured codes")
    for spec_col in canonical.values():
        flag = f"{_VALIDITY_FLAG[spec_col.type]}{spec_col.to}" if spec_col.type in _VALIDITY_FLAG else None
        if flag and flag not in suite.columns:
            problems.append(f"{suite.name}: column {spec_col.to!r} has no {flag} check")
        if spec_col.type is ColumnType.CODE and spec_col.to not in checked("code_in_set"):
            problems.append(f"{suite.name}: code column {spec_col.to!r} has no 'code_in_set' rule")
    present = {c for e in by_rule.get("columns_present", []) for c in e.kwargs.get("column_set", [])}
    if not set(suite.columns) <= present:
        problems.append(f"{suite.name}: 'columns_present' lacks {sorted(set(suite.columns) - present)}")
    problems += [
        f"{suite.name}: derived column {col!r} is checked but {col} is not a derived flag name"
        for col in suite.columns
        if col.startswith("chk_") and not is_derived(col)
    ]
    return problems
