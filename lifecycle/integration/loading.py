"""Load a staged day into the store: one transaction, all or nothing.

Design (chosen over an exactly-resumable journal): every write a day makes to
the main database — its files' registrations, its quarantine, the customers,
their links and cards, every fact source, and the run's final status — happens
in **one transaction** (:func:`load_day`). A failure or a kill at any point
before its commit leaves the main database exactly as it was; a re-run of the
day starts from scratch and ends in the store an uninterrupted run would have
made. The only other database, the key store, is written *ahead* of the main
one and only ever added to (see :mod:`lifecycle.store.keystore`): a re-run finds
the keys a killed run stored and reuses them, so every customer stays
decryptable. What it costs: SQLite holds its one write lock for the whole load
(other writers wait, up to the busy timeout), and the write-ahead log grows to
the size of the day's changes until the commit checkpoints it.

On SQLite, a large day checks foreign keys set-based (once per load, over the
keys written) instead of per row, as single-source loads did before.

Inside the same transaction, after the facts, the day's versions of what
decisions read are recorded (:mod:`lifecycle.store.history`), so a decision for
any past date sees the store as it was that day.

The refusal of a run by the quality gate is recorded by :func:`record_refusal`,
also in one transaction: the files as refused, their rejected rows in the
quarantine for the stewards, and the run as failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, select

from lifecycle.errors import LifecycleError
from lifecycle.integration import bookkeeping, quarantine
from lifecycle.integration.facts import (
    ENTITY_ORDER,
    ENTITY_TABLES,
    OWNER_RULE,
    LinkRows,
    OwnerIndex,
    load_fact_chunk,
)
from lifecycle.integration.parties import PartyBatch, load_parties
from lifecycle.integration.planning import GateVerdict, QualityGateError, RunPlan, judge
from lifecycle.integration.ports import IntegrationContext
from lifecycle.integration.read import ROW_ID
from lifecycle.integration.stage import StagedSource
from lifecycle.status import FileStatus, RunStatus
from lifecycle.steps import Step, direct
from lifecycle.store.base import table_of
from lifecycle.store.bulk import (
    ForeignKeyCheck,
    check_foreign_keys,
    deferred_indexes,
    set_based_foreign_keys,
    write_transaction,
)
from lifecycle.store.history import record_history
from lifecycle.store.models import Card, Customer, IdentityConflict, IngestedFile, IngestionRun, SourceLink

PARTY_TABLES = (Customer, SourceLink, Card, IdentityConflict)


@dataclass(frozen=True)
class Orphans:
    """A fact source's rows whose owner was not loaded (staged: canonical columns) and their failures."""

    rows: pd.DataFrame
    failures: pd.DataFrame

    @property
    def in_file(self) -> int:
        """Of them, the file's own rows (released rows were counted when first rejected)."""
        return int((self.rows[ROW_ID] >= 1).sum())


@dataclass(frozen=True)
class FileCounts:
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    orphans: Orphans | None = field(default=None, compare=False, repr=False)  # load_facts' only


class _OrphansOverBudget(LifecycleError):
    """Raised inside the day's transaction to roll it back: rows without a loaded owner put a
    source over its error budget."""

    def __init__(self, verdict: GateVerdict) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


@dataclass(frozen=True)
class LoadResult:
    customers: dict[str, object]  # records, new and updated customers, conflicts, seconds per step
    facts: dict[str, int]  # rows loaded per fact source
    files: dict[str, FileCounts] = field(default_factory=dict)  # per source, as recorded
    orphaned: dict[str, int] = field(default_factory=dict)  # per fact source: its file's rows without an owner


def fact_order(staged: list[StagedSource]) -> list[StagedSource]:
    """Fact sources in load order: owners before what refers to them."""
    facts = [s for s in staged if not s.is_party]
    return sorted(facts, key=lambda s: ENTITY_ORDER.index(s.spec.entity))


def summary(plan: RunPlan, staged: list[StagedSource], status: RunStatus,
            loaded: dict[str, object] | None = None, orphaned: Mapping[str, int] | None = None) -> dict[str, object]:
    """The run's summary as stored with it and returned by the flow; ``orphaned``: per fact
    source, its file's rows whose owner was not loaded (counted against its error budget)."""
    orphaned = orphaned or {}
    return {"run_id": plan.run_id, "as_of": plan.as_of.isoformat(), "status": str(status),
            "unchanged_sources": list(plan.unchanged),
            "sources": {s.spec.name: {"rows_read": s.rows_read, "rows_failed": s.rows_failed,
                                      "rows_released": s.rows_released, "rows_failed_again": s.rows_failed_again,
                                      **({"rows_filtered": s.rows_filtered} if s.rows_filtered else {}),
                                      **({"rows_superseded": s.rows_superseded} if s.rows_superseded else {}),
                                      **({"rows_orphaned": orphaned[s.spec.name]} if orphaned.get(s.spec.name)
                                         else {}),
                                      **({"absent_columns": list(s.file.absent)} if s.file.absent else {})}
                        for s in staged},
            "loaded": loaded or {}}


def _register(conn: Connection, ctx: IntegrationContext, plan: RunPlan, s: StagedSource,
              status: FileStatus) -> int:
    """Register the source's file and quarantine its rejected rows; returns the file id."""
    now = ctx.clock.now()
    file_id, taken_over_from = bookkeeping.register_file(conn, plan.run_id, plan.as_of, s.file, now, status)
    if taken_over_from is not None:  # the same file read again: this run quarantines its rows anew
        quarantine.supersede(conn, s.spec.name, [taken_over_from])
    quarantine.write_quarantine(conn, ctx.keystore, ctx.keyring, plan.run_id, s.spec, str(s.file.path),
                                s.rejected_raw, s.failures, now, s.origin)
    return file_id


def register_files(ctx: IntegrationContext, conn: Connection, plan: RunPlan,
                   staged: list[StagedSource]) -> dict[str, int]:
    """Register the run's files as loaded and quarantine their rejected rows (inside the
    day's transaction); returns each source's file id."""
    return {s.spec.name: _register(conn, ctx, plan, s, FileStatus.LOADED) for s in staged}


def record_refusal(ctx: IntegrationContext, plan: RunPlan, staged: list[StagedSource], verdict: GateVerdict,
                   orphans: Mapping[str, Orphans] | None = None) -> None:
    """The gate refused the run: keep its rejected rows (and ``orphans``, the rows whose owner
    was not loaded, when the load found them) and mark its files refused, in one transaction;
    nothing of it is loaded."""
    orphans = orphans or {}
    with ctx.engine.begin() as conn:
        if bookkeeping.run_status(conn, plan.run_id) == RunStatus.FAILED:  # an earlier attempt committed it
            return
        for s in staged:
            file_id = _register(conn, ctx, plan, s, FileStatus.REFUSED)
            quarantined = s.rows_failed
            if s.spec.name in orphans:
                o = orphans[s.spec.name]
                quarantined += quarantine.write_quarantine(conn, ctx.keystore, ctx.keyring, plan.run_id, s.spec,
                                                           str(s.file.path), o.rows, o.failures, ctx.clock.now(),
                                                           s.origin)
            bookkeeping.complete_counts(conn, file_id, rows_read=s.rows_read, rows_loaded=0,
                                        rows_quarantined=quarantined)
        orphaned = {name: o.in_file for name, o in orphans.items()}
        bookkeeping.finish_run(conn, plan.run_id, RunStatus.FAILED,
                               summary(plan, staged, RunStatus.FAILED, orphaned=orphaned),
                               ctx.clock.now(), verdict.message)


def record_failure(ctx: IntegrationContext, plan: RunPlan, staged: list[StagedSource], error: str) -> None:
    """An error stopped the run: nothing of it was loaded; say so on the run's row."""
    with ctx.engine.begin() as conn:
        if bookkeeping.run_status(conn, plan.run_id) == RunStatus.FAILED:  # an earlier attempt committed it
            return
        bookkeeping.finish_run(conn, plan.run_id, RunStatus.FAILED, summary(plan, staged, RunStatus.FAILED),
                               ctx.clock.now(), error)


def load_day(ctx: IntegrationContext, plan: RunPlan, staged: list[StagedSource], step: Step = direct) -> LoadResult:
    """Load every staged source and close the run as succeeded, in one transaction.

    ``step`` runs the customers' load and each fact load (so an orchestrator can show
    them); they share this function's transaction, so only this function as a whole
    may be retried.
    """
    done = committed_load(ctx, plan)
    if done is not None:  # committed by an attempt whose end was lost (connection dropped): do not load twice
        return done
    relaxed = set_based_foreign_keys(ctx.engine, max((s.rows_read for s in staged), default=0))
    orphans: dict[str, Orphans] = {}
    try:
        with write_transaction(ctx.engine, row_foreign_keys=not relaxed) as conn:
            file_ids = step("register-files", register_files, ctx, conn, plan, staged)
            parties = [s for s in staged if s.is_party]
            customers = step("load-customers", load_customers, ctx, conn, plan, parties, file_ids, relaxed) \
                if parties else {}
            files = {s.spec.name: FileCounts(s.rows_read, s.rows_read - s.rows_skipped - s.rows_failed,
                                             s.rows_failed) for s in parties}
            facts: dict[str, int] = {}
            by_name = {s.spec.name: s for s in staged}
            for s in fact_order(staged):
                links = _link_rows(ctx, s, by_name)
                counts = step(f"load-facts:{s.spec.name}", load_facts, ctx, conn, plan, s, file_ids[s.spec.name],
                              relaxed, links)
                files[s.spec.name] = FileCounts(counts.rows_read, counts.rows_loaded, counts.rows_quarantined)
                if counts.orphans is not None:
                    orphans[s.spec.name] = counts.orphans
                facts[s.spec.name] = counts.rows_loaded
            orphaned = {name: o.in_file for name, o in orphans.items()}
            verdict = judge(staged, orphaned)
            if verdict.refused:  # rows without a loaded owner put a source over its budget
                raise _OrphansOverBudget(verdict)
            history = step("record-history", record_history, conn, plan.as_of)
            loaded: dict[str, object] = {"customers": {k: v for k, v in customers.items() if k != "seconds"},
                                         **facts, "history_versions": history if history is not None
                                         else "not recorded: a later day is already recorded"}
            bookkeeping.finish_run(conn, plan.run_id, RunStatus.SUCCEEDED,
                                   summary(plan, staged, RunStatus.SUCCEEDED, loaded, orphaned), ctx.clock.now())
    except _OrphansOverBudget as refusal:  # the day's transaction is rolled back: nothing of it is loaded
        step("record-refusal", record_refusal, ctx, plan, staged, refusal.verdict, orphans)
        raise QualityGateError(refusal.verdict.message) from None
    return LoadResult(customers, facts, files, orphaned)


def committed_load(ctx: IntegrationContext, plan: RunPlan) -> LoadResult | None:
    """The run's load as committed, when an earlier attempt of it committed; else None."""
    with ctx.engine.connect() as conn:
        run = conn.execute(select(IngestionRun.status, IngestionRun.summary)
                           .where(IngestionRun.run_id == plan.run_id)).first()
        if run is None or run.status != RunStatus.SUCCEEDED:
            return None
        files = {str(r.source): FileCounts(int(r.rows_read), int(r.rows_loaded), int(r.rows_quarantined))
                 for r in conn.execute(select(IngestedFile).where(IngestedFile.run_id == plan.run_id))}
    loaded = dict((run.summary or {}).get("loaded", {}))
    customers = loaded.pop("customers", {})
    facts = {str(k): int(v) for k, v in loaded.items() if isinstance(v, int) and not isinstance(v, bool)}
    orphaned = {str(name): int(counts["rows_orphaned"]) for name, counts in
                (run.summary or {}).get("sources", {}).items() if counts.get("rows_orphaned")}
    return LoadResult(customers if isinstance(customers, dict) else {}, facts, files, orphaned)


def load_customers(ctx: IntegrationContext, conn: Connection, plan: RunPlan, parties: list[StagedSource],
                   file_ids: dict[str, int], relaxed: bool) -> dict[str, object]:
    """Resolve, protect and load the customer sources (inside the day's transaction)."""
    batches = [PartyBatch(s.spec, s.valid, file_ids[s.spec.name]) for s in parties if s.valid is not None]
    result = load_parties(conn, ctx.keystore, ctx.keyring, batches, plan.run_id, ctx.clock.now(),
                          ctx.sources.identity)
    for s in parties:
        earlier = bookkeeping.complete_file(conn, file_ids[s.spec.name], None, rows_read=s.rows_read,
                                            rows_loaded=s.rows_read - s.rows_skipped - s.rows_failed,
                                            rows_quarantined=s.rows_failed)
        quarantine.supersede(conn, s.spec.name, earlier)
        quarantine.mark_reprocessed(conn, s.released_ids, s.superseded_ids, plan.run_id)
    if relaxed:  # per-row enforcement was off for the day: check what this load wrote
        for model in PARTY_TABLES:
            check_foreign_keys(conn, table_of(model))
    return {"records": result.records, "new_customers": result.new_customers,
            "customers_updated": result.customers_updated, "identity_conflicts": result.conflicts,
            "seconds": {k: round(v, 3) for k, v in result.timings.items()}}


def _link_rows(ctx: IntegrationContext, s: StagedSource, staged: dict[str, StagedSource]) -> LinkRows | None:
    """For an account source with ``holders``: that link source's valid rows of this run
    (none when its file is not part of the run: the stored holders answer then)."""
    if s.spec.entity != "account" or s.spec.holders is None:
        return None
    spec = ctx.sources[s.spec.holders]
    wanted = ["account_no", "owner_key", "holder_role"]
    link = staged.get(spec.name)
    frames = [pd.read_parquet(p, columns=wanted) for p in link.parts] if link is not None else []
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=wanted)
    return LinkRows(spec, rows)


def load_facts(ctx: IntegrationContext, conn: Connection, plan: RunPlan, s: StagedSource, file_id: int,
               relaxed: bool, links: LinkRows | None = None) -> FileCounts:
    """Load one fact source (inside the day's transaction); orphans and refused complaint
    moves go to the quarantine with their reasons."""
    loaded = 0
    table, incoming = ENTITY_TABLES[s.spec.entity], s.rows_read - s.rows_skipped - s.rows_failed
    foreign_keys = ForeignKeyCheck(table) if relaxed and table.foreign_keys else None
    owners = OwnerIndex.of(conn, links)
    refused_rows, refusals = [], []
    with deferred_indexes(conn, table, incoming):
        for part in s.parts:
            frame = pd.read_parquet(part)
            n, refused = load_fact_chunk(conn, s.spec, frame, file_id, owners, foreign_keys)
            loaded += n
            if len(refused):
                refused_rows.append(frame[frame[ROW_ID].isin(refused[ROW_ID])])
                refusals.append(refused)
    if foreign_keys is not None:
        foreign_keys.verify(conn)
    quarantined = s.rows_failed
    found: Orphans | None = None
    if refused_rows:
        rows = pd.concat(refused_rows, ignore_index=True)
        failures = pd.concat(refusals, ignore_index=True)
        orphaned = failures[failures["rule"] == OWNER_RULE]
        if len(orphaned):
            found = Orphans(rows[rows[ROW_ID].isin(orphaned[ROW_ID])], orphaned)
        quarantined += quarantine.write_quarantine(conn, ctx.keystore, ctx.keyring, plan.run_id, s.spec,
                                                   str(s.file.path), rows, failures, ctx.clock.now(), s.origin)
    earlier = bookkeeping.complete_file(conn, file_id, table, rows_read=s.rows_read, rows_loaded=loaded,
                                        rows_quarantined=quarantined)
    quarantine.supersede(conn, s.spec.name, earlier)
    quarantine.mark_reprocessed(conn, s.released_ids, s.superseded_ids, plan.run_id)
    return FileCounts(s.rows_read, loaded, quarantined, found)
