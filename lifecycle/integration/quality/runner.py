"""The quality gate: validate a standardised frame against its source's GX suite.

Contract of the frame handed in: a unique int64 ``row_id`` (the 1-based data
row in the file), the canonical columns as standardised, and the derived
``chk_*`` pass flags (see :mod:`lifecycle.integration.quality.rules`). The gate never
changes the frame.

Why chunks: GX's memory grows with the frame (it builds a mask per expectation
and keeps every failing row id in the result); a large extract is validated
``chunk_rows`` at a time and the chunk results are merged. Key uniqueness is
then rechecked over the whole frame with pandas, so a duplicate split across
two chunks still fails (see :func:`lifecycle.integration.quality.results.recheck_key_uniqueness`).
Each chunk is a validation result of its own in Data Docs (run name
``<run_name>-part-<i>-of-<n>``); the outcome then points at the site's index.
Each chunk costs a fixed ~0.2-0.5 s of GX overhead (GX builds and walks a metric
graph per expectation, whatever the rows), so chunks should stay large.

Data Docs are not rendered per validation: a build costs about a second
whatever it renders. Results are stored as they are validated and rendered by
:meth:`QualityGate.build_data_docs`, which the run's report calls once per run;
results still unrendered when the gate is discarded or the process exits (a run
that failed before its report) are rendered then, and in any case by the next
build (see :func:`lifecycle.integration.quality.context.build_docs`).

Why the frame is indexed by ``row_id`` before GX sees it: with the row id as a
named index GX reads failing ids straight off the index; with ``row_id`` only a
column it looks each failing row up one ``DataFrame.at`` call at a time
(measured: 4.5 s of 12 s for 50,000 failing rows).
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.errors import ConfigError
from lifecycle.integration.quality import context as gx_context
from lifecycle.integration.quality.offline_docs import make_site_offline
from lifecycle.integration.quality.results import (
    ExpectationResult,
    ValidationOutcome,
    build_outcome,
    merge_chunks,
    read_validation_result,
    recheck_key_uniqueness,
)
from lifecycle.integration.quality.rules import ROW_ID
from lifecycle.integration.quality.suites import read_suites, to_gx_suite

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_ROWS = 1_000_000
# GX keeps one process-wide "current" context and rewrites its project files when
# objects are added: calls into GX are serialised within a process.
_GX_LOCK = threading.RLock()
_NS = np.dtype("datetime64[ns]")
_NS_MIN = pd.Timestamp.min.ceil("s")
_NS_MAX = pd.Timestamp.max.floor("s")


@dataclass(frozen=True)
class _ChunkRun:
    results: list[ExpectationResult]
    identifier: Any  # GX ValidationResultIdentifier: where the result and its page are filed


class _DocsBacklog:
    """Validation results stored since the last Data Docs build of a gate.

    Kept apart from the gate so that a finalizer can render them when the gate is
    discarded or the process exits without holding the gate alive.
    """

    def __init__(self, context: Any, site: gx_context.DocsSite, suite_names: list[str]) -> None:
        self.context = context
        self.site = site
        self.suite_names = suite_names
        self.unrendered = 0

    def build(self, *, only_if_missing: bool = False) -> Path:
        with _GX_LOCK:
            index = gx_context.build_docs(self.context, self.site, self.suite_names, only_if_missing=only_if_missing)
            self.unrendered = 0
        return index

    def build_if_behind(self) -> None:
        """The finalizer's build: never raises (the process may be exiting)."""
        if not self.unrendered:
            return
        try:
            self.build(only_if_missing=True)  # another gate's build may have rendered them
        except Exception:  # best effort: the next build renders whatever is still missing
            logger.exception("Data Docs: %d validation result(s) left unrendered", self.unrendered)


class QualityGate:
    """GX validation of standardised frames, with results and Data Docs on disk.

    ``gx_root`` holds the GX project (created if missing, reused if present);
    ``data_docs_dir`` receives the static Data Docs site; every ``*.json`` in
    ``suites_dir`` is loaded into the project (add_or_update) when the gate is
    built, so the reviewed files always win over what the project stored before.

    Kept per process and reused: the GX context, the suites, and per (suite,
    source) the checkpoint with its validation definition and batch definition
    (all of them stay valid across calls: the frame is a batch parameter).
    """

    def __init__(self, gx_root: Path, data_docs_dir: Path, suites_dir: Path) -> None:
        self.gx_root = Path(gx_root)
        self.data_docs_dir = Path(data_docs_dir)
        self.suite_files = read_suites(Path(suites_dir))
        with _GX_LOCK:
            self._context = gx_context.open_context(self.gx_root, self.data_docs_dir)
            gx_context.activate(self._context)
            self._suites = {
                name: self._context.suites.add_or_update(to_gx_suite(suite)) for name, suite in self.suite_files.items()
            }
            self._site = gx_context.DocsSite(self._context)
        self._checkpoints: dict[tuple[str, str], Any] = {}
        self._docs = _DocsBacklog(self._context, self._site, sorted(self._suites))
        weakref.finalize(self, self._docs.build_if_behind)

    @property
    def suite_names(self) -> list[str]:
        return sorted(self._suites)

    def validate(
        self,
        df: pd.DataFrame,
        suite_name: str,
        *,
        run_name: str,
        source: str,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ) -> ValidationOutcome:
        """Validate ``df`` against ``suite_name``; failing rows come back by row_id only.

        The result is stored in the GX project; its Data Docs page (the outcome's
        ``data_docs_page``, the site's index for a chunked frame) is written by
        the next :meth:`build_data_docs`.

        Raises ConfigError for an unknown suite or a frame without a unique
        int64-compatible ``row_id`` (row ids are how failures are reported).
        """
        if suite_name not in self._suites:
            raise ConfigError(f"unknown expectation suite {suite_name!r}; loaded: {', '.join(self.suite_names)}")
        if chunk_rows <= 0:
            raise ValueError("chunk_rows must be positive")
        _check_row_ids(df, source)
        with _GX_LOCK:
            runs = self._run_chunks(df, suite_name, source, run_name, chunk_rows)
            self._docs.unrendered += len(runs)
        page = self._site.page(runs[0].identifier if len(runs) == 1 else None)
        results = merge_chunks([run.results for run in runs])
        if len(runs) > 1:
            results = recheck_key_uniqueness(results, df)
        order = {str(e.id): i for i, e in enumerate(self._suites[suite_name].expectations)}
        results.sort(key=lambda r: order.get(r.key, len(order)))
        outcome = build_outcome(
            results, suite=suite_name, source=source, rows=len(df), data_docs_page=page, run_name=run_name
        )
        logger.info(
            "quality gate %s/%s: %d rows, %d failing rows, %d table-level failures",
            source,
            suite_name,
            outcome.rows,
            len(outcome.failed_row_ids),
            len(outcome.table_failures),
        )
        return outcome

    def build_data_docs(self, *, offline: bool = True) -> Path:
        """Render every stored validation result that has no page yet, the suites and the index.

        Once per run is enough: it renders the run's results whichever gate or
        process validated them, and leaves earlier pages as they are. The site is
        then made to work offline (no CDN, no remote logo: a bank's closed network
        has neither); ``offline=False`` leaves the pages as GX rendered them, which
        only the tests of that rewrite want. Returns the path of index.html.
        """
        index = self._docs.build()
        if offline:
            make_site_offline(index.parent)
        return index

    def _run_chunks(
        self, df: pd.DataFrame, suite_name: str, source: str, run_name: str, chunk_rows: int
    ) -> list[_ChunkRun]:
        gx_context.activate(self._context)
        checkpoint = self._checkpoint(suite_name, source)
        starts = list(range(0, len(df), chunk_rows)) or [0]
        run_time = datetime.now(UTC)
        names = (
            [run_name]
            if len(starts) == 1
            else [f"{run_name}-part-{i}-of-{len(starts)}" for i in range(1, len(starts) + 1)]
        )
        return [
            self._run_chunk(checkpoint, df.iloc[start : start + chunk_rows], name, run_time)
            for start, name in zip(starts, names, strict=True)
        ]

    def _checkpoint(self, suite_name: str, source: str) -> Any:
        key = (suite_name, source)
        if key not in self._checkpoints:
            self._checkpoints[key] = gx_context.ensure_checkpoint(self._context, self._suites[suite_name], source)
        return self._checkpoints[key]

    def _run_chunk(self, checkpoint: Any, chunk: pd.DataFrame, run_name: str, run_time: datetime) -> _ChunkRun:
        identifier, validation_result = gx_context.run_validation(
            checkpoint, vectorisable(chunk), gx_context.run_identifier(run_name, run_time)
        )
        return _ChunkRun(results=read_validation_result(validation_result, chunk.columns), identifier=identifier)


def vectorisable(chunk: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy whose dates and nullable numbers take GX's vectorised paths.

    GX 1.24 compares only ``datetime64[ns]`` and plain int/float columns
    vectorised; pandas 3 parses dates to ``datetime64[us]`` and integers arrive as
    ``Int64``, which GX checks one Python call per value (measured: 9 s of 13 s
    for 1M rows of core_customers). Dates outside the ns range (years before
    1677 or after 2262) are clipped to it, which keeps every verdict: the
    suites' date bounds lie well inside. Nullable numbers become float64 (NA to
    NaN), exact for the integers a source holds (days, scores). The index becomes
    ``row_id`` (see the module docstring).
    """
    converted: dict[str, pd.Series] = {}
    for name, column in chunk.items():
        dtype = column.dtype
        if isinstance(dtype, np.dtype) and dtype.kind == "M" and dtype != _NS:
            unit = np.datetime_data(dtype)[0]
            converted[str(name)] = column.clip(_NS_MIN.as_unit(unit), _NS_MAX.as_unit(unit)).astype(_NS)
        elif isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iuf":
            converted[str(name)] = column.astype("float64")
    prepared = chunk.assign(**converted) if converted else chunk
    return prepared.set_index(ROW_ID, drop=False)


def _check_row_ids(df: pd.DataFrame, source: str) -> None:
    if ROW_ID not in df.columns:
        raise ConfigError(f"source {source!r}: the frame to validate has no {ROW_ID!r} column")
    ids = df[ROW_ID]
    if not pd.api.types.is_integer_dtype(ids.dtype) or ids.isna().any() or not ids.is_unique:
        raise ConfigError(f"source {source!r}: {ROW_ID!r} must hold unique, non-null integers")
