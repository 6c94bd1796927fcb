"""Derived columns and row filters: a small, safe expression language over a chunk.

An expression is written in Python's expression syntax, but it is never given to
``eval``: :func:`compile_expression` parses it with :mod:`ast` and accepts only the
nodes listed here, and :func:`evaluate` interprets the tree over whole pandas
columns (vectorised — one operation per node and chunk, never one per row).

* names: columns of the row — the source's file columns, columns joined from a
  reference extract, and derived columns defined earlier in the source;
* literals: text (``'F'``), numbers, ``None``, ``True`` / ``False``; a dict literal
  only as the table of :func:`lookup`;
* arithmetic ``+ - * / // %`` on numbers (a text operand is read as a number in the
  source's decimal and thousands separators); comparisons; ``and`` / ``or`` / ``not``;
  the conditional ``a if cond else b``;
* functions: :data:`FUNCTIONS`.

A missing value propagates (``None`` in, ``None`` out; ``coalesce`` picks the first
present one). A text that should be a number and is not, or a division by zero,
marks the row as failing the ``derived_valid`` rule, so it is quarantined rather
than loaded with a silent gap.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MAX_LENGTH = 2_000
TEXT = "string[pyarrow]"  # text runs in Arrow compute, never a Python call per value


class ExpressionError(ValueError):
    """An expression that is not in the language; the message says what and where."""


# name -> (fewest arguments, most arguments or None for any), one line of help
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "substr": (2, 3, "substr(x, start, length): characters of x from 0-based start"),
    "split": (3, 3, "split(x, separator, index): the index-th part (0-based) of x split on separator"),
    "number": (1, 1, "number(x): text read as a number in the source's separators"),
    "text": (1, 1, "text(x): a number as text (whole numbers without decimals)"),
    "pad": (2, 2, "pad(x, width): x left-padded with zeros to width characters"),
    "concat": (1, None, "concat(a, b, …): the texts joined; missing if one is missing"),
    "coalesce": (1, None, "coalesce(a, b, …): the first present value"),
    "lookup": (2, 3, "lookup(x, {'from': 'to', …}, default): x through a table; default when not in it"),
    "upper": (1, 1, "upper(x)"),
    "lower": (1, 1, "lower(x)"),
    "trim": (1, 1, "trim(x): without leading and trailing blanks"),
    "round": (1, 2, "round(x, digits)"),
    "abs": (1, 1, "abs(x)"),
    "present": (1, 1, "present(x): true when x has a value"),
}
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, its tree and the columns it reads."""

    text: str
    tree: ast.expr = field(repr=False, compare=False)
    names: frozenset[str]


@lru_cache(maxsize=1024)
def compile_expression(text: str) -> Expression:
    """Parse and check ``text``; an :class:`ExpressionError` says what is not allowed."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"an expression is at most {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression ({exc.msg} at character {exc.offset})") from None
    names: set[str] = set()
    _check(tree, names)
    return Expression(text, tree, frozenset(names))


def _check(node: ast.expr, names: set[str]) -> None:
    if isinstance(node, ast.Name):
        names.add(node.id)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, str | int | float | bool | type(None)):
            raise ExpressionError(f"constant {node.value!r} is not text, a number, a truth value or None")
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed; use + - * / // %")
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        _check(node.operand, names)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, names)
    elif isinstance(node, ast.Compare):
        if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
            raise ExpressionError("a comparison compares two values with one of == != < <= > >=")
        _check(node.left, names)
        _check(node.comparators[0], names)
    elif isinstance(node, ast.IfExp):
        for part in (node.test, node.body, node.orelse):
            _check(part, names)
    elif isinstance(node, ast.Call):
        _check_call(node, names)
    else:
        raise ExpressionError(f"{type(node).__name__} is not part of the expression language "
                              "(names, constants, arithmetic, comparisons, and/or/not, a if c else b, functions)")


def _check_call(node: ast.Call, names: set[str]) -> None:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        called = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
        raise ExpressionError(f"unknown function {called!r}; known: {', '.join(FUNCTIONS)}")
    name, (least, most, usage) = node.func.id, FUNCTIONS[node.func.id]
    if node.keywords or not least <= len(node.args) <= (most if most is not None else len(node.args)):
        raise ExpressionError(f"{name} takes positional arguments: {usage}")
    for index, arg in enumerate(node.args):
        if name == "lookup" and index == 1:
            if not isinstance(arg, ast.Dict) or not all(
                    isinstance(k, ast.Constant) and isinstance(v, ast.Constant) for k, v in zip(arg.keys, arg.values,
                                                                                              strict=True)):
                raise ExpressionError(f"lookup's table is a dict of constants: {usage}")
            continue
        if name in ("substr", "split", "pad", "round") and index >= 1 and not isinstance(arg, ast.Constant):
            raise ExpressionError(f"{name}'s argument {index + 1} is a constant: {usage}")
        _check(arg, names)


@dataclass
class _Frame:
    """What an evaluation reads: the chunk's columns, the separators, and the rows
    where a value could not be computed (``derived_valid`` fails there)."""

    columns: pd.DataFrame
    decimal: str
    thousands: str
    invalid: np.ndarray
    texts: dict[str, pd.Series] = field(default_factory=dict)  # each column converted to Arrow text once


def evaluate(expression: Expression, columns: pd.DataFrame, *, decimal: str = ".",
             thousands: str = ",") -> tuple[pd.Series, np.ndarray]:
    """``expression`` over every row of ``columns``: (values, rows whose value could not
    be computed). Values are text (Arrow strings, NA missing), numbers (float, NaN
    missing) or truth values (pandas ``boolean``, NA missing)."""
    frame = _Frame(columns, decimal, thousands, np.zeros(len(columns), dtype=bool))
    values = _eval(expression.tree, frame)
    return values, frame.invalid


def _eval(node: ast.expr, f: _Frame) -> pd.Series:
    index = f.columns.index
    if isinstance(node, ast.Name):
        if node.id not in f.texts:
            f.texts[node.id] = _as_text(f.columns[node.id])
        return f.texts[node.id]
    if isinstance(node, ast.Constant):
        return _constant(node.value, index)
    if isinstance(node, ast.BinOp):
        return _arithmetic(_BINARY[type(node.op)], _number(_eval(node.left, f), f), _number(_eval(node.right, f), f),
                           f)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, f)
        if isinstance(node.op, ast.Not):
            return ~_truth(operand)
        number = _number(operand, f)
        return -number if isinstance(node.op, ast.USub) else number
    if isinstance(node, ast.BoolOp):
        parts = [_truth(_eval(v, f)) for v in node.values]
        out = parts[0]
        for part in parts[1:]:
            out = (out & part) if isinstance(node.op, ast.And) else (out | part)
        return out
    if isinstance(node, ast.Compare):
        return _compare(_COMPARE[type(node.ops[0])], _eval(node.left, f), _eval(node.comparators[0], f), f)
    if isinstance(node, ast.IfExp):
        truth = _truth(_eval(node.test, f))
        test = truth.fillna(False).to_numpy(dtype=bool)
        body, other = _eval(node.body, f), _eval(node.orelse, f)
        if _kind(body) != _kind(other):
            body, other = _as_text(body), _as_text(other)
        chosen = body.where(pd.Series(test, index=index), other)
        return chosen.mask(truth.isna().to_numpy())  # a condition on a missing value decides nothing
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return _CALLS[node.func.id](node.args, f)


def _constant(value: object, index: pd.Index) -> pd.Series:
    if isinstance(value, bool):
        return pd.Series(value, index=index, dtype="boolean")
    if isinstance(value, int | float):
        return pd.Series(float(value), index=index, dtype="float64")
    return pd.Series(value, index=index, dtype=TEXT)


def _kind(values: pd.Series) -> str:
    if isinstance(values.dtype, pd.BooleanDtype):
        return "bool"
    return "number" if pd.api.types.is_float_dtype(values.dtype) else "text"


def _text(array: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([array]) if isinstance(array, pa.Array)
                                                else array), index=index)


def _as_text(values: pd.Series) -> pd.Series:
    """Text values (Arrow strings, NA missing); numbers written plainly (3, 2.5), never
    in exponent notation (a standardiser would not read 1e-05 as a number)."""
    kind = _kind(values)
    if kind == "text":
        if values.dtype == TEXT:
            return values
        array = pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.string(), from_pandas=True)
        return _text(array, values.index)
    if kind == "bool":
        flags = pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.bool_())
        return _text(pc.if_else(flags, "true", "false"), values.index)
    numbers = values.to_numpy(dtype=float)
    present = ~np.isnan(numbers)
    whole = present & (np.mod(np.where(present, numbers, 0), 1) == 0) & (np.abs(np.where(present, numbers, 0)) < 1e15)
    ints = pc.cast(pa.array(np.where(whole, numbers, 0).astype(np.int64)), pa.string())
    floats = pc.cast(pa.array(np.where(present, numbers, 0)), pa.string())
    text = pc.if_else(pa.array(present, pa.bool_()), pc.if_else(pa.array(whole), ints, floats),
                      pa.scalar(None, pa.string()))
    out = _text(text, values.index)
    exponent = np.asarray(pc.fill_null(pc.match_substring(text, "e"), False), dtype=bool)
    if exponent.any():  # rare: tiny or huge fractions
        out[exponent] = [np.format_float_positional(v, trim="-") for v in numbers[exponent]]
    return out


def _number(values: pd.Series, f: _Frame) -> pd.Series:
    """Numbers; a present text that is not a plain number marks its row invalid."""
    kind = _kind(values)
    if kind == "number":
        return values
    if kind == "bool":
        return values.astype("Float64").astype("float64")
    from lifecycle.integration.standardize import number_patterns  # the source's own number syntax

    array = pa.array(_as_text(values).array)
    trimmed = pc.utf8_trim_whitespace(array)
    present = np.asarray(pc.fill_null(pc.greater(pc.utf8_length(trimmed), 0), False), dtype=bool)
    fits = np.asarray(pc.fill_null(pc.match_substring_regex(trimmed, number_patterns(f.decimal, f.thousands)[0]),
                                   False), dtype=bool)
    plain = pc.if_else(pa.array(fits), trimmed, pa.scalar(None, pa.string()))
    if f.thousands:
        plain = pc.replace_substring(plain, f.thousands, "")
    if f.decimal != ".":
        plain = pc.replace_substring(plain, f.decimal, ".")
    f.invalid |= present & ~fits
    return pd.Series(pc.cast(plain, pa.float64()).to_numpy(zero_copy_only=False), index=values.index,
                     dtype="float64")


def _arithmetic(op: str, left: pd.Series, right: pd.Series, f: _Frame) -> pd.Series:
    if op in ("/", "//", "%"):
        zero = (right == 0).to_numpy(dtype=bool)
        f.invalid |= zero & left.notna().to_numpy()
        right = right.where(~zero)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = {"+": left + right, "-": left - right, "*": left * right, "/": left / right,
                  "//": left // right, "%": left % right}[op]
    return result.astype("float64")


def _compare(op: str, left: pd.Series, right: pd.Series, f: _Frame) -> pd.Series:
    numeric = "number" in (_kind(left), _kind(right))
    a, b = (_number(left, f), _number(right, f)) if numeric else (_as_text(left), _as_text(right))
    missing = (a.isna() | b.isna()).to_numpy()
    fa, fb = a.where(~missing, 0 if numeric else ""), b.where(~missing, 0 if numeric else "")
    result = {"==": fa == fb, "!=": fa != fb, "<": fa < fb, "<=": fa <= fb, ">": fa > fb, ">=": fa >= fb}[op]
    return pd.Series(result.to_numpy(dtype=bool), index=left.index, dtype="boolean").mask(missing)


def _truth(values: pd.Series) -> pd.Series:
    kind = _kind(values)
    if kind == "bool":
        return values
    if kind == "number":
        return (values != 0).astype("boolean").mask(values.isna())
    text = _as_text(values)
    return text.str.strip().str.lower().isin(["true", "1", "y", "yes"]).astype("boolean").mask(text.isna())


def _text_op(values: pd.Series, op: Callable[[pd.Series], pd.Series]) -> pd.Series:
    return _as_text(op(_as_text(values)))


def _const(node: ast.expr) -> object:
    assert isinstance(node, ast.Constant)
    return node.value


def _call_substr(args: list[ast.expr], f: _Frame) -> pd.Series:
    start = int(_const(args[1]))  # type: ignore[call-overload]
    stop = start + int(_const(args[2])) if len(args) > 2 else None  # type: ignore[call-overload]
    return _text_op(_eval(args[0], f), lambda t: t.str.slice(start, stop))


def _call_split(args: list[ast.expr], f: _Frame) -> pd.Series:
    separator, index = str(_const(args[1])), int(_const(args[2]))  # type: ignore[call-overload]
    return _text_op(_eval(args[0], f), lambda t: t.str.split(separator, regex=False).str[index])


def _call_pad(args: list[ast.expr], f: _Frame) -> pd.Series:
    width = int(_const(args[1]))  # type: ignore[call-overload]
    return _text_op(_eval(args[0], f), lambda t: t.str.zfill(width))


def _call_concat(args: list[ast.expr], f: _Frame) -> pd.Series:
    parts = [_as_text(_eval(a, f)) for a in args]
    out = parts[0]
    for part in parts[1:]:
        out = out + part
    return out


def _call_coalesce(args: list[ast.expr], f: _Frame) -> pd.Series:
    parts = [_eval(a, f) for a in args]
    if len({_kind(p) for p in parts}) > 1:
        parts = [_as_text(p) for p in parts]
    out = parts[0]
    for part in parts[1:]:
        out = out.where(out.notna(), part)
    return out


def _call_lookup(args: list[ast.expr], f: _Frame) -> pd.Series:
    table = args[1]
    assert isinstance(table, ast.Dict)
    mapping = {str(_const(k)) if not isinstance(_const(k), str) else _const(k): _const(v)  # type: ignore[arg-type]
               for k, v in zip(table.keys, table.values, strict=True)}
    keys = _as_text(_eval(args[0], f)).str.strip().astype(object)
    found = keys.map(mapping)
    if len(args) > 2:
        default = _eval(args[2], f)
        known = keys.isin(list(mapping)).to_numpy(dtype=bool) | keys.isna().to_numpy()
        found = found.where(known, _as_text(default) if any(isinstance(v, str) for v in mapping.values())
                            else default)  # a missing key stays missing
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in mapping.values() if v is not None):
        return pd.to_numeric(found, errors="coerce").astype("float64")
    return _as_text(found.astype(object).where(found.notna(), None))


def _call_round(args: list[ast.expr], f: _Frame) -> pd.Series:
    digits = int(_const(args[1])) if len(args) > 1 else 0  # type: ignore[call-overload]
    return _number(_eval(args[0], f), f).round(digits)


_CALLS: dict[str, Callable[[list[ast.expr], _Frame], pd.Series]] = {
    "substr": _call_substr,
    "split": _call_split,
    "number": lambda a, f: _number(_eval(a[0], f), f),
    "text": lambda a, f: _as_text(_eval(a[0], f)),
    "pad": _call_pad,
    "concat": _call_concat,
    "coalesce": _call_coalesce,
    "lookup": _call_lookup,
    "upper": lambda a, f: _text_op(_eval(a[0], f), lambda t: t.str.upper()),
    "lower": lambda a, f: _text_op(_eval(a[0], f), lambda t: t.str.lower()),
    "trim": lambda a, f: _text_op(_eval(a[0], f), lambda t: t.str.strip()),
    "round": _call_round,
    "abs": lambda a, f: _number(_eval(a[0], f), f).abs(),
    "present": lambda a, f: _eval(a[0], f).notna().astype("boolean"),
}


def as_source_text(values: pd.Series, decimal: str = ".") -> pd.Series:
    """A derived column as the text a file would have held, so the standardiser reads it
    like any read column (numbers in the source's decimal separator, no grouping)."""
    text = _as_text(values)
    if decimal != "." and _kind(values) == "number":
        text = text.str.replace(".", decimal, regex=False)
    return text.astype(object).where(text.notna(), None)
