"""The daily ingestion steps as plain functions (no orchestration).

``tasks/`` wraps each in a Prefect task; tests call them directly. Steps:
``plan`` (find files, skip those already loaded) → ``stage`` per source →
``quarantine_and_gate`` (store rejects; refuse the run if a source is over its
error budget — then nothing at all is loaded) → ``load_customers`` →
``load_facts`` per fact source → the run's summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from lifecycle import quarantine, runs
from lifecycle.errors import LifecycleError
from lifecycle.ingest.extract_sql import extract_sql
from lifecycle.ingest.read import ROW_ID, LandingFile, check_header, inspect_file, locate
from lifecycle.ingest.stage import StagedSource, Validator, stage_source
from lifecycle.load.facts import ENTITY_ORDER, ENTITY_TABLES, OWNER_RULE, OwnerIndex, load_fact_chunk
from lifecycle.load.parties import PartyBatch, load_parties
from lifecycle.privacy.keyring import Keyring
from lifecycle.sources import IdentityRules, SourcesConfig
from lifecycle.store.bulk import bulk_transaction, deferred_indexes
from lifecycle.store.keystore import KeyStore


class QualityGateError(LifecycleError):
    """One or more sources are over their error budget; nothing was loaded."""


@dataclass
class RunPlan:
    run_id: str
    as_of: date
    files: dict[str, LandingFile]  # sources to load in this run
    unchanged: list[str] = field(default_factory=list)  # same file already loaded
    file_ids: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceReport:
    source: str
    file: str
    encoding: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    top_failures: list[tuple[str, str, int]]  # (rule, column, rows)


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


def plan(engine: Engine, sources: SourcesConfig, landing_dir: Path, as_of: date,
         flow_run_id: str | None = None, only: list[str] | None = None) -> RunPlan:
    """Locate every source's file for ``as_of``; unreadable ones fail here, clearly."""
    files, unchanged = {}, []
    for name, spec in sources.sources.items():
        if only and name not in only:
            continue
        path = extract_sql(spec, landing_dir, as_of) if spec.sql else locate(spec, landing_dir, as_of)
        landing = inspect_file(spec, path)
        check_header(spec, landing)
        files[name] = landing
    with engine.begin() as conn:
        for name, landing in list(files.items()):
            if runs.already_loaded(conn, name, as_of, landing.sha256):
                unchanged.append(name)
                del files[name]
        run_id = runs.start_run(conn, as_of, flow_run_id, now())
    return RunPlan(run_id, as_of, files, unchanged)


def stage(engine: Engine, keystore: KeyStore, plan_: RunPlan, sources: SourcesConfig, source: str,
          validator: Validator, keyring: Keyring, staging_root: Path, chunk_rows: int) -> StagedSource:
    """Read, standardise and validate one source's file and its released quarantine rows."""
    spec = sources[source]
    with engine.connect() as conn:
        released = quarantine.released_rows(conn, keystore, keyring, spec, now())
    return stage_source(spec, plan_.files[source], plan_.as_of, validator, keyring=keyring,
                        staging_dir=staging_root / plan_.run_id, run_name=f"{plan_.as_of}-{plan_.run_id[:8]}",
                        chunk_rows=chunk_rows, released=released)


def quarantine_and_gate(engine: Engine, keystore: KeyStore, keyring: Keyring, plan_: RunPlan,
                        staged: list[StagedSource]) -> None:
    """Quarantine every rejected row, register the files, then refuse the run if any
    source is over its error budget (the message names source, rate and budget)."""
    with engine.begin() as conn:
        for s in staged:
            runs.write_quarantine(conn, keystore, keyring, plan_.run_id, s.spec, str(s.file.path), s.rejected_raw,
                                  s.failures, now(), s.origin)
            plan_.file_ids[s.spec.name] = runs.register_file(conn, plan_.run_id, plan_.as_of, s.file, now())
    for s in staged:  # stored encrypted now: the plaintext copies need not live on
        s.rejected_raw = s.rejected_raw.iloc[0:0]
    over = [s for s in staged if s.over_budget]
    if over:
        with engine.begin() as conn:
            runs.refuse_files(conn, list(plan_.file_ids.values()))
        detail = "; ".join(
            f"source {s.spec.name} ({s.file.path.name}): {s.rows_failed} of {s.rows_read} rows failed "
            f"({s.error_rate:.2%}) > error budget {s.spec.error_budget:.2%}" for s in over)
        raise QualityGateError(f"quality gate refused the run, nothing was loaded: {detail}")


def load_customers(engine: Engine, keystore: KeyStore, keyring: Keyring, plan_: RunPlan,
                   staged: list[StagedSource], identity: IdentityRules | None = None) -> dict[str, object]:
    """Resolve, protect and load the customer sources; their staged frames are released after."""
    parties = [s for s in staged if s.is_party]
    with engine.begin() as conn:
        result = load_parties(conn, keystore, keyring, [PartyBatch(s.spec, s.valid, plan_.file_ids[s.spec.name])
                                              for s in parties if s.valid is not None], plan_.run_id, now(),
                              identity)
        for s in parties:
            runs.complete_file(conn, plan_.file_ids[s.spec.name], s.spec.entity, rows_read=s.rows_read,
                               rows_loaded=s.rows_read - s.rows_failed, rows_quarantined=s.rows_failed)
            quarantine.mark_reprocessed(conn, s.released_ids, s.superseded_ids, plan_.run_id)
    for s in parties:  # plaintext PII, and the largest frames of a run: not kept for the fact loads
        s.valid = None
    return {"records": result.records, "new_customers": result.new_customers,
            "customers_updated": result.customers_updated, "identity_conflicts": result.conflicts,
            "seconds": {k: round(v, 3) for k, v in result.timings.items()}}


def load_facts(engine: Engine, keystore: KeyStore, keyring: Keyring, plan_: RunPlan, s: StagedSource) -> int:
    """Load one fact source in one transaction; orphans go to the quarantine."""
    loaded = 0
    table, incoming = ENTITY_TABLES[s.spec.entity], s.rows_read - s.rows_failed
    with bulk_transaction(engine, table, incoming) as (conn, foreign_keys):
        owners = OwnerIndex.of(conn)
        orphans = []
        with deferred_indexes(conn, table, incoming):
            for part in s.parts:
                frame = pd.read_parquet(part)
                n, orphan = load_fact_chunk(conn, s.spec, frame, plan_.file_ids[s.spec.name], owners, foreign_keys)
                loaded += n
                if len(orphan):
                    orphans.append(frame[frame[ROW_ID].isin(orphan[ROW_ID])])
        quarantined = s.rows_failed
        if orphans:
            rows = pd.concat(orphans, ignore_index=True)
            failures = pd.DataFrame({ROW_ID: rows[ROW_ID], "rule": OWNER_RULE, "expectation": "owner_known",
                                     "column": "owner_key" if "owner_key" in rows else s.spec.canonical_key[0]})
            quarantined += runs.write_quarantine(conn, keystore, keyring, plan_.run_id, s.spec, str(s.file.path), rows,
                                                 failures, now(), s.origin)
        runs.complete_file(conn, plan_.file_ids[s.spec.name], s.spec.entity, rows_read=s.rows_read,
                           rows_loaded=loaded, rows_quarantined=quarantined)
        quarantine.mark_reprocessed(conn, s.released_ids, s.superseded_ids, plan_.run_id)
    for part in s.parts:
        part.unlink(missing_ok=True)
    return loaded


def fact_order(staged: list[StagedSource]) -> list[StagedSource]:
    facts = [s for s in staged if not s.is_party]
    return sorted(facts, key=lambda s: ENTITY_ORDER.index(s.spec.entity))


def report(engine: Engine, plan_: RunPlan, staged: list[StagedSource]) -> list[SourceReport]:
    from sqlalchemy import select

    from lifecycle.store.models import IngestedFile

    with engine.connect() as conn:
        rows = {r.source: r for r in conn.execute(
            select(IngestedFile.source, IngestedFile.rows_loaded, IngestedFile.rows_quarantined)
            .where(IngestedFile.run_id == plan_.run_id)).all()}
    out = []
    for s in staged:
        f = rows.get(s.spec.name)
        counts = s.failures.drop_duplicates([ROW_ID, "rule", "column"]).groupby(["rule", "column"]).size()
        top = [(str(r), str(c), int(n)) for (r, c), n in counts.sort_values(ascending=False).head(5).items()]
        out.append(SourceReport(s.spec.name, s.file.path.name, s.file.encoding, s.rows_read,
                                f.rows_loaded if f else 0, f.rows_quarantined if f else s.rows_failed, top))
    return out
