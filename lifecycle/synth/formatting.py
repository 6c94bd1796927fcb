"""Vectorised text builders: fixed-width ASCII strings and date formatting.

Arrow's ``strftime`` costs about 2 s per million values; the extracts need
tens of millions, so dates and identifiers are rendered here as ``uint8``
matrices of ASCII codes and handed to Arrow as one buffer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

IntArray = npt.NDArray[np.int64]
U8Matrix = npt.NDArray[np.uint8]

_ZERO = ord("0")
_TOKEN = re.compile(r"%[YmdHMS]")
_WIDTH = {"%Y": 4, "%m": 2, "%d": 2, "%H": 2, "%M": 2, "%S": 2}
_QUADS = np.array(
    [[_ZERO + i // 1000, _ZERO + i // 100 % 10, _ZERO + i // 10 % 10, _ZERO + i % 10]
     for i in range(10000)], dtype=np.uint8,
).view(np.uint32).ravel()
_SPAN = {"%Y": (0, 4), "%m": (4, 6), "%d": (6, 8), "%H": (8, 10), "%M": (10, 12), "%S": (12, 14)}


def digits_matrix(values: npt.ArrayLike, width: int) -> U8Matrix:
    """Zero-padded decimal digits of non-negative integers as ASCII codes.

    Four digits at a time through a lookup table: one integer division per
    group instead of one per digit.
    """
    v = np.array(values, dtype=np.int64)
    groups = -(-width // 4)
    out = np.empty((len(v), groups * 4), dtype=np.uint8)
    words = out.view(np.uint32)
    for k in range(groups - 1, -1, -1):
        q = v // 10000
        words[:, k] = _QUADS[v - q * 10000]
        v = q
    return out[:, groups * 4 - width :]


def ascii_to_arrow(matrix: U8Matrix) -> pa.Array:
    """Rows of an ASCII matrix as an Arrow string array (one copy)."""
    n, width = matrix.shape
    offsets = (np.arange(n + 1, dtype=np.int64) * width).astype(np.int32)
    data = np.ascontiguousarray(matrix).tobytes()
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data)]
    )


def prefixed_numbers(prefix: str, values: npt.ArrayLike, width: int) -> pa.Array:
    """``prefix`` followed by zero-padded numbers, e.g. ``T000000000123``."""
    digits = digits_matrix(values, width)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    matrix = np.empty((digits.shape[0], len(head) + width), dtype=np.uint8)
    matrix[:, : len(head)] = head
    matrix[:, len(head) :] = digits
    return ascii_to_arrow(matrix)


def civil_components(values: npt.NDArray[np.datetime64]) -> dict[str, IntArray]:
    """Year, month, day, hour, minute, second of datetime64 values."""
    secs = values.astype("datetime64[s]").astype(np.int64)
    days = np.floor_divide(secs, 86400)
    sod = secs - days * 86400
    d64 = days.astype("datetime64[D]")
    months = d64.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d64 - months.astype("datetime64[D]")).astype(np.int64) + 1
    return {
        "%Y": year,
        "%m": month,
        "%d": day,
        "%H": sod // 3600,
        "%M": (sod // 60) % 60,
        "%S": sod % 60,
    }


def format_datetimes(values: npt.NDArray[np.datetime64], fmt: str) -> pa.Array:
    """Render datetime64 values with a strftime-style pattern (NaT -> null).

    Supports ``%Y %m %d %H %M %S`` and literal text; literal digits are how
    impossible dates (``%Y-02-30``) are planted.
    """
    mask = np.isnat(values)
    safe = np.where(mask, np.datetime64("2000-01-01", "s"), values.astype("datetime64[s]"))
    c = civil_components(safe)
    compact = digits_matrix(
        ((c["%Y"] * 100 + c["%m"]) * 100 + c["%d"]) * 1_000_000
        + (c["%H"] * 100 + c["%M"]) * 100 + c["%S"], 14,
    )
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for match in _TOKEN.finditer(fmt):
        if match.start() > pos:
            pieces.append((fmt[pos : match.start()], False))
        pieces.append((match.group(), True))
        pos = match.end()
    if pos < len(fmt):
        pieces.append((fmt[pos:], False))
    width = sum(_WIDTH[t] if token else len(t.encode("ascii")) for t, token in pieces)
    matrix = np.empty((len(values), width), dtype=np.uint8)
    col = 0
    for text, token in pieces:
        if token:
            a, b = _SPAN[text]
            matrix[:, col : col + b - a] = compact[:, a:b]
            col += b - a
        else:
            raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
            matrix[:, col : col + len(raw)] = raw
            col += len(raw)
    rendered = ascii_to_arrow(matrix)
    if mask.any():
        rendered = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), rendered)
    return rendered


def fen_to_decimal(fen: npt.ArrayLike) -> pa.Array:
    """Integer hundredths (fen) as an exact ``decimal128(18, 2)`` array."""
    v = np.ascontiguousarray(np.asarray(fen, dtype=np.int64))
    words = np.empty((len(v), 2), dtype=np.int64)
    words[:, 0] = v
    words[:, 1] = v >> 63
    return pa.Array.from_buffers(
        pa.decimal128(18, 2), len(v), [None, pa.py_buffer(words.tobytes())]
    )


def join_strings(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literal strings."""
    return pc.binary_join_element_wise(*parts, "")


def labels(
    options: Sequence[str | None], index: npt.ArrayLike, missing: npt.ArrayLike | None = None
) -> pa.Array:
    """Code labels by position, ``labels(["D", "C"], [0, 1, 1])``; null where ``missing``."""
    idx = np.asarray(index, dtype=np.int64)
    mask = None if missing is None else np.asarray(missing, dtype=bool)
    return pa.array(list(options), pa.string()).take(pa.array(idx, pa.int64(), mask=mask))


def to_strings(values: pa.Array | np.ndarray) -> np.ndarray:
    """Values as a numpy array of Python strings (``None`` for nulls)."""
    if isinstance(values, np.ndarray):
        return values
    return np.asarray(values.to_numpy(zero_copy_only=False))
