"""Stage one source: read → standardise → validate, chunk by chunk.

Valid rows of customer sources stay in memory (they hold plaintext PII and are
encrypted at load); valid rows of fact sources are written to Parquet parts in
the run's staging folder, with card numbers already replaced by their blind
index. Failing rows are kept aside, raw, for the (encrypted) quarantine.
Nothing is loaded here: the run loads only once every source is within budget.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from lifecycle.errors import SourceError
from lifecycle.integration.control import check_row_count
from lifecycle.integration.prepare import Reference, expand, filter_failures, kept_by_filter
from lifecycle.integration.quarantine import Released
from lifecycle.integration.read import ROW_ID, WRITTEN_VALUE_RULES, LandingFile, read_chunks
from lifecycle.integration.row_rules import row_rule_failures
from lifecycle.integration.sources import SourceSpec
from lifecycle.integration.standardize import clean_text, standardize
from lifecycle.privacy.blind_index import blind_index_series
from lifecycle.privacy.keyring import Keyring
from lifecycle.privacy.masking import mask_card_series
from lifecycle.timing import Stopwatch

PARTY_ENTITIES = ("individual", "corporate")
FAILURE_COLUMNS = [ROW_ID, "rule", "expectation", "column"]


class Outcome(Protocol):
    @property
    def failures(self) -> pd.DataFrame: ...

    @property
    def table_failures(self) -> Sequence[Any]: ...


class Validator(Protocol):
    def validate(self, df: pd.DataFrame, suite_name: str, *, run_name: str, source: str) -> Outcome: ...


@dataclass(frozen=True)
class StagedSource:
    """One source staged for a run: what was read, what failed, where the valid rows are.

    Built once by :func:`stage_source` and never changed: the steps after it read
    it (the gate, the load, the report) and return their own results.
    """

    spec: SourceSpec
    file: LandingFile
    rows_read: int = 0
    failures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FAILURE_COLUMNS))
    rejected_raw: pd.DataFrame = field(default_factory=pd.DataFrame)  # raw failing rows: plaintext, memory only
    valid: pd.DataFrame | None = None  # customer sources only: plaintext PII, memory only
    parts: tuple[Path, ...] = ()  # fact sources only: Parquet parts in the run's staging folder
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for the benchmark
    released_ids: tuple[int, ...] = ()  # quarantine rows fed again in this run
    superseded_ids: tuple[int, ...] = ()  # released rows whose key the new file holds
    origin: pd.DataFrame | None = None  # row_id < 0 -> file, row_number of a released row
    rows_released: int = 0  # of rows_read: rows released from the quarantine and fed again
    file_rows: int = 0  # data rows in the file itself (without released rows)
    rows_filtered: int = 0  # of rows_read: left out by the source's filter (not loaded, not failed)
    rows_superseded: int = 0  # of rows_read: an earlier row of a key the file repeats (duplicates: last_wins)

    @property
    def rows_skipped(self) -> int:
        """Rows read but left out by the source's configuration (filter, dedupe policy)."""
        return self.rows_filtered + self.rows_superseded

    @property
    def rows_failed(self) -> int:
        return int(self.failures[ROW_ID].nunique())

    @property
    def rows_failed_again(self) -> int:
        """Of rows_failed: released rows that failed again (their row ids are below 1)."""
        return int(self.failures.loc[self.failures[ROW_ID] < 1, ROW_ID].nunique())

    @property
    def error_rate(self) -> float:
        return budget_rate(self.rows_read - self.rows_skipped, self.rows_failed, self.rows_released,
                           self.rows_failed_again)

    @property
    def over_budget(self) -> bool:
        return self.error_rate > self.spec.error_budget

    @property
    def is_party(self) -> bool:
        return self.spec.entity in PARTY_ENTITIES


def budget_rate(rows_read: int, rows_failed: int, rows_released: int, rows_failed_again: int) -> float:
    """The failing share the error budget is measured on: the file's own rows only.

    Released rows that fail again were counted when they were first rejected; a
    steward's release must not refuse a day by itself, so they are left out of
    both sides.
    """
    file_rows = rows_read - rows_released
    return (rows_failed - rows_failed_again) / file_rows if file_rows > 0 else 0.0


def key_hashes(raw: pd.DataFrame, spec: SourceSpec) -> np.ndarray:
    """64-bit hashes of each raw row's key, as text cleaned like any key."""
    keys = pd.DataFrame({c: clean_text(raw[c]) for c in spec.key}, index=raw.index)
    return pd.util.hash_pandas_object(keys, index=False).to_numpy()


def file_key_hashes(spec: SourceSpec, landing: LandingFile, chunk_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(every key hash in the file by row — element ``i`` is data row ``i + 1`` —, the
    hashes that occur more than once).

    A pass over the key columns only, so that a key repeated across chunks fails
    ``source_key_unique`` on every occurrence, as GX does within one chunk.
    """
    parts: list[np.ndarray] = []
    rows = 0
    for raw in read_chunks(spec, landing, chunk_rows, columns=spec.key):
        if len(raw) and int(raw[ROW_ID].iloc[0]) != rows + 1:  # element i must be data row i + 1
            raise RuntimeError(f"{landing.path}: a chunk starts at row {raw[ROW_ID].iloc[0]}, not {rows + 1}")
        parts.append(key_hashes(raw, spec))
        rows += len(raw)
    hashes = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
    repeated = pd.Series(hashes).duplicated(keep=False).to_numpy()
    return hashes, np.unique(hashes[repeated])


def _repeated_keys(raw: pd.DataFrame, spec: SourceSpec, duplicated: np.ndarray, in_file: np.ndarray) -> pd.DataFrame:
    """Rows of this raw chunk whose key occurs more than once in the file.

    A file row's hash is looked up in ``in_file`` (computed by :func:`file_key_hashes`)
    rather than computed again; rows released from the quarantine (row ids below 1)
    are hashed here.
    """
    if len(duplicated):
        row_ids = raw[ROW_ID].to_numpy(dtype=np.int64)
        from_file = row_ids >= 1
        hashes = np.empty(len(raw), dtype=np.uint64)
        hashes[from_file] = in_file[row_ids[from_file] - 1]
        if not from_file.all():
            hashes[~from_file] = key_hashes(raw[~from_file], spec)
        repeated = np.isin(hashes, duplicated)
    else:  # the usual case: no key occurs twice in the file
        repeated = np.zeros(len(raw), dtype=bool)
    rows = raw.loc[repeated, ROW_ID]
    return pd.DataFrame({ROW_ID: rows.to_numpy(), "rule": "source_key_unique",
                         "expectation": "expect_column_values_to_be_unique", "column": ",".join(spec.canonical_key)})


def row_policy(spec: SourceSpec, landing: LandingFile, chunk_rows: int, references: dict[str, Reference],
               in_file: np.ndarray, duplicated: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(file rows the filter leaves out, file rows superseded by a later row of their key,
    the key hashes repeated among the rows that stay) — element ``i`` is data row ``i + 1``.

    The filter needs whole rows, so a source with one is read once more here; the
    dedupe policy ``last_wins`` keeps the file's last row of each key and quarantines
    none of them, ``reject`` (the default) quarantines every row of a repeated key."""
    filtered = np.zeros(len(in_file), dtype=bool)
    if spec.filter is None and spec.duplicates == "reject":  # the usual case: every row stays
        return filtered, filtered, duplicated
    if spec.filter is not None:
        for raw in read_chunks(spec, landing, chunk_rows):
            kept, _ = kept_by_filter(expand(raw, spec, references)[0], spec)
            filtered[raw[ROW_ID].to_numpy(dtype=np.int64) - 1] = ~kept
    staying = np.flatnonzero(~filtered)
    hashes = pd.Series(in_file[staying])
    superseded = np.zeros(len(in_file), dtype=bool)
    if spec.duplicates == "last_wins":
        superseded[staying[hashes.duplicated(keep="last").to_numpy()]] = True
        duplicated = np.empty(0, dtype=np.uint64)
    elif spec.filter is not None:
        duplicated = np.unique(hashes[hashes.duplicated(keep=False)].to_numpy(dtype=np.uint64))
    return filtered, superseded, duplicated


def _skip(raw: pd.DataFrame, skipped: np.ndarray) -> np.ndarray:
    """Which rows of a chunk the configuration leaves out (released rows never)."""
    row_ids = raw[ROW_ID].to_numpy(dtype=np.int64)
    out = np.zeros(len(raw), dtype=bool)
    from_file = row_ids >= 1
    out[from_file] = skipped[row_ids[from_file] - 1]
    return out


def stage_source(spec: SourceSpec, landing: LandingFile, as_of: date, validator: Validator, *,
                 keyring: Keyring, staging_dir: Path, run_name: str, chunk_rows: int,
                 released: Released | None = None, references: dict[str, Reference] | None = None) -> StagedSource:
    """Stage ``landing`` for ``as_of``, plus rows released from the quarantine:
    nothing is written to the store. The result is not changed afterwards.
    ``references``: the reference extracts the source joins (by source name)."""
    references = references or {}
    is_party = spec.entity in PARTY_ENTITIES
    rows_read = 0
    failures: list[pd.DataFrame] = []
    rejected: list[pd.DataFrame] = []
    valid_frames: list[pd.DataFrame] = []
    parts: list[Path] = []
    superseded: list[int] = []
    released_rows = 0
    timings: dict[str, float] = {}
    clock = Stopwatch(timings)
    with clock("read"):
        in_file, duplicated = file_key_hashes(spec, landing, chunk_rows)
    check_row_count(spec, landing.path, len(in_file), landing.control)
    with clock("read"):
        filtered, replaced, duplicated = row_policy(spec, landing, chunk_rows, references, in_file, duplicated)
    skipped = filtered | replaced
    chunks = iter(read_chunks(spec, landing, chunk_rows))
    if released is not None:
        if len(released.raw):
            chunks = itertools.chain(chunks, [released.raw])
        if len(released.checked) and not is_party:
            rows_read += len(released.checked)
            released_rows += len(released.checked)
            parts.append(_write_part(released.checked, spec, keyring, staging_dir, 99_999))
    for number in itertools.count():
        with clock("read"):
            raw = next(chunks, None)
        if raw is None:
            break
        rows_read += len(raw)
        if skipped.any():
            raw = raw[~_skip(raw, skipped)].reset_index(drop=True)
        with clock("standardise"):
            expanded, prepared = expand(raw, spec, references)
            unreadable = kept_by_filter(expanded, spec)[1]  # the rows it left out are gone already
            std = standardize(expanded, spec, as_of)
        if len(std) and (std[ROW_ID] < 0).all():  # released rows: the file's newer version of a key wins
            std, raw, dropped = _drop_superseded(std, raw, spec, in_file)
            superseded += dropped
            rows_read -= len(dropped)
            released_rows += len(raw)
        with clock("validate"):
            outcome = validator.validate(std, spec.suite, run_name=run_name, source=spec.name)
        _refuse_table_failures(outcome, spec, landing)
        chunk_failures = pd.concat([outcome.failures[FAILURE_COLUMNS],
                                    _repeated_keys(raw, spec, duplicated, in_file),
                                    row_rule_failures(raw, std, spec, _suspects(raw, landing)),
                                    prepared, filter_failures(raw, unreadable)],
                                   ignore_index=True)
        failures.append(chunk_failures)
        bad = std[ROW_ID].isin(chunk_failures[ROW_ID])
        rejected.append(raw[bad.to_numpy()])
        good = std[~bad]
        if is_party:
            valid_frames.append(good)
        else:
            with clock("stage"):
                parts.append(_write_part(good, spec, keyring, staging_dir, number))
    return StagedSource(
        spec, landing, rows_read,
        failures=pd.concat(failures, ignore_index=True) if failures else pd.DataFrame(columns=FAILURE_COLUMNS),
        rejected_raw=pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(),
        valid=(pd.concat(valid_frames, ignore_index=True) if valid_frames else pd.DataFrame()) if is_party else None,
        parts=tuple(parts), timings=timings,
        released_ids=tuple(released.quarantine_ids) if released is not None else (),
        superseded_ids=tuple(superseded), origin=released.origin if released is not None else None,
        rows_released=released_rows, file_rows=len(in_file), rows_filtered=int(filtered.sum()),
        rows_superseded=int(replaced.sum()))


def _suspects(raw: pd.DataFrame, landing: LandingFile) -> frozenset[str]:
    """The written-value rules to run on a chunk: those the file's byte scan found
    possible, and all of them for rows released from the quarantine."""
    if len(raw) and (raw[ROW_ID] < 1).any():
        return WRITTEN_VALUE_RULES
    return landing.suspects


def _drop_superseded(std: pd.DataFrame, raw: pd.DataFrame, spec: SourceSpec, in_file: np.ndarray,
                     ) -> tuple[pd.DataFrame, pd.DataFrame, list[int]]:
    """Released rows whose key the file holds again: the file's version wins. Returns the
    rows kept and the quarantine ids of those dropped."""
    in_file = np.isin(key_hashes(raw, spec), in_file)
    dropped = [int(-i) for i in std.loc[in_file, ROW_ID]]
    keep = ~in_file
    return std[keep].reset_index(drop=True), raw[keep].reset_index(drop=True), dropped


def _refuse_table_failures(outcome: Outcome, spec: SourceSpec, landing: LandingFile) -> None:
    """A table-level failure (e.g. a structural rule) fails the whole source, clearly."""
    if outcome.table_failures:
        first = outcome.table_failures[0]
        column = spec.source_column(str(first.column).split(",")[0]) if first.column else None
        raise SourceError(str(landing.path), None, column, str(first.rule), str(first.reason))


def _write_part(frame: pd.DataFrame, spec: SourceSpec, keyring: Keyring, staging_dir: Path, number: int) -> Path:
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("chk_")])
    if "card_no" in frame:  # the card number is PII: only its blind index (and, for a card, its mask) is staged
        if spec.entity == "card":
            frame = frame.assign(card_no_masked=mask_card_series(frame["card_no"]).to_numpy())
        frame = frame.assign(card_ref=blind_index_series(keyring, "card_no", frame["card_no"])).drop(
            columns=["card_no"])
    leaked = [c for c in spec.pii_columns if c in frame]
    if leaked:
        raise ValueError(f"refusing to stage PII columns {leaked} of {spec.name} in clear")
    folder = staging_dir / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-{number:05d}.parquet"
    frame.to_parquet(path, index=False)
    return path
