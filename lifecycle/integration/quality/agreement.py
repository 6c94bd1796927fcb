"""Each source's suite agrees with its source's configuration, or the configuration is refused.

A suite and the sources configuration are reviewed separately, and drift between
them fails late and obscurely: a suite that checks a column the mapping no longer
has is a table-level failure in the middle of a run; a code added to a code table
but not to the suite's value set quarantines every row that uses it; a required
column without a not-null expectation lets empty values through. So when the
configuration is loaded (:func:`load_agreeing_sources`, called by
:func:`lifecycle.bootstrap.build_context`, before any file is read), every source's
suite is held to it:

* every column an expectation checks is in the source's mapping (canonical name,
  ``row_id``, or a derived pass flag the standardiser computes for that column);
* every required and key column has a ``required`` (not-null) expectation, and
  ``source_key_unique`` covers exactly the key;
* every code column has ``code_in_set`` with exactly the configured canonical
  codes, and ``code_in_set`` checks only code columns;
* every date and number column has its ``date_valid`` / ``number_valid`` flag;
* ``columns_present`` lists every column the suite checks.

A mismatch names the suite file, the expectation (its number, rule and type) and
the column. ``bank-lifecycle sources suite SOURCE`` derives a suite that agrees
(:mod:`lifecycle.integration.quality.derive`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import ConfigError
from lifecycle.integration.quality.rules import DERIVED_COLUMNS, ROW_ID, derived_base_column
from lifecycle.integration.quality.suites import SuiteExpectation, SuiteFile, read_suite
from lifecycle.integration.sources import ColumnSpec, ColumnType, SourcesConfig, SourceSpec, load_sources
from lifecycle.integration.standardize import NOT_FUTURE

SHOWN = 10  # mismatches spelled out in the refusal; the rest are counted

_DATES = (ColumnType.DATE, ColumnType.DATETIME)
_NUMBERS = (ColumnType.DECIMAL, ColumnType.INTEGER)
_FLAG_TYPES: dict[str, tuple[ColumnType, ...]] = {
    "chk_date_valid__": _DATES, "chk_not_future__": _DATES,
    "chk_number_valid__": _NUMBERS, "chk_number_unambiguous__": _NUMBERS,
}


@dataclass(frozen=True)
class Mismatch:
    """One disagreement: where in the suite file, about which column, and what is wrong."""

    suite_file: Path
    column: str | None
    problem: str
    expectation: int | None = None  # its position in the file's ``expectations`` (0-based)
    rule: str | None = None
    type: str | None = None

    def __str__(self) -> str:
        where = (f"expectation #{self.expectation} ({self.rule}, {self.type})" if self.expectation is not None
                 else "no expectation")
        about = f" on column {self.column!r}" if self.column else ""
        return f"{self.suite_file}: {where}{about}: {self.problem}"


def _flag_problem(column: str, canonical: dict[str, ColumnSpec]) -> str | None:
    """Why the standardiser would not compute the derived flag ``column``, or None."""
    base = derived_base_column(column) or ""
    if base not in canonical:
        return f"the flag is about {base!r}, which the source does not map"
    if column in DERIVED_COLUMNS:
        needs = {"chk_id_no_birth_date": "birth_date", "chk_id_no_gender": "gender"}.get(column)
        if needs and needs not in canonical:
            return f"the flag needs a {needs!r} column, which the source does not map"
        return None
    prefix = column[: len(column) - len(base)]
    types = _FLAG_TYPES.get(prefix, ())
    if canonical[base].type not in types:
        return (f"{prefix}* is computed for {'/'.join(t.value for t in types)} columns; "
                f"{base!r} is {canonical[base].type.value}")
    if prefix == "chk_not_future__" and base not in NOT_FUTURE:
        return f"the standardiser checks only {', '.join(NOT_FUTURE)} against the as-of date"
    return None


def _column_mismatches(suite: SuiteFile, spec: SourceSpec, canonical: dict[str, ColumnSpec]) -> list[Mismatch]:
    found = []
    for index, expectation in enumerate(suite.expectations):
        for column in expectation.columns:
            if column == ROW_ID or column in canonical:
                problem = None
            elif derived_base_column(column) is None:
                problem = f"not in the column mapping of source {spec.name!r}"
            else:
                problem = _flag_problem(column, canonical)
            if problem:
                found.append(_at(suite, index, expectation, column, problem))
        if expectation.rule == "code_in_set":
            found += _code_mismatch(suite, index, expectation, spec, canonical)
    return found


def _at(suite: SuiteFile, index: int, expectation: SuiteExpectation, column: str | None, problem: str) -> Mismatch:
    return Mismatch(suite.path, column, problem, index, expectation.rule, expectation.type)


def _code_mismatch(suite: SuiteFile, index: int, expectation: SuiteExpectation, spec: SourceSpec,
                   canonical: dict[str, ColumnSpec]) -> list[Mismatch]:
    column = expectation.columns[0] if expectation.columns else ""
    if column not in canonical:
        return []  # reported as an unknown column
    spec_column = canonical[column]
    if spec_column.type is not ColumnType.CODE:
        return [_at(suite, index, expectation, column,
                    f"code_in_set on a {spec_column.type.value} column; in source {spec.name!r} it has no codes")]
    configured = set(spec_column.codes.values())
    in_suite = {str(v) for v in expectation.kwargs.get("value_set", [])}
    if in_suite == configured:
        return []
    parts = []
    if configured - in_suite:
        parts.append(f"lacks the configured code(s) {sorted(configured - in_suite)}")
    if in_suite - configured:
        parts.append(f"has code(s) {sorted(in_suite - configured)} that source {spec.name!r} does not configure")
    return [_at(suite, index, expectation, column, "the value set " + " and ".join(parts))]


def _missing_expectations(suite: SuiteFile, spec: SourceSpec) -> list[Mismatch]:
    def checked(rule: str) -> set[str]:
        return {c for e in suite.expectations if e.rule == rule for c in e.columns}

    def missing(column: str, problem: str) -> Mismatch:
        return Mismatch(suite.path, column, problem)

    found = []
    not_null = {c for e in suite.expectations if e.rule == "required"
                and e.type == "expect_column_values_to_not_be_null" for c in e.columns}
    key = set(spec.key)
    for source_column, column in spec.mapped_columns.items():
        if (column.required or source_column in key) and column.to not in not_null:
            why = "key" if source_column in key else "required"
            found.append(missing(column.to, f"a {why} column (source column {source_column!r}) needs a "
                                            "'required' expectation (expect_column_values_to_not_be_null)"))
        if column.type is ColumnType.CODE and column.to not in checked("code_in_set"):
            found.append(missing(column.to, "a code column needs a 'code_in_set' expectation with its codes"))
        flag = ("chk_date_valid__" if column.type in _DATES else "chk_number_valid__"
                if column.type in _NUMBERS else None)
        if flag and f"{flag}{column.to}" not in suite.columns:
            found.append(missing(column.to, f"a {column.type.value} column needs its {flag}{column.to} check"))
    found += _table_rule(suite, "source_key_unique", [set(e.columns) for e in suite.expectations
                                                      if e.rule == "source_key_unique"] != [set(spec.canonical_key)],
                         f"'source_key_unique' must cover exactly the key {spec.canonical_key}, once")
    listed = {c for e in suite.expectations if e.rule == "columns_present" for c in e.kwargs.get("column_set", [])}
    lacking = [c for c in suite.columns if c not in listed]
    found += _table_rule(suite, "columns_present", bool(lacking), f"'columns_present' lacks {lacking}")
    return found


def _table_rule(suite: SuiteFile, rule: str, wrong: bool, problem: str) -> list[Mismatch]:
    """A mismatch at the suite's first expectation of ``rule`` (or at none) when ``wrong``."""
    if not wrong:
        return []
    at = next(((i, e) for i, e in enumerate(suite.expectations) if e.rule == rule), None)
    return [_at(suite, at[0], at[1], None, problem) if at else Mismatch(suite.path, None, problem)]


def check_agreement(suite: SuiteFile, spec: SourceSpec) -> list[Mismatch]:
    """Where ``suite`` and the configuration of ``spec`` disagree (empty when they agree)."""
    canonical = {c.to: c for c in spec.mapped_columns.values()}
    return _column_mismatches(suite, spec, canonical) + _missing_expectations(suite, spec)


def check_sources(sources: SourcesConfig, suites_dir: Path) -> list[Mismatch]:
    """Every mismatch between the configured sources and their suites in ``suites_dir``
    (a source whose suite file is missing is one, naming the file to write)."""
    found: list[Mismatch] = []
    for name, spec in sources.sources.items():
        if spec.entity == "reference":  # not validated by a suite: a join that finds no key fails its rows
            continue
        path = Path(suites_dir) / f"{spec.suite}.json"
        if not path.is_file():
            found.append(Mismatch(path, None, f"source {name!r} names suite {spec.suite!r}, which does not exist; "
                                              f"write it with `bank-lifecycle sources suite {name}`"))
            continue
        found += check_agreement(read_suite(path), spec)
    return found


def require_agreement(sources: SourcesConfig, suites_dir: Path, sources_file: Path | str | None = None) -> None:
    """Refuse (ConfigError) when any source's suite disagrees with its configuration."""
    found = check_sources(sources, suites_dir)
    if not found:
        return
    shown = "; ".join(str(m) for m in found[:SHOWN])
    more = f"; and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    where = f" {sources_file}" if sources_file else ""
    raise ConfigError(f"the expectation suites disagree with the sources configuration{where} "
                      f"({len(found)} problem(s); fix the suite, or derive it again with "
                      f"`bank-lifecycle sources suite SOURCE --write --force`): {shown}{more}")


def load_agreeing_sources(sources_file: Path | str | None, suites_dir: Path) -> SourcesConfig:
    """The sources configuration, refused unless every source's suite agrees with it."""
    sources = load_sources(sources_file)
    require_agreement(sources, suites_dir, sources_file)
    return sources
