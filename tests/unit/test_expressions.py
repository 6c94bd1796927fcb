"""The expression language of derived columns and filters: what it computes, what it refuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle.integration.expressions import ExpressionError, as_source_text, compile_expression, evaluate


def _run(text: str, decimal: str = ".", thousands: str = ",", **columns: list[object]) -> tuple[list[object],
                                                                                                 list[bool]]:
    frame = pd.DataFrame(columns, dtype=object)
    values, invalid = evaluate(compile_expression(text), frame, decimal=decimal, thousands=thousands)
    out = [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v for v in values]
    return out, invalid.tolist()


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')",  # a call of anything but the listed functions
    "birth_number.upper()",  # attribute access
    "cols[0]",  # subscripts
    "lambda: 1",
    "[x for x in y]",
    "x ** 2",  # not an allowed operator
    "x if y",  # not even Python
    "open('/etc/passwd')",
    "f'{x}'",
    "1 < x < 3",  # chained comparisons are refused, not guessed
    "substr(x, start, 2)",  # positions are constants
    "lookup(x, table)",  # the table is written in the expression
])
def test_anything_outside_the_language_is_refused_when_the_config_is_read(text: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(text)


def test_a_birth_number_gives_gender_and_birth_date_by_the_plus_fifty_month_rule() -> None:
    numbers = ["706213", "450204", "000229", None]
    month = "number(substr(n, 2, 2))"
    gender, _ = _run(f"'F' if {month} > 50 else 'M'", n=numbers)
    born, invalid = _run(f"concat(substr(n, 0, 2), pad({month} - (50 if {month} > 50 else 0), 2), substr(n, 4, 2))",
                         n=numbers)
    assert gender == ["F", "M", "M", None]
    assert born == ["701213", "450204", "000229", None]
    assert invalid == [False] * 4


def test_arithmetic_reads_text_in_the_sources_separators_and_flags_what_it_cannot_read() -> None:
    values, invalid = _run("round(amount * rate, 2)", decimal=",", thousands=".",
                           amount=["1.234,50", "12", "abc", None, "5"], rate=["2", "0,5", "1", "1", None])
    assert values == [2469.0, 6.0, None, None, None]
    assert invalid == [False, False, True, False, False]  # only a present value that is no number fails


def test_division_by_zero_is_a_failing_row_not_an_infinity() -> None:
    values, invalid = _run("a / b", a=["1", "4"], b=["0", "2"])
    assert values == [None, 2.0] and invalid == [True, False]


def test_coalesce_lookup_split_and_text_functions() -> None:
    assert _run("coalesce(a, b, 'none')", a=[None, "x", None], b=["y", "z", None])[0] == ["y", "x", "none"]
    assert _run("lookup(c, {'EUR': 7.68, 'CNY': 1})", c=["EUR", "CNY", "JPY"])[0] == [7.68, 1.0, None]
    assert _run("lookup(c, {'A': 'OWNER'}, 'OTHER')", c=["A", "B", None])[0] == ["OWNER", "OTHER", None]
    assert _run("split(s, '-', 1)", s=["a-b-c", "x", None])[0] == ["b", None, None]
    assert _run("upper(trim(s))", s=["  ab ", None])[0] == ["AB", None]
    assert _run("present(s) and not s == 'x'", s=["y", "x", None])[0] == [True, False, False]


def test_comparisons_of_text_with_numbers_compare_numbers() -> None:
    assert _run("m > 50", m=["62", "07", None])[0] == [True, False, None]
    assert _run("t == 'EOD'", t=["EOD", "INTRA", None])[0] == [True, False, None]


def test_derived_numbers_are_written_as_the_source_would_write_them() -> None:
    values = pd.Series([3.0, 2.5, 0.00001, np.nan])
    assert as_source_text(values).tolist() == ["3", "2.5", "0.00001", None]
    assert as_source_text(values, decimal=",").tolist() == ["3", "2,5", "0,00001", None]


def test_names_an_expression_reads_are_known_before_any_row() -> None:
    assert compile_expression("concat(a, ' ', b) if present(c) else d").names == {"a", "b", "c", "d"}
