"""Prefect tasks of the data-protection flows: thin wrappers around ``lifecycle.protection``.

They log progress and counts through the run logger and return counts and
customer references only — never PII, never key material — and, like every
task touching the stores, neither persist results nor hash inputs for caching; those that
write the stores hold a slot of the database-writer limit (:mod:`tasks.limits`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import ParamSpec, TypeVar

from prefect import Task, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from lifecycle.bootstrap import erasure_log
from lifecycle.protection import erasure, purge, rotation
from tasks.context import flow_context
from tasks.limits import database_writer

P = ParamSpec("P")
R = TypeVar("R")


def pii_safe_task(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A task that neither persists its result nor hashes its inputs for a cache key."""
    return task(name=name, persist_result=False, cache_policy=NO_CACHE)


@pii_safe_task("rewrap-data-keys")
def rewrap_data_keys(batch_size: int) -> dict[str, object]:
    """Re-wrap every stored key under the keyring's active version, batch by batch."""
    ctx = flow_context()
    keyring = ctx.keyring
    log = get_run_logger()
    log.info("re-wrapping stored keys under master key version %d (keyring versions %s), %d per batch",
             keyring.active_version, sorted(keyring.master_keys), batch_size)

    def progress(p: rotation.BatchProgress) -> None:
        log.info("batch %d (%s): %d re-wrapped, %d of %d done", p.batch, p.kind, p.rewrapped, p.done, p.total)

    with database_writer():
        result = rotation.rotate_master_key(ctx.engine, ctx.keystore, keyring, batch_size=batch_size,
                                            on_batch=progress)
    if result.interrupted:
        log.warning("earlier rotation(s) %s had stopped mid-way: this run completed them", result.interrupted)
    log.info("rotation %d: %d keys re-wrapped in %d batches (%s); keys on other versions: %d; "
             "retirable master key versions: %s", result.rotation_id, result.total, result.batches,
             ", ".join(f"{k} {n}" for k, n in result.rewrapped.items()), result.stale,
             result.retirable_versions or "none")
    return {"rotation_id": result.rotation_id, "to_version": result.to_version, "rewrapped": result.rewrapped,
            "total": result.total, "batches": result.batches, "stale": result.stale,
            "versions_in_use": {k: {str(v): n for v, n in c.items()} for k, c in result.versions_in_use.items()},
            "retirable_versions": result.retirable_versions}


@pii_safe_task("erase-customer-data")
def erase_customer_data(customer_ref: str, requested_by: str, reason: str) -> dict[str, object]:
    """Crypto-shred one customer and clear their PII from the main database."""
    ctx = flow_context()
    with database_writer():
        result = erasure.erase_customer(ctx.engine, ctx.keystore, customer_ref, requested_by, reason,
                                        ctx.clock.now(), log=erasure_log(ctx.settings))
    log = get_run_logger()
    if result.already_erased:
        log.info("customer %s was already erased at %s; data key destroyed by this run: %s", customer_ref,
                 result.erased_at, "yes" if result.key_destroyed else "no (already gone)")
    else:
        log.info("customer %s erased: data key destroyed: %s; %d card(s) cleared, %d pending message(s) "
                 "cancelled, %d open task(s) cancelled, %d quarantined row(s) deleted", customer_ref,
                 "yes" if result.key_destroyed else "no (none found)", result.cards_cleared,
                 result.messages_cancelled, result.tasks_cancelled, result.quarantine_rows_deleted)
    return result.as_dict()


@pii_safe_task("load-purge-policy")
def load_purge_policy(purge_file: str | None) -> purge.PurgePolicy:
    return purge.load_purge_policy(purge_file)


@pii_safe_task("purge-landing-files")
def purge_landing_files(days: int, today: date) -> int:
    ctx = flow_context()
    deleted = purge.purge_landing(ctx.settings.resolved_landing_dir, today, days)
    get_run_logger().info("landing: %d day folder(s) older than %d days deleted%s", len(deleted), days,
                          f" ({deleted[0]} … {deleted[-1]})" if deleted else "")
    return len(deleted)


@pii_safe_task("purge-quarantine")
def purge_quarantine(days: int) -> dict[str, int]:
    ctx = flow_context()
    with database_writer():
        purged = purge.purge_quarantine(ctx.engine, ctx.keystore, ctx.clock.now(), days)
    get_run_logger().info("quarantine: %d row(s) older than %d days deleted, %d run key(s) destroyed",
                          purged.rows, days, purged.run_keys)
    return {"quarantine_rows": purged.rows, "run_keys": purged.run_keys}


@pii_safe_task("purge-facts")
def purge_old_facts(days: int, today: date) -> dict[str, int]:
    ctx = flow_context()
    with database_writer():
        deleted = purge.purge_facts(ctx.engine, today, days)
    get_run_logger().info("facts: %d row(s) dated more than %d days ago deleted (%s)", sum(deleted.values()), days,
                          ", ".join(f"{t} {n}" for t, n in deleted.items() if n) or "none")
    return {f"facts_{t}": n for t, n in deleted.items()}


@pii_safe_task("clear-delivered-message-bodies")
def clear_delivered_message_bodies(days: int) -> int:
    ctx = flow_context()
    with database_writer():
        cleared = purge.clear_delivered_bodies(ctx.engine, ctx.clock.now(), days)
    get_run_logger().info("care messages: %d body(ies) of messages sent more than %d days ago cleared",
                          cleared, days)
    return cleared


@pii_safe_task("publish-protection-summary")
def publish_summary(key: str, title: str, rows: dict[str, object]) -> None:
    """A markdown artifact of counts (callers pass references and counts only)."""
    lines = [f"# {title}", "", "| item | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows.items()]
    create_markdown_artifact(markdown="\n".join(lines) + "\n", key=key, description=title)
