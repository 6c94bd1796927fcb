"""Planted data-quality flaws, one per affected row, each recorded with its rule.

The quality gate is expected to reject exactly these rows with the rule code
given here; everything the generator writes otherwise is valid.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.synth.config import SourceSpec
from lifecycle.synth.formatting import (
    ascii_to_arrow,
    civil_components,
    digits_matrix,
    fen_to_decimal,
    format_datetimes,
)
from lifecycle.synth.ids import RIC_CHECK, RIC_WEIGHTS, ric_check_chars

IntArray = npt.NDArray[np.int64]
Frame = dict[str, "pa.Array | np.ndarray"]


@dataclass(frozen=True)
class FlawKind:
    flaw: str
    rule: str
    column: str


def _kinds(spec: list[tuple[str, str, str]]) -> tuple[FlawKind, ...]:
    return tuple(FlawKind(*k) for k in spec)


FLAW_PLAN: dict[str, tuple[FlawKind, ...]] = {
    "core_customers": _kinds([
        ("invalid_id_checksum", "id_no_checksum", "id_no"),
        ("impossible_date", "date_valid", "birth_date"),
        ("impossible_date", "date_valid", "open_date"),
        ("birth_date_in_future", "birth_date_not_future", "birth_date"),
        ("duplicated_key", "source_key_unique", "cust_no"),
        ("malformed_mobile", "mobile_format", "mobile"),
    ]),
    "card_customers": _kinds([
        ("invalid_id_checksum", "id_no_checksum", "CERT_NO"),
        ("impossible_date", "date_valid", "BIRTH_DT"),
        ("impossible_date", "date_valid", "CARD_OPEN_DT"),
        ("birth_date_in_future", "birth_date_not_future", "BIRTH_DT"),
        ("duplicated_key", "source_key_unique", "CARD_CUST_ID"),
        ("malformed_mobile", "mobile_format", "MOBILE_NO"),
    ]),
    "accounts": _kinds([
        ("impossible_date", "date_valid", "open_date"),
        ("duplicated_key", "source_key_unique", "account_no"),
    ]),
    "transactions": _kinds([
        ("impossible_date", "date_valid", "txn_time"),
        ("duplicated_key", "source_key_unique", "txn_id"),
        ("negative_amount", "amount_non_negative", "amount"),
    ]),
    "loans": _kinds([
        ("impossible_date", "date_valid", "start_date"),
        ("duplicated_key", "source_key_unique", "loan_no"),
        ("negative_amount", "amount_non_negative", "principal"),
    ]),
}
# Column changed in the second row of a duplicated key, and by how much (days or fen).
DUPLICATE_CHANGE = {"core_customers": ("updated_at", -400), "card_customers": ("UPD_TS", -400),
                    "accounts": ("open_date", -30), "transactions": ("amount", 10_000),
                    "loans": ("interest_rate", 50)}
# A future birth date also moves into the ID number, so the row fails one rule only.
ID_COLUMN = {"core_customers": "id_no", "card_customers": "CERT_NO"}
IMPOSSIBLE = (("02", "30"), ("04", "31"), ("02", "31"), ("06", "31"))


@dataclass
class FlawRecords:
    """Flaws planted in one table; ``row`` is the 0-based row in the returned table."""

    row: list[IntArray] = field(default_factory=list)
    column: list[str] = field(default_factory=list)
    flaw: list[str] = field(default_factory=list)
    rule: list[str] = field(default_factory=list)
    key: list[pa.Array] = field(default_factory=list)

    def add(self, rows: IntArray, kind: FlawKind, key: pa.Array) -> None:
        self.row.append(rows)
        self.column.extend([kind.column] * len(rows))
        self.flaw.extend([kind.flaw] * len(rows))
        self.rule.extend([kind.rule] * len(rows))
        self.key.append(key)


def _fixed_width(values: pa.Array, width: int) -> npt.NDArray[np.uint8]:
    """ASCII strings of one width as a ``uint8`` matrix."""
    fresh = pc.binary_join_element_wise(values, "")  # new buffers, offsets from 0
    offsets = np.frombuffer(fresh.buffers()[1], dtype=np.int32)[: len(values) + 1]
    data = np.frombuffer(fresh.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(len(values), width)


def bad_id_numbers(rng: np.random.Generator, ids: pa.Array) -> pa.Array:
    """The same ID numbers with a wrong ISO 7064 check character."""
    matrix = _fixed_width(pc.utf8_upper(ids), 18).copy()
    total = (matrix[:, :17].astype(np.int64) - ord("0")) @ RIC_WEIGHTS
    matrix[:, 17] = RIC_CHECK[(total % 11 + rng.integers(1, 11, len(ids))) % 11]
    return ascii_to_arrow(matrix)


def ids_born_on(ids: pa.Array, births: np.ndarray) -> pa.Array:
    """ID numbers rewritten for another birth date, with a correct check character."""
    matrix = _fixed_width(pc.utf8_upper(ids), 18).copy()
    c = civil_components(births)
    matrix[:, 6:14] = digits_matrix((c["%Y"] * 100 + c["%m"]) * 100 + c["%d"], 8)
    matrix[:, 17] = ric_check_chars(matrix[:, :17])
    return ascii_to_arrow(matrix)


def bad_mobiles(rng: np.random.Generator, n: int) -> pa.Array:
    """10-digit numbers, numbers starting with 2, and numbers containing letters."""
    ten = ascii_to_arrow(digits_matrix(10**9 + rng.integers(0, 10**9, n), 10))
    two = ascii_to_arrow(digits_matrix(2 * 10**10 + rng.integers(0, 10**10, n), 11))
    letters = digits_matrix(13 * 10**9 + rng.integers(0, 10**9, n), 11)
    letters[:, 3:7] = rng.integers(ord("a"), ord("z") + 1, (n, 4))
    choice = pa.array(rng.integers(0, 3, n).astype(np.int8))
    return pc.choose(choice, ten, two, ascii_to_arrow(letters))


def impossible_dates(rng: np.random.Generator, values: np.ndarray, fmt: str) -> pa.Array:
    """Dates rendered with a month/day that does not exist (e.g. ``2023-02-30``)."""
    pick = rng.integers(0, len(IMPOSSIBLE), len(values))
    out = pa.array([None] * len(values), pa.string())
    for i, (month, day) in enumerate(IMPOSSIBLE):
        rendered = format_datetimes(values, fmt.replace("%m", month).replace("%d", day))
        out = pc.if_else(pa.array(pick == i), rendered, out)
    return out


def plant_flaws(
    rng: np.random.Generator, spec: SourceSpec, frame: Frame, table: pa.Table, rate: float,
    as_of: np.datetime64, dropped: set[str],
) -> tuple[pa.Table, FlawRecords]:
    """Give about ``rate`` of the rows exactly one flaw; duplicates append a row."""
    records = FlawRecords()
    kinds = [k for k in FLAW_PLAN.get(spec.name, ()) if k.column not in dropped]
    n = table.num_rows
    if rate <= 0 or not kinds or n == 0:
        return table, records
    rows = np.sort(rng.choice(n, size=rng.binomial(n, rate), replace=False))
    which = rng.integers(0, len(kinds), len(rows))
    id_kind = next((i for i, k in enumerate(kinds) if k.rule == "id_no_checksum"), None)
    if id_kind is not None:
        no_id = ~np.asarray(table[kinds[id_kind].column].is_valid().combine_chunks())[rows]
        which = np.where((which == id_kind) & no_id, (id_kind + 1) % len(kinds), which)
    key = table[spec.key[0]].combine_chunks()
    changes: dict[str, list[tuple[IntArray, pa.Array]]] = defaultdict(list)
    extra = np.zeros(0, dtype=np.int64)
    for i, kind in enumerate(kinds):
        sel = rows[which == i]
        if len(sel) == 0:
            continue
        col = spec.column(kind.column)
        fmt = col.formats[0] if col.formats else ""
        if kind.rule == "source_key_unique":
            extra = np.concatenate([extra, sel])
            records.add(sel, kind, key.take(pa.array(sel)))
            continue
        if kind.rule == "id_no_checksum":
            bad = bad_id_numbers(rng, table[kind.column].combine_chunks().take(pa.array(sel)))
            values = pc.utf8_lower(bad) if spec.name == "card_customers" else bad
        elif kind.rule == "date_valid":
            values = impossible_dates(rng, np.asarray(frame[kind.column])[sel], fmt)
        elif kind.rule == "birth_date_not_future":
            future = as_of + rng.integers(1, 3650, len(sel)).astype("timedelta64[D]")
            values = format_datetimes(future, fmt)
            id_col = ID_COLUMN.get(spec.name)
            if id_col and id_col not in dropped:
                ids = table[id_col].combine_chunks().take(pa.array(sel))
                has = np.asarray(ids.is_valid())
                reborn = ids_born_on(ids.filter(pa.array(has)), future[has])
                if spec.name == "card_customers":
                    reborn = pc.utf8_lower(reborn)
                changes[id_col].append((sel[has], reborn))
        elif kind.rule == "mobile_format":
            values = bad_mobiles(rng, len(sel))
        else:  # amount_non_negative
            fen = -np.maximum(np.asarray(frame[kind.column])[sel].astype(np.int64), 1)
            values = fen_to_decimal(fen) if col.unit != "fen" else pa.array(fen)
        changes[kind.column].append((sel, values))
        records.add(sel, kind, key.take(pa.array(sel)))
    table = _apply(table, changes)
    if len(extra):
        table, dup_rows = _append_duplicates(rng, spec, frame, table, np.sort(extra))
        dup_kind = next(k for k in kinds if k.rule == "source_key_unique")
        records.add(dup_rows, dup_kind, key.take(pa.array(np.sort(extra))))
    return table, records


def _apply(table: pa.Table, changes: dict[str, list[tuple[IntArray, pa.Array]]]) -> pa.Table:
    for column, parts in changes.items():
        rows = np.concatenate([p[0] for p in parts])
        values = pa.concat_arrays([p[1].cast(table[column].type) for p in parts])
        order = np.argsort(rows)
        mask = np.zeros(table.num_rows, dtype=bool)
        mask[rows] = True
        current = table[column].combine_chunks()
        replaced = pc.replace_with_mask(current, pa.array(mask), values.take(pa.array(order)))
        table = table.set_column(table.schema.get_field_index(column), column, replaced)
    return table


def _append_duplicates(
    rng: np.random.Generator, spec: SourceSpec, frame: Frame, table: pa.Table, rows: IntArray
) -> tuple[pa.Table, IntArray]:
    """Repeat rows' keys with one other column changed; return the new rows' positions."""
    copies = table.take(pa.array(rows))
    column, delta = DUPLICATE_CHANGE[spec.name]
    col = spec.column(column)
    raw = np.asarray(frame[column])[rows]
    if np.issubdtype(raw.dtype, np.datetime64):
        shift = rng.integers(1, -delta + 1, len(rows)).astype("timedelta64[D]")
        values = format_datetimes(raw - shift, col.formats[0])
    else:
        fen = raw.astype(np.int64) + rng.integers(1, delta + 1, len(rows))
        values = fen_to_decimal(fen) if col.unit != "fen" else pa.array(fen)
    copies = copies.set_column(
        copies.schema.get_field_index(column), column, values.cast(copies[column].type)
    )
    start = table.num_rows
    return pa.concat_tables([table, copies]), np.arange(start, start + len(rows), dtype=np.int64)
